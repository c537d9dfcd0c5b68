import Foundation

/// An EventBridge schedule expression, parsed and validated once: `rate(value unit)`, AWS's six-field
/// `cron(minutes hours day-of-month month day-of-week year)` or EventBridge Scheduler's one-time
/// `at(yyyy-mm-ddThh:mm:ss)`.
///
/// The one calculator behind EventBridge rules (`PutRule`'s `ScheduleExpression`, always evaluated in UTC) and
/// EventBridge Scheduler (`CreateSchedule`'s `ScheduleExpression` in its `ScheduleExpressionTimezone`), so both agree
/// on every edge case. Pure: no clock, no I/O; callers pass the instant to search from. Which kinds a service accepts
/// is the service's call (rules refuse `at()`: check `isOneTime`). Equality and hashing go by `text`.
public struct ScheduleExpression: Sendable, Hashable {
    /// The expression as given.
    public let text: String
    let kind: Kind

    enum Kind: Sendable {
        case rate(RateSchedule)
        case cron(CronSchedule)
        case oneTime(OneTimeSchedule)
    }

    /// `at(...)`: fires once.
    public var isOneTime: Bool {
        if case .oneTime = kind { return true }
        return false
    }

    /// `rate(...)`: fires every period, counted from an anchor.
    public var isRate: Bool {
        if case .rate = kind { return true }
        return false
    }

    /// `cron(...)`: fires at the local times its fields select.
    public var isCron: Bool {
        if case .cron = kind { return true }
        return false
    }

    /// Parses an expression, refusing what AWS refuses: a rate unit that does not agree with its value, a cron
    /// without exactly six fields or without exactly one `?` day field, values out of range, malformed `at()`.
    ///
    /// Where AWS's pages are silent the grammar follows Quartz, AWS's cron dialect (wrap-around ranges, any positive
    /// step, case-insensitive names, `L-n`). The keywords `rate(`, `cron(`, `at(` and rate units are lower case, with
    /// nothing around them, and fields are separated by exactly one space: AWS refuses " rate(10 minutes)",
    /// "rate( 10 minutes )" and "rate(10 MINUTES)" (localstack's tests, validated against AWS).
    public init(parsing text: String) throws(ScheduleExpressionError) {
        self.text = text
        guard text.hasSuffix(")") else { throw Self.unknownForm }
        let body = text.dropLast()
        if body.hasPrefix("rate(") {
            kind = .rate(try RateSchedule(arguments: body.dropFirst(5)))
        } else if body.hasPrefix("cron(") {
            kind = .cron(try CronSchedule(fields: body.dropFirst(5)))
        } else if body.hasPrefix("at(") {
            kind = .oneTime(try OneTimeSchedule(arguments: body.dropFirst(3)))
        } else {
            throw Self.unknownForm
        }
    }

    private static let unknownForm = ScheduleExpressionError(
        message: "A schedule expression is rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)."
    )

    /// The first firing strictly after `instant`, or nil when there is none (an `at()` already past, a cron whose
    /// years are exhausted: year fields stop at 2199).
    ///
    /// - `rate`: `anchor + k × period` for k ≥ 1, `anchor` being when the schedule started counting (the rule's
    ///   creation, a schedule's StartDate); without one the rate counts from `instant`. Elapsed time only: a day is
    ///   86,400 seconds whatever the time zone does (AWS: a days rate is evaluated "24 hours after the schedule's
    ///   last invocation" across daylight-saving changes). `timeZone` is ignored.
    /// - `cron` and `at`: local wall-clock times in `timeZone` (EventBridge rules pass UTC), fired at second 0 of the
    ///   minute (`at`: its own second). Daylight saving, as AWS documents for Scheduler — re:Post knowledge center
    ///   "How can I adjust my Amazon EventBridge schedule for daylight saving?" (eventbridge-scheduler-adjust-dst):
    ///   "When the time shifts forward in Spring, your schedule invocation gets skipped if the cron expression falls
    ///   on a non-existent date and time. When the time shifts back in the Fall, your schedule runs only once and
    ///   doesn't repeat its invocation." So a cron local time inside a spring-forward gap does not fire that day
    ///   (cron(30 2 * * ? *) in America/New_York has no firing on 2024-03-10; the next is 2024-03-11 02:30 EDT), and a
    ///   local time that happens twice fires at its first occurrence only (01:30 EDT on 2024-11-03, not 01:30 EST).
    ///   Sub-daily crons simply resume after the gap and do not repeat the doubled hour.
    ///   An `at()` inside a gap is the one exception: AWS documents nothing for it, and skipping would mean a
    ///   one-time schedule that never fires, so it fires at the first instant after the gap (the transition).
    public func nextFire(after instant: Date, timeZone: TimeZone = .gmt, anchor: Date? = nil) -> Date? {
        let seconds = instant.timeIntervalSince1970
        switch kind {
        case .rate(let rate):
            let start = anchor?.timeIntervalSince1970 ?? seconds
            return Date(timeIntervalSince1970: rate.nextFire(after: seconds, anchor: start))
        case .cron(let cron):
            return cron.nextFire(after: seconds, clock: WallClock(timeZone)).map {
                Date(timeIntervalSince1970: TimeInterval($0))
            }
        case .oneTime(let oneTime):
            let fire = TimeInterval(WallClock(timeZone).orderingInstant(of: oneTime.localTime))
            return fire > seconds ? Date(timeIntervalSince1970: fire) : nil
        }
    }

    public static func == (lhs: ScheduleExpression, rhs: ScheduleExpression) -> Bool {
        lhs.text == rhs.text
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(text)
    }
}
