import NIOCore
import NimbusCore
import NimbusInvoker
import NimbusSQS

/// What the pollers need of Lambda: running a function synchronously for a mapping, and how much of its concurrency
/// is free. Implemented by the Lambda service; pollers never see HTTP or the registry.
public protocol MappingFunctions: Sendable {
    /// Runs the mapping's function (its qualifier, if any) synchronously with `payload`. As on AWS, a mapping invokes
    /// with its own right (the execution role's), not through the function's resource policy. Throws `NimbusError`
    /// for platform failures (`TooManyRequestsException` when throttled, `ResourceNotFoundException`…); a function's
    /// own failure is a result with `functionError`.
    func invoke(_ mapping: EventSourceMapping, namespace: AccountContext, payload: ByteBuffer, requestID: String) async throws
        -> InvokeResult
    /// How many more invocations the function may run now (its reservation or the unreserved pool, less what runs).
    func availableConcurrency(_ mapping: EventSourceMapping, namespace: AccountContext) -> Int
}

/// The queue operations an SQS mapping's poller uses, as the SQS service offers them in process. A protocol so that
/// the poller's rules are tested against a queue in memory.
public protocol PolledQueue: Sendable {
    func receive(queueARN: String, maxMessages: Int, waitSeconds: Int, visibilityTimeout: Int?) async throws -> [QueueMessage]
    func delete(queueARN: String, receiptHandles: [String]) async throws
    func changeVisibility(queueARN: String, receiptHandle: String, timeoutSeconds: Int) async throws
    func queueInfo(arn: String) -> (visibilityTimeout: Int, fifo: Bool)?
}

extension SQSService: PolledQueue {}
