import NimbusCore
import NimbusStore

/// One received message, as the SQS event of an event source mapping needs it (the in-process API's answer to
/// ``SQSService/receive(queueARN:maxMessages:waitSeconds:visibilityTimeout:)``).
public struct QueueMessage: Sendable, Equatable {
    public var messageID: String
    public var receiptHandle: String
    public var body: String
    /// `ApproximateReceiveCount`, `SentTimestamp`, `SenderId`, `ApproximateFirstReceiveTimestamp`, and for FIFO
    /// queues `SequenceNumber`, `MessageGroupId`, `MessageDeduplicationId` (and `AWSTraceHeader` when sent).
    public var attributes: [String: String]
    public var messageAttributes: [String: MessageAttributeValue]
    public var md5OfBody: String
    /// Nil when the message has no message attributes (AWS then omits `MD5OfMessageAttributes`).
    public var md5OfMessageAttributes: String?

    public init(
        messageID: String,
        receiptHandle: String,
        body: String,
        attributes: [String: String],
        messageAttributes: [String: MessageAttributeValue],
        md5OfBody: String,
        md5OfMessageAttributes: String?
    ) {
        self.messageID = messageID
        self.receiptHandle = receiptHandle
        self.body = body
        self.attributes = attributes
        self.messageAttributes = messageAttributes
        self.md5OfBody = md5OfBody
        self.md5OfMessageAttributes = md5OfMessageAttributes
    }
}

/// A message attribute: `DataType` (`String`, `Number`, `Binary`, optionally with a `.custom` suffix) and its value.
public struct MessageAttributeValue: Sendable, Equatable, Hashable {
    public var dataType: String
    public var stringValue: String?
    public var binaryValue: [UInt8]?

    public init(dataType: String, stringValue: String? = nil, binaryValue: [UInt8]? = nil) {
        self.dataType = dataType
        self.stringValue = stringValue
        self.binaryValue = binaryValue
    }
}

/// The in-process API: what other modules (Lambda's destinations and dead-letter queues, event source mapping
/// pollers) call instead of going through HTTP. Queues are addressed by ARN (`arn:aws:sqs:<region>:<account>:<name>`);
/// errors are the ``SQSError`` the HTTP API would answer. Everything behaves as the HTTP operations do: the same
/// validation, durability (a send returns once committed), long polling, visibility, redrive and receipt handles
/// (handles from either API work with the other).
extension SQSService {
    /// Sends as SendMessage does; throws SQSError (QueueDoesNotExist…) for a missing queue.
    /// - Returns: the message id.
    public func send(
        queueARN: String,
        body: String,
        messageAttributes: [String: MessageAttributeValue] = [:],
        groupID: String? = nil,
        deduplicationID: String? = nil
    ) async throws -> String {
        let queue = try self.queue(arn: queueARN)
        try Self.validate(messageAttributes)
        let prepared = try self.prepare(
            queue,
            body: body,
            attributes: messageAttributes,
            systemAttributes: [:],
            delaySeconds: nil,
            groupID: groupID,
            deduplicationID: deduplicationID,
            senderID: queue.namespace.accountID,
            now: self.clock()
        )
        let outcomes = try await self.store([prepared], in: queue)
        if case .duplicate(let original, _) = outcomes.first { return original }
        return prepared.message.messageID
    }

    /// Receives as ReceiveMessage does (all attributes), waiting up to waitSeconds (0...20).
    public func receive(
        queueARN: String,
        maxMessages: Int,
        waitSeconds: Int,
        visibilityTimeout: Int? = nil
    ) async throws -> [QueueMessage] {
        let queue = try self.queue(arn: queueARN)
        guard (1...10).contains(maxMessages) else {
            throw SQSError.invalidValue(
                String(maxMessages),
                parameter: "MaxNumberOfMessages",
                reason: "Must be between 1 and 10, if provided."
            )
        }
        if let visibilityTimeout, !(0...SQSLimits.maximumVisibilityTimeout).contains(visibilityTimeout) {
            throw SQSError.invalidValue(
                String(visibilityTimeout),
                parameter: "VisibilityTimeout",
                reason: "Must be >= 0 and <= \(SQSLimits.maximumVisibilityTimeout), if provided."
            )
        }
        let (current, messages) = try await self.receive(
            queue,
            maxMessages: maxMessages,
            waitSeconds: min(max(waitSeconds, 0), SQSLimits.maximumWaitTimeSeconds),
            visibilityTimeout: visibilityTimeout
        )
        if messages.isEmpty, waitSeconds > 0, self.signals.isClosed {
            // Shutting down: long polls answer at once; a poller calling in a loop must not spin meanwhile.
            try? await Task.sleep(for: .milliseconds(250))
        }
        let handles = try self.receipts
        return messages.map { message in
            let attributes = MessageAttributeCoding.decode(message.attributes)
            return QueueMessage(
                messageID: message.messageID,
                receiptHandle: handles.make(
                    queueID: current.id,
                    sequence: message.sequence,
                    receiveCount: message.receiveCount
                ),
                body: message.body,
                attributes: Self.systemAttributes(message, fifo: current.fifo),
                messageAttributes: attributes,
                md5OfBody: message.md5OfBody,
                md5OfMessageAttributes: MessageDigest.attributes(attributes)
            )
        }
    }

    /// Deletes as DeleteMessage does, for each handle.
    /// - Throws: the first handle's error (`ReceiptHandleIsInvalid`, FIFO's expired receipt); the others are still
    ///   deleted.
    public func delete(queueARN: String, receiptHandles: [String]) async throws {
        let queue = try self.queue(arn: queueARN)
        guard !receiptHandles.isEmpty else { return }
        var firstError: SQSError?
        var receipts: [(String, Receipt)] = []
        for handle in receiptHandles {
            do {
                receipts.append((handle, try self.receipt(handle, in: queue)))
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        let outcomes = try await self.store.delete(
            queueID: queue.id,
            receipts: receipts.map { $0.1 },
            nowMillis: self.clock(),
            fifo: queue.fifo
        )
        if queue.fifo { self.signals.signal(queue.id) }
        for ((handle, _), outcome) in zip(receipts, outcomes) {
            if firstError == nil { firstError = Self.deleteError(outcome, handle: handle, fifo: queue.fifo) }
        }
        if let firstError { throw firstError }
    }

    /// Changes a message's visibility as ChangeMessageVisibility does.
    public func changeVisibility(queueARN: String, receiptHandle: String, timeoutSeconds: Int) async throws {
        let queue = try self.queue(arn: queueARN)
        let timeout = try Self.visibilityTimeout(timeoutSeconds)
        let receipt = try self.receipt(receiptHandle, in: queue)
        let outcomes = try await self.store.changeVisibility(
            queueID: queue.id,
            changes: [(receipt, Int64(timeout) * 1000)],
            nowMillis: self.clock(),
            fifo: queue.fifo,
            maximumMillis: Int64(SQSLimits.maximumVisibilityTimeout) * 1000
        )
        self.signals.signal(queue.id)
        if let outcome = outcomes.first,
            let error = Self.visibilityError(outcome, handle: receiptHandle, timeout: timeout)
        {
            throw error
        }
    }

    /// The queue's VisibilityTimeout and whether it is FIFO; nil when it does not exist.
    public func queueInfo(arn: String) -> (visibilityTimeout: Int, fifo: Bool)? {
        guard let arn = QueueARN(arn), let queue = self.catalog.queue(arn: arn) else { return nil }
        return (queue.configuration.visibilityTimeout, queue.fifo)
    }

    func queue(arn: String) throws(SQSError) -> QueueState {
        guard let parsed = QueueARN(arn), let queue = self.catalog.queue(arn: parsed) else { throw .queueDoesNotExist }
        return queue
    }

    /// The checks MessageValidation applies to attributes from a request, for attributes given as values.
    static func validate(_ attributes: [String: MessageAttributeValue]) throws(SQSError) {
        var document: [String: JSONValue] = [:]
        for (name, value) in attributes { document[name] = MessageAttributeCoding.json(value) }
        _ = try MessageValidation.attributes(.object(document))
    }
}
