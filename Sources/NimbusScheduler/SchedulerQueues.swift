import NimbusSQS

/// Where schedules reach Amazon SQS: queue targets (SendMessage with the target's input) and dead-letter queues.
/// The composition root passes ``SQSService`` (its in-process API); tests pass a recorder.
public protocol SchedulerQueues: Sendable {
    /// Sends one message with `String` message attributes.
    /// - Throws: ``TargetRefusal`` when the queue refuses the message for good (it does not exist, the message is
    ///   invalid); any other error is taken as transient and retried.
    func send(
        queueARN: String,
        body: String,
        attributes: [String: String],
        groupID: String?,
        deduplicationID: String?
    ) async throws
}

/// A target's refusal that retrying cannot change (the function or queue does not exist, access is denied, the
/// payload is too large): the firing goes to the dead-letter queue at once, with `code` as its `ERROR_CODE`.
public struct TargetRefusal: Error, Sendable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

extension SQSService: SchedulerQueues {
    public func send(
        queueARN: String,
        body: String,
        attributes: [String: String],
        groupID: String?,
        deduplicationID: String?
    ) async throws {
        do {
            _ = try await self.send(
                queueARN: queueARN,
                body: body,
                messageAttributes: attributes.mapValues { MessageAttributeValue(dataType: "String", stringValue: $0) },
                groupID: groupID,
                deduplicationID: deduplicationID
            )
        } catch let error as SQSError where error.status < 500 {
            throw TargetRefusal(code: error.code, message: error.message)
        }
    }
}
