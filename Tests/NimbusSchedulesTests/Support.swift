import Foundation
import NimbusSchedules
import Testing

/// An instant written in ISO 8601 with its offset ("2024-03-10T07:00:00Z", "2024-03-10T03:00:00-04:00").
func instant(_ text: String) -> Date {
    guard let date = ISO8601DateFormatter().date(from: text) else {
        Issue.record("not an ISO 8601 instant: \(text)")
        return Date(timeIntervalSince1970: 0)
    }
    return date
}

/// An instant in UTC, "2024-03-10T07:00:00Z", for readable comparisons.
func iso(_ date: Date?) -> String? {
    date.map { ISO8601DateFormatter().string(from: $0) }
}

func zone(_ identifier: String) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else {
        Issue.record("unknown time zone \(identifier)")
        return .gmt
    }
    return zone
}

/// The next firing of `expression` strictly after `after`, in UTC ISO 8601, or nil.
func next(_ expression: String, after: String, in zoneName: String = "UTC", anchor: String? = nil) throws -> String? {
    let parsed = try ScheduleExpression(parsing: expression)
    return iso(parsed.nextFire(after: instant(after), timeZone: zone(zoneName), anchor: anchor.map(instant)))
}

/// The first `count` firings after `after`, each searched from the one before.
func firings(_ expression: String, after: String, in zoneName: String = "UTC", count: Int) throws -> [String] {
    let parsed = try ScheduleExpression(parsing: expression)
    var results: [String] = []
    var from = instant(after)
    for _ in 0..<count {
        guard let fire = parsed.nextFire(after: from, timeZone: zone(zoneName)) else { break }
        results.append(iso(fire) ?? "")
        from = fire
    }
    return results
}
