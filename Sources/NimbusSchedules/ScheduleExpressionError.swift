/// Why a schedule expression is not valid.
///
/// The message says what is wrong in plain words, for logs and tests. It is not AWS's answer: each service words its
/// own refusal around it (EventBridge's PutRule answers `ValidationException` "Parameter ScheduleExpression is not
/// valid." whatever the fault; Scheduler answers `ValidationException` "Invalid Schedule Expression <text>.", as
/// localstack's AWS-validated snapshots record).
public struct ScheduleExpressionError: Error, Sendable, Equatable {
    public var message: String

    public init(message: String) {
        self.message = message
    }
}
