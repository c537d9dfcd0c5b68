import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NimbusCore
import NimbusProtocols
import NimbusSigV4

/// The one HTTP edge in front of every service: routes a request (``Router``), authenticates it
/// (``Authenticator``), collects and decodes its body, calls the operation with a ``ServiceRequest`` and encodes
/// the answer or the error in the service's protocol. The only code that sees Hummingbird's `Request`.
public struct ServiceEdge: Sendable {
    let router: Router
    let authenticator: Authenticator
    let logger: Logger

    /// Where a request came from.
    public enum Origin: Sendable, Equatable {
        /// The server's listener: `--auth` decides whether signatures are checked.
        case outside
        /// A sandbox's own endpoint: always SigV4, only with function credentials (those of `accessKeyID` when
        /// given: an environment's listener accepts only its own key).
        case sandbox(accessKeyID: String?)
    }

    public init(services: [ServiceDefinition], authenticator: Authenticator, logger: Logger) {
        self.router = Router(services: services)
        self.authenticator = authenticator
        self.logger = logger
    }

    /// The responder of the server's listener.
    public func responder() -> CallbackResponder<EdgeRequestContext> {
        CallbackResponder { request, context in
            await self.respond(to: request, origin: .outside, eventLoop: context.eventLoop, peer: context.channel)
        }
    }

    /// - Parameter peer: the connection, read for the caller's address by ``WireProtocol/http`` services only.
    public func respond(to request: Request, origin: Origin, eventLoop: (any EventLoop)?, peer: (any Channel)? = nil)
        async -> Response
    {
        let response = await self.answer(request, origin: origin, eventLoop: eventLoop, peer: peer)
        // A HEAD answer has the head a GET would have (its Content-Length included) and no body, errors included.
        return request.method == .head ? response.createHeadResponse() : response
    }

    func answer(_ request: Request, origin: Origin, eventLoop: (any EventLoop)?, peer: (any Channel)?) async -> Response {
        let requestID = UUID().uuidString.lowercased()
        let head = EdgeHead(request, isSandbox: origin != .outside)
        let route: Router.Route
        switch self.router.route(head.routing) {
        case .success(let r): route = r
        case .failure(let failure):
            return Self.render(Self.error(for: failure), wire: head.routing.target == nil ? .restJSON : .json(version: "1.1"), service: nil, requestID: requestID)
        }
        let service = route.service
        do {
            if let operation = route.operation, operation.streamsBody, service.wire != .http {
                return try await self.stream(request, head: head, to: operation, of: service, origin: origin, route: route, requestID: requestID, eventLoop: eventLoop, peer: peer)
            }
            let limit = route.operation?.bodyLimit ?? service.defaultBodyLimit
            let collected: ByteBuffer
            do {
                collected = try await request.body.collect(upTo: limit)
            } catch is NIOTooManyBytesError {
                if let answer = route.operation?.tooLarge {
                    return Self.response(service.wire.encode(answer, operation: route.operation?.name ?? "", service: service, requestID: requestID))
                }
                throw ServiceError(
                    code: "RequestEntityTooLargeException", status: 413,
                    message: "Request must be smaller than \(limit) bytes for the \(route.operation.map { $0.limitName ?? $0.name } ?? service.name) operation",
                    messageMember: "Message")
            }
            if service.wire == .http, let operation = route.operation {
                return try await self.pass(
                    request, head: head, body: collected, to: operation, of: service, origin: origin, route: route,
                    requestID: requestID, eventLoop: eventLoop, peer: peer)
            }
            let authenticated = try self.authenticator.authenticate(head, body: collected, service: service, origin: origin)
            var operation = route.operation
            var query = head.routing.query
            if service.wire == .query {
                // The action and its parameters travel in the form body (POST) or the query string (GET).
                if head.routing.method == "POST", authenticated.body.readableBytes > 0 {
                    do {
                        query += try QueryForm(decoding: authenticated.body.readableBytesView).parameters.map { ($0.name, $0.value) }
                    } catch {
                        throw ServiceError(code: "MalformedQueryString", message: "The request body is not a valid form: \(error)")
                    }
                }
                let action = query.first { $0.0 == "Action" }?.1 ?? ""
                guard let found = service.operation(named: action) else {
                    throw ServiceError(
                        code: action.isEmpty ? "MissingAction" : "InvalidAction",
                        message: action.isEmpty
                            ? "Missing Action" : "Could not find operation \(action) for version \(service.apiVersion ?? "")")
                }
                operation = found
            }
            guard let operation else { throw Self.error(for: .unknownOperation(service: service.name, description: head.routing.target ?? "")) }
            let input = try service.wire.decodeInput(authenticated.body, form: query)
            let serviceRequest = ServiceRequest(
                operation: operation.name, namespace: authenticated.namespace, caller: authenticated.caller,
                requestID: requestID, labels: route.labels, query: query, headers: head.headers,
                body: authenticated.body, input: input, host: head.routing.host, eventLoop: eventLoop)
            let response: ServiceResponse
            if operation.onConnectionLoop, let eventLoop {
                response = try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
                    try await operation.handler(serviceRequest)
                }
            } else {
                response = try await operation.handler(serviceRequest)
            }
            return Self.response(service.wire.encode(response, operation: operation.name, service: service, requestID: requestID))
        } catch let error as AuthError {
            if case .signatureMismatch(let mismatch) = error.failure {
                // What AWS would show the caller to compare with its own signer's output.
                self.logger.debug(
                    "Signature mismatch",
                    metadata: ["canonical.request": "\(mismatch.canonicalRequest)", "string.to.sign": "\(mismatch.stringToSign)"])
            }
            return Self.render(error.serviceError, wire: service.wire, service: service, requestID: requestID)
        } catch let error as any ServiceErrorConvertible {
            return Self.render(error.serviceError, wire: service.wire, service: service, requestID: requestID)
        } catch {
            self.logger.error("Request failed", metadata: ["http.request.id": "\(requestID)", "error": "\(error)"])
            let failure = ServiceError(
                code: "ServiceException", status: 500,
                message: "Nimbus could not complete the request: \(error)", messageMember: "Message")
            return Self.render(failure, wire: service.wire, service: service, requestID: requestID)
        }
    }

    /// A ``WireProtocol/http`` service's request: the signature is checked whatever `--auth` says and its verdict
    /// handed on; the operation answers on the connection's loop.
    func pass(
        _ request: Request, head: EdgeHead, body: ByteBuffer, to operation: ServiceOperation, of service: ServiceDefinition,
        origin: Origin, route: Router.Route, requestID: String, eventLoop: (any EventLoop)?, peer: (any Channel)?
    ) async throws -> Response {
        var caller = Caller(kind: .anonymous, accessKeyID: "", account: self.authenticator.defaultNamespace.accountID)
        var namespace = self.authenticator.defaultNamespace
        var signature = ServiceRequest.SignatureCheck.absent
        var body = body
        if head.routing.signingName != nil || head.headers.contains(where: { $0.0 == "authorization" }) {
            do {
                let verified = try self.authenticator.authenticate(head, body: body, service: service, origin: origin, verify: true)
                (caller, namespace, body) = (verified.caller, verified.namespace, verified.body)
                signature = .valid(service: head.routing.signingName ?? "", region: verified.namespace.region)
            } catch let error as any ServiceErrorConvertible {
                signature = .invalid(error.serviceError)
            }
        }
        var serviceRequest = ServiceRequest(
            operation: operation.name, namespace: namespace, caller: caller, requestID: requestID, labels: route.labels,
            query: head.routing.query, headers: head.headers, body: body, host: head.routing.host, eventLoop: eventLoop)
        serviceRequest.http = head.exchange(peer: peer)
        serviceRequest.signature = signature
        let response: ServiceResponse
        if let eventLoop {
            response = try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
                try await operation.handler(serviceRequest)
            }
        } else {
            response = try await operation.handler(serviceRequest)
        }
        return Self.response(service.wire.encode(response, operation: operation.name, service: service, requestID: requestID))
    }

    /// An operation that reads its body as it arrives: the head's signature is checked now, the body chunk by chunk
    /// as the operation reads it (``RequestBodyStream``).
    func stream(
        _ request: Request, head: EdgeHead, to operation: ServiceOperation, of service: ServiceDefinition, origin: Origin,
        route: Router.Route, requestID: String, eventLoop: (any EventLoop)?, peer: (any Channel)?
    ) async throws -> Response {
        let authenticated = try self.authenticator.authenticate(
            head, body: ByteBuffer(), service: service, origin: origin, streamed: true)
        let contentLength = head.headers.first { $0.0 == "content-length" }.flatMap { Int64($0.1) }
        let reader = StreamedBodyReader(
            iterator: request.body.makeAsyncIterator(), verifier: authenticated.streamVerifier,
            contentLength: contentLength, service: service)
        let body = RequestBodyStream(
            limit: Int64(operation.bodyLimit), next: reader.next,
            feed: reader.feed, finish: reader.finish)
        var serviceRequest = ServiceRequest(
            operation: operation.name, namespace: authenticated.namespace, caller: authenticated.caller,
            requestID: requestID, labels: route.labels, query: head.routing.query, headers: head.headers,
            host: head.routing.host, eventLoop: eventLoop)
        serviceRequest.bodyStream = body
        serviceRequest.http = head.exchange(peer: peer)
        let response = try await operation.handler(serviceRequest)
        return Self.response(service.wire.encode(response, operation: operation.name, service: service, requestID: requestID))
    }

    static func error(for failure: Router.Failure) -> ServiceError {
        switch failure {
        case .unknownService(let name):
            return ServiceError(
                code: "UnknownServiceException", status: 400,
                message: "Nimbus does not offer the AWS service '\(name)' (yet).", messageMember: "Message")
        case .unknownOperation(_, let description):
            return ServiceError(
                code: "UnknownOperationException", status: 404,
                message: "Nimbus does not implement \(description) (yet).", messageMember: "Message")
        }
    }

    static func render(_ error: ServiceError, wire: WireProtocol, service: ServiceDefinition?, requestID: String)
        -> Response
    {
        self.response(wire.encode(error, service: service, requestID: requestID))
    }

    static func response(_ encoded: WireProtocol.Encoded) -> Response {
        var fields = HTTPFields()
        for (name, value) in encoded.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        if let (length, streamed) = encoded.stream {
            return Response(
                status: HTTPResponse.Status(code: encoded.status), headers: fields,
                body: ResponseBody(contentLength: Int(length)) { writer in
                    var adapter: any BodyWriter = ResponseWriterAdapter(writer: writer)
                    try await streamed.write(&adapter)
                    try await writer.finish(nil)
                })
        }
        return Response(
            status: HTTPResponse.Status(code: encoded.status), headers: fields,
            body: ResponseBody(byteBuffer: encoded.body))
    }
}

/// A streamed body's writes, onto Hummingbird's response writer (which services never see).
private struct ResponseWriterAdapter: BodyWriter {
    var writer: any ResponseBodyWriter

    mutating func write(_ buffer: ByteBuffer) async throws {
        try await self.writer.write(buffer)
    }
}

/// The connection side of a ``RequestBodyStream``: the raw body from Hummingbird, through the signature's verifier,
/// counted against `Content-Length` so that a body cut short is an error and not a short object.
final class StreamedBodyReader: @unchecked Sendable {
    var iterator: RequestBody.AsyncIterator
    var verifier: StreamingBodyVerifier?
    let contentLength: Int64?
    let service: ServiceDefinition
    var raw: Int64 = 0

    init(iterator: RequestBody.AsyncIterator, verifier: StreamingBodyVerifier?, contentLength: Int64?, service: ServiceDefinition) {
        self.iterator = iterator
        self.verifier = verifier
        self.contentLength = contentLength
        self.service = service
    }

    func next() async throws -> ByteBuffer? {
        let buffer: ByteBuffer?
        do {
            buffer = try await self.iterator.next()
        } catch {
            // The connection ended inside the body (the client went away, or closed its side early).
            throw self.incomplete()
        }
        guard let buffer else { return nil }
        self.raw += Int64(buffer.readableBytes)
        return buffer
    }

    func incomplete() -> ServiceError {
        var fields: [String: JSONValue] = ["NumberBytesProvided": .string(String(self.raw))]
        if let contentLength = self.contentLength { fields["NumberBytesExpected"] = .string(String(contentLength)) }
        return ServiceError(
            code: "IncompleteBody", status: 400, message: "The request body terminated unexpectedly", messageMember: "Message",
            fields: fields)
    }

    /// The payload `raw` completes, without copying where it can: a body without framing is `raw` itself (the
    /// verifier only counts it, and hashes it for a declared SHA-256), and an aws-chunked piece whose payload is one
    /// run of its bytes (most pieces: chunks are far larger than reads) is a slice of `raw`. Only a piece holding the
    /// end of one chunk and the start of the next is copied into one buffer.
    func feed(_ raw: ByteBuffer) throws -> ByteBuffer? {
        guard let verifier = self.verifier else { return raw }
        do {
            if verifier.isPassthrough {
                try raw.withUnsafeReadableBytes { bytes in try self.verifier?.feed(bytes) { _ in } }
                return raw
            }
            var out = Payload.none
            try raw.withUnsafeReadableBytes { bytes in
                try self.verifier?.feed(bytes) { payload in
                    guard payload.count > 0 else { return }
                    switch out {
                    case .none:
                        // The decoder hands out runs of the bytes it was given: find this one's place in `raw`.
                        if let base = bytes.baseAddress, let start = payload.baseAddress, start >= base,
                            start + payload.count <= base + bytes.count
                        {
                            out = .run(offset: start - base, count: payload.count)
                        } else {
                            out = .copied(ByteBuffer(bytes: payload))
                        }
                    case .run(let offset, let count):
                        var copied = ByteBuffer()
                        copied.reserveCapacity(count + payload.count)
                        copied.writeImmutableBuffer(raw.getSlice(at: raw.readerIndex + offset, length: count) ?? ByteBuffer())
                        copied.writeBytes(payload)
                        out = .copied(copied)
                    case .copied(var copied):
                        out = .none
                        copied.writeBytes(payload)
                        out = .copied(copied)
                    }
                }
            }
            switch out {
            case .none: return nil
            case .run(let offset, let count): return raw.getSlice(at: raw.readerIndex + offset, length: count)
            case .copied(let copied): return copied
            }
        } catch let error as SigV4Error {
            throw AuthError(error, service: self.service)
        }
    }

    /// What one raw piece decoded to so far: nothing, one run of its own bytes, or runs gathered into a new buffer.
    enum Payload {
        case none
        case run(offset: Int, count: Int)
        case copied(ByteBuffer)
    }

    func finish() throws -> [(String, String)] {
        if let contentLength = self.contentLength, self.raw < contentLength { throw self.incomplete() }
        do {
            return try self.verifier?.finish().map { ($0.name, $0.value) } ?? []
        } catch {
            throw AuthError(error, service: self.service)
        }
    }
}

/// A request's head, read once: what routing and authentication need.
struct EdgeHead {
    var routing: Router.Head
    /// Lower-cased header names, in order.
    var headers: [(String, String)]
    /// The path and query exactly as sent (SigV4 signs them).
    var rawPath: String
    var rawQuery: String?
    var contentType: String?
}

extension EdgeHead {
    /// The request line and the peer's address, as the operations that read them see them.
    func exchange(peer: (any Channel)?) -> ServiceRequest.HTTPExchange {
        ServiceRequest.HTTPExchange(
            method: self.routing.method, rawPath: self.rawPath, rawQuery: self.rawQuery ?? "", protocolVersion: "HTTP/1.1",
            sourceIP: peer?.remoteAddress?.ipAddress ?? "127.0.0.1")
    }

    init(_ request: Request, isSandbox: Bool) {
        var headers: [(String, String)] = []
        headers.reserveCapacity(request.headers.count)
        var target: String?
        var authorization: String?
        var contentType: String?
        for field in request.headers {
            let name = field.name.canonicalName
            headers.append((name, field.value))
            switch name {
            case "x-amz-target": target = field.value
            case "authorization": authorization = field.value
            case "content-type": contentType = field.value
            default: break
            }
        }
        // HTTPTypes keeps HTTP/1's Host as the authority pseudo-header, not among the fields; SigV4 signs it as `host`.
        if let authority = request.head.authority, !headers.contains(where: { $0.0 == "host" }) {
            headers.insert(("host", authority), at: 0)
        }
        let host = request.head.authority ?? headers.first { $0.0 == "host" }?.1 ?? "127.0.0.1"
        let rawPath = request.uri.path
        let rawQuery = request.uri.query
        // An undecodable query string routes as if empty; the operation then misses its parameters.
        let query = rawQuery.flatMap { try? QueryForm(decoding: Array($0.utf8)) }?.parameters.map { ($0.name, $0.value) } ?? []
        self.headers = headers
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.contentType = contentType
        self.routing = Router.Head(
            method: request.method.rawValue,
            segments: rawPath.split(separator: "/", omittingEmptySubsequences: true).map {
                $0.contains("%") ? (String($0).removingPercentEncoding ?? String($0)) : String($0)
            },
            rawSegments: rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init),
            query: query, host: host, target: target,
            signingName: Authenticator.signingName(authorization: authorization, query: query),
            isSandbox: isSandbox)
    }
}
