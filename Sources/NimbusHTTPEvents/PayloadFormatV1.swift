import NIOCore
import NimbusCore

/// Payload format 1.0: the REST-API-shaped event an HTTP API sends to an integration with `payloadFormatVersion`
/// `1.0`, and how it reads the function's result (strictly: no inferred format).
public enum PayloadFormatV1 {
    /// The JSON event for `request`, as the function receives it.
    ///
    /// - `resource`, `requestContext.resourcePath`: the route's path (``HTTPTriggerContext/resourcePath``).
    /// - `path`, `requestContext.path`: ``HTTPTriggerRequest/rawPath`` percent-decoded.
    /// - `headers`: the last value of each header; `multiValueHeaders`: all values in order. Cookies stay in the
    ///   `cookie` header (1.0 has no `cookies`).
    /// - `queryStringParameters`: the last value of each parameter; `multiValueQueryStringParameters`: all values;
    ///   both null without a query.
    /// - `pathParameters`, `stageVariables`: null when empty.
    /// - `requestContext.identity`: `sourceIp` and `userAgent`, plus the IAM caller's fields for IAM-authorized
    ///   routes; every other member null, as AWS sends it.
    /// - `body`: null without a body; otherwise as in 2.0 (``HTTPBodyEncoding``).
    public static func event(for request: HTTPTriggerRequest, context: HTTPTriggerContext) -> ByteBuffer {
        var json = JSONWriter(capacity: 1536 + request.body.readableBytes * 4 / 3)
        let decodedPath = RequestParts.percentDecoded(request.rawPath)
        json.beginObject()
        json.member("version", "1.0")
        json.member("resource", context.resourcePath)
        json.member("path", decodedPath)
        json.member("httpMethod", request.method)

        var headerOrder: [String] = []
        var headerValues: [String: [String]] = [:]
        var contentType: String?
        var userAgent = ""
        for (name, value) in request.headers {
            if name == "content-type", contentType == nil { contentType = value }
            if name == "user-agent", userAgent.isEmpty { userAgent = value }
            if headerValues[name] == nil { headerOrder.append(name) }
            headerValues[name, default: []].append(value)
        }
        json.key("headers")
        json.beginObject()
        for name in headerOrder { json.member(name, headerValues[name]?.last ?? "") }
        json.endObject()
        json.key("multiValueHeaders")
        json.beginObject()
        for name in headerOrder {
            json.key(name)
            json.beginArray()
            for value in headerValues[name] ?? [] { json.string(value) }
            json.endArray()
        }
        json.endObject()

        let query = RequestParts.queryParameters(request.rawQuery)
        json.key("queryStringParameters")
        if query.isEmpty {
            json.null()
        } else {
            json.beginObject()
            for (name, values) in query { json.member(name, values.last ?? "") }
            json.endObject()
        }
        json.key("multiValueQueryStringParameters")
        if query.isEmpty {
            json.null()
        } else {
            json.beginObject()
            for (name, values) in query {
                json.key(name)
                json.beginArray()
                for value in values { json.string(value) }
                json.endArray()
            }
            json.endObject()
        }

        json.key("requestContext")
        json.beginObject()
        json.member("accountId", context.accountID)
        json.member("apiId", context.apiID)
        json.member("domainName", context.domainName)
        json.member("domainPrefix", context.domainPrefix)
        json.member("extendedRequestId", request.requestID)
        json.member("httpMethod", request.method)
        json.key("identity")
        json.beginObject()
        let caller = context.caller
        json.member("accessKey", caller?.accessKey)
        json.member("accountId", caller?.accountID)
        json.member("caller", caller?.callerID)
        json.key("cognitoAuthenticationProvider")
        json.null()
        json.key("cognitoAuthenticationType")
        json.null()
        json.key("cognitoIdentityId")
        json.null()
        json.key("cognitoIdentityPoolId")
        json.null()
        json.member("principalOrgId", caller?.principalOrgID)
        json.member("sourceIp", request.sourceIP)
        json.member("user", caller?.userID)
        json.member("userAgent", userAgent)
        json.member("userArn", caller?.userARN)
        json.endObject()
        json.member("path", decodedPath)
        json.member("protocol", request.protocol)
        json.member("requestId", request.requestID)
        json.member("requestTime", RequestParts.clfTime(epochMillis: request.timeEpochMillis))
        json.key("requestTimeEpoch")
        json.integer(request.timeEpochMillis)
        json.key("resourceId")
        json.null()
        json.member("resourcePath", context.resourcePath)
        json.member("stage", context.stage)
        json.endObject()

        json.key("pathParameters")
        if context.pathParameters.isEmpty { json.null() } else { json.member(context.pathParameters) }
        json.key("stageVariables")
        if context.stageVariables.isEmpty { json.null() } else { json.member(context.stageVariables) }

        let base64 = HTTPBodyEncoding.needsBase64(body: request.body, contentType: contentType)
        json.key("body")
        if request.body.readableBytes == 0 {
            json.null()
        } else if base64 {
            json.base64String(request.body)
        } else {
            json.utf8String(request.body)
        }
        json.key("isBase64Encoded")
        json.bool(base64)
        json.endObject()
        return json.buffer
    }

    /// The HTTP response for a function's successful result.
    ///
    /// The result must be a JSON object with an integer `statusCode`; `headers` (scalar values) and
    /// `multiValueHeaders` (arrays of scalars) are merged — a name present in both takes the `multiValueHeaders`
    /// values — and `body` (a string, base64-decoded when `isBase64Encoded`) is the body. No content type is added.
    /// Anything else throws ``HTTPResponseMappingError``, and the HTTP API answers 500
    /// `{"message":"Internal Server Error"}` (``HTTPTriggerFailure/invalidResponse``).
    public static func response(from result: ByteBuffer) throws(HTTPResponseMappingError) -> HTTPTriggerResponse {
        let document: JSONScanner.TopLevel
        do {
            document = try JSONScanner.scan(
                result.readableBytesView,
                members: ["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"]
            )
        } catch {
            throw HTTPResponseMappingError(
                .malformedJSON,
                "the function's result is not valid JSON (\(error.reason) at byte \(error.offset))"
            )
        }
        guard case .object(let object) = document else {
            throw HTTPResponseMappingError(.notAnObject, "payload format 1.0 needs a response object")
        }
        let status = try ResponseMembers.statusCode(object["statusCode"])
        let single = try ResponseMembers.singleValueHeaders(object["headers"])
        var multi: [(name: String, values: [String])] = []
        switch object["multiValueHeaders"] {
        case nil, .null?:
            break
        case .object(let members)?:
            for name in members.keys.sorted() {
                guard case .array(let items)? = members[name] else {
                    throw HTTPResponseMappingError(.invalidHeaders, "multiValueHeaders.\(name) must be an array")
                }
                var values: [String] = []
                for item in items {
                    guard let text = ResponseMembers.scalarText(item) else {
                        throw HTTPResponseMappingError(
                            .invalidHeaders,
                            "multiValueHeaders.\(name) must hold strings"
                        )
                    }
                    values.append(text)
                }
                multi.append((name, values))
            }
        default:
            throw HTTPResponseMappingError(.invalidHeaders, "multiValueHeaders must be an object")
        }
        let multiNames = Set(multi.map { $0.name.lowercased() })
        var headers = single.filter { !multiNames.contains($0.name.lowercased()) }
        for (name, values) in multi {
            for value in values { headers.append((name, value)) }
        }
        let body = try ResponseMembers.body(object["body"], isBase64Encoded: object["isBase64Encoded"])
        return HTTPTriggerResponse(status: status, headers: headers, body: body)
    }
}

extension JSONWriter {
    /// An object of string members with keys sorted, as a value (after a `key`).
    fileprivate mutating func member(_ map: [String: String]) {
        self.beginObject()
        for name in map.keys.sorted() { self.member(name, map[name] ?? "") }
        self.endObject()
    }
}
