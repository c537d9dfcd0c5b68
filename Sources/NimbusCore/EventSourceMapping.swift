import Foundation

/// An event source mapping (`CreateEventSourceMapping`): Lambda polls a source (an SQS queue, later a Kinesis stream)
/// and invokes a function with batches of its records. Persisted as JSON by the store; rendered in AWS's
/// `EventSourceMappingConfiguration` shape by ``wire(account:)``.
public struct EventSourceMapping: Codable, Sendable, Equatable {
    public var uuid: String
    public var eventSourceARN: String
    /// The function as the mapping names it (its name), and the qualifier it was given (an alias or a version).
    public var functionName: String
    public var qualifier: String?
    public var enabled: Bool
    public var batchSize: Int
    public var maximumBatchingWindowSeconds: Int
    /// `FilterCriteria.Filters[].Pattern`, as given (validated when stored).
    public var filterPatterns: [String]
    /// `FunctionResponseTypes`: `["ReportBatchItemFailures"]` or empty.
    public var functionResponseTypes: [String]
    /// `ScalingConfig.MaximumConcurrency` (2…1,000), nil when not set.
    public var maximumConcurrency: Int?
    public var state: State
    public var stateTransitionReason: String
    public var lastModifiedMillis: Int64
    public var lastProcessingResult: String?
    public var tags: [String: String]

    /// The states AWS reports. `Creating`, `Enabling`, `Disabling`, `Updating` and `Deleting` are answered by the
    /// operation that starts them; the mapping settles (`Enabled`, `Disabled`, or gone) right after.
    public enum State: String, Codable, Sendable {
        case creating = "Creating"
        case enabling = "Enabling"
        case enabled = "Enabled"
        case disabling = "Disabling"
        case disabled = "Disabled"
        case updating = "Updating"
        case deleting = "Deleting"
    }

    public init(
        uuid: String, eventSourceARN: String, functionName: String, qualifier: String?, enabled: Bool, batchSize: Int,
        maximumBatchingWindowSeconds: Int, filterPatterns: [String] = [], functionResponseTypes: [String] = [],
        maximumConcurrency: Int? = nil, state: State, lastModifiedMillis: Int64, tags: [String: String] = [:]
    ) {
        self.uuid = uuid
        self.eventSourceARN = eventSourceARN
        self.functionName = functionName
        self.qualifier = qualifier
        self.enabled = enabled
        self.batchSize = batchSize
        self.maximumBatchingWindowSeconds = maximumBatchingWindowSeconds
        self.filterPatterns = filterPatterns
        self.functionResponseTypes = functionResponseTypes
        self.maximumConcurrency = maximumConcurrency
        self.state = state
        self.stateTransitionReason = "USER_INITIATED"
        self.lastModifiedMillis = lastModifiedMillis
        self.tags = tags
    }

    /// The state a mapping settles in.
    public var settledState: State { self.enabled ? .enabled : .disabled }

    /// Whether the function reports partial batch failures (`batchItemFailures`).
    public var reportsBatchItemFailures: Bool { self.functionResponseTypes.contains("ReportBatchItemFailures") }

    /// `arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>`.
    public func arn(account: AccountContext) -> String {
        "arn:aws:lambda:\(account.region):\(account.accountID):event-source-mapping:\(self.uuid)"
    }

    /// The configuration as AWS answers it for an SQS mapping (recorded: `test_function_name_variations`).
    public func wire(account: AccountContext, state: State? = nil) -> JSONValue {
        var body: [String: JSONValue] = [
            "UUID": .string(self.uuid),
            "BatchSize": .number(Double(self.batchSize)),
            "MaximumBatchingWindowInSeconds": .number(Double(self.maximumBatchingWindowSeconds)),
            "EventSourceArn": .string(self.eventSourceARN),
            "EventSourceMappingArn": .string(self.arn(account: account)),
            "FunctionArn": .string(account.functionARN(self.functionName, qualifier: self.qualifier)),
            "FunctionResponseTypes": .array(self.functionResponseTypes.map { .string($0) }),
            "LastModified": .number(Double(self.lastModifiedMillis) / 1000),
            "State": .string((state ?? self.state).rawValue),
            "StateTransitionReason": .string(self.stateTransitionReason),
        ]
        if !self.filterPatterns.isEmpty {
            body["FilterCriteria"] = ["Filters": .array(self.filterPatterns.map { ["Pattern": .string($0)] })]
        }
        if let maximumConcurrency = self.maximumConcurrency {
            body["ScalingConfig"] = ["MaximumConcurrency": .number(Double(maximumConcurrency))]
        }
        if let result = self.lastProcessingResult { body["LastProcessingResult"] = .string(result) }
        return .object(body)
    }
}
