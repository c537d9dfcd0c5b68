import Foundation
import Hummingbird
import Logging
import NIOCore
import NimbusControlPlane
import NimbusCore
import NimbusInvoker
import NimbusQueue
import NimbusRuntimeAPI
import NimbusSandbox
import NimbusStore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Configuration of `nimbus serve`.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    public var dataDirectory: String
    public var account: AccountContext
    public var keepAlive: Duration
    public var interpreterOverrides: [String: String]
    public var logRetentionDays: Int
    /// Which isolation tier runs environments.
    public var sandbox: SandboxChoice
    /// The network of Linux-sandbox environments.
    public var network: NetworkMode
    /// Freeze idle environments (Linux sandbox).
    public var freezeIdle: Bool
    /// Asynchronous invocation: retry and backoff timings, concurrent dispatches.
    public var async: AsyncDispatcher.Configuration = .init()
    /// The account's concurrency limit (AWS's default: 1,000).
    public var accountConcurrency: Int = Limits.accountConcurrency
    /// New environments per function: a burst, then a steady rate (AWS: 1,000 per 10 s).
    public var scalingRate = ScalingLimiter.Rate()
    /// How long idle environments are kept: a fixed time, or the adaptive hybrid histogram.
    public var keepAlivePolicy: KeepAlivePolicy.Kind = .fixed

    /// `auto` picks the Linux sandbox when the host supports it, and otherwise the process tier with a warning
    /// saying why.
    public enum SandboxChoice: String, Sendable, CaseIterable {
        case auto
        case linux
        case process
    }

    public init(
        host: String = "127.0.0.1", port: Int = 9000, dataDirectory: String = ".nimbus",
        account: AccountContext = .init(), keepAlive: Duration = .seconds(600),
        interpreterOverrides: [String: String] = [:], logRetentionDays: Int = 7, sandbox: SandboxChoice = .auto,
        network: NetworkMode = .egress, freezeIdle: Bool = true
    ) {
        self.sandbox = sandbox
        self.network = network
        self.freezeIdle = freezeIdle
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.account = account
        self.keepAlive = keepAlive
        self.interpreterOverrides = interpreterOverrides
        self.logRetentionDays = logRetentionDays
    }
}

/// The composition root: builds every component from a ``ServerConfiguration`` and runs them as one
/// ServiceGroup (store flusher → invoker → HTTP edge; shut down in reverse).
public final class NimbusServer: Sendable {
    public let configuration: ServerConfiguration
    let logger: Logger
    let readiness = Mutex<(endpoint: String?, waiters: [CheckedContinuation<String, any Error>])>((nil, []))
    let group = Mutex<ServiceGroup?>(nil)
    /// Components, available once ``run(handleSignals:)`` has built them.
    public let components = Mutex<Components?>(nil)

    public struct Components: Sendable {
        public var invoker: Invoker
        public var launcher: RuntimeLauncher
        public var driver: any SandboxDriver
        public var logStore: LogStore
        /// One line saying which isolation is in force and why.
        public var isolation: String
    }

    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Builds and runs the server until shutdown (SIGTERM/SIGINT when `handleSignals`, or ``shutdown()``).
    public func run(handleSignals: Bool = true) async throws {
        let c = self.configuration
        let root = URL(fileURLWithPath: c.dataDirectory).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let database = try NimbusDatabase(path: "\(root)/nimbus.sqlite")
        let codeStore = try CodeStore(root: "\(root)/code")
        let logStore = LogStore(
            database: database, configuration: .init(retentionDays: c.logRetentionDays), logger: self.logger)
        let launcher = try RuntimeLauncher(
            directory: "\(root)/runtime", configuration: .init(interpreterOverrides: c.interpreterOverrides))
        // Environments of a previous run of this data directory are gone; so are their scratch directories.
        try? FileManager.default.removeItem(atPath: "\(root)/environments")  // best effort cleanup of stale /tmp dirs
        let (driver, isolation) = try self.makeDriver(root: root)
        let invoker = Invoker(
            configuration: {
                var invoker = Invoker.Configuration(
                    account: c.account, keepAlive: c.keepAlive, accountConcurrency: c.accountConcurrency,
                    freezeIdle: c.freezeIdle)
                invoker.scalingRate = c.scalingRate
                invoker.keepAlivePolicy = c.keepAlivePolicy
                return invoker
            }(),
            driver: driver, launcher: launcher,
            codeDirectory: { codeStore.directory(for: $0) }, logSink: logStore, logger: self.logger)
        let registry = FunctionRegistry(
            store: FunctionStore(database: database), codeStore: codeStore, catalog: FunctionCatalog(),
            invoker: invoker, account: c.account, logger: self.logger)
        try await registry.load()
        try await registry.loadEventInvokeConfigs()
        let eventQueue = EventQueue(database: database)
        self.components.withLock {
            $0 = Components(
                invoker: invoker, launcher: launcher, driver: driver, logStore: logStore, isolation: isolation)
        }
        let api = LambdaAPI(
            registry: registry, invoker: invoker, logStore: logStore, codeStore: codeStore, account: c.account,
            logger: self.logger, eventQueue: eventQueue, messageQueues: MessageQueues(database: database))
        let dispatcher = AsyncDispatcher(queue: eventQueue, handler: api, configuration: c.async, logger: self.logger)
        var httpLogger = self.logger
        httpLogger.logLevel = max(self.logger.logLevel, .notice)
        let app = Application(
            responder: api.responder(),
            configuration: ApplicationConfiguration(address: .hostname(c.host, port: c.port), serverName: "Nimbus"),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? c.port
                self.markReady("http://\(c.host):\(port)")
            },
            logger: httpLogger)
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: logStore),
                    .init(service: invoker),
                    .init(service: dispatcher),
                    .init(service: app),
                ],
                gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: self.logger))
        self.group.withLock { $0 = serviceGroup }
        do {
            try await serviceGroup.run()
        } catch {
            self.failReadiness(error)
            throw error
        }
        self.failReadiness(CancellationError())
    }

    /// The sandbox driver the configuration asks for, and a sentence saying what is in force and why.
    func makeDriver(root: String) throws -> (any SandboxDriver, String) {
        let c = self.configuration
        let process = { () throws -> ProcessSandboxDriver in
            let driver = try ProcessSandboxDriver(scratchDirectory: "\(root)/environments", logger: self.logger)
            ProcessSandboxDriver.adoptOrphans()
            return driver
        }
        let processWarning =
            "functions run as plain processes of this user: no filesystem, process, network or resource isolation"
        if c.sandbox == .process {
            return (try process(), "process (chosen with --sandbox process) — \(processWarning)")
        }
        let support = SandboxSupport.probe()
        do {
            let driver = try LinuxSandboxDriver(
                support: support, stateDirectory: "\(root)/sandbox", configuration: .init(network: c.network),
                logger: self.logger)
            let cgroups = support.cgroupVersion?.rawValue ?? "?"
            return (
                driver,
                "linux — bubblewrap namespaces (mount, pid, ipc, uts, net: \(c.network.rawValue)), cgroup \(cgroups) limits and freezer, seccomp, unprivileged user"
            )
        } catch {
            if c.sandbox == .linux { throw error }
            self.logger.warning(
                "The Linux sandbox is unavailable; running without isolation",
                metadata: ["reason": "\(support.problems.joined(separator: "; "))"])
            return (
                try process(),
                "process — the Linux sandbox is unavailable here (\(support.problems.joined(separator: "; "))); \(processWarning). Run `nimbus doctor`."
            )
        }
    }

    /// The endpoint (`http://host:port`) once the HTTP server listens.
    public func endpoint() async throws -> String {
        try await withCheckedThrowingContinuation { c in
            let ready = self.readiness.withLock { state -> String? in
                if let endpoint = state.endpoint { return endpoint }
                state.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// Starts a graceful shutdown.
    public func shutdown() async {
        let group = self.group.withLock { $0 }
        await group?.triggerGracefulShutdown()
    }

    func markReady(_ endpoint: String) {
        let waiters = self.readiness.withLock { state in
            state.endpoint = endpoint
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for w in waiters { w.resume(returning: endpoint) }
    }

    func failReadiness(_ error: any Error) {
        let waiters = self.readiness.withLock { state in
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for w in waiters { w.resume(throwing: error) }
    }
}
