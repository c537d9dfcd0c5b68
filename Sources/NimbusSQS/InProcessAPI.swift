import NimbusCore

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
        messageID: String, receiptHandle: String, body: String, attributes: [String: String],
        messageAttributes: [String: MessageAttributeValue], md5OfBody: String, md5OfMessageAttributes: String?
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
/// errors are the ``SQSError`` the HTTP API would answer.
extension SQSService {
    /// Sends as SendMessage does; throws SQSError (QueueDoesNotExist…) for a missing queue.
    /// - Returns: the message id.
    public func send(
        queueARN: String, body: String, messageAttributes: [String: MessageAttributeValue] = [:],
        groupID: String? = nil, deduplicationID: String? = nil
    ) async throws -> String {
        throw SQSError.internalError("The in-process SQS API is not implemented yet.")
    }

    /// Receives as ReceiveMessage does (all attributes), waiting up to waitSeconds (0...20).
    public func receive(
        queueARN: String, maxMessages: Int, waitSeconds: Int, visibilityTimeout: Int? = nil
    ) async throws -> [QueueMessage] {
        throw SQSError.internalError("The in-process SQS API is not implemented yet.")
    }

    public func delete(queueARN: String, receiptHandles: [String]) async throws {
        throw SQSError.internalError("The in-process SQS API is not implemented yet.")
    }

    public func changeVisibility(queueARN: String, receiptHandle: String, timeoutSeconds: Int) async throws {
        throw SQSError.internalError("The in-process SQS API is not implemented yet.")
    }

    /// The queue's VisibilityTimeout and whether it is FIFO; nil when it does not exist.
    public func queueInfo(arn: String) -> (visibilityTimeout: Int, fifo: Bool)? {
        nil
    }
}
