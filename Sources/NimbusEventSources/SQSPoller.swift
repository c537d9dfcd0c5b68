import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusEventPatterns
import NimbusInvoker
import NimbusSQS
import Synchronization

/// Lambda's poller for one SQS event source mapping: it long-polls the queue, fills batches (up to `BatchSize` within
/// `MaximumBatchingWindowInSeconds` and the 6 MB payload), drops what the filters do not match (deleting it, as AWS
/// does), invokes the function synchronously and deletes what succeeded; failures are left for the visibility timeout
/// (and the queue's redrive policy). Batches run concurrently, as many as the backlog fills, up to the mapping's
/// `MaximumConcurrency` and the function's free concurrency: it never starts a batch the function has no room for.
final class SQSPoller: Sendable {
    let mapping: EventSourceMapping
    let namespace: AccountContext
    let queue: any PolledQueue
    let functions: any MappingFunctions
    let patterns: [EventPattern]
    let logger: Logger
    /// Batches being processed now.
    let inFlight = Mutex(0)
    /// Batches started whose invocation the concurrency limiter has not counted yet: they are subtracted from the
    /// function's free concurrency, so the poller never takes the same slot twice (and is never throttled by its
    /// own over-admission, which would cost the messages a receive).
    let unadmitted = Mutex(0)
    /// Reported in `LastProcessingResult`.
    let onResult: @Sendable (String) -> Void

    /// How long one receive waits: short enough that a disabled or deleted mapping stops within a second, long
    /// enough that an idle queue costs one query a second.
    static let receiveWait = 1
    /// The largest payload a synchronous invocation takes, less room for the record envelopes' own fields.
    static let payloadBudget = Limits.maximumSyncPayloadBytes - 64 * 1024

    init(
        mapping: EventSourceMapping, namespace: AccountContext, queue: any PolledQueue, functions: any MappingFunctions,
        logger: Logger, onResult: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.mapping = mapping
        self.namespace = namespace
        self.queue = queue
        self.functions = functions
        // Validated when the mapping was stored; a pattern that no longer parses filters nothing out.
        self.patterns = mapping.filterPatterns.compactMap { try? LambdaEventFilter.pattern($0) }
        var logger = logger
        logger[metadataKey: "event_source_mapping.uuid"] = "\(mapping.uuid)"
        self.logger = logger
        self.onResult = onResult
    }

    /// Polls until cancelled; batches under way finish first.
    func run() async {
        await withDiscardingTaskGroup { group in
            var idleBackoff = Duration.zero
            while !Task.isCancelled {
                guard self.hasRoom() else {
                    try? await Task.sleep(for: .milliseconds(10))
                    continue
                }
                let batch: [QueueMessage]
                do {
                    batch = try await self.collectBatch()
                    idleBackoff = .zero
                } catch is CancellationError {
                    break
                } catch {
                    // The queue is gone or the store failed: say so, and try again after a pause.
                    self.onResult("PROBLEM: \(error)")
                    idleBackoff = min(max(idleBackoff * 2, .milliseconds(100)), .seconds(5))
                    try? await Task.sleep(for: idleBackoff)
                    continue
                }
                guard !batch.isEmpty else { continue }
                self.inFlight.withLock { $0 += 1 }
                self.unadmitted.withLock { $0 += 1 }
                group.addTask {
                    // Once per batch: when the limiter decides, or at the end if it never got to decide.
                    let counted = Mutex(false)
                    let admitted: @Sendable () -> Void = {
                        if counted.withLock({ done in defer { done = true }; return !done }) {
                            self.unadmitted.withLock { $0 -= 1 }
                        }
                    }
                    await Invoker.$admissionObserver.withValue(AdmissionObserver { _ in admitted() }) {
                        await self.process(batch)
                    }
                    admitted()
                    self.inFlight.withLock { $0 -= 1 }
                }
            }
        }
    }

    /// Whether another batch may start: within the mapping's maximum concurrency and the function's free slots.
    func hasRoom() -> Bool {
        let running = self.inFlight.withLock { $0 }
        if running >= (self.mapping.maximumConcurrency ?? 1000) { return false }
        let starting = self.unadmitted.withLock { $0 }
        return self.functions.availableConcurrency(self.mapping, namespace: self.namespace) - starting > 0
    }

    /// Receives until the batch is full, the batching window has passed, or the payload budget is spent. With no
    /// window, one receive's messages make the batch (as Lambda does).
    func collectBatch() async throws -> [QueueMessage] {
        let arn = self.mapping.eventSourceARN
        let size = self.mapping.batchSize
        var batch = try await self.queue.receive(
            queueARN: arn, maxMessages: min(10, size), waitSeconds: Self.receiveWait, visibilityTimeout: nil)
        guard !batch.isEmpty, self.mapping.maximumBatchingWindowSeconds > 0 else { return batch }
        let deadline = ContinuousClock.now + .seconds(self.mapping.maximumBatchingWindowSeconds)
        var bytes = batch.reduce(0) { $0 + $1.body.utf8.count }
        while batch.count < size, bytes < Self.payloadBudget, ContinuousClock.now < deadline, !Task.isCancelled {
            let more = try await self.queue.receive(
                queueARN: arn, maxMessages: min(10, size - batch.count), waitSeconds: Self.receiveWait,
                visibilityTimeout: nil)
            for message in more {
                let length = message.body.utf8.count
                if bytes + length > Self.payloadBudget {
                    // No room in this invocation: back to the queue at once, for the next batch.
                    try? await self.queue.changeVisibility(queueARN: arn, receiptHandle: message.receiptHandle, timeoutSeconds: 0)
                    continue
                }
                bytes += length
                batch.append(message)
            }
        }
        return batch
    }

    /// Filters, invokes and settles one batch.
    func process(_ batch: [QueueMessage]) async {
        let arn = self.mapping.eventSourceARN
        var records: [JSONValue] = []
        var kept: [QueueMessage] = []
        var dropped: [String] = []
        for message in batch {
            let record = SQSEvent.record(message, queueARN: arn, region: self.namespace.region)
            if self.patterns.isEmpty
                || LambdaEventFilter.matches(record: record, patterns: self.patterns)
            {
                records.append(record)
                kept.append(message)
            } else {
                dropped.append(message.receiptHandle)
            }
        }
        if !dropped.isEmpty { await self.delete(dropped) }
        guard !kept.isEmpty else { return }
        let result: InvokeResult
        do {
            result = try await self.functions.invoke(
                self.mapping, namespace: self.namespace, payload: SQSEvent.payload(records),
                requestID: UUID().uuidString.lowercased())
        } catch let error as NimbusError where error.code == .tooManyRequests {
            // Someone else took the function's last slot: the messages come back shortly, not after the whole
            // visibility timeout (they count as received, as on AWS).
            for message in kept {
                try? await self.queue.changeVisibility(queueARN: arn, receiptHandle: message.receiptHandle, timeoutSeconds: 1)
            }
            self.onResult("PROBLEM: Function call failed")
            try? await Task.sleep(for: .milliseconds(50))
            return
        } catch {
            self.logger.warning("Event source mapping could not invoke its function", metadata: ["error": "\(error)"])
            self.onResult("PROBLEM: Function call failed")
            return
        }
        if result.functionError != nil {
            // Left in the queue: visible again after the visibility timeout, then redriven after maxReceiveCount.
            self.onResult("PROBLEM: Function call failed")
            return
        }
        var succeeded = kept
        if self.mapping.reportsBatchItemFailures {
            guard let failed = SQSEvent.failedMessages(in: result.payload, batch: Set(kept.map(\.messageID))) else {
                self.logger.notice("A malformed batchItemFailures report: the whole batch counts as failed")
                self.onResult("PROBLEM: Function call failed")
                return
            }
            succeeded = kept.filter { !failed.contains($0.messageID) }
        }
        await self.delete(succeeded.map(\.receiptHandle))
        self.onResult("OK")
    }

    func delete(_ receiptHandles: [String]) async {
        // DeleteMessageBatch takes ten entries.
        var start = 0
        while start < receiptHandles.count {
            let chunk = Array(receiptHandles[start..<min(start + 10, receiptHandles.count)])
            do {
                try await self.queue.delete(queueARN: self.mapping.eventSourceARN, receiptHandles: chunk)
            } catch {
                // The message comes back after its visibility timeout and runs again: at least once, as on AWS.
                self.logger.warning("Could not delete processed messages", metadata: ["error": "\(error)"])
            }
            start += 10
        }
    }
}
