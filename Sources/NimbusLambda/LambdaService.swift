import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusEventSources
import NimbusInvoker
import NimbusQueue
import NimbusSQS
import NimbusStore
import ServiceLifecycle
import Synchronization

/// The Lambda service of every (account, region): each namespace is a cell of its own — a registry over its rows
/// of the store, its catalog, and an invoker with its own concurrency limits (AWS's limits are per account and
/// region) — created when a request first names it, or at start for every namespace that has functions. The edge
/// sees one service; each operation runs on the cell of the request's namespace. A service of the server's group:
/// it runs the cells' invokers.
public final class LambdaService: Service, Sendable {
    /// What every cell shares.
    public struct Shared: Sendable {
        public var database: NimbusDatabase
        public var codeStore: CodeStore
        public var eventQueue: EventQueue
        /// SQS: where destination records and dead letters go.
        public var queues: SQSService
        public var credentials: CredentialStore
        public var logger: Logger
        /// Builds the invoker of a namespace (its configuration names the namespace).
        public var makeInvoker: @Sendable (AccountContext) -> Invoker
        public var random: @Sendable () -> Double

        public init(
            database: NimbusDatabase, codeStore: CodeStore, eventQueue: EventQueue, queues: SQSService,
            credentials: CredentialStore, logger: Logger, makeInvoker: @escaping @Sendable (AccountContext) -> Invoker,
            random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
        ) {
            self.database = database
            self.codeStore = codeStore
            self.eventQueue = eventQueue
            self.queues = queues
            self.credentials = credentials
            self.logger = logger
            self.makeInvoker = makeInvoker
            self.random = random
        }
    }

    let shared: Shared
    /// Cells ready to serve, read on every request.
    let ready = Mutex<[AccountContext: LambdaAPI]>([:])
    /// Cells being created (loading a namespace's functions), so that concurrent first requests share one.
    let creating = Mutex<[AccountContext: Task<LambdaAPI, any Error>]>([:])
    /// Function URL ids of every cell.
    public let urlIndex = FunctionURLIndex()
    /// Event source mappings of every cell, given once the pollers exist (they invoke through this service).
    let eventSourceMappings = Mutex<EventSourceMappings?>(nil)
    /// Where `Code.S3Bucket` packages are read (S3), given once it exists.
    let packages = PackageSlot()
    /// Where destinations that are event buses publish (EventBridge), given once it exists.
    let eventBuses = EventBusSlot()
    let invokers: AsyncStream<Invoker>
    let newInvoker: AsyncStream<Invoker>.Continuation

    public init(_ shared: Shared) {
        self.shared = shared
        (self.invokers, self.newInvoker) = AsyncStream.makeStream()
    }

    /// The cell of a namespace, created (and its functions loaded) on first use.
    public func api(for namespace: AccountContext) async throws -> LambdaAPI {
        if let api = self.ready.withLock({ $0[namespace] }) { return api }
        let task = try self.creating.withLock { tasks -> Task<LambdaAPI, any Error> in
            if let existing = tasks[namespace] { return existing }
            // Each cell runs an invoker: a caller inventing regions or accounts must not make unbounded many.
            guard tasks.count < Self.maximumNamespaces else {
                throw NimbusError(
                    .service,
                    "Nimbus serves at most \(Self.maximumNamespaces) (account, region) namespaces; \(namespace.accountID)/\(namespace.region) would be one more.")
            }
            let task = Task { try await self.makeCell(namespace) }
            tasks[namespace] = task
            return task
        }
        return try await task.value
    }

    static let maximumNamespaces = 256

    /// Creates the cells of every namespace that has functions (server start: provisioned concurrency, reserved
    /// concurrency and event invoke configs come back) and of `namespaces`.
    public func load(_ namespaces: [AccountContext]) async throws {
        let stored = try await self.shared.database.namespaces()
        for namespace in Set(stored + namespaces) {
            _ = try await self.api(for: namespace)
        }
    }

    func makeCell(_ namespace: AccountContext) async throws -> LambdaAPI {
        let invoker = self.shared.makeInvoker(namespace)
        let registry = FunctionRegistry(
            store: SQLiteFunctionStore(database: self.shared.database, namespace: namespace), codeStore: self.shared.codeStore,
            catalog: FunctionCatalog(), invoker: invoker, account: namespace, logger: self.shared.logger,
            codeInUse: { [weak self] digest in self?.codeInUse(digest) ?? true }, urlIndex: self.urlIndex)
        do {
            try await registry.load()
            try await registry.loadEventInvokeConfigs()
        } catch {
            self.creating.withLock { $0[namespace] = nil }
            throw error
        }
        let api = LambdaAPI(
            registry: registry, invoker: invoker, codeStore: self.shared.codeStore, account: namespace,
            credentials: self.shared.credentials, logger: self.shared.logger, eventQueue: self.shared.eventQueue,
            queues: self.shared.queues, packages: self.packages, eventBuses: self.eventBuses, random: self.shared.random)
        self.ready.withLock { $0[namespace] = api }
        self.newInvoker.yield(invoker)
        return api
    }

    /// Whether a function of any namespace refers to a code package (packages are shared by digest).
    func codeInUse(_ digest: String) -> Bool {
        self.ready.withLock { cells in
            cells.values.contains { $0.catalog.all().contains { $0.codeDigests.contains(digest) } }
        }
    }

    /// Hands over the event source mappings (composition root, before the edge serves).
    public func use(_ mappings: EventSourceMappings) {
        self.eventSourceMappings.withLock { $0 = mappings }
    }

    /// Hands over where `Code.S3Bucket` packages are read (composition root, before the edge serves).
    public func use(packages: any PackageSource) {
        self.packages.source.withLock { $0 = packages }
    }

    /// Hands over where event-bus destinations publish (composition root, before the edge serves).
    public func use(eventBuses: any EventPublishing) {
        self.eventBuses.source.withLock { $0 = eventBuses }
    }

    func mappings() throws -> EventSourceMappings {
        guard let mappings = self.eventSourceMappings.withLock({ $0 }) else {
            throw NimbusError(.service, "Event source mappings are not available on this server.")
        }
        return mappings
    }

    /// The invoker of a namespace, if its cell exists (tests, benchmarks, operational routes).
    public func invoker(for namespace: AccountContext) -> Invoker? {
        self.ready.withLock { $0[namespace]?.invoker }
    }

    /// Runs every cell's invoker until shutdown (each destroys its environments then).
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await gracefulShutdown()
                self.newInvoker.finish()
            }
            for await invoker in self.invokers {
                group.addTask { try? await invoker.run() }
            }
        }
    }

    /// The Lambda API as the edge serves it: every operation with its method, URI and body limit (botocore's
    /// `lambda/2015-03-31/service-2.json`).
    public var definition: ServiceDefinition {
        let fn = "/2015-03-31/functions/{FunctionName}"
        func op(
            _ name: String, _ method: String, _ uri: String, limit: Int = 1_048_576,
            _ handler: @escaping @Sendable (LambdaAPI, ServiceRequest, String) async throws -> ServiceResponse
        ) -> ServiceOperation {
            ServiceOperation(
                name, HTTPBinding(method, uri), bodyLimit: limit, limitName: name == "Invoke" ? "InvokeFunction" : nil,
                onConnectionLoop: name == "Invoke"
            ) {
                try await handler(try await self.api(for: $0.namespace), $0, $0.label("FunctionName"))
            }
        }
        let operations: [ServiceOperation] = [
            op("CreateFunction", "POST", "/2015-03-31/functions", limit: Limits.maximumCreateFunctionRequestBytes) {
                api, p, _ in try await api.createFunction(p)
            },
            op("ListFunctions", "GET", "/2015-03-31/functions") { api, p, _ in try api.listFunctions(p) },
            op("GetFunction", "GET", fn) { try $0.getFunction($1, name: $2) },
            op("DeleteFunction", "DELETE", fn) { try await $0.deleteFunction($1, name: $2) },
            op("GetFunctionConfiguration", "GET", fn + "/configuration") { try $0.getConfiguration($1, name: $2) },
            op("UpdateFunctionConfiguration", "PUT", fn + "/configuration") {
                try await $0.updateConfiguration($1, name: $2)
            },
            op("UpdateFunctionCode", "PUT", fn + "/code", limit: Limits.maximumCreateFunctionRequestBytes) {
                try await $0.updateCode($1, name: $2)
            },
            op("Invoke", "POST", fn + "/invocations", limit: Limits.maximumSyncPayloadBytes) {
                try await $0.invoke($1, name: $2)
            },
            op("InvokeAsync", "POST", "/2014-11-13/functions/{FunctionName}/invoke-async", limit: Limits.maximumSyncPayloadBytes) {
                try await $0.invokeAsync($1, name: $2)
            },
            op("PublishVersion", "POST", fn + "/versions") { try await $0.publishVersion($1, name: $2) },
            op("ListVersionsByFunction", "GET", fn + "/versions") { try $0.listVersions($1, name: $2) },
            op("CreateAlias", "POST", fn + "/aliases") { try await $0.createAlias($1, name: $2) },
            op("ListAliases", "GET", fn + "/aliases") { try $0.listAliases($1, name: $2) },
            op("GetAlias", "GET", fn + "/aliases/{Name}") { try $0.getAlias($1, name: $2, alias: $1.label("Name")) },
            op("UpdateAlias", "PUT", fn + "/aliases/{Name}") {
                try await $0.updateAlias($1, name: $2, alias: $1.label("Name"))
            },
            op("DeleteAlias", "DELETE", fn + "/aliases/{Name}") {
                try await $0.deleteAlias($1, name: $2, alias: $1.label("Name"))
            },
            op("PutFunctionConcurrency", "PUT", "/2017-10-31/functions/{FunctionName}/concurrency") {
                try await $0.putConcurrency($1, name: $2)
            },
            op("GetFunctionConcurrency", "GET", "/2019-09-30/functions/{FunctionName}/concurrency") {
                try $0.getConcurrency($1, name: $2)
            },
            op("DeleteFunctionConcurrency", "DELETE", "/2017-10-31/functions/{FunctionName}/concurrency") {
                try await $0.deleteConcurrency($1, name: $2)
            },
            op("PutProvisionedConcurrencyConfig", "PUT", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency") {
                try await $0.putProvisioned($1, name: $2)
            },
            op("GetProvisionedConcurrencyConfig", "GET", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency") {
                try $0.getProvisioned($1, name: $2)
            },
            op("ListProvisionedConcurrencyConfigs", "GET", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency?List=ALL") {
                try $0.listProvisioned($1, name: try $0.unqualifiedName($2))
            },
            op("DeleteProvisionedConcurrencyConfig", "DELETE", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency") {
                try await $0.deleteProvisioned($1, name: $2)
            },
            op("PutFunctionEventInvokeConfig", "PUT", "/2019-09-25/functions/{FunctionName}/event-invoke-config") {
                try await $0.putEventInvokeConfig($1, name: $2, merge: false)
            },
            op("UpdateFunctionEventInvokeConfig", "POST", "/2019-09-25/functions/{FunctionName}/event-invoke-config") {
                try await $0.putEventInvokeConfig($1, name: $2, merge: true)
            },
            op("GetFunctionEventInvokeConfig", "GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config") {
                try $0.getEventInvokeConfig($1, name: $2)
            },
            op("DeleteFunctionEventInvokeConfig", "DELETE", "/2019-09-25/functions/{FunctionName}/event-invoke-config") {
                try await $0.deleteEventInvokeConfig($1, name: $2)
            },
            op("ListFunctionEventInvokeConfigs", "GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config/list") {
                try $0.listEventInvokeConfigs($1, name: $2)
            },
            op("AddPermission", "POST", fn + "/policy") { try await $0.addPermission($1, name: $2) },
            op("RemovePermission", "DELETE", fn + "/policy/{StatementId}") {
                try await $0.removePermission($1, name: $2, sid: $1.label("StatementId"))
            },
            op("GetPolicy", "GET", fn + "/policy") { try $0.getPolicy($1, name: $2) },
            op("CreateFunctionUrlConfig", "POST", "/2021-10-31/functions/{FunctionName}/url") {
                try await $0.createURLConfig($1, name: $2)
            },
            op("GetFunctionUrlConfig", "GET", "/2021-10-31/functions/{FunctionName}/url") { try $0.getURLConfig($1, name: $2) },
            op("UpdateFunctionUrlConfig", "PUT", "/2021-10-31/functions/{FunctionName}/url") {
                try await $0.updateURLConfig($1, name: $2)
            },
            op("DeleteFunctionUrlConfig", "DELETE", "/2021-10-31/functions/{FunctionName}/url") {
                try await $0.deleteURLConfig($1, name: $2)
            },
            op("ListFunctionUrlConfigs", "GET", "/2021-10-31/functions/{FunctionName}/urls") {
                try $0.listURLConfigs($1, name: $2)
            },
            op("CreateEventSourceMapping", "POST", "/2015-03-31/event-source-mappings") { api, p, _ in
                try await self.mappings().create(p, api: api)
            },
            op("ListEventSourceMappings", "GET", "/2015-03-31/event-source-mappings") { api, p, _ in
                try self.mappings().list(p, api: api)
            },
            op("GetEventSourceMapping", "GET", "/2015-03-31/event-source-mappings/{UUID}") { api, p, _ in
                try self.mappings().get(p, api: api, uuid: p.label("UUID"))
            },
            op("UpdateEventSourceMapping", "PUT", "/2015-03-31/event-source-mappings/{UUID}") { api, p, _ in
                try await self.mappings().update(p, api: api, uuid: p.label("UUID"))
            },
            op("DeleteEventSourceMapping", "DELETE", "/2015-03-31/event-source-mappings/{UUID}") { api, p, _ in
                try await self.mappings().delete(p, api: api, uuid: p.label("UUID"))
            },
            op("GetAccountSettings", "GET", "/2016-08-19/account-settings") { api, p, _ in api.accountSettings(p) },
            op("TagResource", "POST", "/2017-03-31/tags/{ARN}") { api, p, _ in try await api.tagResource(p, arn: p.label("ARN")) },
            op("UntagResource", "DELETE", "/2017-03-31/tags/{ARN}") { api, p, _ in try await api.untagResource(p, arn: p.label("ARN")) },
            op("ListTags", "GET", "/2017-03-31/tags/{ARN}") { api, p, _ in try api.listTags(p, arn: p.label("ARN")) },
        ]
        return ServiceDefinition(
            name: "lambda", signingNames: ["lambda"], wire: .restJSON, defaultBodyLimit: 1_048_576,
            operations: operations)
    }

    /// Nimbus's own operational routes (`/_nimbus/…`): health, code downloads, concurrency and async statistics. Reachable from the server's listener only, never from a sandbox.
    public var adminDefinition: ServiceDefinition {
        func op(
            _ name: String, _ method: String, _ uri: String,
            _ handler: @escaping @Sendable (LambdaAPI, ServiceRequest) async throws -> ServiceResponse
        ) -> ServiceOperation {
            ServiceOperation(name, HTTPBinding(method, uri)) { try await handler(try await self.api(for: $0.namespace), $0) }
        }
        return ServiceDefinition(
            name: "nimbus", signingNames: [], wire: .restJSON, exposure: .outsideOnly,
            operations: [
                op("Health", "GET", "/_nimbus/health") { _, _ in .document(200, ["status": "ok"]) },
                op("DownloadCode", "GET", "/_nimbus/code/{File}") { try await $0.downloadCode($1.label("File"), $1) },
                op("ConcurrencyUsage", "GET", "/_nimbus/concurrency") { $0.concurrencyUsage($1) },
                op("AsyncStatistics", "GET", "/_nimbus/async") { try await $0.asyncStatistics($1) },
                op("AsyncEvents", "GET", "/_nimbus/async/events") { try await $0.asyncEvents($1) },
                op("AsyncRedrive", "POST", "/_nimbus/async/redrive/{FunctionName}") {
                    try await $0.asyncRedrive($1, name: $1.label("FunctionName"))
                },
            ])
    }

}

/// The dispatcher's events run on the cell of their function's namespace, within the concurrency its invoker has
/// free for the function.
extension LambdaService: AsyncEventHandler {
    public func limits(for event: QueuedEvent) -> (maximumRetryAttempts: Int, maximumEventAgeSeconds: Int) {
        guard let api = self.ready.withLock({ $0[event.namespace] }) else {
            return (RetryPolicy.defaultMaximumRetryAttempts, RetryPolicy.defaultMaximumEventAgeSeconds)
        }
        return api.limits(for: event)
    }

    public func run(_ event: QueuedEvent) async -> AttemptResult {
        await self.run(event, admitted: {})
    }

    /// The invoker tells the moment the invocation took its concurrency slot (or was throttled) through its
    /// task-local admission observer; the event runs on this task, so the observer reaches it.
    public func run(_ event: QueuedEvent, admitted: @escaping @Sendable () -> Void) async -> AttemptResult {
        await Invoker.$admissionObserver.withValue(AdmissionObserver { _ in admitted() }) {
            do {
                return try await self.api(for: event.namespace).run(event)
            } catch {
                return AttemptResult(outcome: .platformError, statusCode: 500, errorMessage: "\(error)")
            }
        }
    }

    public func complete(_ event: QueuedEvent, result: AttemptResult?, completion: EventCompletion) async throws {
        try await self.api(for: event.namespace).complete(event, result: result, completion: completion)
    }

    /// A namespace without a cell yet (its first event creates it): one event at a time.
    public func availableConcurrency(of function: EventFunction) -> Int {
        self.invoker(for: function.namespace)?.availableConcurrency(function: function.name) ?? 1
    }

    /// Without a cell there is no slot to wait for: the dispatcher's own event (which creates the cell) wakes it.
    public func whenConcurrencyFrees(
        of function: EventFunction, beyond available: Int, _ wake: @escaping @Sendable () -> Void
    ) {
        self.invoker(for: function.namespace)?.whenConcurrencyFrees(function: function.name, beyond: available, wake)
    }

    public func shortestMaximumEventAgeSeconds(of function: EventFunction) -> Int {
        let configured = self.ready.withLock { $0[function.namespace] }?.registry.eventInvokeConfigs
            .all(of: function.name).compactMap(\.config.maximumEventAgeInSeconds) ?? []
        return min(configured.min() ?? .max, RetryPolicy.defaultMaximumEventAgeSeconds)
    }
}

/// Triggers (API Gateway, and later S3, EventBridge, pollers) invoke through the function's resource policy.
extension LambdaService: FunctionInvoking {
    public func invoke(_ invocation: TriggeredInvocation) async throws -> InvokeResult {
        let (api, id) = try await self.api(for: invocation)
        return try await api.invoke(triggered: invocation, id: id)
    }

    public func enqueue(_ invocation: TriggeredInvocation) async throws {
        let (api, id) = try await self.api(for: invocation)
        try await api.enqueue(triggered: invocation, id: id)
    }

    public func authorize(_ invocation: TriggeredInvocation) async throws {
        let (api, id) = try await self.api(for: invocation)
        _ = try api.authorized(invocation, id: id)
    }

    /// The cell of the namespace a trigger's function ARN names (its own namespace for a bare name).
    func api(for invocation: TriggeredInvocation) async throws -> (LambdaAPI, FunctionIdentifier) {
        let id = try FunctionIdentifier.parse(invocation.function)
        var namespace = invocation.namespace
        if let region = id.region { namespace.region = region }
        if let account = id.account { namespace.accountID = account }
        return (try await self.api(for: namespace), id)
    }
}

/// Event source mappings' pollers invoke through the cell of the mapping's namespace, with the mapping's own right
/// (not the function's resource policy), and take only the concurrency the function has free.
extension LambdaService: MappingFunctions {
    public func invoke(_ mapping: EventSourceMapping, namespace: AccountContext, payload: ByteBuffer, requestID: String)
        async throws -> InvokeResult
    {
        let api = try await self.api(for: namespace)
        let target = try api.resolve(mapping.functionName, qualifier: mapping.qualifier, invoking: true)
        return try await api.run(target, payload: payload, requestID: requestID, eventLoop: nil)
    }

    public func availableConcurrency(_ mapping: EventSourceMapping, namespace: AccountContext) -> Int {
        self.invoker(for: namespace)?.availableConcurrency(function: mapping.functionName) ?? 0
    }
}

/// The package source Lambda's cells share, set after Lambda is made (S3 needs Lambda to exist first).
public final class PackageSlot: Sendable {
    public init() {}
    let source = Mutex<(any PackageSource)?>(nil)
}

/// The event buses Lambda's cells publish destination records to, set after Lambda is made (EventBridge invokes
/// through Lambda).
public final class EventBusSlot: Sendable {
    public init() {}
    let source = Mutex<(any EventPublishing)?>(nil)
}
