/// AWS Lambda's quotas, as Nimbus enforces them (`lambda-spec.md` §3).
public enum Limits {
    public static let minimumMemoryMB = 128
    public static let maximumMemoryMB = 10_240
    public static let defaultMemoryMB = 128
    public static let minimumTimeoutSeconds = 1
    public static let maximumTimeoutSeconds = 900
    public static let defaultTimeoutSeconds = 3
    public static let minimumEphemeralStorageMB = 512
    public static let maximumEphemeralStorageMB = 10_240
    public static let defaultEphemeralStorageMB = 512
    /// Total size of the environment variables, measured on their JSON text.
    public static let environmentBytes = 4096
    public static let maximumSyncPayloadBytes = 6_291_456
    /// The Runtime API accepts responses up to 6 MiB + 100 B, which is the size AWS's error message names.
    public static let maximumResponseBytes = 6_291_556
    public static let maximumAsyncPayloadBytes = 1_048_576
    public static let maximumZippedCodeBytes = 52_428_800
    public static let maximumUnzippedCodeBytes = 262_144_000
    public static let maximumCreateFunctionRequestBytes = 70_167_211
    public static let maximumClientContextBytes = 3583
    public static let maximumDescriptionLength = 256
    public static let maximumHandlerLength = 128
    public static let maximumLayers = 5
    public static let maximumTags = 50
    public static let totalCodeStorageBytes = 80_530_636_800
    /// The default account concurrency limit (concurrent executions across all functions).
    public static let accountConcurrency = 1000
    /// Reserved concurrency may never leave less than this unreserved for the other functions.
    public static let minimumUnreservedConcurrency = 100
    /// Published versions and aliases per page of ListVersionsByFunction and ListAliases.
    public static let versionPageSize = 50
    public static let listPageSize = 50
    /// The init phase's limit for on-demand environments.
    public static let initTimeoutSeconds = 10
    /// The size of the `X-Amz-Log-Result` tail.
    public static let logTailBytes = 4096
    /// CPU share: 1,769 MB of memory = one vCPU.
    public static let memoryPerVCPUMB = 1769

    /// Keys a function's environment may not set.
    public static let reservedEnvironmentKeys: Set<String> = [
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    ]
}
