/// `rate(value unit)`: a fixed period counted from an anchor.
///
/// EventBridge's "Rate expressions reference": value is a positive number; unit is minute | minutes | hour | hours |
/// day | days, singular when the value is 1 and plural otherwise ("rate(1 hours) and rate(5 hour) aren't valid").
/// Scheduler's API reference lists the same units. Lower case, one space, nothing else: AWS refuses "rate(10 MINUTES)"
/// and "rate( 10 minutes )" (recorded in localstack's AWS-validated tests). A day is 24 hours of elapsed time, not a calendar day: AWS
/// (re:Post "eventbridge-scheduler-adjust-dst") evaluates a days rate "24 hours after the schedule's last
/// invocation" even when daylight saving makes a day 23 or 25 hours, so rates ignore time zones.
struct RateSchedule: Sendable {
    /// The period in seconds.
    let period: Int64

    /// Values above this are refused (AWS documents no maximum; this keeps every period far inside `Int64` and a
    /// `Date`'s precision: 2,147,483,647 days is about 5.9 million years).
    static let maximumValue = Int(Int32.max)

    /// Parses the text between `rate(` and `)`.
    init(arguments text: Substring) throws(ScheduleExpressionError) {
        // One space exactly: AWS refuses "rate( 10 minutes )" (localstack's tests, validated against AWS).
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw ScheduleExpressionError(
                message: "A rate expression is rate(value unit), for example rate(5 minutes)."
            )
        }
        guard let value = CronField.number(parts[0]), value >= 1, value <= Self.maximumValue else {
            throw ScheduleExpressionError(message: "The rate value \"\(parts[0])\" is not a positive integer.")
        }
        let seconds: Int64
        let singular: Bool
        switch parts[1] {
        case "minute": (seconds, singular) = (60, true)
        case "minutes": (seconds, singular) = (60, false)
        case "hour": (seconds, singular) = (3_600, true)
        case "hours": (seconds, singular) = (3_600, false)
        case "day": (seconds, singular) = (86_400, true)
        case "days": (seconds, singular) = (86_400, false)
        default:
            throw ScheduleExpressionError(
                message: "The rate unit \"\(parts[1])\" is not one of minute, minutes, hour, hours, day, days."
            )
        }
        guard singular == (value == 1) else {
            throw ScheduleExpressionError(
                message: "The rate unit must be singular when the value is 1 and plural otherwise."
            )
        }
        self.period = Int64(value) * seconds
    }

    /// The first `anchor + k × period` (k ≥ 1) strictly after `instant`, both in seconds since 1970.
    func nextFire(after instant: Double, anchor: Double) -> Double {
        let period = Double(self.period)
        var k = max(1, ((instant - anchor) / period).rounded(.down) + 1)
        // Floating-point rounding can land a hair short; one or two more periods at most.
        while anchor + k * period <= instant { k += 1 }
        return anchor + k * period
    }
}
