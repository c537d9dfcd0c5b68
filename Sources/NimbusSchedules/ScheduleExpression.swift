import Foundation

/// An EventBridge schedule expression: `rate(value unit)`, AWS's six-field `cron(...)` or Scheduler's one-time
/// `at(yyyy-mm-ddThh:mm:ss)`. (Work in progress: the API is fixed, the calculator follows.)
public struct ScheduleExpression: Sendable, Hashable {
    /// The expression as given.
    public var text: String
    /// `at(...)`: fires once.
    public var isOneTime: Bool { false }
    /// `rate(...)`: fires every period from an anchor.
    public var isRate: Bool { false }

    /// Parses an expression, refusing anything AWS refuses.
    public init(parsing text: String) throws(ScheduleExpressionError) {
        self.text = text
        throw ScheduleExpressionError(message: "not implemented yet")
    }

    /// The first firing strictly after `instant`.
    public func nextFire(after instant: Date, timeZone: TimeZone = .gmt, anchor: Date? = nil) -> Date? { nil }
}

/// Why an expression is not valid. Services word their own answer around it.
public struct ScheduleExpressionError: Error, Sendable, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
}
