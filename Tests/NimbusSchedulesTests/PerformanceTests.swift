import Foundation
import NimbusSchedules
import Testing

/// The search is field-wise: a next firing costs a few day tests and a bisection of one day's times, not a walk
/// over minutes. Bounds are loose (debug builds, a shared 2-core machine); the point is the order of magnitude.
@Suite struct PerformanceTests {
    static let newYork = zone("America/New_York")

    func time(_ expression: String, in zone: TimeZone, calls: Int) throws -> Duration {
        let parsed = try ScheduleExpression(parsing: expression)
        var from = instant("2024-03-09T00:00:00Z")
        return ContinuousClock().measure {
            for _ in 0..<calls {
                from = parsed.nextFire(after: from, timeZone: zone) ?? from
            }
        }
    }

    @Test func everyMinuteInAZoneWithDaylightSaving() throws {
        // 2,000 consecutive firings through the March transition.
        #expect(try time("cron(* * * * ? *)", in: Self.newYork, calls: 2_000) < .seconds(1))
    }

    @Test func sparseExpressions() throws {
        // Each search crosses months or years of non-matching days.
        #expect(try time("cron(0 0 29 2 ? *)", in: Self.newYork, calls: 40) < .seconds(1))
        #expect(try time("cron(0 12 ? * 6#5 *)", in: Self.newYork, calls: 200) < .seconds(1))
        #expect(try time("cron(0 9 LW * ? *)", in: .gmt, calls: 1_000) < .seconds(1))
    }
}
