import NimbusCore
import NimbusEdge

/// An error of the SQS API as AWS answers it: the json protocol's error type (`__type`, `x-amzn-ErrorType`), the
/// query protocol's code (what botocore and the other SDKs report as the error code, from `x-amzn-query-error`), the
/// status and AWS's message.
///
/// The pairs and messages follow AWS's answers as recorded by clients of the json protocol (boto3 shows the query
/// code as `Error.Code` and the json type as `Error.QueryErrorCode`), e.g. `QueueDoesNotExist` /
/// `AWS.SimpleQueueService.NonExistentQueue`, `InvalidParameterValueException` / `InvalidParameterValue`.
public struct SQSError: Error, Sendable, Equatable, ServiceErrorConvertible {
    /// The json protocol's error type.
    public var code: String
    /// The query protocol's error code.
    public var queryCode: String
    public var status: Int
    public var message: String
    public var senderFault: Bool

    public init(code: String, queryCode: String? = nil, status: Int = 400, message: String, senderFault: Bool = true) {
        self.code = code
        self.queryCode = queryCode ?? code
        self.status = status
        self.message = message
        self.senderFault = senderFault
    }

    public var serviceError: ServiceError {
        ServiceError(
            code: self.code,
            status: self.status,
            message: self.message,
            senderFault: self.senderFault,
            queryCode: self.queryCode
        )
    }

    // MARK: The catalogue

    static let queueDoesNotExist = SQSError(
        code: "QueueDoesNotExist",
        queryCode: "AWS.SimpleQueueService.NonExistentQueue",
        message: "The specified queue does not exist."
    )

    static func queueNameExists(attribute: String) -> SQSError {
        SQSError(
            code: "QueueNameExists",
            queryCode: "QueueAlreadyExists",
            message: "A queue already exists with the same name and a different value for attribute \(attribute)"
        )
    }

    static let queueDeletedRecently = SQSError(
        code: "QueueDeletedRecently",
        queryCode: "AWS.SimpleQueueService.QueueDeletedRecently",
        message: "You must wait 60 seconds after deleting a queue before you can create another with the same name."
    )

    static func invalidParameterValue(_ message: String) -> SQSError {
        SQSError(code: "InvalidParameterValueException", queryCode: "InvalidParameterValue", message: message)
    }

    /// `Value <value> for parameter <name> is invalid. Reason: <reason>`
    static func invalidValue(_ value: String, parameter: String, reason: String) -> SQSError {
        .invalidParameterValue("Value \(value) for parameter \(parameter) is invalid. Reason: \(reason)")
    }

    static func missingParameter(_ name: String) -> SQSError {
        SQSError(
            code: "MissingRequiredParameterException",
            queryCode: "MissingParameter",
            message: "The request must contain the parameter \(name)."
        )
    }

    static func invalidAttributeName(_ message: String) -> SQSError {
        SQSError(code: "InvalidAttributeName", message: message)
    }

    static func unknownAttribute(_ name: String) -> SQSError {
        .invalidAttributeName("Unknown Attribute \(name).")
    }

    static func invalidAttributeValue(_ message: String) -> SQSError {
        SQSError(code: "InvalidAttributeValue", message: message)
    }

    /// `Invalid value for the parameter <name>.` (with `Reason: …` when there is one).
    static func invalidAttributeValue(name: String, reason: String? = nil) -> SQSError {
        .invalidAttributeValue("Invalid value for the parameter \(name).\(reason.map { " Reason: \($0)" } ?? "")")
    }

    static func receiptHandleIsInvalid(_ handle: String) -> SQSError {
        SQSError(
            code: "ReceiptHandleIsInvalid",
            message: "The input receipt handle \"\(handle)\" is not a valid receipt handle."
        )
    }

    static func receiptHandleExpired(_ handle: String) -> SQSError {
        .invalidValue(handle, parameter: "ReceiptHandle", reason: "The receipt handle has expired.")
    }

    static func messageNotAvailable(_ handle: String) -> SQSError {
        .invalidValue(
            handle,
            parameter: "ReceiptHandle",
            reason: "Message does not exist or is not available for visibility timeout change."
        )
    }

    static func tooManyEntries(_ count: Int) -> SQSError {
        SQSError(
            code: "TooManyEntriesInBatchRequest",
            queryCode: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            message: "Maximum number of entries per request are 10. You have sent \(count)."
        )
    }

    static func emptyBatch(_ entryName: String) -> SQSError {
        SQSError(
            code: "EmptyBatchRequest",
            queryCode: "AWS.SimpleQueueService.EmptyBatchRequest",
            message: "There should be at least one \(entryName) in the request."
        )
    }

    static func batchEntryIdsNotDistinct(_ id: String) -> SQSError {
        SQSError(
            code: "BatchEntryIdsNotDistinct",
            queryCode: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            message: "Id \(id) repeated."
        )
    }

    static let invalidBatchEntryId = SQSError(
        code: "InvalidBatchEntryId",
        queryCode: "AWS.SimpleQueueService.InvalidBatchEntryId",
        message:
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."
    )

    static func batchRequestTooLong(limit: Int, sent: Int) -> SQSError {
        SQSError(
            code: "BatchRequestTooLong",
            queryCode: "AWS.SimpleQueueService.BatchRequestTooLong",
            message: "Batch requests cannot be longer than \(limit) bytes. You have sent \(sent) bytes."
        )
    }

    static func purgeQueueInProgress(_ name: String) -> SQSError {
        SQSError(
            code: "PurgeQueueInProgress",
            queryCode: "AWS.SimpleQueueService.PurgeQueueInProgress",
            status: 403,
            message: "Only one PurgeQueue operation on \(name) is allowed every 60 seconds."
        )
    }

    static let invalidMessageContents = SQSError(
        code: "InvalidMessageContents",
        message:
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
    )

    static func resourceNotFound(_ message: String) -> SQSError {
        SQSError(code: "ResourceNotFoundException", status: 404, message: message)
    }

    static func invalidAddress(_ url: String) -> SQSError {
        SQSError(code: "InvalidAddress", message: "The address \(url) is not valid for this endpoint.")
    }

    static func serialization(_ message: String) -> SQSError {
        SQSError(code: "SerializationException", message: message)
    }

    static func internalError(_ message: String) -> SQSError {
        SQSError(code: "InternalError", status: 500, message: message, senderFault: false)
    }
}
