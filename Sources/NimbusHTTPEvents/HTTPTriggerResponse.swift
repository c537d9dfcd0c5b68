import NIOCore

/// The HTTP response a front door writes back: mapped from a function's result (``PayloadFormatV2/response(from:)``,
/// ``PayloadFormatV1/response(from:)``), or one of the platform's own answers (``HTTPTriggerFailure``,
/// ``CORSPolicy``).
public struct HTTPTriggerResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields in order, exactly as they are to be written; repeated names are separate entries. Cookies a
    /// function returned are already here, one `set-cookie` entry each (see ``cookies``). The front door adds only
    /// what HTTP itself needs (`content-length`, `date`, `connection`) and its request id header.
    public var headers: [(name: String, value: String)]
    /// The body bytes.
    public var body: ByteBuffer

    public init(status: Int, headers: [(name: String, value: String)] = [], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The values of the `set-cookie` entries of ``headers``.
    public var cookies: [String] {
        self.headers.filter { $0.name.lowercased() == "set-cookie" }.map(\.value)
    }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return self.headers.first(where: { $0.name.lowercased() == name })?.value
    }

    /// Whether a header `name` is present, compared case-insensitively.
    func hasHeader(_ name: String) -> Bool { self.header(name) != nil }

    /// The body as UTF-8 text (tests and logs).
    public var bodyText: String { String(buffer: self.body) }
}

/// Why a function's result could not be mapped to an HTTP response. The front door answers with its
/// ``HTTPTriggerFailure/invalidResponse`` error (function URLs: 502; HTTP APIs: 500) and logs this.
public struct HTTPResponseMappingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for logs and tests.
    public enum Code: String, Sendable {
        /// The result is not JSON at all.
        case malformedJSON
        /// Payload format 1.0 needs an object; the result is another JSON value.
        case notAnObject
        /// `statusCode` is missing (1.0), not an integer, or outside 100…599.
        case invalidStatusCode
        /// `headers` or `multiValueHeaders` is not an object of the expected value types.
        case invalidHeaders
        /// `cookies` is not an array of strings.
        case invalidCookies
        /// `body` is neither a string nor absent/null.
        case invalidBody
        /// `isBase64Encoded` is true and `body` is not valid base64, or `isBase64Encoded` is not a boolean.
        case invalidBase64
    }

    /// The kind of failure.
    public var code: Code
    /// Operator-facing detail (the member and what was wrong with it).
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`, for logs.
    public var description: String { "\(self.code.rawValue): \(self.message)" }
}
