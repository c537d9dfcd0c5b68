import Foundation
import NimbusSchedules
import Testing

/// Random cron expressions against a minute-by-minute reference, in UTC and in zones with daylight saving, around
/// transitions: the field-wise search must find exactly the first minute the reference finds.
///
/// The reference is deliberately naive and independent of the implementation: it walks UTC minutes, reads each
/// one's local wall-clock fields with Foundation's `Calendar`, and fires on a match unless that local time was
/// already seen (a repeat in a doubled hour). A local time the clocks skip is never seen, so never fires. The walk
/// starts three hours early so a doubled hour's first pass is seen before the search instant.
@Suite struct BruteForceTests {
    /// A small deterministic generator (SplitMix64), so a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A field's text and the values it selects, written out by hand.
    typealias Choice = (text: String, values: Set<Int>)

    static let minutes: [Choice] = [
        ("*", Set(0...59)), ("0", [0]), ("*/15", [0, 15, 30, 45]), ("5,35", [5, 35]), ("10-20/5", [10, 15, 20]),
        ("50-10", Set(50...59).union(0...10)), ("30", [30]), ("7/20", [7, 27, 47]),
    ]
    static let hours: [Choice] = [
        ("*", Set(0...23)), ("2", [2]), ("1-3", [1, 2, 3]), ("*/6", [0, 6, 12, 18]), ("22-2", [22, 23, 0, 1, 2]),
        ("0,12", [0, 12]), ("1", [1]),
    ]
    static let daysOfMonth: [Choice] = [
        ("*", Set(1...31)), ("1", [1]), ("1-10", Set(1...10)), ("10,20,30", [10, 20, 30]),
        ("25-5", Set(25...31).union(1...5)),
    ]
    /// 1 = Sunday.
    static let daysOfWeek: [Choice] = [
        ("*", Set(1...7)), ("MON-FRI", [2, 3, 4, 5, 6]), ("SUN", [1]), ("1,7", [1, 7]), ("FRI-MON", [6, 7, 1, 2]),
    ]
    static let months: [Choice] = [
        ("*", Set(1...12)), ("3,10,11", [3, 10, 11]), ("MAR-APR", [3, 4]), ("NOV-MAR", [11, 12, 1, 2, 3]),
    ]

    /// Searches start around these instants: transitions in New York, London, Sydney, and ordinary days.
    static let starts = [
        "2024-03-10T05:00:00Z", "2024-11-03T04:30:00Z", "2024-11-03T06:10:00Z", "2024-03-31T00:00:00Z",
        "2024-10-27T00:20:00Z", "2024-04-06T15:00:00Z", "2024-10-05T15:30:00Z", "2024-02-28T22:00:00Z",
        "2024-12-31T20:00:00Z", "2024-07-15T11:11:00Z",
    ]
    static let zones = ["UTC", "America/New_York", "Europe/London", "Australia/Sydney"]

    @Test func matchesAMinuteByMinuteReference() throws {
        var random = SplitMix(state: 15)
        for _ in 0..<80 {
            let minute = Self.minutes.randomElement(using: &random)!
            let hour = Self.hours.randomElement(using: &random)!
            let month = Self.months.randomElement(using: &random)!
            let byDayOfMonth = Bool.random(using: &random)
            let day =
                byDayOfMonth
                ? Self.daysOfMonth.randomElement(using: &random)! : Self.daysOfWeek.randomElement(using: &random)!
            let text =
                byDayOfMonth
                ? "cron(\(minute.text) \(hour.text) \(day.text) \(month.text) ? *)"
                : "cron(\(minute.text) \(hour.text) ? \(month.text) \(day.text) *)"
            let zoneName = Self.zones.randomElement(using: &random)!
            let start = instant(Self.starts.randomElement(using: &random)!)
                .addingTimeInterval(Double(Int.random(in: -7200...7200, using: &random)))

            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone(zoneName)
            // The reference: walk UTC minutes for up to two days.
            var seen = Set<DateComponents>()
            var expected: Date?
            var minuteInstant = Date(
                timeIntervalSince1970: (start.timeIntervalSince1970 / 60).rounded(.down) * 60 - 3 * 3600
            )
            let horizon = start.addingTimeInterval(2 * 86_400)
            while minuteInstant <= horizon {
                let local = calendar.dateComponents(
                    [.year, .month, .day, .hour, .minute, .weekday],
                    from: minuteInstant
                )
                let firstTime = seen.insert(local).inserted
                if firstTime, minuteInstant > start, minute.values.contains(local.minute!),
                    hour.values.contains(local.hour!), month.values.contains(local.month!),
                    day.values.contains(byDayOfMonth ? local.day! : local.weekday!)
                {
                    expected = minuteInstant
                    break
                }
                minuteInstant.addTimeInterval(60)
            }

            let actual = try ScheduleExpression(parsing: text).nextFire(after: start, timeZone: zone(zoneName))
            if let expected {
                #expect(actual == expected, "\(text) in \(zoneName) after \(iso(start)!)")
            } else {
                #expect(actual.map { $0 > horizon } ?? true, "\(text) in \(zoneName) after \(iso(start)!)")
            }
        }
    }
}
