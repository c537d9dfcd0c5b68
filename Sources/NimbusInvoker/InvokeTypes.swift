import NIOCore
import NimbusCore
import NimbusSandbox

/// A request to run a function once, as the HTTP edge hands it to the invoker.
public struct InvokeRequest: Sendable {
    /// The configuration snapshot to run (the edge resolved name and qualifier).
    public var configuration: FunctionConfiguration
    public var payload: ByteBuffer
    /// The invocation id: the AWS request id.
    public var requestID: String
    /// The ARN as the caller invoked it (with any qualifier).
    public var invokedFunctionARN: String
    /// Decoded `X-Amz-Client-Context` JSON.
    public var clientContext: String?
    /// `X-Amzn-Trace-Id`, or nil to make one.
    public var traceID: String?
    /// Whether the caller wants the log tail (`X-Amz-Log-Type: Tail`).
    public var wantsLogTail: Bool
    /// The function's network mode when it overrides the server's (tag `nimbus:network`).
    public var network: NetworkMode?
    /// The event loop of the caller's connection: an environment on the same loop is preferred, so that the
    /// event, the runtime's answer and the response to the caller never cross threads.
    public var eventLoop: (any EventLoop)?

    public init(
        configuration: FunctionConfiguration, payload: ByteBuffer, requestID: String, invokedFunctionARN: String,
        clientContext: String? = nil, traceID: String? = nil, wantsLogTail: Bool = false,
        network: NetworkMode? = nil, eventLoop: (any EventLoop)? = nil
    ) {
        self.network = network
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.payload = payload
        self.requestID = requestID
        self.invokedFunctionARN = invokedFunctionARN
        self.clientContext = clientContext
        self.traceID = traceID
        self.wantsLogTail = wantsLogTail
    }
}

/// What the caller of Invoke gets back. A function's failure is a result (with `functionError`), not an error.
public struct InvokeResult: Sendable {
    public var payload: ByteBuffer
    /// `Unhandled` when the function failed.
    public var functionError: String?
    public var executedVersion: String
    /// The last 4 KB of this invocation's log, base64, when asked for.
    public var logTail: String?
    /// The error type of a failure (`Sandbox.Timedout`, `Runtime.ExitError`, the runtime's own type…).
    public var errorType: String?
    /// Whether this invocation started a new environment.
    public var coldStart: Bool
}
