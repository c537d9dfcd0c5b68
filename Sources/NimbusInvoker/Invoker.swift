import Foundation
import Logging
import NIOCore
import NIOPosix
import NimbusCore
import NimbusRuntimeAPI
import NimbusSandbox
import ServiceLifecycle
import Synchronization

/// The invoker ("worker manager"): runs invocations on warm environments, starting cold ones on demand, one
/// invocation per environment at a time; reaps idle environments after the keep-alive; retires environments of
/// replaced code or configuration; writes START/END/REPORT. The hot path (a warm invoke) touches no database and
/// no disk.
public final class Invoker: Service {
    public struct Configuration: Sendable {
        public var account: AccountContext
        /// How long an idle environment is kept warm.
        public var keepAlive: Duration
        /// The init phase's limit (AWS: 10 s; a longer function timeout extends it, as AWS's suppressed init does).
        public var initTimeout: Duration
        /// Host for per-environment Runtime API listeners (process tier).
        public var runtimeAPIHost: String
        /// Freeze idle environments (no CPU between invocations) where the sandbox driver can.
        public var freezeIdle: Bool
        /// The account's concurrency limit: busy environments across all functions (AWS's default: 1,000).
        public var accountConcurrency: Int
        /// How fast each function may start new environments (AWS: 1,000 per 10 s).
        public var scalingRate = ScalingLimiter.Rate()
        /// Fixed keep-alive, or the hybrid histogram (see KeepAlivePolicy.swift) with the fixed one as fallback.
        public var keepAlivePolicy: KeepAlivePolicy.Kind = .fixed
        /// Environments older than this are retired once idle, so that their temporary credentials are replaced
        /// before they expire (and no environment lives forever).
        public var maximumEnvironmentAge: Duration = .seconds(11 * 3600)

        public init(
            account: AccountContext = .init(), keepAlive: Duration = .seconds(600), initTimeout: Duration = .seconds(10),
            runtimeAPIHost: String = "127.0.0.1", accountConcurrency: Int = Limits.accountConcurrency, freezeIdle: Bool = true
        ) {
            self.accountConcurrency = accountConcurrency
            self.freezeIdle = freezeIdle
            self.account = account
            self.keepAlive = keepAlive
            self.initTimeout = initTimeout
            self.runtimeAPIHost = runtimeAPIHost
        }
    }

    let configuration: Configuration
    let driver: any SandboxDriver
    let launcher: RuntimeLauncher
    let codeDirectory: @Sendable (String) -> String
    let logSink: any LogSink
    /// Credentials and an endpoint for each environment (none in tests that do not need them).
    let services: (any EnvironmentServices)?
    let logger: Logger
    /// Pools per function version, keyed by ``poolKey(name:version:)``.
    let pools = Mutex<[String: FunctionPool]>([:])
    /// Concurrency slots (see Invoker+Concurrency.swift).
    let concurrency: ConcurrencyLimiter
    /// The newest revision per function, so that released environments of older ones are destroyed.
    let currentRevisions = Mutex<[String: String]>([:])
    let group: any EventLoopGroup
    /// Provisioned concurrency (see Invoker+Provisioned.swift).
    let provisioning = Provisioning()
    /// New environments per function (see ScalingLimiter.swift).
    let scaling = ScalingLimiter()

    /// - Parameter codeDirectory: maps a code digest to its unpacked directory on the host.
    public init(
        configuration: Configuration, driver: any SandboxDriver, launcher: RuntimeLauncher,
        codeDirectory: @escaping @Sendable (String) -> String, logSink: any LogSink,
        services: (any EnvironmentServices)? = nil, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.services = services
        self.configuration = configuration
        self.driver = driver
        self.launcher = launcher
        self.codeDirectory = codeDirectory
        self.logSink = logSink
        self.logger = logger
        self.group = group
        self.concurrency = ConcurrencyLimiter(accountLimit: configuration.accountConcurrency)
    }

    // MARK: Service

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.reapLoop() }
            group.addTask { await self.provisionLoop() }
            await self.waitForShutdown()
            group.cancelAll()
        }
        self.destroyAll()
    }

    func waitForShutdown() async {
        // Poll cheaply for graceful shutdown or cancellation.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))  // cancellation ends the wait
        }
    }

    func reapLoop() async {
        var ticks = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: Self.sweepInterval)  // cancellation ends the loop
            self.expireDeadlines()
            ticks += 1
            if ticks % 20 == 0 { self.reapIdle() }
        }
    }

    /// How often deadlines are checked: a timed-out invocation ends at most this much after its deadline.
    static let sweepInterval = Duration.milliseconds(25)

    /// Times out overdue inits and invocations of busy environments.
    func expireDeadlines() {
        let now = ContinuousClock.now
        let pools = self.pools.withLock { Array($0.values) }
        for pool in pools {
            for env in pool.busyEnvironments() { env.mailbox.expire(now: now) }
        }
    }

    /// The init phase's limit: AWS's 10 s, or the function timeout when longer (AWS retries a slow init within the
    /// invoke phase, bounded by the function timeout).
    func initTimeout(_ config: FunctionConfiguration) -> Duration {
        max(self.configuration.initTimeout, .seconds(config.timeoutSeconds))
    }

    // MARK: Public API

    /// Tells the invoker that a function's configuration or code changed: idle environments of older revisions are
    /// destroyed now, busy ones when they finish.
    public func functionChanged(name: String, revisionID: String) {
        self.currentRevisions.withLock { $0[name] = revisionID }
        let pool = self.pools.withLock { $0[name] }
        let stale = pool?.reap(idleSince: nil, keepRevisionID: revisionID) ?? []
        for env in stale { env.destroy() }
        for scratch in pool?.expirePreserved(olderThan: nil, keepRevisionID: revisionID) ?? [] {
            self.driver.removeScratch(scratch)
        }
    }

    /// Environment counts per function (idle, busy), for metrics and tests.
    public func environmentCounts() -> [String: (idle: Int, busy: Int)] {
        let pools = self.pools.withLock { $0 }
        return pools.mapValues { $0.counts }
    }

    /// Runs one invocation and returns what the caller sees.
    /// - Throws: `NimbusError` for platform failures (runtime unavailable, sandbox failure), never for function
    ///   failures.
    public func invoke(_ request: InvokeRequest) async throws -> InvokeResult {
        let config = request.configuration
        // A slot first, atomically; it is given back when this call returns or throws, whatever happened.
        let slot = try self.takeConcurrencySlot(request)
        defer { self.concurrency.release(slot) }
        let poolKey = Self.poolKey(name: config.name, version: config.version)
        let pool = self.pools.withLock { pools in
            if let pool = pools[poolKey] { return pool }
            let pool = FunctionPool(isPinned: config.version != "$LATEST")
            pools[poolKey] = pool
            return pool
        }
        let (warm, stale) = pool.acquire(revisionID: config.revisionID, eventLoop: request.eventLoop, network: request.network)
        for env in stale { env.destroy() }
        let freed = warm == nil ? try await self.waitForScaling(request, pool: pool) : nil
        if let warm = warm ?? freed {
            warm.becameBusy()
            warm.log.beginCapture(keep: false)
            return await self.execute(request, on: warm, pool: pool, coldInit: nil)
        }
        let env = try await self.startEnvironment(
            config, scratchID: pool.takePreserved(revisionID: config.revisionID),
            eventLoop: request.eventLoop ?? self.group.next(), network: request.network)
        pool.adopt(env)
        let initTimeout = self.initTimeout(config)
        let (initResult, initMillis) = await env.initialize()
        switch initResult {
        case .ready:
            return await self.execute(request, on: env, pool: pool, coldInit: initMillis)
        case .initError(let body, let errorType):
            let type = errorType ?? Self.errorType(in: body) ?? "Runtime.Unknown"
            return self.failInit(
                request, env: env, pool: pool, initMillis: initMillis, errorType: type,
                body: body.readableBytes > 0 ? body : Self.errorJSON(type: type, message: ""))
        case .exited(let status):
            env.drainOutput()
            return self.failInit(
                request, env: env, pool: pool, initMillis: initMillis, errorType: "Runtime.ExitError",
                body: Self.errorJSON(
                    type: "Runtime.ExitError", message: Self.exitMessage(id: request.requestID, status: status)))
        case .timedOut:
            let seconds = Int((Double(initTimeout.components.seconds)).rounded())
            return self.failInit(
                request, env: env, pool: pool, initMillis: initMillis, errorType: "Sandbox.Timedout",
                body: Self.errorJSON(
                    type: "Sandbox.Timedout",
                    message: "RequestId: \(request.requestID) Error: Task timed out after \(seconds).00 seconds"),
                status: "timeout")
        case .shutdown:
            env.destroy()
            pool.discard(env)
            throw NimbusError(.service, "The server is shutting down.")
        }
    }

    // MARK: Internals

    func startEnvironment(
        _ config: FunctionConfiguration, scratchID: String?, eventLoop: any EventLoop, network mode: NetworkMode? = nil,
        initializationType: String = "on-demand"
    ) async throws -> ExecutionEnvironment {
        let id = Digest.randomHex32()
        let codeDirectory = self.codeDirectory(config.code.digestHex)
        let runtime = config.runtime ?? "provided.al2023"
        let layoutRequest = SandboxLayoutRequest(
            environmentID: id, scratchID: scratchID, codeDirectory: codeDirectory,
            runtimeDirectory: self.launcher.runtimeDirectory,
            pythonSDK: RuntimeCatalog.family(of: runtime) == .python ? self.launcher.pythonSDK : nil)
        let layout = self.driver.layout(for: layoutRequest)
        let command: (executable: String, arguments: [String])
        switch self.launcher.command(runtime: runtime, layout: layout, hostCodeDirectory: codeDirectory) {
        case .success(let c): command = c
        case .failure(let problem) where problem.isPlatformProblem:
            throw NimbusError(.invalidRuntime, problem.message)
        case .failure(let problem):
            // The function's own fault (e.g. no bootstrap): a process that fails init the way AWS reports it.
            command = ("/bin/sh", ["-c", "exit 127"])
            self.logger.debug("Runtime cannot start", metadata: ["function.name": "\(config.name)", "error": "\(problem.message)"])
        }
        let mailbox = RuntimeMailbox(initDeadline: .now + self.initTimeout(config))
        let stepsStart = ContinuousClock.now
        let network: PreparedNetwork?
        do {
            network = try self.driver.prepareNetwork(environmentID: id, mode: mode)
        } catch {
            throw NimbusError(.service, "Could not prepare the environment's network for \(config.name): \(error)")
        }
        let listener: RuntimeAPIListener
        do {
            // The listener and its connections live on one loop: the environment's.
            if let network {
                listener = try await RuntimeAPIListener.adopt(
                    listeningSocket: network.listeningSocket, address: "127.0.0.1:9001", mailbox: mailbox,
                    group: eventLoop, logger: self.logger)
            } else {
                listener = try await RuntimeAPIListener.bind(
                    host: self.configuration.runtimeAPIHost, port: 0, mailbox: mailbox, group: eventLoop,
                    logger: self.logger)
            }
        } catch {
            self.driver.discardPreparation(environmentID: id)
            throw NimbusError(.service, "Could not open the Runtime API listener: \(error)")
        }
        let attached: AttachedServices?
        if self.services == nil, let socket = network?.serviceSocket, socket >= 0 { close(socket) }
        do {
            attached = try await self.services?.attach(
                environmentID: id, function: config, namespace: self.configuration.account,
                serviceSocket: network.map(\.serviceSocket).flatMap { $0 >= 0 ? $0 : nil })
        } catch {
            listener.close()
            self.driver.discardPreparation(environmentID: id)
            throw NimbusError(.service, "Could not open the environment's service endpoint: \(error)")
        }
        let networkReady = ContinuousClock.now
        let stream = "\(Timestamp.streamDate(millis: Timestamp.nowMillis()))/[\(config.version)]\(id)"
        let log = EnvironmentLog(
            namespace: self.configuration.account, group: config.effectiveLogGroup, stream: stream, sink: self.logSink)
        let driver = self.driver
        let env = ExecutionEnvironment(
            id: id, scratchID: layoutRequest.scratchID, removeScratch: { driver.removeScratch($0) },
            configuration: config, mailbox: mailbox, listener: listener, log: log, eventLoop: eventLoop, network: mode,
            detachServices: attached?.detach)
        mailbox.onParked { [weak env] in env?.runtimeParked() }
        var environment = self.environmentVariables(
            config, layout: layout, runtime: runtime, stream: stream, api: listener.address,
            initializationType: initializationType)
        // The function's own variables win where it may set them (AWS_ENDPOINT_URL); credentials are reserved.
        for (key, value) in attached?.environment ?? [:] where config.environment[key] == nil { environment[key] = value }
        log.platformLine(
            "INIT_START Runtime Version: \(Self.runtimeVersion(runtime))\tRuntime Version ARN: arn:aws:lambda:\(self.configuration.account.region)::runtime:\(Digest.sha256Hex(Array("nimbus-runtime:\(runtime)".utf8)))"
        )
        do {
            let sandbox = try self.driver.launch(
                SandboxSpec(
                    environmentID: id, layout: layout, codeDirectory: codeDirectory,
                    runtimeDirectory: self.launcher.runtimeDirectory, executable: command.executable,
                    arguments: command.arguments, environment: environment, memoryMB: config.memorySizeMB,
                    ephemeralStorageMB: config.ephemeralStorageMB, network: network,
                    extraReadOnlyPaths: self.launcher.hostPaths(runtime: runtime), pythonSDK: layoutRequest.pythonSDK),
                output: { [log] bytes in log.output(bytes) },
                exit: { [mailbox] status in mailbox.processExited(status.description) })
            env.sandbox.withLock { $0 = sandbox }
            self.logger.debug(
                "Environment started",
                metadata: [
                    "sandbox.id": "\(id)", "function.name": "\(config.name)",
                    "network.ms": "\(ExecutionEnvironment.millis(networkReady - stepsStart))",
                    "launch.ms": "\(ExecutionEnvironment.millis(ContinuousClock.now - networkReady))",
                ])
        } catch {
            listener.close()
            attached?.detach()
            self.driver.discardPreparation(environmentID: id)
            self.driver.removeScratch(layoutRequest.scratchID)
            throw NimbusError(.service, "Could not start an execution environment for \(config.name): \(error)")
        }
        if case .failure(let problem) = self.launcher.command(runtime: runtime, layout: layout, hostCodeDirectory: codeDirectory),
            !problem.isPlatformProblem
        {
            log.platformLine("\(problem.errorType): \(problem.message)")
        }
        return env
    }

    func execute(
        _ request: InvokeRequest, on env: ExecutionEnvironment, pool: FunctionPool, coldInit: Double?
    ) async -> InvokeResult {
        let config = request.configuration
        let id = request.requestID
        env.log.platformLine("START RequestId: \(id) Version: \(config.version)")
        let deadline = Timestamp.nowMillis() + Int64(config.timeoutSeconds) * 1000
        let invocation = RuntimeInvocation(
            requestID: id, payload: request.payload, deadlineMillis: deadline,
            invokedFunctionARN: request.invokedFunctionARN, traceID: request.traceID ?? Self.traceID(),
            clientContext: request.clientContext)
        let (result, millis) = await env.run(invocation, timeout: .seconds(config.timeoutSeconds))
        var payload: ByteBuffer
        var functionError: String?
        var errorType: String?
        var status: String?
        var reusable = true
        switch result {
        case .response(let body, _):
            payload = body
        case .error(let body, let type):
            functionError = "Unhandled"
            errorType = type ?? Self.errorType(in: body) ?? "Runtime.Unknown"
            payload = body.readableBytes > 0 ? body : Self.errorJSON(type: errorType!, message: "")
            status = "error"
        case .responseTooLarge:
            functionError = "Unhandled"
            errorType = "Function.ResponseSizeTooLarge"
            payload = Self.errorJSON(
                type: "Function.ResponseSizeTooLarge",
                message: "Response payload size exceeded maximum allowed payload size (\(Limits.maximumResponseBytes) bytes).",
                messageFirst: true)
            status = "error"
        case .timedOut:
            functionError = "Unhandled"
            errorType = "Sandbox.Timedout"
            reusable = false
            env.drainOutput()
            env.log.platformLine(
                "\(Timestamp.isoString(millis: Timestamp.nowMillis())) \(id) Task timed out after \(config.timeoutSeconds).00 seconds")
            payload = Self.errorJSON(
                type: "Sandbox.Timedout",
                message: "RequestId: \(id) Error: Task timed out after \(config.timeoutSeconds).00 seconds")
            status = "timeout"
        case .exited(let exit) where env.wasKilledForMemory():
            functionError = "Unhandled"
            errorType = "Runtime.OutOfMemory"
            reusable = false
            payload = Self.errorJSON(
                type: "Runtime.OutOfMemory", message: "RequestId: \(id) Error: Runtime exited with error: \(exit)")
            status = "error"
        case .exited(let exit):
            functionError = "Unhandled"
            errorType = "Runtime.ExitError"
            reusable = false
            let message =
                Self.exitMessage(id: id, status: exit.hasPrefix("Runtime exited") ? "exit status 0" : exit)
            payload = Self.errorJSON(type: "Runtime.ExitError", message: message)
            status = "error"
        case .shutdown:
            functionError = "Unhandled"
            errorType = "Runtime.ExitError"
            reusable = false
            payload = Self.errorJSON(
                type: "Runtime.ExitError", message: "RequestId: \(id) Error: Runtime exited without providing a reason")
            status = "error"
        }
        if reusable { env.drainOutput() }
        let memory = env.maxMemoryUsedMB()
        if !reusable {
            env.destroy(keepScratch: true)
            pool.preserve(scratchID: env.scratchID, revisionID: config.revisionID)
        }
        env.log.platformLine("END RequestId: \(id)")
        env.log.platformLine(
            Self.reportLine(
                id: id, millis: millis, memorySize: config.memorySizeMB, maxMemory: memory, initMillis: coldInit,
                status: status, errorType: status == "timeout" ? nil : errorType))
        let tail = request.wantsLogTail ? env.log.tail() : nil
        if reusable {
            let current = self.currentRevisions.withLock { $0[config.name] }
            // Idle (and possibly frozen) before it is visible in the pool, so that a concurrent acquire's thaw
            // always comes after this freeze.
            env.becameIdle(freeze: self.configuration.freezeIdle)
            if !pool.release(env, reusable: true, currentRevisionID: current) { env.destroy() }
        } else {
            pool.discard(env)
        }
        return InvokeResult(
            payload: payload, functionError: functionError, executedVersion: config.version, logTail: tail,
            errorType: errorType, coldStart: coldInit != nil)
    }

    func failInit(
        _ request: InvokeRequest, env: ExecutionEnvironment, pool: FunctionPool, initMillis: Double,
        errorType: String, body: ByteBuffer, status: String = "error"
    ) -> InvokeResult {
        let config = request.configuration
        env.drainOutput()
        let memory = env.maxMemoryUsedMB()
        env.destroy(keepScratch: true)
        pool.discard(env)
        pool.preserve(scratchID: env.scratchID, revisionID: config.revisionID)
        let statusText = status == "timeout" ? "Status: timeout" : "Status: error\tError Type: \(errorType)"
        env.log.platformLine("INIT_REPORT Init Duration: \(Self.format(initMillis)) ms\tPhase: init\t\(statusText)")
        env.log.platformLine("START RequestId: \(request.requestID) Version: \(config.version)")
        env.log.platformLine("END RequestId: \(request.requestID)")
        env.log.platformLine(
            Self.reportLine(
                id: request.requestID, millis: initMillis, memorySize: config.memorySizeMB, maxMemory: memory,
                initMillis: nil, status: status, errorType: status == "timeout" ? nil : errorType))
        return InvokeResult(
            payload: body, functionError: "Unhandled", executedVersion: config.version,
            logTail: request.wantsLogTail ? env.log.tail() : nil, errorType: errorType, coldStart: true)
    }

    func reapIdle() {
        let pools = self.pools.withLock { $0 }
        let revisions = self.currentRevisions.withLock { $0 }
        let startedBefore = ContinuousClock.now - self.configuration.maximumEnvironmentAge
        for (name, pool) in pools {
            let cutoff = self.keepAliveCutoff(pool)
            let reaped = pool.reap(idleSince: cutoff, startedBefore: startedBefore, keepRevisionID: revisions[name])
            for env in reaped + self.releaseEarly(pool) {
                self.logger.debug("Idle environment stopped", metadata: ["sandbox.id": "\(env.id)", "function.name": "\(name)"])
                env.destroy()
            }
            for scratch in pool.expirePreserved(olderThan: cutoff, keepRevisionID: revisions[name]) {
                self.driver.removeScratch(scratch)
            }
        }
        self.prewarm(pools)
        self.driver.reapAdoptedProcesses()
    }

    func destroyAll() {
        let pools = self.pools.withLock { p -> [FunctionPool] in
            defer { p.removeAll() }
            return Array(p.values)
        }
        for pool in pools { self.retire(pool) }
        // Whatever environments left behind (detached children adopted by this process) goes too.
        self.driver.killAllEnvironmentProcesses()
    }

    func environmentVariables(
        _ config: FunctionConfiguration, layout: SandboxLayout, runtime: String, stream: String, api: String,
        initializationType: String = "on-demand"
    ) -> [String: String] {
        let account = self.configuration.account
        var env: [String: String] = [
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LD_LIBRARY_PATH":
                "/var/lang/lib:/lib64:/usr/lib64:\(layout.runtimeDirectory):\(layout.runtimeDirectory)/lib:\(layout.taskRoot):\(layout.taskRoot)/lib:/opt/lib",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        ]
        if RuntimeCatalog.family(of: runtime) == .node {
            env["NODE_PATH"] = "/opt/nodejs/node_modules:\(layout.runtimeDirectory)/node_modules:\(layout.runtimeDirectory):\(layout.taskRoot)"
        }
        for (key, value) in config.environment { env[key] = value }
        if let sdk = layout.pythonSDK {
            // boto3, after the function's own PYTHONPATH (the runtime client puts both after the task root and layers).
            env["PYTHONPATH"] = env["PYTHONPATH"].map { "\($0):\(sdk)" } ?? sdk
        }
        env["_HANDLER"] = config.handler ?? ""
        env["AWS_LAMBDA_RUNTIME_API"] = api
        env["LAMBDA_TASK_ROOT"] = layout.taskRoot
        env["LAMBDA_RUNTIME_DIR"] = layout.runtimeDirectory
        env["AWS_REGION"] = account.region
        env["AWS_DEFAULT_REGION"] = account.region
        env["AWS_LAMBDA_FUNCTION_NAME"] = config.name
        env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = String(config.memorySizeMB)
        env["AWS_LAMBDA_FUNCTION_VERSION"] = config.version
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = initializationType
        env["AWS_LAMBDA_LOG_GROUP_NAME"] = config.effectiveLogGroup
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = stream
        if RuntimeCatalog.family(of: runtime) != .provided { env["AWS_EXECUTION_ENV"] = "AWS_Lambda_\(runtime)" }
        if config.logFormat == "JSON" {
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            if let level = config.applicationLogLevel { env["AWS_LAMBDA_LOG_LEVEL"] = level }
        }
        return env
    }

    static func reportLine(
        id: String, millis: Double, memorySize: Int, maxMemory: Int, initMillis: Double?, status: String?,
        errorType: String?
    ) -> String {
        var line =
            "REPORT RequestId: \(id)\tDuration: \(self.format(millis)) ms\tBilled Duration: \(Int(millis.rounded(.up))) ms\tMemory Size: \(memorySize) MB\tMax Memory Used: \(maxMemory) MB\t"
        if let initMillis { line += "Init Duration: \(self.format(initMillis)) ms\t" }
        if let status { line += "Status: \(status)\t" }
        if let errorType { line += "Error Type: \(errorType)\t" }
        return line
    }

    /// Lambda's Runtime.ExitError message: a clean exit (status 0) gave no reason.
    static func exitMessage(id: String, status: String) -> String {
        status == "exit status 0"
            ? "RequestId: \(id) Error: Runtime exited without providing a reason"
            : "RequestId: \(id) Error: Runtime exited with error: \(status)"
    }

    static func format(_ millis: Double) -> String { Timestamp.twoDecimals(millis) }

    static func runtimeVersion(_ runtime: String) -> String {
        switch RuntimeCatalog.family(of: runtime) {
        case .python: "python:\(RuntimeCatalog.languageVersion(of: runtime) ?? "3").nimbus1"
        case .node: "nodejs:\(RuntimeCatalog.languageVersion(of: runtime) ?? "").nimbus1"
        default: "provided:al2023.nimbus1"
        }
    }

    /// An X-Ray trace header for an invocation that arrived without one.
    public static func traceID() -> String {
        let hex = Digest.randomHex32()
        let epoch = String(Int(Date().timeIntervalSince1970), radix: 16)
        return "Root=1-\(epoch)-\(hex.prefix(24));Parent=\(hex.suffix(16));Sampled=0;Lineage=1:\(hex.prefix(8)):0"
    }

    static func errorJSON(type: String, message: String, messageFirst: Bool = false) -> ByteBuffer {
        let json = JSONValue.object(["errorType": .string(type), "errorMessage": .string(message)]).serialized()
        return ByteBuffer(bytes: json)
    }

    static func errorType(in body: ByteBuffer) -> String? {
        JSONValue.parse(body.readableBytesView)?["errorType"]?.stringValue
    }
}
