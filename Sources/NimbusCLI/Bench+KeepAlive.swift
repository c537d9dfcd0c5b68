import Foundation
import NimbusInvoker

/// `nimbus bench --keep-alive-trace`: the keep-alive simulation (no server).
extension Bench {
    static func printKeepAliveTrace(fixedSeconds: Double) {
        let fixed = KeepAliveSimulation(policy: .init(kind: .fixed, fixedSeconds: fixedSeconds))
        let hybrid = KeepAliveSimulation(policy: .init(kind: .hybridHistogram, fixedSeconds: fixedSeconds))
        print("Keep-alive trace (synthetic, seed 42, 1 day): fixed \(Int(fixedSeconds)) s vs hybrid histogram")
        print(Self.row("function", "invocations", "cold fixed", "cold hybrid", "env-s fixed", "env-s hybrid"))
        var totals = (KeepAliveSimulation.Outcome(), KeepAliveSimulation.Outcome())
        for (name, arrivals) in KeepAliveSimulation.syntheticTrace() {
            let a = fixed.run(arrivals: arrivals)
            let b = hybrid.run(arrivals: arrivals)
            totals.0.invocations += a.invocations
            totals.0.coldStarts += a.coldStarts
            totals.0.environmentSeconds += a.environmentSeconds
            totals.1.coldStarts += b.coldStarts
            totals.1.environmentSeconds += b.environmentSeconds
            print(
                Self.row(
                    name,
                    "\(a.invocations)",
                    "\(a.coldStarts)",
                    "\(b.coldStarts)",
                    "\(Int(a.environmentSeconds))",
                    "\(Int(b.environmentSeconds))"
                )
            )
        }
        print(
            Self.row(
                "total",
                "\(totals.0.invocations)",
                "\(totals.0.coldStarts)",
                "\(totals.1.coldStarts)",
                "\(Int(totals.0.environmentSeconds))",
                "\(Int(totals.1.environmentSeconds))"
            )
        )
    }

    static func row(_ columns: String...) -> String {
        columns.enumerated().map { i, c in
            i == 0
                ? c.padding(toLength: 20, withPad: " ", startingAt: 0)
                : String(repeating: " ", count: max(0, 13 - c.count)) + c
        }
        .joined()
    }
}
