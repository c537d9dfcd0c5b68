import Foundation

/// Turns local wall-clock times of one time zone into instants, telling apart the three cases daylight saving
/// creates: a local time that happens once, one that happens twice (the clocks went back), and one that never happens
/// (the clocks went forward over it).
///
/// Local times are "naive" seconds: the local date and time counted as if the zone were UTC
/// (`daysSinceEpoch * 86_400 + secondOfDay`). Instants are seconds since 1970 UTC. Only `TimeZone.secondsFromGMT(for:)`
/// is consulted, which every Foundation answers the same way from the IANA database.
struct WallClock {
    let timeZone: TimeZone
    /// UTC and GMT never change offset: no lookups at all (EventBridge rules always evaluate in UTC).
    private let isUTC: Bool

    /// No zone is further than this from UTC (Pacific/Kiritimati is +14:00, Etc/GMT+12 is -12:00), with a margin.
    static let maximumOffset = 15 * 3600

    init(_ timeZone: TimeZone) {
        self.timeZone = timeZone
        self.isUTC = ["GMT", "UTC", "Etc/UTC", "Etc/GMT", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu"]
            .contains(timeZone.identifier)
    }

    /// The zone's offset from UTC at an instant, in seconds.
    func offset(at instant: Int64) -> Int64 {
        if isUTC { return 0 }
        return Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
    }

    /// The local (naive) time the clock shows at an instant.
    func localTime(at instant: Int64) -> Int64 {
        instant + offset(at: instant)
    }

    /// The first instant at which the clock shows `local`, or nil when it never does (a spring-forward gap).
    ///
    /// A local time happens at `local - o` for every offset `o` the zone uses around then with
    /// `offset(at: local - o) == o`. The instants showing `local` all lie within a day of it, so the offsets in force
    /// a day before, at, and a day after cover every transition near it (transitions are weeks apart in practice).
    func firstOccurrence(of local: Int64) -> Int64? {
        if isUTC { return local }
        var first: Int64?
        for probe in [local - 86_400, local, local + 86_400] {
            let candidateOffset = offset(at: probe)
            let instant = local - candidateOffset
            if offset(at: instant) == candidateOffset, first.map({ instant < $0 }) ?? true {
                first = instant
            }
        }
        return first
    }

    /// The first instant at which the clock shows a time later than `local`: for a local time inside a
    /// spring-forward gap, the moment the clocks jumped over it (02:30 in a 02:00→03:00 gap gives 03:00).
    func firstInstant(after local: Int64) -> Int64 {
        // The clock shows less than `local` at `low` and more than `local` at `high`, whatever the offset.
        var low = local - Int64(Self.maximumOffset) - 1
        var high = local + Int64(Self.maximumOffset) + 1
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if localTime(at: middle) > local { high = middle } else { low = middle }
        }
        return high
    }

    /// Where a local time falls on the instant line, for ordering: its first occurrence, or the end of the gap
    /// swallowing it. Never decreasing as `local` grows, which lets the cron search bisect a day's times.
    func orderingInstant(of local: Int64) -> Int64 {
        firstOccurrence(of: local) ?? firstInstant(after: local)
    }
}
