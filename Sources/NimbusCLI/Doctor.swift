import ArgumentParser
import Foundation
import NimbusCore
import NimbusSandbox

/// `nimbus doctor`: what this host offers for isolation and runtimes, and the commands that install what is missing.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check what this host offers for sandboxing and runtimes, and how to install what is missing.")

    @Option(help: "Data directory whose runtime clients to check (nothing is written outside it).")
    var dataDir = ".nimbus"

    func run() async throws {
        let support = SandboxSupport.probe()
        print("Isolation (the Linux sandbox):")
        for check in support.checks {
            print("  [\(check.ok ? "ok" : "--")] \(check.name): \(check.detail)")
            if !check.ok, let fix = check.fix { print("         fix: \(fix)") }
        }
        print(
            support.linuxSandboxAvailable
                ? "  => `nimbus serve` runs functions in the Linux sandbox."
                : "  => `nimbus serve` would run functions WITHOUT isolation (process tier) until the above is fixed.")
        print("\nRuntimes:")
        let directory = URL(fileURLWithPath: self.dataDir).standardizedFileURL.path + "/runtime"
        let launcher = try RuntimeLauncher(directory: directory)
        for item in launcher.availability() where RuntimeCatalog.family(of: item.runtime) != .unsupported {
            if let interpreter = item.interpreter {
                print("  [ok] \(item.runtime): \(interpreter)")
            } else {
                print("  [--] \(item.runtime): \(item.problem ?? "unavailable")")
            }
        }
        let unsupported = launcher.availability().filter { RuntimeCatalog.family(of: $0.runtime) == .unsupported }
        print("  (accepted but not runnable by Nimbus: \(unsupported.map(\.runtime).joined(separator: ", ")))")
    }
}
