import NimbusCore
import NimbusStore

/// CreateEventBus, DeleteEventBus, DescribeEventBus, ListEventBuses, and tags of buses and rules.
extension EventsService {
    /// AWS's default quota of event buses per account and region (the default bus included).
    static let maximumBuses = 100
    static let maximumTags = 50

    func createEventBus(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let name = try input.string("Name")
        let source = try input.string("EventSourceName")
        let description = try input.string("Description")
        _ = try input.string("KmsKeyIdentifier")
        let tags = try Self.tags(input, "Tags")
        var constraints = Constraints()
        constraints.required(name, at: "name")
        constraints.pattern(name, at: "name", Constraints.busNamePattern, Names.isBusNameText)
        constraints.length(name, at: "name", min: 1, max: 256)
        constraints.length(description, at: "description", max: 512)
        Self.checkTags(tags, at: "tags", &constraints)
        try constraints.check()
        guard let name else { throw EventsError.validation("Name is required.") }
        if let source {
            // Partner event sources come from SaaS partners through AWS; Nimbus has none.
            throw EventsError(code: "ResourceNotFoundException", message: "Event source \(source) does not exist.")
        }
        return try await self.control.run {
            if self.catalog.bus(namespace, name) != nil { throw EventsError.busExists(name) }
            guard self.catalog.buses(namespace).count < Self.maximumBuses else { throw EventsError.limitExceeded }
            let now = self.clock()
            let bus = BusState(
                namespace: namespace,
                name: name,
                definition: BusDefinition(description: description, tags: tags ?? [], modifiedMillis: now),
                createdMillis: now,
                stored: true
            )
            try await self.save(bus)
            var result: [String: JSONValue] = ["EventBusArn": .string(bus.arn)]
            if let description { result["Description"] = .string(description) }
            return .object(result)
        }
    }

    func deleteEventBus(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let name = try input.string("Name")
        var constraints = Constraints()
        constraints.required(name, at: "name")
        constraints.pattern(name, at: "name", Constraints.busNamePattern, Names.isBusNameText)
        constraints.length(name, at: "name", min: 1, max: 256)
        try constraints.check()
        guard let name else { return [:] }
        guard name != Names.defaultBus else { throw EventsError.validation("Cannot delete event bus default.") }
        try await self.control.run {
            // Deleting a bus that does not exist succeeds, as on AWS; its rules go with it.
            guard self.catalog.bus(namespace, name) != nil else { return }
            try await self.store.deleteBus(namespace: namespace, name: name)
            self.catalog.removeBus(namespace, name)
            self.doorbell.ring()
        }
        return [:]
    }

    func describeEventBus(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let text = try input.string("Name")
        var constraints = Constraints()
        Self.checkBus(text, at: "name", &constraints)
        try constraints.check()
        let name = try self.busName(text, namespace)
        guard let bus = self.catalog.bus(namespace, name) else { throw EventsError.busNotFound(name) }
        return bus.json
    }

    func listEventBuses(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let prefix = try input.string("NamePrefix")
        let token = try input.string("NextToken")
        let limit = try input.integer("Limit")
        var constraints = Constraints()
        constraints.pattern(prefix, at: "namePrefix", Constraints.busNamePattern, Names.isBusNameText)
        constraints.length(prefix, at: "namePrefix", min: 1, max: 256)
        constraints.length(token, at: "nextToken", min: 1, max: 2048)
        constraints.range(limit, at: "limit", min: 1, max: 100)
        try constraints.check()
        let buses = self.catalog.buses(namespace).filter { $0.name.hasPrefix(prefix ?? "") }
        let (page, next) = try Paging.page(buses, key: \.name, token: token, limit: limit)
        var result: [String: JSONValue] = ["EventBuses": .array(page.map(\.json))]
        if let next { result["NextToken"] = .string(next) }
        return .object(result)
    }

    func save(_ bus: BusState) async throws {
        var bus = bus
        try await self.store.putBus(
            EventBusRecord(
                namespace: bus.namespace,
                name: bus.name,
                document: try Documents.encode(bus.definition),
                createdMillis: bus.createdMillis
            )
        )
        bus.stored = true
        self.catalog.putBus(bus)
    }

    // MARK: Tags

    func tagResource(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let arn = try input.string("ResourceARN")
        let tags = try Self.tags(input, "Tags")
        var constraints = Constraints()
        constraints.required(arn, at: "resourceARN")
        constraints.length(arn, at: "resourceARN", min: 1, max: 1600)
        constraints.required(tags, at: "tags")
        Self.checkTags(tags, at: "tags", &constraints)
        try constraints.check()
        try await self.updateTags(arn ?? "", namespace) { $0.merge(tags ?? []) }
        return [:]
    }

    func untagResource(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let arn = try input.string("ResourceARN")
        let keys = try input.strings("TagKeys")
        var constraints = Constraints()
        constraints.required(arn, at: "resourceARN")
        constraints.length(arn, at: "resourceARN", min: 1, max: 1600)
        constraints.required(keys, at: "tagKeys")
        for (index, key) in (keys ?? []).enumerated() {
            constraints.length(key, at: "tagKeys.\(index + 1).member", min: 1, max: 128)
        }
        try constraints.check()
        try await self.updateTags(arn ?? "", namespace) { tags in tags.removeAll { (keys ?? []).contains($0.key) } }
        return [:]
    }

    func listTagsForResource(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let arn = try input.string("ResourceARN")
        var constraints = Constraints()
        constraints.required(arn, at: "resourceARN")
        constraints.length(arn, at: "resourceARN", min: 1, max: 1600)
        try constraints.check()
        switch try self.resource(arn ?? "", namespace) {
        case .bus(let name):
            guard let bus = self.catalog.bus(namespace, name) else { throw EventsError.busNotFound(name) }
            return ["Tags": bus.definition.tags.json]
        case .rule(let name, let bus):
            guard let rule = self.catalog.rule(namespace, bus: bus, name) else {
                throw EventsError.ruleNotFound(name, bus: bus)
            }
            return ["Tags": rule.definition.tags.json]
        }
    }

    func resource(_ arn: String, _ namespace: AccountContext) throws(EventsError) -> Names.Resource {
        guard let resource = Names.resource(arn, in: namespace) else {
            throw .validation("Parameter ResourceARN is not valid.")
        }
        return resource
    }

    func updateTags(
        _ arn: String,
        _ namespace: AccountContext,
        _ change: @escaping @Sendable (inout [Tag]) -> Void
    )
        async throws
    {
        let resource = try self.resource(arn, namespace)
        try await self.control.run {
            switch resource {
            case .bus(let name):
                guard var bus = self.catalog.bus(namespace, name) else { throw EventsError.busNotFound(name) }
                change(&bus.definition.tags)
                guard bus.definition.tags.count <= Self.maximumTags else { throw Self.tooManyTags }
                bus.definition.modifiedMillis = self.clock()
                try await self.save(bus)
            case .rule(let name, let busName):
                guard var rule = self.catalog.rule(namespace, bus: busName, name) else {
                    throw EventsError.ruleNotFound(name, bus: busName)
                }
                change(&rule.definition.tags)
                guard rule.definition.tags.count <= Self.maximumTags else { throw Self.tooManyTags }
                try await self.save(rule)
            }
        }
    }

    static let tooManyTags = EventsError(
        code: "LimitExceededException",
        message: "The number of tags on the resource exceeds the limit of 50."
    )

    /// A `Tags` list (`[{Key, Value}]`), in the order given.
    static func tags(_ input: Input, _ member: String) throws(EventsError) -> [Tag]? {
        guard let list = try input.list(member) else { return nil }
        var tags: [Tag] = []
        for item in list {
            guard let object = item.objectValue else { throw .serialization("\(member) must be a list of structures.") }
            let tag = Input(object: object)
            tags.append(Tag(key: try tag.string("Key") ?? "", value: try tag.string("Value") ?? ""))
        }
        return tags
    }

    static func checkTags(_ tags: [Tag]?, at path: String, _ constraints: inout Constraints) {
        for (index, tag) in (tags ?? []).enumerated() {
            constraints.length(tag.key, at: "\(path).\(index + 1).member.key", min: 1, max: 128)
            constraints.length(tag.value, at: "\(path).\(index + 1).member.value", max: 256)
        }
    }
}
