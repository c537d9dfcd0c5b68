import NimbusCore

/// An error a service throws, in the service's own vocabulary; the protocol renders it (header, body, status).
/// Every service has one error type conforming to this.
public protocol ServiceErrorConvertible: Error {
    var serviceError: ServiceError { get }
}

/// AWS's error, protocol-neutral: the exception name, status, message and any extra members of its shape.
public struct ServiceError: Error, Sendable, Equatable, ServiceErrorConvertible {
    public var code: String
    public var status: Int
    public var message: String
    /// The member the service model names the message with (`message` or `Message`).
    public var messageMember: String
    /// Whether the caller (Sender) or the service (Receiver) is at fault.
    public var senderFault: Bool
    /// Extra members of the error structure (`Reason`, `Type`…).
    public var fields: [String: JSONValue]
    /// Headers the error carries (`Retry-After`).
    public var headers: [(String, String)]
    /// For `awsQueryCompatible` services (SQS): the query protocol's error code (`x-amzn-query-error`).
    public var queryCode: String?

    public init(
        code: String, status: Int = 400, message: String, messageMember: String = "message", senderFault: Bool? = nil,
        fields: [String: JSONValue] = [:], headers: [(String, String)] = [], queryCode: String? = nil
    ) {
        self.code = code
        self.status = status
        self.message = message
        self.messageMember = messageMember
        self.senderFault = senderFault ?? (status < 500)
        self.fields = fields
        self.headers = headers
        self.queryCode = queryCode
    }

    public var serviceError: ServiceError { self }

    public static func == (a: ServiceError, b: ServiceError) -> Bool {
        a.code == b.code && a.status == b.status && a.message == b.message && a.fields == b.fields
    }
}
