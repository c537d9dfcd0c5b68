import ExtrasBase64
import NIOCore
import NimbusCore

/// Payload format 2.0: the event function URLs and HTTP APIs (integration `payloadFormatVersion` `2.0`) send, and how
/// they read the function's result.
///
/// Members are written in the order AWS's documentation shows them. What differs between the two front doors
/// (docs/http-triggers-wire.md has the sources):
/// - HTTP APIs remove the `cookie` header from `headers` (its cookies are in `cookies`); function URLs keep it.
/// - HTTP APIs send `pathParameters` and `stageVariables` when non-empty; function URLs never send them.
public enum PayloadFormatV2 {
    /// The JSON event for `request`, as the function receives it.
    ///
    /// - `cookies`: every `cookie` header split at `;`, each trimmed; omitted when there are none.
    /// - `headers`: lower-case names, repeated fields joined with `,` in arrival order.
    /// - `queryStringParameters`: decoded names and values, repeated names joined with `,`; omitted without a query.
    /// - `requestContext.http.path`: ``HTTPTriggerRequest/rawPath`` percent-decoded.
    /// - `body`: omitted when the request has none; text when the content type is text-like and the bytes are UTF-8,
    ///   otherwise base64 with `isBase64Encoded: true` (``HTTPBodyEncoding``).
    public static func event(for request: HTTPTriggerRequest, context: HTTPTriggerContext) -> ByteBuffer {
        var json = JSONWriter(capacity: 1024 + request.body.readableBytes * 4 / 3)
        json.beginObject()
        json.member("version", "2.0")
        json.member("routeKey", context.routeKey)
        json.member("rawPath", request.rawPath)
        json.member("rawQueryString", request.rawQuery)

        let keepsCookieHeader = context.frontDoor == .functionURL
        var cookies: [String] = []
        var headerOrder: [String] = []
        var headerValues: [String: String] = [:]
        var contentType: String?
        var userAgent = ""
        for (name, value) in request.headers {
            if name == "cookie" {
                Self.appendCookies(value, to: &cookies)
                if !keepsCookieHeader { continue }
            } else if name == "content-type", contentType == nil {
                contentType = value
            } else if name == "user-agent", userAgent.isEmpty {
                userAgent = value
            }
            if let existing = headerValues[name] {
                headerValues[name] = existing + "," + value
            } else {
                headerOrder.append(name)
                headerValues[name] = value
            }
        }
        if !cookies.isEmpty {
            json.key("cookies")
            json.beginArray()
            for cookie in cookies { json.string(cookie) }
            json.endArray()
        }
        json.key("headers")
        json.beginObject()
        for name in headerOrder { json.member(name, headerValues[name] ?? "") }
        json.endObject()

        let query = RequestParts.queryParameters(request.rawQuery)
        if !query.isEmpty {
            json.key("queryStringParameters")
            json.beginObject()
            for (name, values) in query { json.member(name, values.joined(separator: ",")) }
            json.endObject()
        }
        if context.frontDoor == .httpAPI {
            if !context.pathParameters.isEmpty { json.member("pathParameters", context.pathParameters) }
            if !context.stageVariables.isEmpty { json.member("stageVariables", context.stageVariables) }
        }

        json.key("requestContext")
        json.beginObject()
        json.member("accountId", context.accountID)
        json.member("apiId", context.apiID)
        if let caller = context.caller {
            json.key("authorizer")
            json.beginObject()
            json.key("iam")
            json.beginObject()
            json.member("accessKey", caller.accessKey)
            json.member("accountId", caller.accountID)
            json.member("callerId", caller.callerID)
            json.key("cognitoIdentity")
            json.null()
            json.member("principalOrgId", caller.principalOrgID)
            json.member("userArn", caller.userARN)
            json.member("userId", caller.userID)
            json.endObject()
            json.endObject()
        }
        json.member("domainName", context.domainName)
        json.member("domainPrefix", context.domainPrefix)
        json.key("http")
        json.beginObject()
        json.member("method", request.method)
        json.member("path", RequestParts.percentDecoded(request.rawPath))
        json.member("protocol", request.protocol)
        json.member("sourceIp", request.sourceIP)
        json.member("userAgent", userAgent)
        json.endObject()
        json.member("requestId", request.requestID)
        json.member("routeKey", context.routeKey)
        json.member("stage", context.stage)
        json.member("time", RequestParts.clfTime(epochMillis: request.timeEpochMillis))
        json.key("timeEpoch")
        json.integer(request.timeEpochMillis)
        json.endObject()

        let base64 = HTTPBodyEncoding.needsBase64(body: request.body, contentType: contentType)
        if request.body.readableBytes > 0 {
            json.key("body")
            if base64 {
                json.base64String(request.body)
            } else {
                json.utf8String(request.body)
            }
        }
        json.key("isBase64Encoded")
        json.bool(base64)
        json.endObject()
        return json.buffer
    }

    /// Splits one `cookie` header value into its cookies (`a=1; b=2` → `a=1`, `b=2`).
    static func appendCookies(_ header: String, to cookies: inout [String]) {
        for piece in header.split(separator: ";") {
            let cookie = piece.trimmingASCIIWhitespace()
            if !cookie.isEmpty { cookies.append(String(cookie)) }
        }
    }

    /// The HTTP response for a function's successful result (the bytes the runtime posted as its response).
    ///
    /// - A JSON object with a `statusCode` member is a *response object*: `statusCode` (an integer, 100…599),
    ///   `headers` (string, number or boolean values, written as text), `cookies` (each a `set-cookie` header), `body`
    ///   (a string, base64-decoded when `isBase64Encoded` is true; missing or null → empty). Without a `content-type`
    ///   among `headers`, `content-type: application/json` is added.
    /// - Anything else is *inferred*: status 200, `content-type: application/json`, and the body is the result's
    ///   JSON text without insignificant whitespace (`{"hello": "world"}` → `{"hello":"world"}`, member order and
    ///   number spelling kept), except that a JSON string result becomes its content (`"hello"` → `hello`) — both
    ///   as recorded on AWS.
    ///
    /// Throws ``HTTPResponseMappingError`` when the result is not JSON or a response object has a member of the wrong
    /// type; the front door then answers its ``HTTPTriggerFailure/invalidResponse`` error.
    public static func response(from result: ByteBuffer) throws(HTTPResponseMappingError) -> HTTPTriggerResponse {
        let document: JSONScanner.TopLevel
        do {
            document = try JSONScanner.scan(result.readableBytesView, members: Self.responseMembers)
        } catch {
            throw HTTPResponseMappingError(
                .malformedJSON,
                "the function's result is not valid JSON (\(error.reason) at byte \(error.offset))"
            )
        }
        switch document {
        case .object(let members) where members["statusCode"] != nil:
            return try Self.mapResponseObject(members)
        case .string(let text):
            return Self.inferred(body: ByteBuffer(string: text))
        case .object, .other:
            return Self.inferred(body: Self.compacted(result))
        }
    }

    /// The members a 2.0 response object is read from.
    static let responseMembers: Set<String> = ["statusCode", "headers", "cookies", "body", "isBase64Encoded"]

    /// Valid JSON text without the whitespace between tokens; the input itself when it has none (runtimes that
    /// already write compact JSON cost one scan and no copy).
    static func compacted(_ json: ByteBuffer) -> ByteBuffer {
        json.withUnsafeReadableBytes { bytes in
            var inString = false
            var escaped = false
            var firstWhitespace: Int?
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if Self.isJSONWhitespace(byte) {
                    firstWhitespace = index
                    break
                }
            }
            guard let firstWhitespace else { return json }
            var output = ByteBufferAllocator().buffer(capacity: bytes.count)
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count) { target in
                var out = 0
                for index in 0..<firstWhitespace {
                    target[out] = bytes[index]
                    out += 1
                }
                for index in firstWhitespace..<bytes.count {
                    let byte = bytes[index]
                    if inString {
                        if escaped {
                            escaped = false
                        } else if byte == UInt8(ascii: "\\") {
                            escaped = true
                        } else if byte == UInt8(ascii: "\"") {
                            inString = false
                        }
                    } else if byte == UInt8(ascii: "\"") {
                        inString = true
                    } else if Self.isJSONWhitespace(byte) {
                        continue
                    }
                    target[out] = byte
                    out += 1
                }
                return out
            }
            return output
        }
    }

    private static func inferred(body: ByteBuffer) -> HTTPTriggerResponse {
        HTTPTriggerResponse(status: 200, headers: [("content-type", "application/json")], body: body)
    }

    private static func mapResponseObject(
        _ object: [String: JSONValue]
    ) throws(HTTPResponseMappingError) -> HTTPTriggerResponse {
        let status = try ResponseMembers.statusCode(object["statusCode"])
        // Cookies first: when a function also sets `Set-Cookie` in `headers`, AWS sends both, the array's first.
        var headers: [(name: String, value: String)] = []
        switch object["cookies"] {
        case nil, .null?:
            break
        case .array(let items)?:
            for item in items {
                guard case .string(let cookie) = item else {
                    throw HTTPResponseMappingError(.invalidCookies, "cookies must be an array of strings")
                }
                headers.append(("set-cookie", cookie))
            }
        default:
            throw HTTPResponseMappingError(.invalidCookies, "cookies must be an array of strings")
        }
        headers += try ResponseMembers.singleValueHeaders(object["headers"])
        if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("content-type", "application/json"))
        }
        let body = try ResponseMembers.body(object["body"], isBase64Encoded: object["isBase64Encoded"])
        return HTTPTriggerResponse(status: status, headers: headers, body: body)
    }

    static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

/// Reading the members both formats' response objects share.
enum ResponseMembers {
    /// `statusCode`: an integer in 100…599, as a JSON number or a string of digits (`"418"`: function URLs accept it,
    /// recorded on AWS). A fraction, another string or any other type is refused.
    static func statusCode(_ value: JSONValue?) throws(HTTPResponseMappingError) -> Int {
        let number: Double
        switch value {
        case .number(let n)?:
            number = n
        case .string(let text)? where !text.isEmpty && text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }):
            number = Double(text) ?? 0
        default:
            throw HTTPResponseMappingError(.invalidStatusCode, "statusCode must be an integer")
        }
        guard number.rounded() == number, number >= 100, number <= 599 else {
            throw HTTPResponseMappingError(.invalidStatusCode, "statusCode \(number) is not an HTTP status code")
        }
        return Int(number)
    }

    /// `headers`: an object of scalar values (strings as is, numbers and booleans as their JSON text); null or
    /// missing is no headers.
    static func singleValueHeaders(
        _ value: JSONValue?
    ) throws(HTTPResponseMappingError) -> [(name: String, value: String)] {
        switch value {
        case nil, .null?:
            return []
        case .object(let members)?:
            var headers: [(name: String, value: String)] = []
            for name in members.keys.sorted() {
                guard let text = Self.scalarText(members[name]) else {
                    throw HTTPResponseMappingError(.invalidHeaders, "header \(name) must have a string value")
                }
                headers.append((name, text))
            }
            return headers
        default:
            throw HTTPResponseMappingError(.invalidHeaders, "headers must be an object")
        }
    }

    /// A header value written from a scalar: strings as is, integers without a fraction, booleans as `true`/`false`.
    static func scalarText(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: return text
        case .bool(let flag)?: return flag ? "true" : "false"
        case .number(let number)?:
            if number.rounded() == number, abs(number) < 9.0e15 { return String(Int64(number)) }
            return String(number)
        default: return nil
        }
    }

    /// `body` (a string; missing or null is empty), base64-decoded when `isBase64Encoded` is true.
    static func body(
        _ value: JSONValue?,
        isBase64Encoded flag: JSONValue?
    ) throws(HTTPResponseMappingError) -> ByteBuffer {
        let isBase64: Bool
        switch flag {
        case nil, .null?: isBase64 = false
        case .bool(let b)?: isBase64 = b
        default: throw HTTPResponseMappingError(.invalidBase64, "isBase64Encoded must be a boolean")
        }
        switch value {
        case nil, .null?:
            return ByteBuffer()
        case .string(let text)?:
            guard isBase64 else { return ByteBuffer(string: text) }
            guard let decoded = PayloadFormatV2.decodeBase64(text) else {
                throw HTTPResponseMappingError(.invalidBase64, "body is not valid base64")
            }
            return ByteBuffer(bytes: decoded)
        default:
            throw HTTPResponseMappingError(.invalidBody, "body must be a string")
        }
    }
}

extension PayloadFormatV2 {
    /// A function's base64 body: the standard alphabet, with or without padding, or the URL-safe one.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        let attempts: [Base64.DecodingOptions] = [[], [.omitPaddingCharacter], [.base64UrlAlphabet, .omitPaddingCharacter], [.base64UrlAlphabet]]
        for options in attempts {
            if let decoded = try? Base64.decode(string: text, options: options) { return decoded }
        }
        return nil
    }
}
