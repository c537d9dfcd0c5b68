#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a handler knows about the invocation it is serving.
///
/// The per-invocation fields come from the `/runtime/invocation/next` response headers; the function fields
/// (``functionName``, ``memoryLimitInMB``, …) are read once from the environment at startup, as the official
/// runtime clients do.
public struct LambdaContext: Sendable {
    /// The function-level details, read from the environment once per process.
    public struct FunctionDetails: Sendable {
        /// `AWS_LAMBDA_FUNCTION_NAME`.
        public var functionName: String
        /// `AWS_LAMBDA_FUNCTION_VERSION`, e.g. `$LATEST`.
        public var functionVersion: String
        /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` in MB, or 0 when unset.
        public var memoryLimitInMB: Int
        /// `AWS_LAMBDA_LOG_GROUP_NAME`.
        public var logGroupName: String
        /// `AWS_LAMBDA_LOG_STREAM_NAME`.
        public var logStreamName: String

        /// Creates function details from explicit values.
        public init(
            functionName: String = "",
            functionVersion: String = "",
            memoryLimitInMB: Int = 0,
            logGroupName: String = "",
            logStreamName: String = ""
        ) {
            self.functionName = functionName
            self.functionVersion = functionVersion
            self.memoryLimitInMB = memoryLimitInMB
            self.logGroupName = logGroupName
            self.logStreamName = logStreamName
        }

        /// Reads the `AWS_LAMBDA_*` variables of the current process.
        public static func fromEnvironment() -> FunctionDetails {
            FunctionDetails(
                functionName: ProcessEnvironment.value(of: "AWS_LAMBDA_FUNCTION_NAME") ?? "",
                functionVersion: ProcessEnvironment.value(of: "AWS_LAMBDA_FUNCTION_VERSION") ?? "",
                memoryLimitInMB: ProcessEnvironment.value(of: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE").flatMap { Int($0) }
                    ?? 0,
                logGroupName: ProcessEnvironment.value(of: "AWS_LAMBDA_LOG_GROUP_NAME") ?? "",
                logStreamName: ProcessEnvironment.value(of: "AWS_LAMBDA_LOG_STREAM_NAME") ?? ""
            )
        }
    }

    /// The invocation id (`Lambda-Runtime-Aws-Request-Id`).
    public var requestID: String
    /// The absolute deadline in Unix epoch milliseconds (`Lambda-Runtime-Deadline-Ms`); 0 if the header was absent.
    public var deadlineMilliseconds: Int64
    /// The ARN the caller invoked, including any version or alias (`Lambda-Runtime-Invoked-Function-Arn`).
    public var invokedFunctionARN: String
    /// The X-Ray trace header (`Lambda-Runtime-Trace-Id`), also exported as `_X_AMZN_TRACE_ID`.
    public var traceID: String?
    /// The client context JSON (`Lambda-Runtime-Client-Context`), as received.
    public var clientContext: String?
    /// The Cognito identity JSON (`Lambda-Runtime-Cognito-Identity`), as received.
    public var cognitoIdentity: String?
    /// The tenant id (`Lambda-Runtime-Aws-Tenant-Id`), when the function uses tenant isolation.
    public var tenantID: String?
    /// Function name, version, memory and log names.
    public var function: FunctionDetails

    /// `AWS_LAMBDA_FUNCTION_NAME`.
    public var functionName: String { self.function.functionName }
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    public var functionVersion: String { self.function.functionVersion }
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` in MB.
    public var memoryLimitInMB: Int { self.function.memoryLimitInMB }
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    public var logGroupName: String { self.function.logGroupName }
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    public var logStreamName: String { self.function.logStreamName }

    /// Creates a context; the runtime builds one per invocation, tests may build their own.
    public init(
        requestID: String,
        deadlineMilliseconds: Int64,
        invokedFunctionARN: String,
        traceID: String? = nil,
        clientContext: String? = nil,
        cognitoIdentity: String? = nil,
        tenantID: String? = nil,
        function: FunctionDetails = FunctionDetails()
    ) {
        self.requestID = requestID
        self.deadlineMilliseconds = deadlineMilliseconds
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.tenantID = tenantID
        self.function = function
    }

    /// Milliseconds left until ``deadlineMilliseconds`` by the wall clock; negative once it has passed.
    public func remainingTimeMilliseconds() -> Int64 {
        self.deadlineMilliseconds - Self.nowMilliseconds()
    }

    /// The current Unix time in milliseconds (`CLOCK_REALTIME`).
    public static func nowMilliseconds() -> Int64 {
        var now = timespec()
        _ = clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
