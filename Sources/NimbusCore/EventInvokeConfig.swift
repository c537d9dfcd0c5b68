/// A function's asynchronous-invocation settings for one qualifier (`FunctionEventInvokeConfig`).
public struct EventInvokeConfig: Sendable, Equatable, Codable {
    /// 0–2; nil means AWS's default (2).
    public var maximumRetryAttempts: Int?
    /// 60–21,600; nil means AWS's default (21,600).
    public var maximumEventAgeInSeconds: Int?
    /// Destination ARN on success.
    public var onSuccess: String?
    /// Destination ARN on failure.
    public var onFailure: String?
    public var lastModifiedMillis: Int64

    public init(
        maximumRetryAttempts: Int? = nil, maximumEventAgeInSeconds: Int? = nil, onSuccess: String? = nil,
        onFailure: String? = nil, lastModifiedMillis: Int64 = Timestamp.nowMillis()
    ) {
        self.maximumRetryAttempts = maximumRetryAttempts
        self.maximumEventAgeInSeconds = maximumEventAgeInSeconds
        self.onSuccess = onSuccess
        self.onFailure = onFailure
        self.lastModifiedMillis = lastModifiedMillis
    }

    public static let maximumRetryAttemptsRange = 0...2
    public static let maximumEventAgeRange = 60...21_600
}
