import Foundation
import NimbusSchedules
import Testing

/// Next firings of cron expressions in UTC (EventBridge rules), with dates checked against a calendar by hand:
/// month ends, leap days, `L`, `W`, `#`, steps, ranges, lists, wrap-around, the year field and its end.
@Suite struct CronNextFireTests {
    // MARK: The basics

    @Test func firesStrictlyAfterTheInstant() throws {
        #expect(try next("cron(0 10 * * ? *)", after: "2024-01-01T09:59:59Z") == "2024-01-01T10:00:00Z")
        #expect(try next("cron(0 10 * * ? *)", after: "2024-01-01T10:00:00Z") == "2024-01-02T10:00:00Z")
        let justBefore = instant("2024-01-01T10:00:00Z").addingTimeInterval(-0.5)
        let expression = try ScheduleExpression(parsing: "cron(0 10 * * ? *)")
        #expect(iso(expression.nextFire(after: justBefore)) == "2024-01-01T10:00:00Z")
        let justAfter = instant("2024-01-01T10:00:00Z").addingTimeInterval(0.5)
        #expect(iso(expression.nextFire(after: justAfter)) == "2024-01-02T10:00:00Z")
    }

    @Test func everyMinute() throws {
        #expect(
            try firings("cron(* * * * ? *)", after: "2024-12-31T23:58:30Z", count: 3) == [
                "2024-12-31T23:59:00Z", "2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z",
            ]
        )
    }

    /// The cron reference's examples, from a Wednesday (2024-09-11).
    @Test func awsDocumentedExamples() throws {
        let from = "2024-09-11T12:30:00Z"
        #expect(try next("cron(0 10 * * ? *)", after: from) == "2024-09-12T10:00:00Z")
        #expect(try next("cron(15 12 * * ? *)", after: from) == "2024-09-12T12:15:00Z")
        #expect(try next("cron(0 18 ? * MON-FRI *)", after: from) == "2024-09-11T18:00:00Z")
        #expect(try next("cron(0 8 1 * ? *)", after: from) == "2024-10-01T08:00:00Z")
        #expect(try next("cron(0/15 * * * ? *)", after: from) == "2024-09-11T12:45:00Z")
        #expect(try next("cron(0/10 * ? * MON-FRI *)", after: from) == "2024-09-11T12:40:00Z")
        #expect(try next("cron(0/5 8-17 ? * MON-FRI *)", after: "2024-09-13T17:55:00Z") == "2024-09-16T08:00:00Z")
        #expect(try next("cron(0 9 ? * 2#1 *)", after: from) == "2024-10-07T09:00:00Z")
        #expect(try next("cron(0 0/4 * * ? *)", after: "2024-01-01T21:00:00Z") == "2024-01-02T00:00:00Z")
    }

    /// AWS: "Run every 30 minutes Monday through Friday between 10:00 PM on the starting day to 2:00 AM on the
    /// following day … Runs from 12:00 AM to 2:00 AM on Monday morning." The hours wrap; the weekday applies to each
    /// calendar day, so Saturday's early hours do not fire and Monday's do.
    @Test func wrapAroundHoursFromTheDocs() throws {
        #expect(
            try firings("cron(0/30 20-2 ? * MON-FRI *)", after: "2024-09-13T23:45:00Z", count: 7) == [
                "2024-09-16T00:00:00Z", "2024-09-16T00:30:00Z", "2024-09-16T01:00:00Z", "2024-09-16T01:30:00Z",
                "2024-09-16T02:00:00Z", "2024-09-16T02:30:00Z", "2024-09-16T20:00:00Z",
            ]
        )
    }

    @Test func wrapAroundWeekdaysAndMonths() throws {
        // FRI-MON is Friday, Saturday, Sunday, Monday; 2024-09-10 is a Tuesday.
        #expect(try next("cron(0 1 ? * FRI-MON *)", after: "2024-09-10T00:00:00Z") == "2024-09-13T01:00:00Z")
        #expect(try next("cron(0 1 ? * FRI-MON *)", after: "2024-09-16T01:00:00Z") == "2024-09-20T01:00:00Z")
        #expect(try next("cron(0 0 1 NOV-FEB ? *)", after: "2024-03-15T00:00:00Z") == "2024-11-01T00:00:00Z")
        #expect(try next("cron(0 0 1 NOV-FEB ? *)", after: "2025-02-01T00:00:00Z") == "2025-11-01T00:00:00Z")
        #expect(try next("cron(50-10 0 1 1 ? *)", after: "2024-01-01T00:10:00Z") == "2024-01-01T00:50:00Z")
    }

    // MARK: Steps, ranges, lists

    @Test func stepsCountFromTheirStart() throws {
        // AWS: "1/10 … every tenth minute, starting from the first minute of the hour (the 11th, 21st, 31st …)".
        #expect(
            try firings("cron(1/10 * * * ? *)", after: "2024-01-01T10:45:00Z", count: 3) == [
                "2024-01-01T10:51:00Z", "2024-01-01T11:01:00Z", "2024-01-01T11:11:00Z",
            ]
        )
        #expect(
            try firings("cron(10-20/5 3 * * ? *)", after: "2024-01-01T00:00:00Z", count: 4).map { $0.suffix(9) } == [
                "03:10:00Z", "03:15:00Z", "03:20:00Z", "03:10:00Z",
            ]
        )
        #expect(try next("cron(*/20 * * * ? *)", after: "2024-01-01T10:41:00Z") == "2024-01-01T11:00:00Z")
        // A step wider than the field leaves just the start.
        #expect(try next("cron(5/100 * * * ? *)", after: "2024-01-01T10:06:00Z") == "2024-01-01T11:05:00Z")
        // Day steps: 2/10 is the 2nd, 12th, 22nd.
        #expect(
            try firings("cron(0 0 2/10 * ? *)", after: "2024-02-22T00:00:00Z", count: 2) == [
                "2024-03-02T00:00:00Z", "2024-03-12T00:00:00Z",
            ]
        )
        // Weekday steps: 2/2 is Monday, Wednesday, Friday. 2024-09-11 is a Wednesday.
        #expect(
            try firings("cron(0 0 ? * 2/2 *)", after: "2024-09-11T00:00:00Z", count: 3) == [
                "2024-09-13T00:00:00Z", "2024-09-16T00:00:00Z", "2024-09-18T00:00:00Z",
            ]
        )
    }

    /// pyawscron#61: `1/10,2,3/8` in day-of-month is days 1, 11, 21, 31, 2, 3, 11, 19, 27.
    @Test func listsOfStepsAndValues() throws {
        #expect(
            try firings("cron(0 0 1/10,2,3/8 * ? *)", after: "2024-04-20T00:00:00Z", count: 6) == [
                "2024-04-21T00:00:00Z", "2024-04-27T00:00:00Z", "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z",
                "2024-05-03T00:00:00Z", "2024-05-11T00:00:00Z",
            ]
        )
        #expect(
            try firings("cron(0,30 9,17 * * ? *)", after: "2024-01-01T09:15:00Z", count: 4) == [
                "2024-01-01T09:30:00Z", "2024-01-01T17:00:00Z", "2024-01-01T17:30:00Z", "2024-01-02T09:00:00Z",
            ]
        )
    }

    // MARK: Month ends and leap days

    @Test func dayThirtyOneSkipsShortMonths() throws {
        #expect(try next("cron(0 0 31 * ? *)", after: "2024-04-15T00:00:00Z") == "2024-05-31T00:00:00Z")
        #expect(try next("cron(0 0 31 * ? *)", after: "2024-01-31T00:00:00Z") == "2024-03-31T00:00:00Z")
        #expect(try next("cron(0 0 30 * ? *)", after: "2024-01-30T00:00:00Z") == "2024-03-30T00:00:00Z")
    }

    @Test func leapDay() throws {
        #expect(try next("cron(0 0 29 2 ? *)", after: "2024-03-01T00:00:00Z") == "2028-02-29T00:00:00Z")
        #expect(try next("cron(0 0 29 2 ? *)", after: "2024-02-28T23:59:00Z") == "2024-02-29T00:00:00Z")
        // 2100 is not a leap year (divisible by 100, not by 400); 2000 was.
        #expect(try next("cron(0 0 29 2 ? *)", after: "2096-03-01T00:00:00Z") == "2104-02-29T00:00:00Z")
        #expect(try next("cron(0 0 29 2 ? *)", after: "1999-03-01T00:00:00Z") == "2000-02-29T00:00:00Z")
        #expect(try next("cron(0 0 29 2 ? 2025-2027)", after: "2024-03-01T00:00:00Z") == nil)
    }

    @Test func lastDayOfMonth() throws {
        #expect(try next("cron(0 12 L * ? *)", after: "2024-02-10T00:00:00Z") == "2024-02-29T12:00:00Z")
        #expect(try next("cron(0 12 L * ? *)", after: "2023-02-10T00:00:00Z") == "2023-02-28T12:00:00Z")
        #expect(try next("cron(0 12 L * ? *)", after: "2024-02-29T12:00:00Z") == "2024-03-31T12:00:00Z")
        #expect(try next("cron(0 12 L * ? *)", after: "2024-04-01T00:00:00Z") == "2024-04-30T12:00:00Z")
        // L-2: two days before the last.
        #expect(try next("cron(0 0 L-2 * ? *)", after: "2024-02-01T00:00:00Z") == "2024-02-27T00:00:00Z")
        #expect(try next("cron(0 0 L-2 * ? *)", after: "2023-02-01T00:00:00Z") == "2023-02-26T00:00:00Z")
    }

    // MARK: W, LW, #, nL

    /// `nW`: the Monday-to-Friday nearest day n, never leaving the month (Quartz's rule, which AWS's "3W specifies
    /// the weekday closest to the third day of the month" follows).
    @Test func nearestWeekday() throws {
        // 2024-06-15 is a Saturday: the Friday before.
        #expect(try next("cron(0 9 15W * ? *)", after: "2024-06-01T00:00:00Z") == "2024-06-14T09:00:00Z")
        // 2024-09-15 is a Sunday: the Monday after.
        #expect(try next("cron(0 9 15W * ? *)", after: "2024-09-01T00:00:00Z") == "2024-09-16T09:00:00Z")
        // 2024-10-15 is a Tuesday: itself.
        #expect(try next("cron(0 9 15W * ? *)", after: "2024-10-01T00:00:00Z") == "2024-10-15T09:00:00Z")
        // 2024-06-01 is a Saturday, but the Friday before is in May: Monday the 3rd.
        #expect(try next("cron(0 9 1W * ? *)", after: "2024-05-15T00:00:00Z") == "2024-06-03T09:00:00Z")
        // 2024-03-31 is a Sunday, but the Monday after is in April: Friday the 29th.
        #expect(try next("cron(0 9 31W * ? *)", after: "2024-03-01T00:00:00Z") == "2024-03-29T09:00:00Z")
        // 2024-06-30 is a Sunday and the last day: Friday the 28th.
        #expect(try next("cron(0 9 30W * ? *)", after: "2024-06-01T00:00:00Z") == "2024-06-28T09:00:00Z")
        // A month without day 31 has no 31W; 2024-05-31 is a Friday.
        #expect(try next("cron(0 9 31W * ? *)", after: "2024-04-01T00:00:00Z") == "2024-05-31T09:00:00Z")
    }

    @Test func lastWeekdayOfMonth() throws {
        // 2024-08-31 is a Saturday: Friday the 30th.
        #expect(try next("cron(0 9 LW * ? *)", after: "2024-08-01T00:00:00Z") == "2024-08-30T09:00:00Z")
        // 2024-03-31 is a Sunday: Friday the 29th.
        #expect(try next("cron(0 9 LW * ? *)", after: "2024-03-01T00:00:00Z") == "2024-03-29T09:00:00Z")
        // 2024-10-31 is a Thursday: itself.
        #expect(try next("cron(0 9 LW * ? *)", after: "2024-10-01T00:00:00Z") == "2024-10-31T09:00:00Z")
    }

    @Test func nthWeekdayOfMonth() throws {
        // The third Friday: September 2024's Fridays are the 6th, 13th, 20th, 27th.
        #expect(try next("cron(0 10 ? * 6#3 *)", after: "2024-09-01T00:00:00Z") == "2024-09-20T10:00:00Z")
        #expect(try next("cron(0 10 ? * FRI#3 *)", after: "2024-09-20T10:00:00Z") == "2024-10-18T10:00:00Z")
        // A fifth Tuesday: September 2024 has four; October's are 1, 8, 15, 22, 29.
        #expect(try next("cron(0 0 ? * 3#5 *)", after: "2024-09-01T00:00:00Z") == "2024-10-29T00:00:00Z")
    }

    @Test func lastWeekdayOccurrence() throws {
        // 6L: the last Friday. December 2022's is the 30th, and the years stop at 2022.
        #expect(try next("cron(15 10 ? * 6L 2019-2022)", after: "2022-12-01T00:00:00Z") == "2022-12-30T10:15:00Z")
        #expect(try next("cron(15 10 ? * 6L 2019-2022)", after: "2022-12-30T10:15:00Z") == nil)
        #expect(try next("cron(15 10 ? * 6L 2019-2022)", after: "2018-06-01T00:00:00Z") == "2019-01-25T10:15:00Z")
        // 2L: the last Monday; September 2024's is the 30th.
        #expect(try next("cron(0 0 ? * 2L *)", after: "2024-09-24T00:00:00Z") == "2024-09-30T00:00:00Z")
    }

    /// AWS: "The L wildcard in the … Day-of-week field specifies the last day of the … week", Saturday.
    @Test func bareLInDayOfWeekIsSaturday() throws {
        #expect(
            try firings("cron(0 12 ? * L *)", after: "2024-09-09T00:00:00Z", count: 2) == [
                "2024-09-14T12:00:00Z", "2024-09-21T12:00:00Z",
            ]
        )
    }

    @Test func weekdayNumberingStartsOnSunday() throws {
        // 1 = SUN … 7 = SAT; 2024-09-15 is a Sunday.
        #expect(try next("cron(0 0 ? * 1 *)", after: "2024-09-10T00:00:00Z") == "2024-09-15T00:00:00Z")
        #expect(try next("cron(0 0 ? * SUN *)", after: "2024-09-10T00:00:00Z") == "2024-09-15T00:00:00Z")
        #expect(try next("cron(0 0 ? * 7 *)", after: "2024-09-10T00:00:00Z") == "2024-09-14T00:00:00Z")
    }

    // MARK: Years

    @Test func yearField() throws {
        #expect(try next("cron(0 0 1 1 ? 2030)", after: "2024-06-01T00:00:00Z") == "2030-01-01T00:00:00Z")
        #expect(try next("cron(0 0 1 1 ? 2030)", after: "2030-01-01T00:00:00Z") == nil)
        #expect(try next("cron(0 0 1 1 ? 2025/5)", after: "2025-01-01T00:00:00Z") == "2030-01-01T00:00:00Z")
        #expect(try next("cron(0 0 1 1 ? 2026,2024)", after: "2024-01-01T00:00:00Z") == "2026-01-01T00:00:00Z")
        #expect(try next("cron(5 4 ? * * 2026-2027)", after: "2024-06-01T00:00:00Z") == "2026-01-01T04:05:00Z")
    }

    @Test func theCalendarEndsIn2199() throws {
        #expect(try next("cron(59 23 31 12 ? *)", after: "2199-12-31T23:58:00Z") == "2199-12-31T23:59:00Z")
        #expect(try next("cron(59 23 31 12 ? *)", after: "2199-12-31T23:59:00Z") == nil)
        #expect(try next("cron(0 0 * * ? *)", after: "2250-01-01T00:00:00Z") == nil)
    }

    @Test func instantsBefore1970StartIn1970() throws {
        #expect(try next("cron(0 0 1 1 ? *)", after: "1960-05-01T00:00:00Z") == "1970-01-01T00:00:00Z")
        #expect(try next("cron(30 6 * * ? *)", after: "1969-12-31T12:00:00Z") == "1970-01-01T06:30:00Z")
    }

    /// An expression that never fires (no 30 February) is searched field by field, not minute by minute: one pass
    /// over the months to 2199 answers quickly.
    @Test func anExpressionThatNeverFiresAnswersNilQuickly() throws {
        let never = try ScheduleExpression(parsing: "cron(* * 30 2 ? *)")
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(never.nextFire(after: instant("1970-01-01T00:00:00Z")) == nil)
            #expect(never.nextFire(after: instant("2024-01-01T00:00:00Z"), timeZone: zone("America/New_York")) == nil)
        }
        #expect(elapsed < .seconds(2))
    }
}
