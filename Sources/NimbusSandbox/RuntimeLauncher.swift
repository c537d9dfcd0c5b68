import Foundation
import NimbusCore

/// Turns a function's runtime into a command line: finds the host interpreter for `python3.x` and `nodejsNN.x`
/// (resolved to a real binary, never a version-manager shim), installs Nimbus's own runtime clients (embedded in
/// the binary) under the data directory, and finds `bootstrap` for `provided*`.
public final class RuntimeLauncher: Sendable {
    public struct Configuration: Sendable {
        /// Explicit interpreter paths per runtime identifier (`nodejs22.x` → `/opt/node22/bin/node`).
        public var interpreterOverrides: [String: String]
        /// Extra directories searched for interpreters, before the built-in ones.
        public var searchPath: [String]
        /// Pure-Python packages (boto3 and its dependencies) every Python function can import, as AWS's Python
        /// runtimes ship boto3.
        public var pythonSDK: String?

        public init(interpreterOverrides: [String: String] = [:], searchPath: [String] = [], pythonSDK: String? = nil) {
            self.interpreterOverrides = interpreterOverrides
            self.searchPath = searchPath
            self.pythonSDK = pythonSDK
        }
    }

    /// Where the runtime clients are installed on the host (the environment's `/var/runtime`).
    public let runtimeDirectory: String
    let interpreters: [String: String]
    let missingReasons: [String: String]
    /// The directory of ``Configuration/pythonSDK``, absolute, when it exists.
    public let pythonSDK: String?

    public init(directory: String, configuration: Configuration = .init()) throws {
        let python = PackageResources.nimbus_runtime_py
        let node = PackageResources.nimbus_runtime_js
        // Versioned by content so that a running environment never sees its client change under it.
        let version = String(Digest.sha256Hex(python + node).prefix(16))
        self.runtimeDirectory = "\(directory)/\(version)"
        let fm = FileManager.default
        if !fm.fileExists(atPath: "\(self.runtimeDirectory)/node/nimbus_runtime.js") {
            let temporary = "\(directory)/.tmp-\(Digest.randomHex32())"
            try fm.createDirectory(atPath: "\(temporary)/python", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: "\(temporary)/node", withIntermediateDirectories: true)
            try Data(python).write(to: URL(fileURLWithPath: "\(temporary)/python/nimbus_runtime.py"))
            try Data(node).write(to: URL(fileURLWithPath: "\(temporary)/node/nimbus_runtime.js"))
            if rename(temporary, self.runtimeDirectory) != 0 {
                try? fm.removeItem(atPath: temporary)  // another server installed the same version first
            }
        }
        var found: [String: String] = [:]
        var missing: [String: String] = [:]
        for runtime in RuntimeCatalog.accepted.sorted() {
            switch Self.locate(runtime, configuration: configuration) {
            case .success(let path): found[runtime] = path
            case .failure(let reason): missing[runtime] = reason.message
            }
        }
        self.interpreters = found
        self.missingReasons = missing
        self.pythonSDK = configuration.pythonSDK.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            .flatMap { fm.fileExists(atPath: $0) ? $0 : nil }
        // Fill the Python client's compile cache once per interpreter, so that even the first cold start does not
        // compile the client (5–8 ms), and a read-only runtime directory (the Linux sandbox) still has a cache.
        for (runtime, python) in found.sorted(by: { $0.key < $1.key }) where RuntimeCatalog.family(of: runtime) == .python {
            Self.runQuietly(python, ["-I", "\(self.runtimeDirectory)/python/nimbus_runtime.py", "--compile"])
        }
    }

    /// Runs a short command at start-up, ignoring its outcome (a failure only costs speed later).
    static func runQuietly(_ executable: String, _ arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            return
        }
    }

    /// Availability of every runtime on this host, for startup output and `nimbus doctor`.
    public func availability() -> [(runtime: String, interpreter: String?, problem: String?)] {
        RuntimeCatalog.accepted.sorted().map { ($0, self.interpreters[$0], self.missingReasons[$0]) }
    }

    /// Host directories a sandbox must show (read-only, at the same path) for the runtime's interpreter: its
    /// installation prefix when it lives outside the system directories (pyenv, nvm, /opt).
    public func hostPaths(runtime: String) -> [String] {
        guard let interpreter = self.interpreters[runtime], RuntimeCatalog.family(of: runtime) != .provided else {
            return []
        }
        for system in ["/usr/", "/bin/", "/lib/", "/sbin/"] where interpreter.hasPrefix(system) { return [] }
        let prefix = URL(fileURLWithPath: interpreter).deletingLastPathComponent().deletingLastPathComponent().path
        return [prefix]
    }

    /// The command that starts a runtime, or why it cannot start on this host.
    public func command(
        runtime: String, layout: SandboxLayout, hostCodeDirectory: String
    ) -> Result<(executable: String, arguments: [String]), LaunchProblem> {
        switch RuntimeCatalog.family(of: runtime) {
        case .python:
            guard let python = self.interpreters[runtime] else { return .failure(self.unavailable(runtime)) }
            return .success((python, ["-I", "\(layout.runtimeDirectory)/python/nimbus_runtime.py"]))
        case .node:
            guard let node = self.interpreters[runtime] else { return .failure(self.unavailable(runtime)) }
            return .success((node, ["\(layout.runtimeDirectory)/node/nimbus_runtime.js"]))
        case .provided:
            let hostBootstrap = "\(hostCodeDirectory)/bootstrap"
            guard access(hostBootstrap, X_OK) == 0 else {
                let reason =
                    FileManager.default.fileExists(atPath: hostBootstrap)
                    ? "Runtime.InvalidEntrypoint" : "Runtime.InvalidEntrypoint"
                return .failure(
                    LaunchProblem(
                        errorType: reason,
                        message: FileManager.default.fileExists(atPath: hostBootstrap)
                            ? "Error: fork/exec \(layout.taskRoot)/bootstrap: permission denied"
                            : "Couldn't find valid bootstrap(s): [\(layout.taskRoot)/bootstrap /opt/bootstrap]",
                        isPlatformProblem: false))
            }
            return .success(("\(layout.taskRoot)/bootstrap", []))
        case .unsupported:
            return .failure(self.unavailable(runtime))
        }
    }

    func unavailable(_ runtime: String) -> LaunchProblem {
        LaunchProblem(
            errorType: "Runtime.Unavailable",
            message: "The runtime \(runtime) is not available on this Nimbus host: \(self.missingReasons[runtime] ?? "no launcher for it"). Run `nimbus doctor` for details.",
            isPlatformProblem: true)
    }

    /// Why a runtime cannot start. Platform problems (a missing interpreter) are API errors
    /// (`InvalidRuntimeException`); others (a missing bootstrap) are the function's own init failures.
    public struct LaunchProblem: Error, Sendable {
        public var errorType: String
        public var message: String
        public var isPlatformProblem: Bool
    }

    struct Missing: Error {
        var message: String
    }

    static func locate(_ runtime: String, configuration: Configuration) -> Result<String, Missing> {
        if let path = configuration.interpreterOverrides[runtime] {
            guard access(path, X_OK) == 0 else { return .failure(Missing(message: "\(path) is not executable")) }
            return .success(self.realPath(path))
        }
        switch RuntimeCatalog.family(of: runtime) {
        case .python:
            guard let version = RuntimeCatalog.languageVersion(of: runtime) else { break }
            let binary = "python\(version)"
            for directory in self.searchDirectories(configuration, versionPrefix: version, manager: "pyenv") {
                let candidate = "\(directory)/\(binary)"
                if access(candidate, X_OK) == 0, !self.isShim(candidate) { return .success(self.realPath(candidate)) }
            }
            return .failure(
                Missing(message: "no \(binary) interpreter found (install it, e.g. `apt-get install \(binary)`, or pass --interpreter \(runtime)=PATH)"))
        case .node:
            guard let major = RuntimeCatalog.languageVersion(of: runtime) else { break }
            var seen: Set<String> = []
            for directory in self.searchDirectories(configuration, versionPrefix: "v\(major).", manager: "nvm") {
                let candidate = "\(directory)/node"
                guard access(candidate, X_OK) == 0, !self.isShim(candidate) else { continue }
                let real = self.realPath(candidate)
                guard seen.insert(real).inserted else { continue }
                if self.nodeMajor(real) == major { return .success(real) }
            }
            return .failure(
                Missing(message: "no Node.js \(major) found (install it, e.g. from Debian's nodejs package, or pass --interpreter \(runtime)=PATH)"))
        case .provided:
            return .success("bootstrap")
        case .unsupported:
            break
        }
        return .failure(Missing(message: "Nimbus has no launcher for \(runtime) functions"))
    }

    static func searchDirectories(_ configuration: Configuration, versionPrefix: String, manager: String) -> [String] {
        var directories = configuration.searchPath
        directories += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            .filter { !$0.contains("shims") }
        directories += ["/usr/local/bin", "/usr/bin", "/bin"]
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        let managed =
            manager == "pyenv"
            ? ["\(home)/.pyenv/versions", "/opt/pyenv/versions", "/usr/local/pyenv/versions"]
            : ["\(home)/.nvm/versions/node", "/usr/local/nvm/versions/node"]
        for root in managed {
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            for v in versions.sorted().reversed() where v.hasPrefix(versionPrefix) {
                directories.append("\(root)/\(v)/bin")
            }
        }
        return directories
    }

    static func isShim(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 256)
        return head.starts(with: Array("#!".utf8)) && String(decoding: head, as: UTF8.self).contains("pyenv")
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func nodeMajor(_ node: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: node)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("v") else { return nil }
        return text.dropFirst().split(separator: ".").first.map(String.init)
    }
}
