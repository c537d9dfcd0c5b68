import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NimbusCore

/// Building responses in AWS's rest-json shapes. The only place errors become HTTP.
enum AWSResponses {
    static let requestIDHeader = HTTPField.Name("x-amzn-RequestId")!
    static let errorTypeHeader = HTTPField.Name("x-amzn-ErrorType")!

    static func json(_ status: Int, _ value: JSONValue, requestID: String) -> Response {
        self.bytes(status, value.serialized(), requestID: requestID)
    }

    static func bytes(_ status: Int, _ body: [UInt8], requestID: String, contentType: String = "application/json")
        -> Response
    {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[self.requestIDHeader] = requestID
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func empty(_ status: Int, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[self.requestIDHeader] = requestID
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody())
    }

    /// The rest-json error: `x-amzn-ErrorType` header (what botocore reads first) and a body with `Type` and the
    /// message under the member name the service model declares.
    static func error(_ error: NimbusError, requestID: String) -> Response {
        var body: [String: JSONValue] = ["Type": .string(error.code.status >= 500 ? "Service" : "User")]
        body[error.code.capitalisedMessage ? "Message" : "message"] = .string(error.message)
        // `Retry-After` is a header, not a body member (AWS's 429 body is Reason, Type and message only).
        for (key, value) in error.extra where key != "Retry-After" { body[key] = .string(value) }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[self.requestIDHeader] = requestID
        headers[self.errorTypeHeader] = error.code.rawValue
        if let retryAfter = error.extra["Retry-After"] { headers[.retryAfter] = retryAfter }
        return Response(
            status: HTTPResponse.Status(code: error.code.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONValue.object(body).serialized())))
    }
}

/// A request's path and query, decoded once.
struct ParsedRequest {
    var method: HTTPRequest.Method
    /// Percent-decoded path segments.
    var segments: [String]
    var query: [(String, String)]
    var requestID: String
    /// The event loop of the connection the request came on.
    var eventLoop: (any EventLoop)?

    init(_ request: Request) {
        self.method = request.method
        self.segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true).map {
            $0.contains("%") ? (String($0).removingPercentEncoding ?? String($0)) : String($0)
        }
        self.query = request.uri.query.map(Self.parseQuery) ?? []
        self.requestID = UUID().uuidString.lowercased()
    }

    static func parseQuery(_ query: String) -> [(String, String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in
                (String(s).replacingOccurrences(of: "+", with: " ")).removingPercentEncoding ?? String(s)
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    func queryValue(_ name: String) -> String? {
        self.query.first { $0.0 == name }?.1
    }

    func queryValues(_ name: String) -> [String] {
        self.query.filter { $0.0 == name }.map(\.1)
    }
}
