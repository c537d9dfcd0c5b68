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

    @Option(help: "The boto3 directory `serve` would give Python functions (default: $NIMBUS_PYTHON_SDK, then ./.sdk/python).")
    var pythonSdk: String?

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
        self.reportBoto3(launcher)
    }

    /// Which Python runtimes can `import boto3`: from the SDK directory `serve` gives every Python function, or from
    /// the interpreter's own site-packages.
    func reportBoto3(_ launcher: RuntimeLauncher) {
        print("\nboto3 in Python functions:")
        let sdk = self.pythonSdk ?? ProcessInfo.processInfo.environment["NIMBUS_PYTHON_SDK"] ?? ".sdk/python"
        let sdkPath = URL(fileURLWithPath: sdk).standardizedFileURL.path
        let hasSDK = FileManager.default.fileExists(atPath: "\(sdkPath)/boto3/__init__.py")
        print(
            hasSDK
                ? "  [ok] SDK directory \(sdkPath) (pass it to `nimbus serve --python-sdk`; serve.sh does)"
                : "  [--] no SDK directory at \(sdkPath)\n         fix: scripts/python-sdk.sh \(sdkPath)")
        for item in launcher.availability() where RuntimeCatalog.family(of: item.runtime) == .python {
            guard let interpreter = item.interpreter else { continue }
            var environment = ProcessInfo.processInfo.environment
            if hasSDK { environment["PYTHONPATH"] = sdkPath } else { environment.removeValue(forKey: "PYTHONPATH") }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: interpreter)
            process.arguments = ["-c", "import boto3; print(boto3.__version__)"]
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            let version: String?
            do {
                try process.run()
                process.waitUntilExit()
                let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                version = process.terminationStatus == 0 ? text.trimmingCharacters(in: .whitespacesAndNewlines) : nil
            } catch {
                version = nil
            }
            print("  [\(version == nil ? "--" : "ok")] \(item.runtime): \(version.map { "boto3 \($0)" } ?? "cannot import boto3")")
        }
    }
}
