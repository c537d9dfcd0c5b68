import NimbusCore

/// How an execution environment's processes are created, measured and destroyed. The invoker talks only to this
/// protocol; the process driver and the Linux sandbox driver implement it.
public protocol SandboxDriver: Sendable {
    /// A short name for logs and `nimbus doctor` (`process`, `linux`).
    var name: String { get }

    /// The paths a runtime sees inside an environment of this driver, for the given host directories.
    func layout(for request: SandboxLayoutRequest) -> SandboxLayout

    /// The environment's network, created before its process (the Runtime API listens inside it). Nil when the
    /// environment shares the server's network and the invoker binds a loopback port for the Runtime API.
    func prepareNetwork(environmentID: String, mode: NetworkMode?) throws(SandboxError) -> PreparedNetwork?

    /// Releases what ``prepareNetwork(environmentID:mode:)`` prepared when the environment will not be launched.
    func discardPreparation(environmentID: String)

    /// Deletes a scratch area (the environment's `/tmp`) that no environment uses any more.
    func removeScratch(_ scratchID: String)

    /// Reaps processes this server adopted (orphans of environments) that have exited.
    func reapAdoptedProcesses()

    /// Kills every process left by any environment of this driver (server shutdown).
    func killAllEnvironmentProcesses()

    /// Starts the environment's bootstrap process.
    /// - Parameters:
    ///   - output: receives the merged stdout/stderr bytes of the environment, in order.
    ///   - exit: called once, when the bootstrap process has exited (after its output was delivered).
    func launch(
        _ spec: SandboxSpec,
        output: @escaping @Sendable ([UInt8]) -> Void,
        exit: @escaping @Sendable (ExitStatus) -> Void
    ) throws(SandboxError) -> any Sandbox
}

/// A running environment.
public protocol Sandbox: Sendable {
    var pid: Int32 { get }
    /// Synchronously delivers every byte the environment has written so far to the `output` callback.
    func drainOutput()
    /// Kills the whole process tree. Idempotent. The scratch area (`/tmp`) is kept: it outlives a reset, as on
    /// Lambda; the driver's ``SandboxDriver/removeScratch(_:)`` deletes it.
    func terminate()
    /// Peak memory of the environment so far, in MB.
    func maxMemoryUsedMB() -> Int
    /// Whether the kernel's OOM killer has killed a task of this environment.
    func wasKilledForMemory() -> Bool
    /// Initialisation has finished: apply the limits that hold only in the invoke phase (the CPU share).
    func initializationFinished()
    /// Stops every process (no CPU) until ``thaw()``. A no-op where the driver cannot freeze.
    func freeze()
    func thaw()
}

/// Host directories an environment is built from.
public struct SandboxLayoutRequest: Sendable {
    public var environmentID: String
    /// Names the scratch area (`/tmp`). A new environment gets its own; an environment replacing one that was reset
    /// (timeout, crash) gets the old one's, because on Lambda `/tmp` survives a reset.
    public var scratchID: String
    public var codeDirectory: String
    public var runtimeDirectory: String
    /// The host directory of boto3 and friends for a Python function, if any.
    public var pythonSDK: String?

    public init(
        environmentID: String, scratchID: String? = nil, codeDirectory: String, runtimeDirectory: String,
        pythonSDK: String? = nil
    ) {
        self.environmentID = environmentID
        self.scratchID = scratchID ?? environmentID
        self.codeDirectory = codeDirectory
        self.runtimeDirectory = runtimeDirectory
        self.pythonSDK = pythonSDK
    }
}

/// Paths as the function sees them.
public struct SandboxLayout: Sendable {
    public var taskRoot: String
    public var runtimeDirectory: String
    public var temporaryDirectory: String
    /// Where the Python SDK directory appears (read-only), when the request named one.
    public var pythonSDK: String?
}

/// What to start.
public struct SandboxSpec: Sendable {
    public var environmentID: String
    public var layout: SandboxLayout
    public var codeDirectory: String
    public var runtimeDirectory: String
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var memoryMB: Int
    public var ephemeralStorageMB: Int
    /// From ``SandboxDriver/prepareNetwork(environmentID:mode:)``.
    public var network: PreparedNetwork?
    /// Host directories the executable needs besides the code and runtime (an interpreter's prefix).
    public var extraReadOnlyPaths: [String]
    /// The host directory shown read-only at ``SandboxLayout/pythonSDK``.
    public var pythonSDK: String?

    public init(
        environmentID: String, layout: SandboxLayout, codeDirectory: String, runtimeDirectory: String,
        executable: String, arguments: [String], environment: [String: String], memoryMB: Int,
        ephemeralStorageMB: Int, network: PreparedNetwork? = nil, extraReadOnlyPaths: [String] = [],
        pythonSDK: String? = nil
    ) {
        self.pythonSDK = pythonSDK
        self.network = network
        self.extraReadOnlyPaths = extraReadOnlyPaths
        self.environmentID = environmentID
        self.layout = layout
        self.codeDirectory = codeDirectory
        self.runtimeDirectory = runtimeDirectory
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.memoryMB = memoryMB
        self.ephemeralStorageMB = ephemeralStorageMB
    }
}

/// How a process ended, in the words Lambda uses (`exit status 1`, `signal: killed`).
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "signal: \(Self.signalName(signal))"
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case 9: "killed"
        case 15: "terminated"
        case 11: "segmentation fault"
        case 6: "aborted"
        case 2: "interrupt"
        case 1: "hangup"
        case 7: "bus error"
        case 8: "floating point exception"
        case 13: "broken pipe"
        default: "signal \(signal)"
        }
    }
}

/// Platform failures of a sandbox driver.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case spawnFailed
        case setupFailed
        case runtimeUnavailable
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code.rawValue): \(self.message)" }
}
