/// The Runtime API calls (2018-06-01) over one keep-alive connection.
///
/// The connection is opened lazily and replaced when the server closes it. A request whose connection turns
/// out to be closed before any response byte arrives is retried once on a new connection.
struct RuntimeAPIClient {
    /// One event handed out by `/next`.
    struct Invocation {
        /// The event payload bytes.
        var event: [UInt8]
        /// The request id, deadline and other per-invocation data from the `/next` headers.
        var context: LambdaContext
    }

    private static let userAgent = "nimbus-runtime-client/1.0"

    private let endpoint: RuntimeAPIEndpoint
    private let function: LambdaContext.FunctionDetails
    private var connection: HTTPConnection?
    private let nextRequest: [UInt8]

    /// Creates a client for `endpoint`; no connection is made yet.
    init(endpoint: RuntimeAPIEndpoint, function: LambdaContext.FunctionDetails) {
        self.endpoint = endpoint
        self.function = function
        self.nextRequest = Self.requestHead(
            method: "GET",
            path: "/2018-06-01/runtime/invocation/next",
            host: endpoint.hostHeader,
            extraHeaders: []
        )
    }

    /// Long-polls `GET /runtime/invocation/next` until an event arrives.
    ///
    /// - Throws: ``RuntimeClientError``: connection failures, a non-2xx status (`unexpectedStatus`) or a missing
    ///   request id (`missingRequestID`).
    mutating func nextInvocation() throws -> Invocation {
        let response = try self.exchange(head: self.nextRequest, body: [])
        guard response.isSuccess else {
            throw RuntimeClientError(
                .unexpectedStatus,
                "GET /runtime/invocation/next answered \(response.status): \(Self.excerpt(response.body))"
            )
        }
        let head = response.head
        guard let requestID = head.value(of: "lambda-runtime-aws-request-id"), !requestID.isEmpty else {
            throw RuntimeClientError(.missingRequestID, "/next response has no Lambda-Runtime-Aws-Request-Id header")
        }
        let context = LambdaContext(
            requestID: requestID,
            deadlineMilliseconds: head.value(of: "lambda-runtime-deadline-ms").flatMap { Int64($0) } ?? 0,
            invokedFunctionARN: head.value(of: "lambda-runtime-invoked-function-arn") ?? "",
            traceID: head.value(of: "lambda-runtime-trace-id").flatMap { $0.isEmpty ? nil : $0 },
            clientContext: head.value(of: "lambda-runtime-client-context").flatMap { $0.isEmpty ? nil : $0 },
            cognitoIdentity: head.value(of: "lambda-runtime-cognito-identity").flatMap { $0.isEmpty ? nil : $0 },
            tenantID: head.value(of: "lambda-runtime-aws-tenant-id").flatMap { $0.isEmpty ? nil : $0 },
            function: self.function
        )
        return Invocation(event: response.body, context: context)
    }

    /// `POST /runtime/invocation/{id}/response` with `Content-Type: application/json`.
    ///
    /// - Returns: the server's answer; 202 is success, anything else is for the caller to report.
    /// - Throws: ``RuntimeClientError`` when the request cannot be delivered.
    mutating func postResponse(requestID: String, body: [UInt8]) throws -> HTTPResponse {
        let head = Self.requestHead(
            method: "POST",
            path: "/2018-06-01/runtime/invocation/\(Self.percentEncoded(requestID))/response",
            host: self.endpoint.hostHeader,
            extraHeaders: [("Content-Type", "application/json"), ("Content-Length", String(body.count))]
        )
        return try self.exchange(head: head, body: body)
    }

    /// `POST /runtime/invocation/{id}/error` with the error JSON and `Lambda-Runtime-Function-Error-Type`.
    ///
    /// - Throws: ``RuntimeClientError`` when the request cannot be delivered.
    mutating func postError(requestID: String, error: LambdaFunctionError) throws -> HTTPResponse {
        try self.postError(
            path: "/2018-06-01/runtime/invocation/\(Self.percentEncoded(requestID))/error",
            error: error
        )
    }

    /// `POST /runtime/init/error` with the error JSON and `Lambda-Runtime-Function-Error-Type`.
    ///
    /// - Throws: ``RuntimeClientError`` when the request cannot be delivered.
    mutating func postInitError(_ error: LambdaFunctionError) throws -> HTTPResponse {
        try self.postError(path: "/2018-06-01/runtime/init/error", error: error)
    }

    private mutating func postError(path: String, error: LambdaFunctionError) throws -> HTTPResponse {
        let body = error.jsonBody()
        let head = Self.requestHead(
            method: "POST",
            path: path,
            host: self.endpoint.hostHeader,
            extraHeaders: [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Function-Error-Type", Self.headerSafe(error.type)),
                ("Content-Length", String(body.count)),
            ]
        )
        return try self.exchange(head: head, body: body)
    }

    /// Sends a request on the current connection (opening one if needed) and reads the response.
    private mutating func exchange(head: [UInt8], body: [UInt8]) throws -> HTTPResponse {
        var hasRetried = false
        while true {
            let connection = try self.connection ?? HTTPConnection(endpoint: self.endpoint)
            self.connection = connection
            do {
                let response = try connection.roundTrip(head: head, body: body)
                if !connection.isReusable {
                    self.connection = nil
                }
                return response
            } catch let error as RuntimeClientError where error.code == .connectionClosed && !hasRetried {
                // A kept-alive connection the server had already closed: reconnect once.
                hasRetried = true
                self.connection = nil
            } catch {
                self.connection = nil
                throw error
            }
        }
    }

    // MARK: Encoding

    private static func requestHead(
        method: String,
        path: String,
        host: String,
        extraHeaders: [(String, String)]
    ) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: \(Self.userAgent)\r\n"
        for (name, value) in extraHeaders {
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters, so an odd request id cannot change the
    /// request line.
    static func percentEncoded(_ text: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces control characters (CR, LF, …) with spaces so a value cannot break the header block.
    static func headerSafe(_ value: String) -> String {
        let bytes = value.utf8.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first 200 bytes of a body, for diagnostics.
    static func excerpt(_ body: [UInt8]) -> String {
        String(decoding: body.prefix(200), as: UTF8.self)
    }
}
