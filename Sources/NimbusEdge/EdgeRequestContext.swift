import Hummingbird
import NIOCore

/// The request context of the HTTP edge: Hummingbird's core storage plus the connection's event loop, so that an
/// invocation's handler can run on the loop that will write its response.
public struct EdgeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let eventLoop: any EventLoop
    /// The connection, for its peer's address (function URLs' and API Gateway's `sourceIp`).
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.eventLoop = source.channel.eventLoop
        self.channel = source.channel
    }
}

/// Runs tasks on a NIO event loop. Handlers that preferred it resume there after awaiting the runtime, so the
/// response is written without another thread hop (two fewer cross-thread wake-ups per invocation).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedTaskExecutor()
        self.eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
