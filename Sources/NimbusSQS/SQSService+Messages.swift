import Crypto
import Foundation
import NimbusCore
import NimbusStore
import Synchronization

/// The message operations: send, receive, delete, change visibility (single and batch).
extension SQSService {
    // MARK: Send

    /// A message that passed validation, ready to store, with the digests SendMessage answers.
    struct PreparedMessage: Sendable {
        var message: NewQueueMessage
        var md5OfMessageSystemAttributes: String?
    }

    /// Validates one message for `queue` as SendMessage does and builds what the store keeps.
    func prepare(
        _ queue: QueueState,
        body: String?,
        attributes: [String: MessageAttributeValue],
        systemAttributes: [String: MessageAttributeValue],
        delaySeconds: Int?,
        groupID: String?,
        deduplicationID: String?,
        senderID: String,
        now: Int64
    ) throws(SQSError) -> PreparedMessage {
        let body = try MessageValidation.body(body)
        let configuration = queue.configuration
        let size = MessageValidation.size(body: body, attributes: attributes)
        guard size <= configuration.maximumMessageSize else {
            throw .invalidParameterValue(
                "One or more parameters are invalid. Reason: Message must be shorter than \(configuration.maximumMessageSize) bytes."
            )
        }
        var visible = now + Int64(configuration.delaySeconds) * 1000
        var deduplication: (id: String, scope: String)?
        if queue.fifo {
            guard let groupID else { throw .missingParameter("MessageGroupId") }
            try MessageValidation.fifoIdentifier(groupID, parameter: "MessageGroupId")
            if let delaySeconds, delaySeconds != 0 {
                throw .invalidValue(
                    String(delaySeconds),
                    parameter: "DelaySeconds",
                    reason: "The request include parameter that is not valid for this queue type."
                )
            }
            let id: String
            if let deduplicationID {
                try MessageValidation.fifoIdentifier(deduplicationID, parameter: "MessageDeduplicationId")
                id = deduplicationID
            } else if configuration.contentBasedDeduplication {
                id = Digest.sha256Hex(Array(body.utf8))
            } else {
                throw .invalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
                )
            }
            deduplication = (id, configuration.deduplicatesPerGroup ? groupID : "")
        } else {
            if let deduplicationID {
                throw .invalidValue(
                    deduplicationID,
                    parameter: "MessageDeduplicationId",
                    reason: "The request includes a parameter that is not valid for this queue type."
                )
            }
            if let groupID { try MessageValidation.fifoIdentifier(groupID, parameter: "MessageGroupId") }
            if let delaySeconds {
                guard (0...SQSLimits.maximumDelaySeconds).contains(delaySeconds) else {
                    throw .invalidValue(
                        String(delaySeconds),
                        parameter: "DelaySeconds",
                        reason: "DelaySeconds must be >= 0 and <= \(SQSLimits.maximumDelaySeconds)."
                    )
                }
                visible = now + Int64(delaySeconds) * 1000
            }
        }
        var system: [String: String] = ["SenderId": senderID]
        if let trace = systemAttributes["AWSTraceHeader"] {
            guard trace.dataType == "String", let value = trace.stringValue else {
                throw .invalidParameterValue("The message system attribute 'AWSTraceHeader' must be of type 'String'.")
            }
            system["AWSTraceHeader"] = value
        }
        let message = NewQueueMessage(
            messageID: UUID().uuidString.lowercased(),
            body: body,
            attributes: attributes.isEmpty ? nil : MessageAttributeCoding.encode(attributes),
            md5OfBody: MessageDigest.body(body),
            md5OfAttributes: MessageDigest.attributes(attributes),
            systemAttributes: FlatJSON.encode(system),
            sentMillis: now,
            visibleMillis: visible,
            groupID: groupID,
            deduplicationID: deduplication?.id,
            deduplicationScope: deduplication?.scope
        )
        return PreparedMessage(
            message: message,
            md5OfMessageSystemAttributes: MessageDigest.attributes(systemAttributes)
        )
    }

    /// Stores prepared messages durably and wakes the queue's long polls.
    func store(_ prepared: [PreparedMessage], in queue: QueueState) async throws -> [SendOutcome] {
        let outcomes = try await self.store.send(
            queueID: queue.id,
            fifo: queue.fifo,
            messages: prepared.map(\.message),
            deduplicationWindowMillis: SQSLimits.deduplicationWindowMillis
        )
        self.signals.signal(queue.id)
        return outcomes
    }

    /// SendMessage's (and a batch entry's) answer.
    static func sendResult(_ prepared: PreparedMessage, _ outcome: SendOutcome, fifo: Bool) -> [String: JSONValue] {
        var result: [String: JSONValue] = ["MD5OfMessageBody": .string(prepared.message.md5OfBody)]
        if let md5 = prepared.message.md5OfAttributes { result["MD5OfMessageAttributes"] = .string(md5) }
        if let md5 = prepared.md5OfMessageSystemAttributes { result["MD5OfMessageSystemAttributes"] = .string(md5) }
        switch outcome {
        case .stored(let sequence):
            result["MessageId"] = .string(prepared.message.messageID)
            if fifo { result["SequenceNumber"] = .string(SequenceNumber.format(sequence)) }
        case .duplicate(let messageID, let sequence):
            result["MessageId"] = .string(messageID)
            if fifo { result["SequenceNumber"] = .string(SequenceNumber.format(sequence)) }
        }
        return result
    }

    func prepare(
        _ entry: Input,
        _ queue: QueueState,
        _ context: Context,
        now: Int64
    ) throws(SQSError)
        -> PreparedMessage
    {
        try self.prepare(
            queue,
            body: try entry.string("MessageBody"),
            attributes: try MessageValidation.attributes(entry["MessageAttributes"]),
            systemAttributes: try MessageValidation.attributes(entry["MessageSystemAttributes"], system: true),
            delaySeconds: try entry.integer("DelaySeconds"),
            groupID: try entry.string("MessageGroupId"),
            deduplicationID: try entry.string("MessageDeduplicationId"),
            senderID: context.senderID,
            now: now
        )
    }

    func sendMessage(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        let prepared = try self.prepare(input, queue, context, now: self.clock())
        let outcomes = try await self.store([prepared], in: queue)
        guard let outcome = outcomes.first else { throw SQSError.internalError("The message was not stored.") }
        return .object(Self.sendResult(prepared, outcome, fifo: queue.fifo))
    }

    func sendMessageBatch(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        let entries = try input.list("Entries")
        let ids = try MessageValidation.batch(entries, entryName: "SendMessageBatchRequestEntry")
        let inputs = (entries ?? []).map { Input(object: $0.objectValue ?? [:]) }
        // The whole batch counts against the message size limit too.
        var total = 0
        for entry in inputs {
            let attributes = (try? MessageValidation.attributes(entry["MessageAttributes"])) ?? [:]
            total += MessageValidation.size(body: (try? entry.string("MessageBody")) ?? "", attributes: attributes)
        }
        guard total <= SQSLimits.maximumMessageSize else {
            throw SQSError.batchRequestTooLong(limit: SQSLimits.maximumMessageSize, sent: total)
        }
        let now = self.clock()
        var failed: [JSONValue] = []
        var accepted: [(id: String, prepared: PreparedMessage)] = []
        for (id, entry) in zip(ids, inputs) {
            do {
                accepted.append((id, try self.prepare(entry, queue, context, now: now)))
            } catch {
                failed.append(Self.failure(id: id, error))
            }
        }
        var successful: [JSONValue] = []
        if !accepted.isEmpty {
            let outcomes = try await self.store(accepted.map(\.prepared), in: queue)
            for ((id, prepared), outcome) in zip(accepted, outcomes) {
                var result = Self.sendResult(prepared, outcome, fifo: queue.fifo)
                result["Id"] = .string(id)
                successful.append(.object(result))
            }
        }
        return ["Successful": .array(successful), "Failed": .array(failed)]
    }

    /// A batch entry's failure: the query protocol's code, as AWS reports entry failures.
    static func failure(id: String, _ error: SQSError) -> JSONValue {
        [
            "Id": .string(id), "SenderFault": .bool(error.senderFault), "Code": .string(error.queryCode),
            "Message": .string(error.message),
        ]
    }

    // MARK: Receive

    /// Receives as ReceiveMessage does: up to `maxMessages`, waiting up to `waitSeconds` for the first, the queue's
    /// visibility timeout unless one is given. A FIFO `attemptID` seen in the last 5 minutes returns the same messages
    /// and receipt handles (their visibility timeout reset) while none of them was deleted or received again.
    func receive(
        _ queue: QueueState,
        maxMessages: Int,
        waitSeconds: Int,
        visibilityTimeout: Int?,
        attemptID: String? = nil
    ) async throws -> (queue: QueueState, messages: [StoredMessage]) {
        if let attemptID, queue.fifo,
            let replay = try await self.replay(queue, attemptID: attemptID, visibilityTimeout: visibilityTimeout)
        {
            return (queue, replay)
        }
        let started = ContinuousClock.now
        let end = started + .seconds(waitSeconds)
        var queue = queue
        while true {
            let generation = self.signals.generation(queue.id)
            let now = self.clock()
            let configuration = queue.configuration
            var redrive: ReceiveRequest.Redrive?
            if let policy = configuration.redrivePolicy, let arn = QueueARN(policy.deadLetterTargetARN),
                let target = self.catalog.queue(arn: arn)
            {
                redrive = ReceiveRequest.Redrive(
                    maxReceiveCount: policy.maxReceiveCount,
                    deadLetterQueueID: target.id,
                    deadLetterQueueFIFO: target.fifo,
                    sourceARN: queue.arnString
                )
            }
            let result = try await self.store.receive(
                ReceiveRequest(
                    queueID: queue.id,
                    fifo: queue.fifo,
                    maxMessages: maxMessages,
                    nowMillis: now,
                    visibilityMillis: Int64(visibilityTimeout ?? configuration.visibilityTimeout) * 1000,
                    retentionCutoffMillis: now - Int64(configuration.messageRetentionPeriod) * 1000,
                    redrive: redrive
                )
            )
            if result.deadLettered > 0, let redrive { self.signals.signal(redrive.deadLetterQueueID) }
            if !result.messages.isEmpty {
                if let attemptID, queue.fifo {
                    self.attempts.remember(queue.id, attemptID, result.messages, now: now)
                }
                return (queue, result.messages)
            }
            let remaining = end - ContinuousClock.now
            guard remaining > .zero, !self.signals.isClosed else { return (queue, []) }
            // Sleep until a send signals the queue, the next message becomes receivable, or the wait ends.
            var wake = end
            if let next = try await self.store.nextReceivableMillis(queueID: queue.id, nowMillis: now, fifo: queue.fifo)
            {
                let untilNext = ContinuousClock.now + .milliseconds(max(1, next - self.clock()))
                if untilNext < wake { wake = untilNext }
            }
            await self.signals.wait(queue.id, after: generation, until: wake)
            if Task.isCancelled { return (queue, []) }
            guard let current = self.catalog.queue(id: queue.id) else { throw SQSError.queueDoesNotExist }
            queue = current
        }
    }

    /// A retried FIFO receive: the remembered messages, visibility reset, if every one is still in flight under
    /// the remembered receive.
    func replay(_ queue: QueueState, attemptID: String, visibilityTimeout: Int?) async throws -> [StoredMessage]? {
        let now = self.clock()
        guard let messages = self.attempts.recall(queue.id, attemptID, now: now) else { return nil }
        let visibility = Int64(visibilityTimeout ?? queue.configuration.visibilityTimeout) * 1000
        let outcomes = try await self.store.changeVisibility(
            queueID: queue.id,
            changes: messages.map {
                (Receipt(queueID: queue.id, sequence: $0.sequence, receiveCount: $0.receiveCount), visibility)
            },
            nowMillis: now,
            fifo: true,
            maximumMillis: Int64(SQSLimits.maximumVisibilityTimeout) * 1000
        )
        guard outcomes.allSatisfy({ $0 == .done }) else { return nil }
        return messages
    }

    func receiveMessage(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        let maxMessages = try input.integer("MaxNumberOfMessages") ?? 1
        guard (1...10).contains(maxMessages) else {
            throw SQSError.invalidValue(
                String(maxMessages),
                parameter: "MaxNumberOfMessages",
                reason: "Must be between 1 and 10, if provided."
            )
        }
        let wait = try input.integer("WaitTimeSeconds") ?? queue.configuration.receiveMessageWaitTimeSeconds
        guard (0...SQSLimits.maximumWaitTimeSeconds).contains(wait) else {
            throw SQSError.invalidValue(
                String(wait),
                parameter: "WaitTimeSeconds",
                reason: "Must be >= 0 and <= 20, if provided."
            )
        }
        let visibility = try input.integer("VisibilityTimeout")
        if let visibility, !(0...SQSLimits.maximumVisibilityTimeout).contains(visibility) {
            throw SQSError.invalidValue(
                String(visibility),
                parameter: "VisibilityTimeout",
                reason: "Must be >= 0 and <= \(SQSLimits.maximumVisibilityTimeout), if provided."
            )
        }
        let attemptID = try input.string("ReceiveRequestAttemptId")
        if let attemptID {
            try MessageValidation.fifoIdentifier(attemptID, parameter: "ReceiveRequestAttemptId")
        }
        let systemNames = Set(
            (try input.strings("AttributeNames") ?? []) + (try input.strings("MessageSystemAttributeNames") ?? [])
        )
        let attributeNames = try input.strings("MessageAttributeNames") ?? []
        let (current, messages) = try await self.receive(
            queue,
            maxMessages: maxMessages,
            waitSeconds: wait,
            visibilityTimeout: visibility,
            attemptID: queue.fifo ? attemptID : nil
        )
        let handles = try self.receipts
        guard !messages.isEmpty else { return [:] }
        return [
            "Messages": .array(
                messages.map { message in
                    Self.render(
                        message,
                        handle: handles.make(
                            queueID: current.id,
                            sequence: message.sequence,
                            receiveCount: message.receiveCount
                        ),
                        fifo: current.fifo,
                        systemNames: systemNames,
                        attributeNames: attributeNames
                    )
                }
            )
        ]
    }

    /// One received message as ReceiveMessage answers it, with the system attributes and message attributes asked for.
    static func render(
        _ message: StoredMessage,
        handle: String,
        fifo: Bool,
        systemNames: Set<String>,
        attributeNames: [String]
    ) -> JSONValue {
        var result: [String: JSONValue] = [
            "MessageId": .string(message.messageID), "ReceiptHandle": .string(handle),
            "MD5OfBody": .string(message.md5OfBody), "Body": .string(message.body),
        ]
        let system = self.systemAttributes(message, fifo: fifo)
        let selectedSystem = systemNames.contains("All") ? system : system.filter { systemNames.contains($0.key) }
        if !selectedSystem.isEmpty { result["Attributes"] = .object(selectedSystem.mapValues { .string($0) }) }
        let attributes = MessageAttributeCoding.decode(message.attributes)
        let selected = attributes.filter { name, _ in Self.matches(name, attributeNames) }
        if !selected.isEmpty {
            result["MessageAttributes"] = .object(selected.mapValues(MessageAttributeCoding.json))
            if let md5 = MessageDigest.attributes(selected) { result["MD5OfMessageAttributes"] = .string(md5) }
        }
        return .object(result)
    }

    /// `All`, `.*`, `prefix.*` or the exact name.
    static func matches(_ name: String, _ patterns: [String]) -> Bool {
        patterns.contains { pattern in
            if pattern == "All" || pattern == ".*" { return true }
            if pattern.hasSuffix(".*") { return name.hasPrefix(String(pattern.dropLast(1))) }
            return pattern == name
        }
    }

    /// Every system attribute of a received message.
    static func systemAttributes(_ message: StoredMessage, fifo: Bool) -> [String: String] {
        let stored = FlatJSON.decode(message.systemAttributes) ?? [:]
        var attributes: [String: String] = [
            "SentTimestamp": String(message.sentMillis),
            "ApproximateReceiveCount": String(message.receiveCount),
        ]
        if let sender = stored["SenderId"] { attributes["SenderId"] = sender }
        if let trace = stored["AWSTraceHeader"] { attributes["AWSTraceHeader"] = trace }
        if let first = message.firstReceiveMillis { attributes["ApproximateFirstReceiveTimestamp"] = String(first) }
        if let source = message.deadLetterSourceARN { attributes["DeadLetterQueueSourceArn"] = source }
        if let group = message.groupID { attributes["MessageGroupId"] = group }
        if fifo {
            attributes["SequenceNumber"] = SequenceNumber.format(message.sequence)
            if let dedup = message.deduplicationID { attributes["MessageDeduplicationId"] = dedup }
        }
        return attributes
    }

    // MARK: Delete and visibility

    /// The receive a handle names in this queue.
    /// - Throws: `ReceiptHandleIsInvalid` for a handle that is not ours or names another queue.
    func receipt(_ handle: String, in queue: QueueState) throws(SQSError) -> Receipt {
        guard let parsed = try self.receipts.parse(handle), parsed.queueID == queue.id else {
            throw .receiptHandleIsInvalid(handle)
        }
        return Receipt(queueID: queue.id, sequence: parsed.sequence, receiveCount: parsed.receiveCount)
    }

    /// A delete's outcome as AWS answers it: an old receipt of a standard queue succeeds without deleting ("the
    /// request will succeed, but the message might not be deleted"); a FIFO receipt must be the message's latest and
    /// the message still in flight.
    static func deleteError(_ outcome: ReceiptOutcome, handle: String, fifo: Bool) -> SQSError? {
        switch outcome {
        case .done, .gone: return nil
        case .superseded, .expired, .beyondMaximum: return fifo ? .receiptHandleExpired(handle) : nil
        }
    }

    static func visibilityError(_ outcome: ReceiptOutcome, handle: String, timeout: Int) -> SQSError? {
        switch outcome {
        case .done: return nil
        case .gone, .superseded: return .messageNotAvailable(handle)
        case .expired: return .receiptHandleExpired(handle)
        case .beyondMaximum:
            return .invalidValue(
                String(timeout),
                parameter: "VisibilityTimeout",
                reason: "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
            )
        }
    }

    func deleteMessage(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        let handle = try input.requiredString("ReceiptHandle")
        let receipt = try self.receipt(handle, in: queue)
        let outcomes = try await self.store.delete(
            queueID: queue.id,
            receipts: [receipt],
            nowMillis: self.clock(),
            fifo: queue.fifo
        )
        if let outcome = outcomes.first, let error = Self.deleteError(outcome, handle: handle, fifo: queue.fifo) {
            throw error
        }
        if queue.fifo { self.signals.signal(queue.id) }
        return [:]
    }

    func deleteMessageBatch(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        let entries = try input.list("Entries")
        let ids = try MessageValidation.batch(entries, entryName: "DeleteMessageBatchRequestEntry")
        var failed: [JSONValue] = []
        var pending: [(id: String, handle: String, receipt: Receipt)] = []
        for (id, entry) in zip(ids, (entries ?? []).map { Input(object: $0.objectValue ?? [:]) }) {
            do {
                let handle = try entry.requiredString("ReceiptHandle")
                pending.append((id, handle, try self.receipt(handle, in: queue)))
            } catch {
                failed.append(Self.failure(id: id, error))
            }
        }
        var successful: [JSONValue] = []
        if !pending.isEmpty {
            let outcomes = try await self.store.delete(
                queueID: queue.id,
                receipts: pending.map(\.receipt),
                nowMillis: self.clock(),
                fifo: queue.fifo
            )
            for (entry, outcome) in zip(pending, outcomes) {
                if let error = Self.deleteError(outcome, handle: entry.handle, fifo: queue.fifo) {
                    failed.append(Self.failure(id: entry.id, error))
                } else {
                    successful.append(["Id": .string(entry.id)])
                }
            }
            if queue.fifo { self.signals.signal(queue.id) }
        }
        return ["Successful": .array(successful), "Failed": .array(failed)]
    }

    static func visibilityTimeout(_ value: Int?) throws(SQSError) -> Int {
        guard let value else { throw .missingParameter("VisibilityTimeout") }
        guard (0...SQSLimits.maximumVisibilityTimeout).contains(value) else {
            throw .invalidValue(
                String(value),
                parameter: "VisibilityTimeout",
                reason: "VisibilityTimeout must be an integer between 0 and \(SQSLimits.maximumVisibilityTimeout)"
            )
        }
        return value
    }

    func changeMessageVisibility(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        let handle = try input.requiredString("ReceiptHandle")
        let timeout = try Self.visibilityTimeout(try input.integer("VisibilityTimeout"))
        let receipt = try self.receipt(handle, in: queue)
        let outcomes = try await self.store.changeVisibility(
            queueID: queue.id,
            changes: [(receipt, Int64(timeout) * 1000)],
            nowMillis: self.clock(),
            fifo: queue.fifo,
            maximumMillis: Int64(SQSLimits.maximumVisibilityTimeout) * 1000
        )
        self.signals.signal(queue.id)
        if let outcome = outcomes.first, let error = Self.visibilityError(outcome, handle: handle, timeout: timeout) {
            throw error
        }
        return [:]
    }

    func changeMessageVisibilityBatch(_ input: Input, _ context: Context) async throws -> JSONValue {
        let queue = try self.queue(input, context)
        let entries = try input.list("Entries")
        let ids = try MessageValidation.batch(entries, entryName: "ChangeMessageVisibilityBatchRequestEntry")
        var failed: [JSONValue] = []
        var pending: [(id: String, handle: String, timeout: Int, receipt: Receipt)] = []
        for (id, entry) in zip(ids, (entries ?? []).map { Input(object: $0.objectValue ?? [:]) }) {
            do {
                let handle = try entry.requiredString("ReceiptHandle")
                let timeout = try Self.visibilityTimeout(try entry.integer("VisibilityTimeout"))
                pending.append((id, handle, timeout, try self.receipt(handle, in: queue)))
            } catch {
                failed.append(Self.failure(id: id, error))
            }
        }
        var successful: [JSONValue] = []
        if !pending.isEmpty {
            let outcomes = try await self.store.changeVisibility(
                queueID: queue.id,
                changes: pending.map { ($0.receipt, Int64($0.timeout) * 1000) },
                nowMillis: self.clock(),
                fifo: queue.fifo,
                maximumMillis: Int64(SQSLimits.maximumVisibilityTimeout) * 1000
            )
            self.signals.signal(queue.id)
            for (entry, outcome) in zip(pending, outcomes) {
                if let error = Self.visibilityError(outcome, handle: entry.handle, timeout: entry.timeout) {
                    failed.append(Self.failure(id: entry.id, error))
                } else {
                    successful.append(["Id": .string(entry.id)])
                }
            }
        }
        return ["Successful": .array(successful), "Failed": .array(failed)]
    }
}

extension SQSService {
    /// A batch-entry failure from any error (SQS's own, or an unexpected one as an internal error).
    static func failure(id: String, _ error: any Error) -> JSONValue {
        self.failure(id: id, (error as? SQSError) ?? SQSError.internalError("\(error)"))
    }
}

/// How message attributes are kept in the store: the JSON the API uses (`{"name": {"DataType": …,
/// "StringValue"|"BinaryValue": …}}`, binary values in base64).
enum MessageAttributeCoding {
    static func encode(_ attributes: [String: MessageAttributeValue]) -> [UInt8] {
        JSONValue.object(attributes.mapValues(self.json)).serialized()
    }

    static func decode(_ bytes: [UInt8]?) -> [String: MessageAttributeValue] {
        guard let bytes, let object = JSONValue.parse(bytes)?.objectValue else { return [:] }
        var attributes: [String: MessageAttributeValue] = [:]
        for (name, value) in object {
            guard let dataType = value["DataType"]?.stringValue else { continue }
            attributes[name] = MessageAttributeValue(
                dataType: dataType,
                stringValue: value["StringValue"]?.stringValue,
                binaryValue: value["BinaryValue"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
            )
        }
        return attributes
    }

    static func json(_ value: MessageAttributeValue) -> JSONValue {
        var object: [String: JSONValue] = ["DataType": .string(value.dataType)]
        if let string = value.stringValue { object["StringValue"] = .string(string) }
        if let binary = value.binaryValue { object["BinaryValue"] = .string(Data(binary).base64EncodedString()) }
        return .object(object)
    }
}

/// FIFO `ReceiveRequestAttemptId`s of the last 5 minutes and the messages their receive handed out.
final class ReceiveAttempts: Sendable {
    struct Entry {
        var messages: [StoredMessage]
        var expires: Int64
    }

    struct Key: Hashable {
        var queueID: Int64
        var attemptID: String
    }

    let state = Mutex<[Key: Entry]>([:])

    func remember(_ queueID: Int64, _ attemptID: String, _ messages: [StoredMessage], now: Int64) {
        self.state.withLock { state in
            state = state.filter { $0.value.expires > now }
            state[Key(queueID: queueID, attemptID: attemptID)] = Entry(
                messages: messages,
                expires: now + SQSLimits.deduplicationWindowMillis
            )
        }
    }

    func recall(_ queueID: Int64, _ attemptID: String, now: Int64) -> [StoredMessage]? {
        self.state.withLock { state in
            guard let entry = state[Key(queueID: queueID, attemptID: attemptID)], entry.expires > now else {
                return nil
            }
            return entry.messages
        }
    }
}
