import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NimbusCore
import Synchronization

/// The Lambda Runtime API (2018-06-01) of one execution environment: an HTTP/1.1 listener whose every request is
/// answered from that environment's ``RuntimeMailbox``. Runtimes send no identity, so each environment gets its
/// own listener; in the process tier it is a loopback port, in the Linux sandbox a socket inside the
/// environment's network namespace.
public final class RuntimeAPIListener: Sendable {
    let channel: any Channel
    let children: ChildTracker
    /// The `host:port` runtimes use as `AWS_LAMBDA_RUNTIME_API`.
    public let address: String

    init(channel: any Channel, children: ChildTracker, address: String) {
        self.channel = channel
        self.children = children
        self.address = address
    }

    /// Binds a listener on `host:port` (port 0 picks a free one).
    public static func bind(
        host: String,
        port: Int,
        mailbox: RuntimeMailbox,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> RuntimeAPIListener {
        let tracker = ChildTracker()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                tracker.add(channel)
                channel.closeFuture.whenComplete { _ in tracker.remove(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RuntimeAPIHandler(mailbox: mailbox, logger: logger))
                }
            }
            .bind(host: host, port: port)
            .get()
        let boundPort = channel.localAddress?.port ?? port
        return RuntimeAPIListener(channel: channel, children: tracker, address: "\(host):\(boundPort)")
    }

    /// Wraps an already-listening socket (created inside a sandbox's network namespace).
    public static func adopt(
        listeningSocket: NIOBSDSocket.Handle,
        address: String,
        mailbox: RuntimeMailbox,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> RuntimeAPIListener {
        let tracker = ChildTracker()
        let channel = try await ServerBootstrap(group: group)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                tracker.add(channel)
                channel.closeFuture.whenComplete { _ in tracker.remove(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RuntimeAPIHandler(mailbox: mailbox, logger: logger))
                }
            }
            .withBoundSocket(listeningSocket)
            .get()
        return RuntimeAPIListener(channel: channel, children: tracker, address: address)
    }

    /// Closes the listener and every connection to it.
    public func close() {
        self.channel.close(promise: nil)
        let open = self.children.channels.withLock { Array($0.values) }
        for child in open { child.close(promise: nil) }
    }
}

final class ChildTracker: Sendable {
    let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        self.channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func remove(_ channel: any Channel) {
        _ = self.channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// Parses Runtime API requests and answers them from the mailbox.
final class RuntimeAPIHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let mailbox: RuntimeMailbox
    let logger: Logger
    var head: HTTPRequestHead?
    var body: ByteBuffer?
    var bodyTooLarge = false

    init(mailbox: RuntimeMailbox, logger: Logger) {
        self.mailbox = mailbox
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = nil
            self.bodyTooLarge = false
        case .body(var chunk):
            guard !self.bodyTooLarge else { return }
            if (self.body?.readableBytes ?? 0) + chunk.readableBytes > Limits.maximumResponseBytes {
                self.bodyTooLarge = true
                self.body = nil
                return
            }
            if self.body == nil {
                self.body = chunk
            } else {
                self.body!.writeBuffer(&chunk)
            }
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.route(context: context, head: head, body: self.body ?? context.channel.allocator.buffer(capacity: 0))
            self.body = nil
        }
    }

    func route(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let keepAlive = head.isKeepAlive
        switch (head.method, parts.count) {
        case (.GET, 4) where parts[0] == "2018-06-01" && parts[1] == "runtime" && parts[2] == "invocation"
            && parts[3] == "next":
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let responder = NextResponder(
                deliver: { invocation in
                    if eventLoop.inEventLoop {
                        Self.writeNext(bound.value, invocation: invocation, keepAlive: keepAlive)
                    } else {
                        eventLoop.execute { Self.writeNext(bound.value, invocation: invocation, keepAlive: keepAlive) }
                    }
                },
                reject: { status in
                    eventLoop.execute { Self.writeStatus(bound.value, status, keepAlive: keepAlive) }
                })
            self.mailbox.runtimeRequestedNext(responder)
        case (.POST, 5) where parts[0] == "2018-06-01" && parts[1] == "runtime" && parts[2] == "invocation":
            let requestID = String(parts[3])
            let result: RuntimeResult
            if parts[4] == "response" {
                if let mode = head.headers.first(name: "Lambda-Runtime-Function-Response-Mode"), mode != "streaming" {
                    result = .error(
                        Self.errorBody(
                            context, type: "Runtime.InvalidResponseModeHeader",
                            message: "Invalid Lambda-Runtime-Function-Response-Mode: \(mode)"),
                        errorType: "Runtime.InvalidResponseModeHeader")
                } else if self.bodyTooLarge {
                    result = .responseTooLarge
                } else {
                    result = .response(body, contentType: head.headers.first(name: "content-type"))
                }
            } else if parts[4] == "error" {
                if self.bodyTooLarge {
                    result = .responseTooLarge
                } else {
                    result = .error(body, errorType: head.headers.first(name: "Lambda-Runtime-Function-Error-Type"))
                }
            } else {
                Self.writeStatus(context, Self.notFound(path), keepAlive: keepAlive)
                return
            }
            let status = self.mailbox.runtimePostedResponse(requestID: requestID, result: result)
            Self.writeStatus(context, status, keepAlive: keepAlive)
        case (.POST, 4) where parts[0] == "2018-06-01" && parts[1] == "runtime" && parts[2] == "init"
            && parts[3] == "error":
            let status = self.mailbox.runtimePostedInitError(
                body, errorType: head.headers.first(name: "Lambda-Runtime-Function-Error-Type"))
            Self.writeStatus(context, status, keepAlive: keepAlive)
        case (.GET, 1) where parts[0] == "ping":
            Self.write(context, status: .ok, body: context.channel.allocator.buffer(string: "pong"), contentType: "text/plain", keepAlive: keepAlive)
        default:
            Self.writeStatus(context, Self.notFound(path), keepAlive: keepAlive)
        }
    }

    static func notFound(_ path: String) -> RuntimeAPIStatus {
        RuntimeAPIStatus(code: 404, errorType: "NotFound", errorMessage: "No Runtime API route for \(path)")
    }

    static func errorBody(_ context: ChannelHandlerContext, type: String, message: String) -> ByteBuffer {
        let json = JSONValue.object(["errorType": .string(type), "errorMessage": .string(message)]).serialized()
        return context.channel.allocator.buffer(bytes: json)
    }

    static func writeNext(_ context: ChannelHandlerContext, invocation: RuntimeInvocation, keepAlive: Bool) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Lambda-Runtime-Aws-Request-Id", value: invocation.requestID)
        headers.add(name: "Lambda-Runtime-Deadline-Ms", value: String(invocation.deadlineMillis))
        headers.add(name: "Lambda-Runtime-Invoked-Function-Arn", value: invocation.invokedFunctionARN)
        headers.add(name: "Lambda-Runtime-Trace-Id", value: invocation.traceID)
        if let clientContext = invocation.clientContext {
            headers.add(name: "Lambda-Runtime-Client-Context", value: clientContext)
        }
        if let identity = invocation.cognitoIdentity {
            headers.add(name: "Lambda-Runtime-Cognito-Identity", value: identity)
        }
        headers.add(name: "Content-Length", value: String(invocation.payload.readableBytes))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(invocation.payload))), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }

    static func writeStatus(_ context: ChannelHandlerContext, _ status: RuntimeAPIStatus, keepAlive: Bool) {
        let body: [UInt8]
        if let type = status.errorType {
            body = JSONValue.object([
                "errorType": .string(type), "errorMessage": .string(status.errorMessage ?? ""),
            ]).serialized()
        } else {
            body = Array(#"{"status":"OK"}"#.utf8)
        }
        Self.write(
            context, status: HTTPResponseStatus(statusCode: status.code),
            body: context.channel.allocator.buffer(bytes: body), contentType: "application/json", keepAlive: keepAlive)
    }

    static func write(
        _ context: ChannelHandlerContext, status: HTTPResponseStatus, body: ByteBuffer, contentType: String,
        keepAlive: Bool
    ) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
