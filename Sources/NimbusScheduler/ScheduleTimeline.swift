import Foundation
import NimbusSchedules

/// When a schedule's occurrences fall: its expression evaluated by the one calculator (``ScheduleExpression``, with
/// the time zone's daylight-saving rules), bounded by its start and end dates. Times are milliseconds since the epoch.
///
/// As EventBridge Scheduler documents them:
/// - `rate(...)` counts from `StartDate`, or from the schedule's creation when it has none, and its first occurrence
///   is that instant itself ("if you do not provide a StartDate for a rate-based schedule, your schedule starts
///   invoking the target immediately"), then every period.
/// - `cron(...)` fires at the local times it names in the time zone, from `StartDate` on.
/// - `at(...)` fires once, at that local time; `StartDate` and `EndDate` do not apply to it.
/// - Nothing fires at or after `EndDate`.
struct ScheduleTimeline: Sendable {
    let expression: ScheduleExpression
    let timeZone: TimeZone
    let startMillis: Int64?
    let endMillis: Int64?
    /// Where a rate schedule counts from.
    let anchorMillis: Int64

    var isOneTime: Bool { self.expression.isOneTime }

    init(
        expression: ScheduleExpression,
        timeZone: TimeZone,
        startMillis: Int64?,
        endMillis: Int64?,
        createdMillis: Int64
    ) {
        self.expression = expression
        self.timeZone = timeZone
        self.startMillis = startMillis
        self.endMillis = endMillis
        self.anchorMillis = startMillis ?? createdMillis
    }

    /// The timeline of a validated definition; nil when its expression or time zone no longer parses (a definition
    /// stored by another version): such a schedule never fires.
    init?(_ definition: ScheduleDefinition) {
        guard let expression = try? ScheduleExpression(parsing: definition.expression),
            let zone = TimeZone(identifier: definition.timeZone ?? "UTC")
        else { return nil }
        self.init(
            expression: expression,
            timeZone: zone,
            startMillis: definition.startMillis,
            endMillis: definition.endMillis,
            createdMillis: definition.createdMillis
        )
    }

    /// The first occurrence at or after `instant` within the schedule's dates; nil when none is left.
    func first(atOrAfter instant: Int64) -> Int64? {
        if self.expression.isOneTime {
            return self.fire(after: instant - 1, anchor: nil)
        }
        let candidate: Int64?
        if self.expression.isRate {
            candidate =
                self.anchorMillis >= instant
                ? self.anchorMillis : self.fire(after: instant - 1, anchor: self.anchorMillis)
        } else {
            candidate = self.fire(after: max(instant, self.startMillis ?? instant) - 1, anchor: nil)
        }
        guard let candidate else { return nil }
        if let end = self.endMillis, candidate >= end { return nil }
        return candidate
    }

    func fire(after millis: Int64, anchor: Int64?) -> Int64? {
        let next = self.expression.nextFire(
            after: Self.date(millis),
            timeZone: self.timeZone,
            anchor: anchor.map(Self.date)
        )
        return next.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }

    static func date(_ millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }
}
