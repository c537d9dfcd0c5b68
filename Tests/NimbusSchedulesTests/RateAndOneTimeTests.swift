import Foundation
import NimbusSchedules
import Testing

/// rate() counts elapsed time from its anchor; at() fires once.
@Suite struct RateAndOneTimeTests {
    @Test func rateFiresAtAnchorPlusWholePeriods() throws {
        let anchor = "2024-01-01T00:00:00Z"
        #expect(try next("rate(5 minutes)", after: "2024-01-01T00:00:00Z", anchor: anchor) == "2024-01-01T00:05:00Z")
        #expect(try next("rate(5 minutes)", after: "2024-01-01T00:07:00Z", anchor: anchor) == "2024-01-01T00:10:00Z")
        #expect(try next("rate(5 minutes)", after: "2024-01-01T00:10:00Z", anchor: anchor) == "2024-01-01T00:15:00Z")
        #expect(try next("rate(1 hour)", after: "2024-01-03T07:59:59Z", anchor: anchor) == "2024-01-03T08:00:00Z")
        #expect(try next("rate(3 days)", after: "2024-01-05T00:00:00Z", anchor: anchor) == "2024-01-07T00:00:00Z")
    }

    /// k ≥ 1: the anchor itself is not a firing, even when searching from before it.
    @Test func rateNeverFiresAtOrBeforeItsAnchor() throws {
        #expect(
            try next("rate(5 minutes)", after: "2023-12-31T00:00:00Z", anchor: "2024-01-01T00:00:00Z")
                == "2024-01-01T00:05:00Z"
        )
        #expect(
            try next("rate(1 minute)", after: "2024-01-01T00:00:00Z", anchor: "2024-01-01T00:00:00Z")
                == "2024-01-01T00:01:00Z"
        )
    }

    @Test func rateWithoutAnAnchorCountsFromTheInstant() throws {
        #expect(try next("rate(5 minutes)", after: "2024-01-01T00:07:13Z") == "2024-01-01T00:12:13Z")
    }

    /// Anchors keep their sub-second part (a rule created at 12:00:00.250 fires at 12:05:00.250, 12:10:00.250 …).
    @Test func rateKeepsTheAnchorsFraction() throws {
        let rate = try ScheduleExpression(parsing: "rate(5 minutes)")
        let anchor = instant("2024-01-01T12:00:00Z").addingTimeInterval(0.25)
        let fire = try #require(rate.nextFire(after: instant("2024-01-01T12:07:00Z"), anchor: anchor))
        #expect(fire.timeIntervalSince(anchor) == 600)
        let exactlyThen = try #require(rate.nextFire(after: fire, anchor: anchor))
        #expect(exactlyThen.timeIntervalSince(anchor) == 900)
    }

    /// AWS: a days rate is evaluated "24 hours after the schedule's last invocation" whatever daylight saving does;
    /// the time zone is ignored.
    @Test func rateIgnoresDaylightSaving() throws {
        let anchor = "2024-03-09T12:00:00Z"
        #expect(
            try next("rate(1 day)", after: anchor, in: "America/New_York", anchor: anchor) == "2024-03-10T12:00:00Z"
        )
        #expect(try next("rate(1 day)", after: anchor, in: "UTC", anchor: anchor) == "2024-03-10T12:00:00Z")
    }

    @Test func rateLongAfterItsAnchor() throws {
        // 2024-01-01 + 1,000,000 minutes = 2025-11-26T10:40:00Z.
        #expect(
            try next("rate(1 minute)", after: "2025-11-26T10:39:30Z", anchor: "2024-01-01T00:00:00Z")
                == "2025-11-26T10:40:00Z"
        )
        #expect(try next("rate(2147483647 days)", after: "2024-01-01T00:00:00Z", anchor: "2024-01-01T00:00:00Z") != nil)
    }

    @Test func atFiresOnceAtItsTime() throws {
        let once = "at(2022-11-20T13:00:00)"
        #expect(try next(once, after: "2022-11-01T00:00:00Z") == "2022-11-20T13:00:00Z")
        #expect(try next(once, after: "2022-11-20T12:59:59Z") == "2022-11-20T13:00:00Z")
        #expect(try next(once, after: "2022-11-20T13:00:00Z") == nil)
        #expect(try next(once, after: "2030-01-01T00:00:00Z") == nil)
        #expect(try next("at(2025-01-31T15:59:42)", after: "2025-01-01T00:00:00Z") == "2025-01-31T15:59:42Z")
        // The anchor means nothing to at().
        #expect(try next(once, after: "2022-11-01T00:00:00Z", anchor: "2022-11-20T14:00:00Z") == "2022-11-20T13:00:00Z")
    }
}
