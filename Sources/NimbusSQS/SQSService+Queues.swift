import Foundation
import NimbusCore
import NimbusStore

/// The queue operations: create, delete, look up, list, attributes, tags, purge, dead-letter sources.
extension SQSService {
    func createQueue(_ input: Input, _ context: Context) async throws -> JSONValue {
        let name = try input.requiredString("QueueName")
        let given = try input.stringMap("Attributes") ?? [:]
        let tags = try input.stringMap("tags") ?? [:]
        let fifo = given["FifoQueue"]?.lowercased() == "true"
        try QueueName.validate(name, fifo: fifo)
        var configuration = QueueConfiguration(fifo: fifo)
        try configuration.apply(given)
        try Self.validateTags(tags)
        return try await self.control.run {
            let now = self.clock()
            if let existing = self.catalog.queue(context.namespace, name) {
                // AWS answers the existing queue's URL when every given attribute has the existing value.
                let current = existing.configuration.reported
                let wanted = configuration.reported
                for key in given.keys.sorted() where current[key] != wanted[key] {
                    throw SQSError.queueNameExists(attribute: key)
                }
                return ["QueueUrl": .string(existing.url(host: context.host))]
            }
            if self.catalog.deletedRecently(context.namespace, name, now: now) { throw SQSError.queueDeletedRecently }
            let arn = QueueARN(namespace: context.namespace, name: name).description
            try self.checkRedrive(configuration, sourceARN: arn, namespace: context.namespace)
            let id: Int64
            do {
                id = try await self.store.createQueue(
                    NewQueueRecord(
                        namespace: context.namespace,
                        name: name,
                        attributes: Self.document(configuration.reported),
                        tags: Self.document(tags),
                        createdMillis: now
                    )
                )
            } catch QueueStoreError.queueExists {
                throw SQSError.queueNameExists(attribute: "QueueName")
            }
            let queue = QueueState(
                id: id,
                namespace: context.namespace,
                name: name,
                configuration: configuration,
                tags: tags,
                createdMillis: now,
                modifiedMillis: now
            )
            self.catalog.install(queue)
            return ["QueueUrl": .string(queue.url(host: context.host))]
        }
    }

    func deleteQueue(_ input: Input, _ context: Context) async throws -> JSONValue {
        let url = try input.requiredString("QueueUrl")
        return try await self.control.run {
            let queue = try self.queue(url: url, context)
            try await self.store.deleteQueue(id: queue.id)
            self.catalog.remove(id: queue.id, at: self.clock())
            self.signals.signal(queue.id)
            return [:]
        }
    }

    func getQueueURL(_ input: Input, _ context: Context) async throws -> JSONValue {
        let name = try input.requiredString("QueueName")
        let owner = try input.string("QueueOwnerAWSAccountId") ?? context.namespace.accountID
        guard owner == context.namespace.accountID, let queue = self.catalog.queue(context.namespace, name) else {
            throw SQSError.queueDoesNotExist
        }
        return ["QueueUrl": .string(queue.url(host: context.host))]
    }

    /// ListQueues: by name, with a prefix; pages of `MaxResults` (1 to 1,000) with a `NextToken` only when
    /// `MaxResults` is given, as AWS pages (at most 1,000 URLs otherwise).
    func listQueues(_ input: Input, _ context: Context) async throws -> JSONValue {
        let prefix = try input.string("QueueNamePrefix") ?? ""
        let maxResults = try input.integer("MaxResults")
        if let maxResults, !(1...1000).contains(maxResults) {
            throw SQSError.invalidValue(
                String(maxResults),
                parameter: "MaxResults",
                reason: "MaxResults must be an integer between 1 and 1000."
            )
        }
        let token = try input.string("NextToken")
        let after = try token.map { token throws(SQSError) -> String in try Self.decodeToken(token) }
        let names = self.catalog.queues(in: context.namespace).filter { $0.name.hasPrefix(prefix) }
            .filter { queue in after.map { queue.name > $0 } ?? true }
        let page = Array(names.prefix(maxResults ?? 1000))
        var result: [String: JSONValue] = [:]
        if !page.isEmpty { result["QueueUrls"] = .array(page.map { .string($0.url(host: context.host)) }) }
        if maxResults != nil, names.count > page.count, let last = page.last {
            result["NextToken"] = .string(Self.encodeToken(last.name))
        }
        return .object(result)
    }

    static func encodeToken(_ name: String) -> String {
        Data(name.utf8).base64EncodedString()
    }

    static func decodeToken(_ token: String) throws(SQSError) -> String {
        guard let data = Data(base64Encoded: token), let name = String(data: data, encoding: .utf8) else {
            throw .invalidParameterValue("Invalid NextToken value.")
        }
        return name
    }

    func getQueueAttributes(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        let names = try input.strings("AttributeNames") ?? []
        for name in names where !QueueConfiguration.readable.contains(name) {
            throw SQSError.invalidAttributeName("Unknown Attribute \(name).")
        }
        guard !names.isEmpty else { return [:] }
        let all = names.contains("All")
        let wanted = Set(names)
        var attributes = queue.configuration.reported
        attributes["QueueArn"] = queue.arnString
        attributes["CreatedTimestamp"] = String(queue.createdMillis / 1000)
        attributes["LastModifiedTimestamp"] = String(queue.modifiedMillis / 1000)
        let countNames: Set<String> = [
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        if all || !wanted.isDisjoint(with: countNames) {
            let counts = try await self.store.counts(queueID: queue.id, nowMillis: self.clock())
            attributes["ApproximateNumberOfMessages"] = String(counts.visible)
            attributes["ApproximateNumberOfMessagesNotVisible"] = String(counts.notVisible)
            attributes["ApproximateNumberOfMessagesDelayed"] = String(counts.delayed)
        }
        let selected = all ? attributes : attributes.filter { wanted.contains($0.key) }
        guard !selected.isEmpty else { return [:] }
        return ["Attributes": .object(selected.mapValues { .string($0) })]
    }

    func setQueueAttributes(_ input: Input, _ context: Context) async throws -> JSONValue {
        let url = try input.requiredString("QueueUrl")
        guard let given = try input.stringMap("Attributes") else { throw SQSError.missingParameter("Attributes") }
        return try await self.control.run {
            var queue = try self.queue(url: url, context)
            var configuration = queue.configuration
            try configuration.apply(given)
            if given["RedrivePolicy"] != nil {
                try self.checkRedrive(configuration, sourceARN: queue.arnString, namespace: queue.namespace)
            }
            guard configuration != queue.configuration else { return [:] }
            queue.configuration = configuration
            queue.modifiedMillis = self.clock()
            try await self.store.updateQueue(
                id: queue.id,
                attributes: Self.document(configuration.reported),
                tags: Self.document(queue.tags),
                modifiedMillis: queue.modifiedMillis
            )
            self.catalog.install(queue)
            return [:]
        }
    }

    /// A redrive policy's target must exist in the source's namespace, be of the same type, and allow the source.
    func checkRedrive(
        _ configuration: QueueConfiguration,
        sourceARN: String,
        namespace: AccountContext
    )
        throws(SQSError)
    {
        guard let policy = configuration.redrivePolicy else { return }
        func invalid(_ reason: String) -> SQSError {
            .invalidValue(policy.document, parameter: "RedrivePolicy", reason: reason)
        }
        guard let arn = QueueARN(policy.deadLetterTargetARN), arn.namespace == namespace,
            let target = self.catalog.queue(arn: arn)
        else { throw invalid("Dead letter target does not exist.") }
        guard target.fifo == configuration.fifo else {
            throw invalid("Dead-letter queue must be same type of queue as the source.")
        }
        if let allow = target.configuration.redriveAllowPolicy, !allow.allows(sourceARN) {
            throw invalid("Queue \(target.arnString) does not allow this queue to use it as its dead-letter queue.")
        }
    }

    func purgeQueue(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        guard self.catalog.beginPurge(id: queue.id, now: self.clock()) else {
            throw SQSError.purgeQueueInProgress(queue.name)
        }
        try await self.store.purge(queueID: queue.id)
        return [:]
    }

    // MARK: Tags

    static func validateTags(_ tags: [String: String]) throws(SQSError) {
        guard tags.count <= 50 else { throw .invalidParameterValue("Too many tags added for queue.") }
        for (key, value) in tags {
            guard !key.isEmpty, key.count <= 128 else {
                throw .invalidParameterValue("Tag keys must be between 1 and 128 characters in length.")
            }
            guard value.count <= 256 else {
                throw .invalidParameterValue("Tag values must be between 0 and 256 characters in length.")
            }
            guard !key.lowercased().hasPrefix("aws:") else {
                throw .invalidParameterValue("Tag keys must not start with 'aws:'.")
            }
        }
    }

    func tagQueue(_ input: Input, _ context: Context) async throws -> JSONValue {
        let url = try input.requiredString("QueueUrl")
        guard let tags = try input.stringMap("Tags") else { throw SQSError.missingParameter("Tags") }
        return try await self.changeTags(url, context) { current throws(SQSError) in
            let merged = current.merging(tags) { _, new in new }
            try Self.validateTags(merged)
            return merged
        }
    }

    func untagQueue(_ input: Input, _ context: Context) async throws -> JSONValue {
        let url = try input.requiredString("QueueUrl")
        guard let keys = try input.strings("TagKeys") else { throw SQSError.missingParameter("TagKeys") }
        return try await self.changeTags(url, context) { current in
            current.filter { !keys.contains($0.key) }
        }
    }

    func changeTags(
        _ url: String,
        _ context: Context,
        _ change: @Sendable ([String: String]) throws(SQSError) -> [String: String]
    ) async throws -> JSONValue {
        try await self.control.run {
            var queue = try self.queue(url: url, context)
            let tags = try change(queue.tags)
            guard tags != queue.tags else { return [:] }
            queue.tags = tags
            try await self.store.updateQueue(
                id: queue.id,
                attributes: Self.document(queue.configuration.reported),
                tags: Self.document(tags),
                modifiedMillis: queue.modifiedMillis
            )
            self.catalog.install(queue)
            return [:]
        }
    }

    func listQueueTags(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        guard !queue.tags.isEmpty else { return [:] }
        return ["Tags": .object(queue.tags.mapValues { .string($0) })]
    }

    /// The queues whose redrive policy names this queue, by name, paged like ListQueues.
    func listDeadLetterSourceQueues(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        let maxResults = try input.integer("MaxResults")
        if let maxResults, !(1...1000).contains(maxResults) {
            throw SQSError.invalidValue(
                String(maxResults),
                parameter: "MaxResults",
                reason: "MaxResults must be an integer between 1 and 1000."
            )
        }
        let after = try (try input.string("NextToken")).map { token throws(SQSError) -> String in
            try Self.decodeToken(token)
        }
        let sources = self.deadLetterSources(of: queue).filter { source in after.map { source.name > $0 } ?? true }
        let page = Array(sources.prefix(maxResults ?? 1000))
        var result: [String: JSONValue] = ["queueUrls": .array(page.map { .string($0.url(host: context.host)) })]
        if maxResults != nil, sources.count > page.count, let last = page.last {
            result["NextToken"] = .string(Self.encodeToken(last.name))
        }
        return .object(result)
    }

    func deadLetterSources(of queue: QueueState) -> [QueueState] {
        let arn = queue.arnString
        return self.catalog.queues(in: queue.namespace).filter {
            $0.configuration.redrivePolicy?.deadLetterTargetARN == arn
        }
    }

    /// A map of strings as the JSON text the store keeps.
    static func document(_ map: [String: String]) -> String {
        String(decoding: JSONValue.object(map.mapValues { .string($0) }).serialized(), as: UTF8.self)
    }
}
