import Foundation
import NimbusCore
import NimbusEventPatterns

/// One entry of PutEvents, for producers inside Nimbus (``EventsService/putEvents(_:namespace:)``).
public struct EventEntry: Sendable, Equatable {
    public var source: String?
    public var detailType: String?
    /// The `detail` object as JSON text.
    public var detail: String?
    public var resources: [String]?
    /// The event's `time` (milliseconds since the epoch); now when nil.
    public var timeMillis: Int64?
    /// A bus name or ARN; the default bus when nil.
    public var eventBusName: String?
    public var traceHeader: String?

    public init(
        source: String? = nil,
        detailType: String? = nil,
        detail: String? = nil,
        resources: [String]? = nil,
        timeMillis: Int64? = nil,
        eventBusName: String? = nil,
        traceHeader: String? = nil
    ) {
        self.source = source
        self.detailType = detailType
        self.detail = detail
        self.resources = resources
        self.timeMillis = timeMillis
        self.eventBusName = eventBusName
        self.traceHeader = traceHeader
    }
}

/// What PutEvents answers for one entry: its event id, or why it was not accepted.
public struct PutEventsResultEntry: Sendable, Equatable {
    public var eventID: String?
    public var errorCode: String?
    public var errorMessage: String?

    public init(eventID: String? = nil, errorCode: String? = nil, errorMessage: String? = nil) {
        self.eventID = eventID
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }

    var json: JSONValue {
        var entry: [String: JSONValue] = [:]
        if let eventID { entry["EventId"] = .string(eventID) }
        if let errorCode { entry["ErrorCode"] = .string(errorCode) }
        if let errorMessage { entry["ErrorMessage"] = .string(errorMessage) }
        return .object(entry)
    }
}

extension EventsService: EventPublishing {
    /// The largest PutEvents request: 256 KB of entries, measured as AWS documents (time 14 bytes, source, detail
    /// type, detail and resources in UTF-8).
    static let maximumEntriesBytes = 262_144

    /// PutEvents for other modules (Lambda's destinations): each accepted entry is matched against the enabled rules
    /// of its bus and delivered to their targets before this returns.
    /// - Throws: ``EventsError`` for a request AWS refuses as a whole (no entries, more than 10, over 256 KB).
    public func putEvents(_ entries: [EventEntry], namespace: AccountContext) async throws -> [PutEventsResultEntry] {
        guard (1...10).contains(entries.count) else {
            let bound =
                entries.isEmpty ? "greater than or equal to 1" : "less than or equal to 10"
            throw EventsError.constraints([
                "Value '[\(entries.map(Self.javaDescription).joined(separator: ", "))]' at 'entries' failed to satisfy constraint: Member must have length \(bound)"
            ])
        }
        let size = entries.reduce(0) { total, entry in
            total + (entry.timeMillis == nil ? 0 : 14) + (entry.source?.utf8.count ?? 0)
                + (entry.detailType?.utf8.count ?? 0) + (entry.detail?.utf8.count ?? 0)
                + (entry.resources ?? []).reduce(0) { $0 + $1.utf8.count }
        }
        guard size <= Self.maximumEntriesBytes else {
            throw EventsError.validation("Total size of the entries in the request is over the limit.")
        }
        let now = self.clock()
        var results: [PutEventsResultEntry] = []
        var accepted: [(index: Int, event: Event, bus: String?)] = []
        for (index, entry) in entries.enumerated() {
            switch self.accept(entry, namespace: namespace, now: now) {
            case .refused(let failure):
                results.append(failure)
            case .accepted(let event, let bus):
                results.append(PutEventsResultEntry(eventID: event.id))
                accepted.append((index, event, bus))
            }
        }
        // Every matched delivery of every entry runs concurrently (so Lambda's queue commits them together); an entry
        // is answered once all of its deliveries are durable.
        let failures = await withTaskGroup(of: (Int, (any Error)?).self) { group in
            for (index, event, bus) in accepted {
                guard let bus else { continue }
                for rule in self.catalog.patternRules(namespace, bus: bus)
                where rule.pattern?.matches(event.value) == true {
                    for target in rule.definition.targets {
                        group.addTask {
                            do {
                                try await self.deliverer.deliver(event, rule: rule, target: target)
                                return (index, nil)
                            } catch {
                                return (index, error)
                            }
                        }
                    }
                }
            }
            var failures: [Int: any Error] = [:]
            for await (index, error) in group {
                if let error { failures[index] = error }
            }
            return failures
        }
        for (index, error) in failures {
            self.logger.warning(
                "EventBridge event not delivered; the entry is reported failed",
                metadata: ["events.event": "\(results[index].eventID ?? "")", "error": "\(error)"]
            )
            results[index] = PutEventsResultEntry(
                errorCode: "InternalFailure",
                errorMessage: "The event could not be delivered to every target; send it again."
            )
        }
        return results
    }

    /// Lambda's asynchronous destinations: one event on the bus `busARN`.
    /// - Throws: ``EventsError`` when the bus does not exist or the event is refused.
    public func publish(_ event: PublishedEvent, busARN: String, namespace: AccountContext) async throws {
        guard let reference = Names.busReference(busARN), reference.namespace ?? namespace == namespace,
            self.catalog.bus(namespace, reference.name) != nil
        else {
            throw EventsError.busNotFound(Names.busReference(busARN)?.name ?? busARN)
        }
        let results = try await self.putEvents(
            [
                EventEntry(
                    source: event.source,
                    detailType: event.detailType,
                    detail: event.detail,
                    resources: event.resources,
                    eventBusName: busARN
                )
            ],
            namespace: namespace
        )
        if let result = results.first, let code = result.errorCode {
            throw EventsError(code: code, message: result.errorMessage ?? code)
        }
    }

    /// An entry as an event, or why it is refused. An entry for a bus that does not exist is accepted and goes
    /// nowhere, as EventBridge does (recorded): the bus is nil.
    func accept(_ entry: EventEntry, namespace: AccountContext, now: Int64) -> Acceptance {
        func invalid(_ member: String) -> Acceptance {
            .refused(
                PutEventsResultEntry(
                    errorCode: "InvalidArgument",
                    errorMessage: "Parameter \(member) is not valid. Reason: \(member) is a required argument."
                )
            )
        }
        guard let source = entry.source, !source.isEmpty else { return invalid("Source") }
        guard let detailType = entry.detailType, !detailType.isEmpty else { return invalid("DetailType") }
        guard let detail = entry.detail, !detail.isEmpty else { return invalid("Detail") }
        guard EventJSON.parseObject(detail) != nil else {
            return .refused(PutEventsResultEntry(errorCode: "MalformedDetail", errorMessage: "Detail is malformed."))
        }
        if source.hasPrefix("aws.") {
            return .refused(
                PutEventsResultEntry(
                    errorCode: "NotAuthorizedForSourceException",
                    errorMessage: "Not authorized for the source."
                )
            )
        }
        var bus: String? = Names.defaultBus
        if let text = entry.eventBusName {
            if let reference = Names.busReference(text), reference.namespace ?? namespace == namespace,
                self.catalog.bus(namespace, reference.name) != nil
            {
                bus = reference.name
            } else {
                bus = nil
            }
        }
        let event = Event(
            id: UUID().uuidString.lowercased(),
            detailType: detailType,
            source: source,
            namespace: namespace,
            timeMillis: entry.timeMillis ?? now,
            resources: entry.resources ?? [],
            detail: JSONText.minify(detail),
            ingestionMillis: now
        )
        return .accepted(event, bus: bus)
    }

    enum Acceptance {
        case accepted(Event, bus: String?)
        case refused(PutEventsResultEntry)
    }

    /// The HTTP operation.
    func putEvents(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        _ = try input.string("EndpointId")
        var constraints = Constraints()
        let list = try input.list("Entries")
        constraints.required(list, at: "entries")
        try constraints.check()
        var entries: [EventEntry] = []
        for (index, item) in (list ?? []).enumerated() {
            guard let object = item.objectValue else {
                throw EventsError.serialization("Entries must be a list of structures.")
            }
            let entry = Input(object: object)
            let path = "entries.\(index + 1).member"
            let bus = try entry.string("EventBusName")
            let trace = try entry.string("TraceHeader")
            constraints.pattern(bus, at: "\(path).eventBusName", Constraints.nonPartnerBusNameOrARNPattern) {
                Names.busReference($0, slashes: false) != nil
            }
            constraints.length(bus, at: "\(path).eventBusName", min: 1, max: 1600)
            constraints.length(trace, at: "\(path).traceHeader", min: 1, max: 500)
            let resources = try entry.strings("Resources")
            for (r, resource) in (resources ?? []).enumerated() {
                constraints.length(resource, at: "\(path).resources.\(r + 1).member", max: 2048)
            }
            entries.append(
                EventEntry(
                    source: try entry.string("Source"),
                    detailType: try entry.string("DetailType"),
                    detail: try entry.string("Detail"),
                    resources: resources,
                    timeMillis: try Self.time(entry["Time"]),
                    eventBusName: bus,
                    traceHeader: trace
                )
            )
        }
        try constraints.check()
        let results = try await self.putEvents(entries, namespace: namespace)
        return [
            "FailedEntryCount": .number(Double(results.filter { $0.errorCode != nil }.count)),
            "Entries": .array(results.map(\.json)),
        ]
    }

    /// A timestamp member: epoch seconds (what the json protocol sends) or an ISO 8601 string.
    static func time(_ value: JSONValue?) throws(EventsError) -> Int64? {
        guard let value else { return nil }
        if let seconds = value.numberValue { return Int64((seconds * 1000).rounded()) }
        if let text = value.stringValue {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
            if let date { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        throw .serialization("Time must be a timestamp.")
    }

    /// An entry as AWS's Java front end prints it in validation messages.
    static func javaDescription(_ entry: EventEntry) -> String {
        func show(_ text: String?) -> String { text ?? "null" }
        let time = entry.timeMillis.map { Event.time($0) }
        let resources = entry.resources.map { "[\($0.joined(separator: ", "))]" }
        return "PutEventsRequestEntry(time=\(show(time)), source=\(show(entry.source)), resources=\(show(resources)), "
            + "detailType=\(show(entry.detailType)), detail=\(show(entry.detail)), eventBusName=\(show(entry.eventBusName)), "
            + "traceHeader=\(show(entry.traceHeader)), kmsKeyIdentifier=null, internalMetadata=null)"
    }

    // MARK: TestEventPattern

    func testEventPattern(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let patternText = try input.string("EventPattern")
        let eventText = try input.string("Event")
        var constraints = Constraints()
        constraints.required(patternText, at: "eventPattern")
        constraints.length(patternText, at: "eventPattern", max: 4096)
        constraints.required(eventText, at: "event")
        try constraints.check()
        let pattern = try Self.pattern(patternText ?? "")
        // The event must be an object with the envelope fields the API reference calls mandatory.
        guard let event = EventJSON.parseObject(eventText ?? ""),
            ["id", "account", "source", "time", "region", "resources", "detail-type"].allSatisfy({ event[$0] != nil })
        else {
            throw EventsError.validation("Parameter Event is not valid.")
        }
        return ["Result": .bool(pattern.matches(event))]
    }
}
