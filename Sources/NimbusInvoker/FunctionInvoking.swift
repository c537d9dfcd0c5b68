import NIOCore
import NimbusCore

/// How Lambda's triggers hand an event to a function — API Gateway's integrations now, S3 notifications, EventBridge
/// targets and queue pollers later: Lambda checks the function's resource-based policy for the calling service (as
/// AWS does: the trigger needs a statement allowing its principal), then runs the invocation on the paths Invoke
/// uses (concurrency, throttling, warm pools, logs).
public protocol FunctionInvoking: Sendable {
    /// Runs the function synchronously (RequestResponse). A function's own failure is a result with
    /// `functionError`; everything else is thrown as a ``NimbusError``: `ResourceNotFoundException` (no such
    /// function or qualifier), `AccessDeniedException` (the policy does not allow the principal),
    /// `TooManyRequestsException` (throttled), `RequestEntityTooLargeException` (payload over 6 MB), or another
    /// Lambda error (`ServiceException`, `ResourceNotReadyException`…).
    func invoke(_ invocation: TriggeredInvocation) async throws -> InvokeResult

    /// Invokes asynchronously (Event), as S3's and EventBridge's deliveries do: once the policy allows the principal,
    /// the event is committed to the durable queue (retries, maximum event age, destinations, dead-letter queue) and
    /// this returns. An event whose ``TriggeredInvocation/requestID`` is already queued is not queued again, so a
    /// trigger that redelivers after a crash causes one invocation. Throws as ``invoke(_:)`` does for a missing
    /// function, a denied principal or a payload over 1 MB (256 KB).
    func enqueue(_ invocation: TriggeredInvocation) async throws

    /// Checks, without invoking, that the function exists and its policy allows the invocation's principal (S3's
    /// validation of a notification configuration). Throws as ``invoke(_:)`` does.
    func authorize(_ invocation: TriggeredInvocation) async throws
}

/// One event a trigger hands to a function.
public struct TriggeredInvocation: Sendable {
    /// The function as the trigger's configuration names it: an ARN (`arn:aws:lambda:us-east-1:123456789012:function:f`,
    /// with an optional `:qualifier`), or a name in `namespace`.
    public var function: String
    /// The (account, region) of the resource that triggers the function (the API, the bucket, the rule).
    public var namespace: AccountContext
    public var payload: ByteBuffer
    /// The calling service's principal (`apigateway.amazonaws.com`), matched against the policy's `Principal`.
    public var principal: String
    /// The action the policy must allow.
    public var action: String
    /// The triggering resource (`arn:aws:execute-api:us-east-1:123456789012:a1b2c3/$default/GET/items`), matched
    /// against `AWS:SourceArn` conditions.
    public var sourceARN: String?
    /// The account that owns the triggering resource, matched against `AWS:SourceAccount` conditions.
    public var sourceAccount: String?
    /// The invocation's request id (the trigger's own request id when it has one).
    public var requestID: String
    /// The caller's connection loop, when the trigger answers an HTTP request.
    public var eventLoop: (any EventLoop)?
    /// The IAM role the trigger invokes with (EventBridge Scheduler's target `RoleArn`), when it invokes as a role
    /// rather than as a service principal. Nimbus has no IAM: the role stands for the permission, and the function's
    /// resource policy is not consulted, as AWS does not consult it for a role allowed `lambda:InvokeFunction`.
    public var executionRole: String?

    public init(
        function: String, namespace: AccountContext, payload: ByteBuffer, principal: String,
        action: String = "lambda:InvokeFunction", sourceARN: String? = nil, sourceAccount: String? = nil,
        requestID: String, eventLoop: (any EventLoop)? = nil, executionRole: String? = nil
    ) {
        self.executionRole = executionRole
        self.function = function
        self.namespace = namespace
        self.payload = payload
        self.principal = principal
        self.action = action
        self.sourceARN = sourceARN
        self.sourceAccount = sourceAccount
        self.requestID = requestID
        self.eventLoop = eventLoop
    }
}
