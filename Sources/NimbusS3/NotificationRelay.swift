import Logging
import NIOCore
import NimbusCore
import NimbusInvoker
import NimbusSQS
import NimbusStore
import ServiceLifecycle

/// Delivers the bucket notifications S3's writes commit to their outbox: to a function as an asynchronous invocation
/// through Lambda's durable queue (which then owns retries, maximum event age, destinations and dead-letter queues),
/// to a queue as an SQS message. An entry leaves the outbox once its destination took it.
///
/// Delivery is at-least-once with one refinement: a function's invocation carries the entry's delivery id as its
/// request id, and the queue keeps one event per request id, so an entry redelivered after a crash (delivered, not
/// yet removed) still invokes once. As on AWS, a destination that refuses for good (the function was deleted, its
/// policy no longer lets S3 invoke it, the queue is gone) drops the event, logged; anything else is retried.
public final class NotificationRelay: Service, Sendable {
    let store: any ObjectStore
    let functions: (any FunctionInvoking)?
    let queues: SQSService?
    let logger: Logger
    let doorbell = Doorbell()
    /// Entries delivered concurrently.
    static let width = 32

    public init(store: any ObjectStore, functions: (any FunctionInvoking)?, queues: SQSService?, logger: Logger) {
        self.store = store
        self.functions = functions
        self.queues = queues
        self.logger = logger
    }

    /// A commit added entries: deliver now rather than at the next scan.
    func wake() { self.doorbell.ring() }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var idle = Duration.milliseconds(50)
            while !Task.isCancelled {
                let progress: Bool
                do {
                    progress = try await self.deliverPending()
                    idle = .milliseconds(50)
                } catch {
                    self.logger.warning("S3 notifications not delivered; retrying", metadata: ["error": "\(error)"])
                    progress = false
                    idle = min(idle * 2, .seconds(5))
                }
                if !progress { await self.doorbell.wait(timeout: idle == .milliseconds(50) ? .seconds(1) : idle) }
            }
        }
    }

    /// Delivers one batch; true when it removed entries (there may be more).
    @discardableResult
    func deliverPending() async throws -> Bool {
        let pending = try await self.store.pendingNotifications(limit: 256)
        guard !pending.isEmpty else { return false }
        var finished: [Int64] = []
        var transientFailure: (any Error)?
        await withTaskGroup(of: (Int64, (any Error)?).self) { group in
            var iterator = pending.makeIterator()
            func addNext() {
                guard let entry = iterator.next() else { return }
                group.addTask { (entry.id, await self.deliver(entry)) }
            }
            for _ in 0..<Self.width { addNext() }
            while let (id, failure) = await group.next() {
                if let failure { transientFailure = failure } else { finished.append(id) }
                addNext()
            }
        }
        try await self.store.removeNotifications(ids: finished)
        if finished.isEmpty, let transientFailure { throw transientFailure }
        return !finished.isEmpty
    }

    /// Nil when the entry is done with (delivered, or refused for good); the error to retry on otherwise.
    func deliver(_ entry: OutboxNotification) async -> (any Error)? {
        do {
            switch entry.destination {
            case .function:
                guard let functions else { return nil }
                try await functions.enqueue(
                    TriggeredInvocation(
                        function: entry.targetARN, namespace: entry.namespace, payload: ByteBuffer(bytes: entry.body),
                        principal: "s3.amazonaws.com", sourceARN: "arn:aws:s3:::\(entry.bucket)",
                        sourceAccount: entry.namespace.accountID, requestID: entry.deliveryID))
            case .queue:
                guard let queues else { return nil }
                _ = try await queues.send(queueARN: entry.targetARN, body: String(decoding: entry.body, as: UTF8.self))
            }
            return nil
        } catch let refusal as NimbusError {
            self.logger.warning(
                "S3 notification dropped: the function refused it",
                metadata: ["s3.bucket": "\(entry.bucket)", "s3.target": "\(entry.targetARN)", "error": "\(refusal.message)"])
            return nil
        } catch let refusal as SQSError where refusal.code == "QueueDoesNotExist" {
            self.logger.warning(
                "S3 notification dropped: the queue does not exist",
                metadata: ["s3.bucket": "\(entry.bucket)", "s3.target": "\(entry.targetARN)"])
            return nil
        } catch {
            return error
        }
    }
}
