/// A failure while talking to the Runtime API.
///
/// These are platform failures, never function failures: the run loop reports them on stderr and exits with
/// status 1, as the official runtime clients do.
struct RuntimeClientError: Error, CustomStringConvertible {
    /// What went wrong.
    enum Code: String, Sendable {
        /// `AWS_LAMBDA_RUNTIME_API` is unset or is not `host:port`.
        case invalidEndpoint
        /// The TCP connection could not be established.
        case connectFailed
        /// The server closed the connection before sending any byte of a response. Retrying is safe.
        case connectionClosed
        /// A socket read or write failed, or the connection ended in the middle of a response.
        case ioFailed
        /// The server sent something that is not a well-formed HTTP/1.1 response.
        case malformedResponse
        /// The server answered with a status the protocol does not allow at that point.
        case unexpectedStatus
        /// `/next` answered without a `Lambda-Runtime-Aws-Request-Id` header.
        case missingRequestID
    }

    /// What went wrong.
    var code: Code
    /// Human-readable detail, for stderr.
    var detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    var description: String {
        "\(self.code.rawValue): \(self.detail)"
    }
}
