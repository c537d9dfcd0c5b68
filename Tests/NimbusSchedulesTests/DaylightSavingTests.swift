import Foundation
import NimbusSchedules
import Testing

/// Cron and at() in IANA zones across daylight-saving transitions, as AWS documents for Scheduler (re:Post
/// "eventbridge-scheduler-adjust-dst"): a local time the clocks jump over does not fire, a local time that happens
/// twice fires once, at its first occurrence.
///
/// 2024 transitions used: America/New_York springs forward on 10 March at 02:00 EST (07:00Z) to 03:00 EDT and falls
/// back on 3 November at 02:00 EDT (06:00Z) to 01:00 EST; Europe/London springs forward on 31 March at 01:00 GMT
/// (01:00Z) to 02:00 BST and falls back on 27 October at 02:00 BST (01:00Z) to 01:00 GMT.
@Suite struct DaylightSavingTests {
    static let newYork = "America/New_York"
    static let london = "Europe/London"

    @Test func localTimesFollowTheOffsetOfTheirDay() throws {
        // Noon in New York is 17:00Z in winter and 16:00Z in summer.
        #expect(
            try firings("cron(0 12 * * ? *)", after: "2024-03-09T00:00:00Z", in: Self.newYork, count: 2) == [
                "2024-03-09T17:00:00Z", "2024-03-10T16:00:00Z",
            ]
        )
        #expect(
            try firings("cron(0 12 * * ? *)", after: "2024-11-02T00:00:00Z", in: Self.newYork, count: 2) == [
                "2024-11-02T16:00:00Z", "2024-11-03T17:00:00Z",
            ]
        )
        #expect(try next("cron(0 9 * * ? *)", after: "2024-07-01T00:00:00Z", in: Self.london) == "2024-07-01T08:00:00Z")
        #expect(try next("cron(0 9 * * ? *)", after: "2024-12-01T00:00:00Z", in: Self.london) == "2024-12-01T09:00:00Z")
    }

    // MARK: Spring forward: the skipped hour

    @Test func aDailyTimeInsideTheGapIsSkippedThatDay() throws {
        // 02:30 does not exist in New York on 10 March 2024: 9 March 02:30 EST, then 11 March 02:30 EDT.
        #expect(
            try firings("cron(30 2 * * ? *)", after: "2024-03-08T12:00:00Z", in: Self.newYork, count: 2) == [
                "2024-03-09T07:30:00Z", "2024-03-11T06:30:00Z",
            ]
        )
        // 01:30 does not exist in London on 31 March 2024.
        #expect(
            try firings("cron(30 1 * * ? *)", after: "2024-03-30T00:00:00Z", in: Self.london, count: 2) == [
                "2024-03-30T01:30:00Z", "2024-04-01T00:30:00Z",
            ]
        )
        // The gap's first minute is skipped as well; the first minute after it exists.
        #expect(
            try next("cron(0 2 * * ? *)", after: "2024-03-09T12:00:00Z", in: Self.newYork) == "2024-03-11T06:00:00Z"
        )
        #expect(
            try next("cron(0 3 * * ? *)", after: "2024-03-09T12:00:00Z", in: Self.newYork) == "2024-03-10T07:00:00Z"
        )
    }

    @Test func subDailySchedulesResumeAfterTheGap() throws {
        #expect(
            try firings("cron(0/30 * * * ? *)", after: "2024-03-10T06:15:00Z", in: Self.newYork, count: 3) == [
                "2024-03-10T06:30:00Z",  // 01:30 EST
                "2024-03-10T07:00:00Z",  // 03:00 EDT: 02:00 and 02:30 never happened
                "2024-03-10T07:30:00Z",  // 03:30 EDT
            ]
        )
        #expect(
            try firings("cron(0 * * * ? *)", after: "2024-03-31T00:30:00Z", in: Self.london, count: 2) == [
                "2024-03-31T01:00:00Z",  // 02:00 BST: 01:00 GMT never happened
                "2024-03-31T02:00:00Z",
            ]
        )
    }

    // MARK: Fall back: the doubled hour

    @Test func aDailyTimeInsideTheOverlapFiresOnceAtItsFirstOccurrence() throws {
        // 01:30 happens at 05:30Z (EDT) and 06:30Z (EST) on 3 November: only the first fires.
        #expect(
            try firings("cron(30 1 * * ? *)", after: "2024-11-02T12:00:00Z", in: Self.newYork, count: 2) == [
                "2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z",
            ]
        )
        // Searching from between the two occurrences finds the next day, not the repeat.
        #expect(
            try next("cron(30 1 * * ? *)", after: "2024-11-03T06:00:00Z", in: Self.newYork) == "2024-11-04T06:30:00Z"
        )
        #expect(
            try firings("cron(30 1 * * ? *)", after: "2024-10-26T12:00:00Z", in: Self.london, count: 2) == [
                "2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z",
            ]
        )
    }

    @Test func subDailySchedulesDoNotRepeatTheDoubledHour() throws {
        #expect(
            try firings("cron(0/15 * * * ? *)", after: "2024-11-03T05:30:00Z", in: Self.newYork, count: 3) == [
                "2024-11-03T05:45:00Z",  // 01:45 EDT
                "2024-11-03T07:00:00Z",  // 02:00 EST: 01:00-01:45 EST are repeats
                "2024-11-03T07:15:00Z",
            ]
        )
        // From inside the second pass of the doubled hour.
        #expect(
            try next("cron(0/15 * * * ? *)", after: "2024-11-03T06:10:00Z", in: Self.newYork) == "2024-11-03T07:00:00Z"
        )
        #expect(
            try firings("cron(0 * * * ? *)", after: "2024-10-26T23:30:00Z", in: Self.london, count: 3) == [
                "2024-10-27T00:00:00Z",  // 01:00 BST
                "2024-10-27T02:00:00Z",  // 02:00 GMT: 01:00 GMT is a repeat
                "2024-10-27T03:00:00Z",
            ]
        )
    }

    // MARK: at()

    @Test func atIsALocalTime() throws {
        #expect(
            try next("at(2025-06-01T09:00:00)", after: "2025-01-01T00:00:00Z", in: Self.london)
                == "2025-06-01T08:00:00Z"
        )
        #expect(
            try next("at(2025-12-01T09:00:00)", after: "2025-01-01T00:00:00Z", in: Self.newYork)
                == "2025-12-01T14:00:00Z"
        )
    }

    /// AWS documents nothing for an at() inside a gap; skipping it would mean a one-time schedule that never fires.
    @Test func atInsideTheGapFiresWhenTheClocksJump() throws {
        #expect(
            try next("at(2024-03-10T02:30:00)", after: "2024-03-01T00:00:00Z", in: Self.newYork)
                == "2024-03-10T07:00:00Z"
        )
        #expect(
            try next("at(2024-03-31T01:59:59)", after: "2024-03-01T00:00:00Z", in: Self.london)
                == "2024-03-31T01:00:00Z"
        )
    }

    @Test func atInsideTheOverlapFiresAtTheFirstOccurrenceOnly() throws {
        #expect(
            try next("at(2024-11-03T01:30:00)", after: "2024-11-01T00:00:00Z", in: Self.newYork)
                == "2024-11-03T05:30:00Z"
        )
        #expect(try next("at(2024-11-03T01:30:00)", after: "2024-11-03T05:30:00Z", in: Self.newYork) == nil)
    }

    // MARK: Zones far from UTC

    @Test func zonesAheadOfAndBehindUTC() throws {
        // Pacific/Kiritimati is UTC+14, Pacific/Pago_Pago UTC-11: the local date differs from the UTC date.
        #expect(
            try next("cron(0 0 1 * ? *)", after: "2024-05-31T00:00:00Z", in: "Pacific/Kiritimati")
                == "2024-05-31T10:00:00Z"
        )
        #expect(
            try next("cron(0 23 L * ? *)", after: "2024-05-31T00:00:00Z", in: "Pacific/Pago_Pago")
                == "2024-06-01T10:00:00Z"
        )
        // Asia/Kolkata is UTC+05:30: 05:30 local is midnight UTC.
        #expect(
            try next("cron(30 5 * * ? *)", after: "2024-01-01T00:00:00Z", in: "Asia/Kolkata") == "2024-01-02T00:00:00Z"
        )
    }

    /// Samoa skipped 30 December 2011 entirely (UTC-10 to UTC+14): that day's firings never happen.
    @Test func aWholeSkippedDay() throws {
        #expect(
            try firings("cron(0 12 * * ? *)", after: "2011-12-29T00:00:00Z", in: "Pacific/Apia", count: 2) == [
                "2011-12-29T22:00:00Z",  // 29 December 12:00 at UTC-10
                "2011-12-30T22:00:00Z",  // 31 December 12:00 at UTC+14
            ]
        )
    }
}
