import Testing

@testable import NimbusInvoker

/// The hybrid-histogram keep-alive policy and its trace simulation.
@Suite struct KeepAlivePolicyTests {
    @Test func fallsBackToFixedWithTooLittleHistory() {
        let policy = KeepAlivePolicy(kind: .hybridHistogram, fixedSeconds: 600)
        let decision = policy.decide(idleTimes: [1800, 1800, 1800])
        #expect(decision == .init(prewarmSeconds: 0, keepAliveSeconds: 600, fromHistogram: false))
    }

    @Test func periodicFunctionGetsPrewarmWindow() {
        let policy = KeepAlivePolicy(kind: .hybridHistogram, fixedSeconds: 600)
        let decision = policy.decide(idleTimes: Array(repeating: 1800, count: 20))
        #expect(decision.fromHistogram)
        #expect(decision.prewarmSeconds > 1500 && decision.prewarmSeconds < 1800)
        #expect(decision.prewarmSeconds + decision.keepAliveSeconds > 1800)
    }

    @Test func uniformIdleTimesAreNotRepresentative() {
        let policy = KeepAlivePolicy(kind: .hybridHistogram, fixedSeconds: 600)
        let idle = (0..<240).map { Double($0) * 60 + 30 }
        #expect(!policy.decide(idleTimes: idle).fromHistogram)
    }

    @Test func adaptiveBeatsFixedOnTheSyntheticTrace() {
        let fixed = KeepAliveSimulation(policy: .init(kind: .fixed, fixedSeconds: 600))
        let hybrid = KeepAliveSimulation(policy: .init(kind: .hybridHistogram, fixedSeconds: 600))
        var f = KeepAliveSimulation.Outcome()
        var h = KeepAliveSimulation.Outcome()
        for (_, arrivals) in KeepAliveSimulation.syntheticTrace() {
            let a = fixed.run(arrivals: arrivals)
            let b = hybrid.run(arrivals: arrivals)
            f.coldStarts += a.coldStarts
            f.environmentSeconds += a.environmentSeconds
            h.coldStarts += b.coldStarts
            h.environmentSeconds += b.environmentSeconds
        }
        #expect(h.coldStarts < f.coldStarts)
        #expect(h.environmentSeconds <= f.environmentSeconds)
    }
}
