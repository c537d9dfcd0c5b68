import Foundation
import Logging
import NimbusCore
import NimbusEdge
import NimbusEventPatterns
import NimbusEventSources
import NimbusStore
import Synchronization

/// Lambda's event source mappings (`/2015-03-31/event-source-mappings`): every mapping of every namespace in memory
/// and in the store, and the pollers that run them. SQS queues are the sources so far.
public final class EventSourceMappings: Sendable {
    let store: any EventSourceMappingStore
    let pollers: EventSourcePollers
    let queues: any PolledQueue
    let logger: Logger
    let mappings = Mutex<[String: (namespace: AccountContext, mapping: EventSourceMapping)]>([:])
    /// Serialises changes (they are rare): two updates of one mapping never interleave their writes.
    let changes = Mutex<Set<String>>([])

    public init(store: any EventSourceMappingStore, pollers: EventSourcePollers, queues: any PolledQueue, logger: Logger) {
        self.store = store
        self.pollers = pollers
        self.queues = queues
        self.logger = logger
    }

    /// Loads every mapping and starts the enabled ones' pollers (server start).
    public func load() async throws {
        for (namespace, mapping) in try await self.store.loadAll() {
            self.mappings.withLock { $0[mapping.uuid] = (namespace, mapping) }
            self.pollers.apply(mapping, namespace: namespace)
        }
    }

    // MARK: Operations

    static let createMembers: Set<String> = [
        "EventSourceArn", "FunctionName", "Enabled", "BatchSize", "FilterCriteria", "MaximumBatchingWindowInSeconds",
        "ParallelizationFactor", "StartingPosition", "StartingPositionTimestamp", "DestinationConfig",
        "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts", "Tags",
        "TumblingWindowInSeconds", "Topics", "Queues", "SourceAccessConfigurations", "SelfManagedEventSource",
        "FunctionResponseTypes", "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
        "ScalingConfig", "DocumentDBEventSourceConfig", "KMSKeyArn", "MetricsConfig", "LoggingConfig",
        "ProvisionedPollerConfig",
    ]
    /// Members that belong to streams and Kafka: refused for a queue, as AWS does.
    static let streamMembers = [
        "ParallelizationFactor", "DestinationConfig", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError",
        "MaximumRetryAttempts", "TumblingWindowInSeconds", "Topics", "Queues", "SelfManagedEventSource",
        "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig",
        "StartingPositionTimestamp",
    ]

    /// `POST /2015-03-31/event-source-mappings` → 202, `State: Creating`.
    func create(_ p: ServiceRequest, api: LambdaAPI) async throws -> ServiceResponse {
        let (body, _) = try LambdaAPI.jsonBody(p, operation: "CreateEventSourceMapping")
        let r = try RequestReader(body, operation: "CreateEventSourceMapping", known: Self.createMembers)
        guard let functionName = try r.string("FunctionName") else {
            throw NimbusError.validation(["Value null at 'functionName' failed to satisfy constraint: Member must not be null"])
        }
        guard let source = try r.string("EventSourceArn"), let queue = Self.queueARN(source) else {
            throw NimbusError.invalidParameter("Unrecognized event source.")
        }
        try Self.refuseStreamMembers(r)
        if r.has("StartingPosition") {
            throw NimbusError.invalidParameter("Unsupported starting position for arn type: \(source)")
        }
        let (name, qualifier) = try Self.function(functionName, in: api)
        guard let info = self.queues.queueInfo(arn: queue) else {
            throw NimbusError.invalidParameter(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.")
        }
        var mapping = EventSourceMapping(
            uuid: UUID().uuidString.lowercased(), eventSourceARN: queue, functionName: name, qualifier: qualifier,
            enabled: try r.bool("Enabled") ?? true, batchSize: 10, maximumBatchingWindowSeconds: 0, state: .creating,
            lastModifiedMillis: Timestamp.nowMillis(), tags: try r.stringMap("Tags") ?? [:])
        try Self.read(r, into: &mapping, fifo: info.fifo)
        let existing = self.mappings.withLock { all in
            all.values.first { $0.namespace == api.account && $0.mapping.eventSourceARN == queue && $0.mapping.functionName == name }
        }
        if let existing {
            throw NimbusError(
                .resourceConflict,
                "An event source mapping with SQS arn (\" \(queue) \") and function (\" \(name) \") already exists. Please update or delete the existing mapping with UUID \(existing.mapping.uuid)")
        }
        let answer = mapping.wire(account: api.account)
        mapping.state = mapping.settledState
        try await self.store.put(mapping, namespace: api.account)
        self.mappings.withLock { $0[mapping.uuid] = (api.account, mapping) }
        self.pollers.apply(mapping, namespace: api.account)
        self.logger.info(
            "Event source mapping created",
            metadata: ["event_source_mapping.uuid": "\(mapping.uuid)", "function.name": "\(name)", "queue": "\(queue)"])
        return .document(202, answer)
    }

    /// `GET /2015-03-31/event-source-mappings/{UUID}`.
    func get(_ p: ServiceRequest, api: LambdaAPI, uuid: String) throws -> ServiceResponse {
        .document(200, self.wire(try self.existing(uuid, in: api.account), account: api.account))
    }

    /// `PUT /2015-03-31/event-source-mappings/{UUID}` → 202, `Updating`, `Enabling` or `Disabling`.
    func update(_ p: ServiceRequest, api: LambdaAPI, uuid: String) async throws -> ServiceResponse {
        let (body, _) = try LambdaAPI.jsonBody(p, operation: "UpdateEventSourceMapping")
        let r = try RequestReader(
            body, operation: "UpdateEventSourceMapping",
            known: Self.createMembers.subtracting(["EventSourceArn", "StartingPosition", "Tags", "Topics", "Queues", "SelfManagedEventSource"]))
        try self.begin(uuid)
        defer { self.end(uuid) }
        var mapping = try self.existing(uuid, in: api.account)
        try Self.refuseStreamMembers(r)
        if let functionName = try r.string("FunctionName") {
            (mapping.functionName, mapping.qualifier) = try Self.function(functionName, in: api)
        }
        let wasEnabled = mapping.enabled
        if let enabled = try r.bool("Enabled") { mapping.enabled = enabled }
        try Self.read(r, into: &mapping, fifo: self.queues.queueInfo(arn: mapping.eventSourceARN)?.fifo ?? false)
        mapping.lastModifiedMillis = Timestamp.nowMillis()
        let transition: EventSourceMapping.State =
            mapping.enabled == wasEnabled ? .updating : (mapping.enabled ? .enabling : .disabling)
        let answer = mapping.wire(account: api.account, state: transition)
        mapping.state = mapping.settledState
        try await self.store.put(mapping, namespace: api.account)
        self.mappings.withLock { $0[uuid] = (api.account, mapping) }
        self.pollers.apply(mapping, namespace: api.account)
        return .document(202, answer)
    }

    /// `DELETE /2015-03-31/event-source-mappings/{UUID}` → 202, `State: Deleting`; the poller stops at once.
    func delete(_ p: ServiceRequest, api: LambdaAPI, uuid: String) async throws -> ServiceResponse {
        try self.begin(uuid)
        defer { self.end(uuid) }
        let mapping = try self.existing(uuid, in: api.account)
        self.pollers.remove(uuid: uuid)
        try await self.store.delete(uuid: uuid)
        self.mappings.withLock { $0[uuid] = nil }
        return .document(202, self.wire(mapping, account: api.account, state: .deleting))
    }

    /// `GET /2015-03-31/event-source-mappings?EventSourceArn=&FunctionName=&Marker=&MaxItems=`.
    func list(_ p: ServiceRequest, api: LambdaAPI) throws -> ServiceResponse {
        var matching = self.mappings.withLock { all in
            all.values.filter { $0.namespace == api.account }.map(\.mapping)
        }
        if let source = p.queryValue("EventSourceArn") { matching = matching.filter { $0.eventSourceARN == source } }
        if let function = p.queryValue("FunctionName") {
            let id = try FunctionIdentifier.parse(function)
            matching = matching.filter { $0.functionName == id.name && (id.qualifier == nil || $0.qualifier == id.qualifier) }
        }
        // Pages follow UUID order; a marker is the last UUID listed.
        matching.sort { $0.uuid < $1.uuid }
        if let marker = p.queryValue("Marker"), !marker.isEmpty {
            matching = matching.filter { $0.uuid > marker }
        }
        let maxItems = try LambdaAPI.maxItems(p, upper: 10_000) ?? 100
        let page = Array(matching.prefix(maxItems))
        var body: [String: JSONValue] = ["EventSourceMappings": .array(page.map { self.wire($0, account: api.account) })]
        if matching.count > page.count, let last = page.last { body["NextMarker"] = .string(last.uuid) }
        return .document(200, .object(body))
    }

    // MARK: Helpers

    func wire(_ mapping: EventSourceMapping, account: AccountContext, state: EventSourceMapping.State? = nil) -> JSONValue {
        var copy = mapping
        copy.lastProcessingResult = self.pollers.lastProcessingResult(uuid: mapping.uuid) ?? "No records processed"
        return copy.wire(account: account, state: state)
    }

    func existing(_ uuid: String, in namespace: AccountContext) throws -> EventSourceMapping {
        guard let found = self.mappings.withLock({ $0[uuid] }), found.namespace == namespace else {
            throw NimbusError(.resourceNotFound, "The resource you requested does not exist.")
        }
        return found.mapping
    }

    func begin(_ uuid: String) throws {
        guard self.changes.withLock({ $0.insert(uuid).inserted }) else {
            throw NimbusError(
                .resourceConflict,
                "The operation cannot be performed at this time. An update is in progress for resource: \(uuid)")
        }
    }

    func end(_ uuid: String) {
        _ = self.changes.withLock { $0.remove(uuid) }
    }

    /// The mappings of a function (its deletion leaves them, as on AWS).
    public func mappings(namespace: AccountContext) -> [EventSourceMapping] {
        self.mappings.withLock { all in all.values.filter { $0.namespace == namespace }.map(\.mapping) }
    }

    /// A queue ARN, or nil for any other source.
    static func queueARN(_ arn: String) -> String? {
        AccountContext.isQueueARN(arn) ? arn : nil
    }

    /// Stream and Kafka settings on a queue mapping get AWS's answer (recorded for `DestinationConfig`).
    static func refuseStreamMembers(_ r: RequestReader) throws {
        if let member = Self.streamMembers.first(where: { r.has($0) }) {
            throw NimbusError.invalidParameter("Unsupported \(member) parameter for given event source mapping type.")
        }
    }

    /// The function a mapping names, which must exist with its qualifier ("Function does not exist" otherwise).
    static func function(_ raw: String, in api: LambdaAPI) throws -> (name: String, qualifier: String?) {
        let id = try FunctionIdentifier.parse(raw)
        guard (try? api.resolve(raw, qualifier: nil)) != nil else {
            throw NimbusError.invalidParameter("Function does not exist")
        }
        return (id.name, id.qualifier)
    }

    /// The settings Create and Update share, with AWS's rules for SQS sources.
    static func read(_ r: RequestReader, into mapping: inout EventSourceMapping, fifo: Bool) throws {
        var errors: [String] = []
        if let size = try r.int("BatchSize") {
            if size < 1 || size > 10_000 {
                errors.append("Value '\(size)' at 'batchSize' failed to satisfy constraint: Member must have value \(size < 1 ? "greater than or equal to 1" : "less than or equal to 10000")")
            }
            mapping.batchSize = size
        }
        if let window = try r.int("MaximumBatchingWindowInSeconds") {
            if window < 0 || window > 300 {
                errors.append("Value '\(window)' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value \(window < 0 ? "greater than or equal to 0" : "less than or equal to 300")")
            }
            mapping.maximumBatchingWindowSeconds = window
        }
        if let types = try r.stringList("FunctionResponseTypes") {
            for type in types where type != "ReportBatchItemFailures" {
                errors.append("Value '[\(types.joined(separator: ", "))]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]")
            }
            mapping.functionResponseTypes = types
        }
        if let scaling = try r.object("ScalingConfig") {
            let s = try RequestReader(.object(scaling), operation: r.operation, known: ["MaximumConcurrency"])
            let maximum = try s.int("MaximumConcurrency")
            if let maximum, maximum < 2 || maximum > 1000 {
                errors.append("Value '\(maximum)' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value \(maximum < 2 ? "greater than or equal to 2" : "less than or equal to 1000")")
            }
            mapping.maximumConcurrency = maximum
        }
        if let criteria = try r.object("FilterCriteria") {
            let c = try RequestReader(.object(criteria), operation: r.operation, known: ["Filters"])
            var patterns: [String] = []
            for filter in c.raw("Filters")?.arrayValue ?? [] {
                guard let pattern = filter["Pattern"]?.stringValue else {
                    throw NimbusError.invalidParameter(EventPatternError.lambdaMessage)
                }
                if pattern.utf8.count > 4096 {
                    errors.append("Value '\(pattern)' at 'filterCriteria.filters.member.pattern' failed to satisfy constraint: Member must have length less than or equal to 4096")
                }
                patterns.append(pattern)
            }
            mapping.filterPatterns = patterns
        }
        if !errors.isEmpty { throw NimbusError.validation(errors) }
        for pattern in mapping.filterPatterns {
            do {
                _ = try LambdaEventFilter.pattern(pattern)
            } catch {
                throw NimbusError.invalidParameter(EventPatternError.lambdaMessage)
            }
        }
        if fifo {
            if mapping.batchSize > 10 {
                throw NimbusError.invalidParameter("Batch size must be between 1 and 10 inclusive for a FIFO queue.")
            }
            if mapping.maximumBatchingWindowSeconds > 0 {
                throw NimbusError.invalidParameter("Batching window is not supported for FIFO queues.")
            }
        } else if mapping.batchSize > 10, mapping.maximumBatchingWindowSeconds < 1 {
            throw NimbusError.invalidParameter(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
        }
    }
}
