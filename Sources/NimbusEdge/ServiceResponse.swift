import NIOCore
import NimbusCore

/// What an operation answers, before the protocol encodes it.
public struct ServiceResponse: Sendable {
    public enum Body: Sendable {
        case empty
        /// A structure the protocol serialises (JSON for rest-json and json, CBOR for rpc-v2-cbor, XML for query).
        case document(JSONValue)
        /// Bytes sent as they are (an Invoke payload, an S3 object, an XML body a rest-xml service built); an empty
        /// content type sends no `Content-Type` header.
        case bytes(ByteBuffer, contentType: String)
        /// Bytes the operation writes as the client reads them (an S3 object streamed from disk): `length` is the
        /// `Content-Length`; memory stays flat whatever the size.
        case stream(length: Int64, contentType: String, StreamedBody)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int = 200, headers: [(String, String)] = [], body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func document(_ status: Int, _ value: JSONValue) -> ServiceResponse {
        ServiceResponse(status: status, body: .document(value))
    }

    public static func empty(_ status: Int) -> ServiceResponse {
        ServiceResponse(status: status)
    }

    /// An HTTP front door's answer (function URLs, API Gateway): its `Content-Type` among `headers` (none when absent).
    public static func http(_ status: Int, headers: [(String, String)], body: ByteBuffer) -> ServiceResponse {
        let contentType = headers.first { $0.0.lowercased() == "content-type" }?.1 ?? ""
        return .bytes(status, body, contentType: contentType, headers: headers.filter { $0.0.lowercased() != "content-type" })
    }

    public static func bytes(_ status: Int, _ body: ByteBuffer, contentType: String, headers: [(String, String)] = [])
        -> ServiceResponse
    {
        ServiceResponse(status: status, headers: headers, body: .bytes(body, contentType: contentType))
    }
}

/// What writes a streamed response body: called once, after the head is sent; it must write exactly the length the
/// response declared. A throw ends the connection (the client sees a short body, never a wrong one).
public struct StreamedBody: Sendable {
    public let write: @Sendable (inout any BodyWriter) async throws -> Void

    public init(_ write: @escaping @Sendable (inout any BodyWriter) async throws -> Void) {
        self.write = write
    }
}

/// Where a streamed body goes; each write waits until the connection can take more (backpressure).
public protocol BodyWriter {
    mutating func write(_ buffer: ByteBuffer) async throws
}
