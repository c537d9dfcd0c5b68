import Foundation
import Hummingbird
import Logging
import NIOCore
import NimbusControlPlane
import NimbusCore
import NimbusInvoker
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

    public init(
        host: String = "127.0.0.1", port: Int = 9000, dataDirectory: String = ".nimbus",
        account: AccountContext = .init(), keepAlive: Duration = .seconds(600),
        interpreterOverrides: [String: String] = [:], logRetentionDays: Int = 7
    ) {
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
        let driver = try ProcessSandboxDriver(scratchDirectory: "\(root)/environments", logger: self.logger)
        ProcessSandboxDriver.adoptOrphans()
        // Environments of a previous run of this data directory are gone; so are their scratch directories.
        try? FileManager.default.removeItem(atPath: "\(root)/environments")  // best effort cleanup of stale /tmp dirs
        try FileManager.default.createDirectory(atPath: "\(root)/environments", withIntermediateDirectories: true)
        let invoker = Invoker(
            configuration: .init(account: c.account, keepAlive: c.keepAlive), driver: driver, launcher: launcher,
            codeDirectory: { codeStore.directory(for: $0) }, logSink: logStore, logger: self.logger)
        let registry = FunctionRegistry(
            store: FunctionStore(database: database), codeStore: codeStore, catalog: FunctionCatalog(),
            invoker: invoker, account: c.account, logger: self.logger)
        try await registry.load()
        self.components.withLock {
            $0 = Components(invoker: invoker, launcher: launcher, driver: driver, logStore: logStore)
        }
        let api = LambdaAPI(
            registry: registry, invoker: invoker, logStore: logStore, codeStore: codeStore, account: c.account,
            logger: self.logger)
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
