import NimbusCore
import NimbusEdge

/// An error of the SQS API: the json protocol's `__type` and the query protocol's code (`x-amzn-query-error`).
public struct SQSError: Error, Sendable, Equatable, ServiceErrorConvertible {
    public var code: String
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
            code: self.code, status: self.status, message: self.message, senderFault: self.senderFault,
            queryCode: self.queryCode)
    }

    static func internalError(_ message: String) -> SQSError {
        SQSError(code: "InternalError", status: 500, message: message, senderFault: false)
    }
}
