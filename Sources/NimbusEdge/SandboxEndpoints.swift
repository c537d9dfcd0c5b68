import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The service edge as environments reach it (`AWS_ENDPOINT_URL`): a listener on a socket created inside each
/// environment's network namespace (127.0.0.1:9002 there), accepting only that environment's credentials; or,
/// for environments in the host's network (process tier, `--network host`), one shared loopback listener that
/// accepts function credentials only. Every request is SigV4-checked whatever `--auth` says, and Nimbus's admin
/// routes are not reachable.
///
/// A service of the server's group: listeners are served by child tasks of ``run()`` and closed when it ends.
public final class SandboxEndpoints: Service, Sendable {
    typealias Child = HTTP1Channel.Value

    /// A bound listener and the HTTP handling of its connections.
    struct Listener: Sendable {
        var server: NIOAsyncChannel<Child, Never>
        var http: HTTP1Channel
    }

    /// Set by the composition root once every service exists (environments cannot start before that).
    let edge = Mutex<ServiceEdge?>(nil)
    let group: any EventLoopGroup
    let logger: Logger
    let shared = Mutex<String?>(nil)
    /// Every open listener, closed at shutdown.
    let open = Mutex<[ObjectIdentifier: any Channel]>([:])
    let listeners: AsyncStream<Listener>
    let newListener: AsyncStream<Listener>.Continuation

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.group = group
        self.logger = logger
        (self.listeners, self.newListener) = AsyncStream.makeStream()
    }

    /// The edge the endpoints serve.
    public func use(_ edge: ServiceEdge) {
        self.edge.withLock { $0 = edge }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await gracefulShutdown()
                self.newListener.finish()
                for channel in self.open.withLock({ Array($0.values) }) { channel.close(promise: nil) }
            }
            for await listener in self.listeners {
                group.addTask { await self.serve(listener) }
            }
        }
    }

    /// An environment's own endpoint on a socket listening inside its namespace; the closure closes it.
    public func serve(listeningSocket: Int32, accessKeyID: String) async throws -> @Sendable () -> Void {
        let channel = try await self.listen(origin: .sandbox(accessKeyID: accessKeyID)) { bootstrap, initializer in
            try await bootstrap.bind(NIOBSDSocket.Handle(listeningSocket), childChannelInitializer: initializer)
        }
        return { channel.close(promise: nil) }
    }

    /// The loopback endpoint for environments without a network namespace of their own, started on first use.
    public func sharedURL(host: String = "127.0.0.1") async throws -> String {
        if let url = self.shared.withLock({ $0 }) { return url }
        let channel = try await self.listen(origin: .sandbox(accessKeyID: nil)) { bootstrap, initializer in
            try await bootstrap.bind(host: host, port: 0, childChannelInitializer: initializer)
        }
        let url = "http://\(host):\(channel.localAddress?.port ?? 0)"
        let winner = self.shared.withLock { state -> String in
            if let existing = state { return existing }
            state = url
            return url
        }
        if winner != url { channel.close(promise: nil) }
        return winner
    }

    /// Binds with `bind` and hands the listener to ``run()``, which serves HTTP/1 on each accepted connection until
    /// the listener is closed.
    func listen(
        origin: ServiceEdge.Origin,
        bind: (ServerBootstrap, @escaping @Sendable (any Channel) -> EventLoopFuture<Child>) async throws
            -> NIOAsyncChannel<Child, Never>
    ) async throws -> any Channel {
        guard let edge = self.edge.withLock({ $0 }) else {
            throw SandboxEndpointError(message: "the service edge is not ready")
        }
        let logger = self.logger
        let http = HTTP1Channel(responder: { request, writer, channel in
            let response = await edge.respond(to: request, origin: origin, eventLoop: channel.eventLoop, peer: channel)
            try await writer.write(response: response.head, body: response.body)
        })
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 16)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        let server = try await bind(bootstrap) { channel in http.setup(channel: channel, logger: logger) }
        let channel = server.channel
        let id = ObjectIdentifier(channel)
        self.open.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in _ = self.open.withLock { $0.removeValue(forKey: id) } }
        if case .terminated = self.newListener.yield(Listener(server: server, http: http)) {
            channel.close(promise: nil)
        }
        return channel
    }

    func serve(_ listener: Listener) async {
        let logger = self.logger
        try? await listener.server.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await child in inbound {
                    group.addTask { await listener.http.handle(value: child, logger: logger) }
                }
            }
        }
    }
}

struct SandboxEndpointError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}
