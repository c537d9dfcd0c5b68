/// One line of a function's log, as CloudWatch Logs stores it.
public struct FunctionLogEvent: Sendable, Equatable {
    /// The (account, region) the log group lives in.
    public var namespace: AccountContext
    public var group: String
    public var stream: String
    public var timestampMillis: Int64
    public var message: String

    public init(
        namespace: AccountContext = AccountContext(), group: String, stream: String, timestampMillis: Int64,
        message: String
    ) {
        self.namespace = namespace
        self.group = group
        self.stream = stream
        self.timestampMillis = timestampMillis
        self.message = message
    }
}

/// Where execution environments send their log lines. Appending must be cheap and never block on I/O: it sits on
/// the invocation path.
public protocol LogSink: Sendable {
    func append(_ events: [FunctionLogEvent])
}
