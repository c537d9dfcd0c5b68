import NIOCore
import NimbusCore
import NimbusProtocols

/// The protocols of botocore's service models (`metadata.protocols`): how a response and an error look on the
/// wire. Request decoding is per protocol too: json and rpc-v2-cbor bodies are documents, query bodies are forms;
/// rest protocols bind labels, query and headers and leave the body to the operation.
public enum WireProtocol: Sendable, Equatable {
    /// Lambda, Scheduler, API Gateway v2: JSON bodies, the error type in `x-amzn-ErrorType`.
    case restJSON
    /// SQS, Logs, EventBridge, Kinesis: `X-Amz-Target` names the operation; `__type` names the error.
    /// `queryCompatible`: the service also reports its query-protocol error code (`x-amzn-query-error`).
    case json(version: String, queryCompatible: Bool = false)
    /// S3: XML bodies, `<Error><Code>` errors.
    case restXML
    /// STS, SNS: form-encoded `Action` requests, `<OpResponse><OpResult>` XML answers.
    case query
    /// CloudWatch: `/service/<name>/operation/<op>`, CBOR bodies.
    case rpcV2CBOR
    /// Plain HTTP, not an AWS protocol: the front doors that hand any request to a function (function URLs,
    /// API Gateway's invoke endpoints). One operation takes every method and path; it sees the request as sent
    /// (``ServiceRequest/http``), checks signatures itself (``ServiceRequest/signature``), and answers bytes.
    case http

    /// S3's `x-amz-id-2` (and `<HostId>` of its errors): an opaque id of the host that answered, stable per server.
    public static let hostID = Digest.random(
        from: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"), length: 76)

    /// Where the request id goes: S3's `x-amz-request-id` with its host id, `x-amzn-RequestId` elsewhere; the HTTP
    /// front doors set their own.
    func requestIDHeaders(_ requestID: String) -> [(String, String)] {
        switch self {
        case .http: []
        case .restXML: [("x-amz-request-id", requestID), ("x-amz-id-2", Self.hostID)]
        default: [("x-amzn-RequestId", requestID)]
        }
    }

    /// A protocol-level encoded response.
    public struct Encoded: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: ByteBuffer
        /// A streamed body of that length, instead of ``body``.
        public var stream: (length: Int64, body: StreamedBody)? = nil
    }

    var contentType: String {
        switch self {
        case .restJSON: "application/json"
        case .json(let version, _): "application/x-amz-json-\(version)"
        case .restXML, .query: "text/xml"
        case .rpcV2CBOR: "application/cbor"
        case .http: "application/json"
        }
    }

    /// The request's input as a document (json, rpc-v2-cbor, query); nil for rest protocols.
    /// - Throws: AWS's `SerializationException` (`MalformedQueryString` for forms) when the body does not decode.
    func decodeInput(_ body: ByteBuffer, form: [(String, String)]) throws -> JSONValue? {
        switch self {
        case .restJSON, .restXML, .http:
            return nil
        case .json:
            if body.readableBytes == 0 { return .object([:]) }
            guard let document = JSONValue.parse(body.readableBytesView) else {
                throw ServiceError(code: "SerializationException", message: "The request body is not valid JSON.")
            }
            return document
        case .rpcV2CBOR:
            if body.readableBytes == 0 { return .object([:]) }
            do {
                return try CBORDecoder().decode(body.readableBytesView).jsonValue()
            } catch {
                throw ServiceError(code: "SerializationException", message: "The request body is not valid CBOR: \(error)")
            }
        case .query:
            do {
                return try QueryForm(form.map { QueryForm.Parameter($0.0, $0.1) }).structured()
            } catch {
                throw ServiceError(code: "MalformedQueryString", message: "\(error)")
            }
        }
    }

    /// Encodes an operation's answer.
    func encode(_ response: ServiceResponse, operation: String, service: ServiceDefinition, requestID: String)
        -> Encoded
    {
        var headers = response.headers
        headers += self.requestIDHeaders(requestID)
        if self == .rpcV2CBOR { headers.append(("smithy-protocol", "rpc-v2-cbor")) }
        switch response.body {
        case .empty:
            return Encoded(status: response.status, headers: headers, body: ByteBuffer())
        case .bytes(let bytes, let contentType):
            // An empty content type sends none (API Gateway's 503, a function's response that names none).
            if !contentType.isEmpty { headers.append(("Content-Type", contentType)) }
            return Encoded(status: response.status, headers: headers, body: bytes)
        case .stream(let length, let contentType, let body):
            if !contentType.isEmpty { headers.append(("Content-Type", contentType)) }
            return Encoded(status: response.status, headers: headers, body: ByteBuffer(), stream: (length, body))
        case .document(let document):
            let body: [UInt8]
            do {
                body = try self.serialize(document, operation: operation, service: service, requestID: requestID)
            } catch {
                let failure = ServiceError(
                    code: "InternalFailure", status: 500, message: "Nimbus could not encode the \(operation) response: \(error)")
                return self.encode(failure, service: service, requestID: requestID)
            }
            headers.append(("Content-Type", self.contentType))
            return Encoded(status: response.status, headers: headers, body: ByteBuffer(bytes: body))
        }
    }

    /// - Throws: when a member name cannot be an XML element name (rest-xml, query).
    func serialize(_ document: JSONValue, operation: String, service: ServiceDefinition, requestID: String) throws
        -> [UInt8]
    {
        switch self {
        case .restJSON, .json, .http: return document.serialized()
        case .rpcV2CBOR: return CBORValue(json: document).encoded()
        case .restXML:
            let children = try XMLMapping().children(of: document.objectValue ?? [:])
            return XML.Element(operation + "Result", children: children).document(namespace: service.xmlNamespace)
        case .query:
            // <OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
            let children = try XMLMapping().children(of: document.objectValue ?? [:])
            let root = XML.Element(
                operation + "Response",
                children: [
                    XML.Element(operation + "Result", children: children),
                    XML.Element("ResponseMetadata", children: [XML.Element("RequestId", text: requestID)]),
                ])
            return root.document(namespace: service.xmlNamespace)
        }
    }

    /// Encodes an error in the protocol's shape.
    func encode(_ error: ServiceError, service: ServiceDefinition?, requestID: String) -> Encoded {
        var headers = error.headers
        headers += self.requestIDHeaders(requestID)
        switch self {
        case .http:
            // API Gateway's and function URLs' own errors: `{"Message": "..."}` (or `message`), no error type header.
            var body = error.fields
            body[error.messageMember] = .string(error.message)
            headers.append(("Content-Type", self.contentType))
            return Encoded(status: error.status, headers: headers, body: ByteBuffer(bytes: JSONValue.object(body).serialized()))
        case .restJSON:
            var body = error.fields
            body[error.messageMember] = .string(error.message)
            headers.append(("Content-Type", self.contentType))
            headers.append(("x-amzn-ErrorType", error.code))
            return Encoded(status: error.status, headers: headers, body: ByteBuffer(bytes: JSONValue.object(body).serialized()))
        case .json(_, let queryCompatible):
            var body = error.fields
            body["__type"] = .string(error.code)
            body[error.messageMember] = .string(error.message)
            headers.append(("Content-Type", self.contentType))
            headers.append(("x-amzn-ErrorType", error.code))
            if queryCompatible, let queryCode = error.queryCode {
                headers.append(("x-amzn-query-error", "\(queryCode);\(error.senderFault ? "Sender" : "Receiver")"))
            }
            return Encoded(status: error.status, headers: headers, body: ByteBuffer(bytes: JSONValue.object(body).serialized()))
        case .rpcV2CBOR:
            var body = error.fields
            body["__type"] = .string(error.code)
            body[error.messageMember] = .string(error.message)
            headers.append(("Content-Type", self.contentType))
            headers.append(("smithy-protocol", "rpc-v2-cbor"))
            return Encoded(status: error.status, headers: headers, body: ByteBuffer(bytes: CBORValue(json: .object(body)).encoded()))
        case .restXML:
            let root = XML.Element(
                "Error",
                children: [
                    XML.Element("Code", text: error.code), XML.Element("Message", text: error.message),
                ] + error.fields.sorted { $0.key < $1.key }.compactMap { key, value in
                    value.stringValue.map { XML.Element(key, text: $0) }
                } + [XML.Element("RequestId", text: requestID), XML.Element("HostId", text: Self.hostID)])
            headers.append(("Content-Type", "application/xml"))
            return Encoded(status: error.status, headers: headers, body: ByteBuffer(bytes: root.document()))
        case .query:
            let root = XML.Element(
                "ErrorResponse",
                children: [
                    XML.Element(
                        "Error",
                        children: [
                            XML.Element("Type", text: error.senderFault ? "Sender" : "Receiver"),
                            XML.Element("Code", text: error.queryCode ?? error.code),
                            XML.Element("Message", text: error.message),
                        ]),
                    XML.Element("RequestId", text: requestID),
                ])
            headers.append(("Content-Type", self.contentType))
            return Encoded(
                status: error.status, headers: headers, body: ByteBuffer(bytes: root.document(namespace: service?.xmlNamespace)))
        }
    }
}
