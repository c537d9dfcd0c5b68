import Foundation
import NIOCore
import NimbusCore
import NimbusInvoker
import NimbusQueue
import NimbusSandbox

/// How triggers invoke: the qualifier's resource-based policy must allow the caller, then the invocation takes the
/// path Invoke takes (concurrency, throttling, warm pools, logs).
extension LambdaAPI {
    /// A trigger's synchronous invocation (API Gateway's integrations; later S3, EventBridge, the pollers).
    func invoke(triggered t: TriggeredInvocation, id: FunctionIdentifier) async throws -> InvokeResult {
        let target = try self.authorized(t, id: id)
        return try await self.run(target, payload: t.payload, requestID: t.requestID, eventLoop: t.eventLoop)
    }

    /// A trigger's asynchronous invocation (S3 notifications, EventBridge rules): queued durably as Invoke's Event
    /// type queues it, under the trigger's request id (a redelivered id is queued once).
    func enqueue(triggered t: TriggeredInvocation, id: FunctionIdentifier) async throws {
        let target = try self.authorized(t, id: id)
        guard t.payload.readableBytes <= Limits.maximumAsyncPayloadBytes else {
            throw NimbusError(
                .requestTooLarge,
                "Request must be smaller than \(Limits.maximumAsyncPayloadBytes) bytes for the InvokeFunction operation")
        }
        try await self.eventQueue.enqueue(
            QueuedEvent(
                requestID: t.requestID, namespace: self.account, functionName: target.function.configuration.name,
                qualifier: target.qualifier, payload: Array(t.payload.readableBytesView)))
    }

    /// The function a trigger names, once its qualifier's policy allows the trigger's principal.
    func authorized(_ t: TriggeredInvocation, id: FunctionIdentifier) throws -> ResolvedFunction {
        let target = try self.resolve(id.description, qualifier: nil, invoking: true)
        // A role (Scheduler's target RoleArn) is IAM's permission, not the resource policy's; Nimbus has no IAM.
        if t.executionRole != nil { return target }
        var context: [String: String] = [:]
        if let arn = t.sourceARN { context["AWS:SourceArn"] = arn }
        if let account = t.sourceAccount { context["AWS:SourceAccount"] = account }
        try self.authorize(target, PolicyRequest(principal: .service(t.principal), action: t.action, context: context))
        return target
    }

    /// Refuses unless the policy of the invoked qualifier (the alias, the version, or the unqualified function for
    /// `$LATEST`) allows the request.
    func authorize(_ target: ResolvedFunction, _ request: PolicyRequest) throws {
        let key = target.qualifier == nil || target.qualifier == "$LATEST" ? "" : target.qualifier ?? ""
        guard target.function.policies[key]?.allows(request) == true else {
            throw NimbusError(
                .accessDenied,
                "The resource policy of \(self.account.functionARN(target.function.name, qualifier: key.isEmpty ? nil : key)) does not allow \(request.action) for this caller.")
        }
    }

    /// Runs an authorised synchronous invocation, as Invoke's RequestResponse does.
    func run(
        _ target: ResolvedFunction, payload: ByteBuffer, requestID: String, traceID: String? = nil, eventLoop: (any EventLoop)?
    ) async throws -> InvokeResult {
        guard payload.readableBytes <= Limits.maximumSyncPayloadBytes else {
            throw NimbusError(
                .requestTooLarge,
                "Request must be smaller than \(Limits.maximumSyncPayloadBytes) bytes for the InvokeFunction operation")
        }
        let config = self.routedConfiguration(target)
        return try await self.invoker.invoke(
            InvokeRequest(
                configuration: config, payload: payload, requestID: requestID,
                invokedFunctionARN: self.account.functionARN(config.name, qualifier: target.qualifier), traceID: traceID,
                network: target.function.tags[FunctionRegistry.networkTag].flatMap(NetworkMode.init(rawValue:)),
                eventLoop: eventLoop))
    }
}
