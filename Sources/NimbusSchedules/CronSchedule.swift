/// AWS's six-field cron expression (`minutes hours day-of-month month day-of-week year`), parsed into tables, and
/// the search for its next firing.
///
/// Grammar (EventBridge's "Cron expressions reference", which Scheduler's "Schedule types" page shares): minutes 0-59,
/// hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 = Sunday), year 1970-2199;
/// `,` `-` `*` `/` everywhere; exactly one of day-of-month and day-of-week is `?`; day-of-month also takes `L` (last
/// day), `L-n` (n days before the last), `nW` (the weekday nearest day n, never leaving the month) and `LW` (the last
/// weekday); day-of-week also takes `L` (Saturday, "the last day of the week"), `nL` (the month's last such day) and
/// `n#k` (the k-th such day of the month). `L`, `W` and `#` forms stand alone in their field (AWS: "3#1,6#3" is not
/// valid).
///
/// A firing is a local wall-clock time; `nextFire` turns it into an instant with `WallClock`, applying AWS
/// Scheduler's daylight-saving rules (see `ScheduleExpression.nextFire`).
struct CronSchedule: Sendable {
    /// The minutes of the day (hour × 60 + minute) the expression fires at, ascending. Never empty.
    let timesOfDay: [Int]
    /// Membership by month, index 0 = January.
    let months: [Bool]
    /// Membership by year, index 0 = 1970.
    let years: [Bool]
    let days: DayRule

    /// Which days of a month fire: the one of day-of-month / day-of-week that is not `?`.
    enum DayRule: Sendable {
        /// Plain day-of-month values, index 0 = day 1.
        case daysOfMonth([Bool])
        /// `L` (0) or `L-n` (n): the last day of the month, or n days before it.
        case lastDayOfMonth(minus: Int)
        /// `LW`: the last Monday-to-Friday of the month.
        case lastWeekdayOfMonth
        /// `nW`: the Monday-to-Friday nearest day n, within the month (none when the month has no day n).
        case nearestWeekday(to: Int)
        /// Plain day-of-week values, index 0 = Sunday.
        case daysOfWeek([Bool])
        /// `nL`: the last day of the month that is weekday n.
        case lastOfWeekday(Int)
        /// `n#k`: the k-th day of the month that is weekday n (none in months without a k-th).
        case nthWeekday(Int, occurrence: Int)

        /// Whether `day` (falling on `weekday`, 1 = Sunday) of a month with `length` days fires.
        func matches(day: Int, weekday: Int, monthLength length: Int) -> Bool {
            /// The weekday of another day of the same month.
            func weekdayOf(_ other: Int) -> Int {
                let shifted = (weekday - 1 + other - day) % 7
                return (shifted + 7) % 7 + 1
            }
            switch self {
            case .daysOfMonth(let selected):
                return selected[day - 1]
            case .lastDayOfMonth(let minus):
                return day == length - minus
            case .lastWeekdayOfMonth:
                switch weekdayOf(length) {
                case 7: return day == length - 1
                case 1: return day == length - 2
                default: return day == length
                }
            case .nearestWeekday(let target):
                guard target <= length else { return false }
                switch weekdayOf(target) {
                case 7: return day == (target == 1 ? 3 : target - 1)
                case 1: return day == (target == length ? target - 2 : target + 1)
                default: return day == target
                }
            case .daysOfWeek(let selected):
                return selected[weekday - 1]
            case .lastOfWeekday(let target):
                return weekday == target && day + 7 > length
            case .nthWeekday(let target, let occurrence):
                return weekday == target && (day - 1) / 7 + 1 == occurrence
            }
        }
    }

    /// What happens to a firing whose local time a spring-forward transition skips. AWS (re:Post knowledge center
    /// "eventbridge-scheduler-adjust-dst", and the Scheduler guide's "Daylight savings time" section): "When the time
    /// shifts forward in Spring, your schedule invocation gets skipped if the cron expression falls on a non-existent
    /// date and time." One constant so that reading of AWS stays in one place.
    enum GapPolicy { case skip, fireAtGapEnd }
    static let gapPolicy = GapPolicy.skip

    // MARK: Parsing

    /// Parses the text between `cron(` and `)`.
    init(fields text: Substring) throws(ScheduleExpressionError) {
        // Quartz upper-cases the whole expression: names and L, W are case-insensitive.
        let text = text.uppercased()
        // Fields are separated by one space, as for rate() (AWS refuses "rate( 10 minutes )"): an empty field from a
        // doubled, leading or trailing space makes the count wrong.
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 6 else {
            throw ScheduleExpressionError(
                message: "A cron expression has six fields (minutes hours day-of-month month day-of-week year); "
                    + "this one has \(fields.count)."
            )
        }
        let minutes = try CronField.minutes.values(fields[0])
        let hours = try CronField.hours.values(fields[1])
        var times: [Int] = []
        for (hour, hourSelected) in hours.enumerated() where hourSelected {
            for (minute, minuteSelected) in minutes.enumerated() where minuteSelected {
                times.append(hour * 60 + minute)
            }
        }
        self.timesOfDay = times
        let dayOfMonth = fields[2]
        let dayOfWeek = fields[4]
        switch (dayOfMonth == "?", dayOfWeek == "?") {
        case (true, true), (false, false):
            throw ScheduleExpressionError(
                message: "Exactly one of the day-of-month and day-of-week fields must be ?."
            )
        case (false, true):
            self.days = try Self.dayOfMonthRule(dayOfMonth)
        case (true, false):
            self.days = try Self.dayOfWeekRule(dayOfWeek)
        }
        self.months = try CronField.month.values(fields[3])
        self.years = try CronField.year.values(fields[5])
    }

    private static func dayOfMonthRule(_ text: Substring) throws(ScheduleExpressionError) -> DayRule {
        let field = CronField.dayOfMonth
        if text == "L" { return .lastDayOfMonth(minus: 0) }
        if text == "LW" { return .lastWeekdayOfMonth }
        if text.hasPrefix("L-") {
            guard let minus = CronField.number(text.dropFirst(2)), minus <= 30 else {
                throw field.invalid("\"\(text)\" is not L-n with n from 0 to 30")
            }
            return .lastDayOfMonth(minus: minus)
        }
        if text.hasSuffix("W") {
            guard let day = CronField.number(text.dropLast()), field.range.contains(day) else {
                throw field.invalid("\"\(text)\" is not nW with n from 1 to 31")
            }
            return .nearestWeekday(to: day)
        }
        if text.contains(where: { $0 == "L" || $0 == "W" }) {
            throw field.invalid("L and W stand alone (L, L-n, LW or nW)")
        }
        return .daysOfMonth(try field.values(text))
    }

    private static func dayOfWeekRule(_ text: Substring) throws(ScheduleExpressionError) -> DayRule {
        let field = CronField.dayOfWeek
        if text == "L" { return .daysOfWeek([false, false, false, false, false, false, true]) }
        if let hash = text.firstIndex(of: "#") {
            let weekday = try field.value(text[..<hash])
            guard let occurrence = CronField.number(text[text.index(after: hash)...]), (1...5).contains(occurrence)
            else {
                throw field.invalid("\"\(text)\" is not n#k with k from 1 to 5 (# stands alone in the field)")
            }
            return .nthWeekday(weekday, occurrence: occurrence)
        }
        if text.count > 1, text.last == "L" {
            return .lastOfWeekday(try field.value(text.dropLast()))
        }
        if text.contains("L") { throw field.invalid("L stands alone (L or nL)") }
        return .daysOfWeek(try field.values(text))
    }

    // MARK: Searching

    /// The first firing strictly after `instant` (seconds since 1970, UTC), in epoch seconds, or nil once the years
    /// are exhausted.
    ///
    /// Field-wise: walks the selected years, then months, then the days of each month the day rule selects, and only
    /// on such a day looks at times (bisecting the day's sorted times). An expression that never fires (30 February)
    /// costs one pass over the months up to 2199, about 85,000 cheap day tests.
    func nextFire(after instant: Double, clock: WallClock) -> Int64? {
        // Firings are whole seconds: t > instant ⇔ t > floor(instant).
        let after = Int64(instant.rounded(.down))
        // A firing at local time L happens within a day of L, so no local day before this one can fire after `after`.
        let earliestLocal = after - Int64(WallClock.maximumOffset)
        var start = CivilDate(daysSinceEpoch: Int(earliestLocal.floorDivided(by: 86_400)))
        if start.year < CronField.year.range.lowerBound { start = CivilDate(year: 1970, month: 1, day: 1) }
        guard start.year <= CronField.year.range.upperBound else { return nil }
        for year in start.year...CronField.year.range.upperBound where years[year - 1970] {
            for month in (year == start.year ? start.month : 1)...12 where months[month - 1] {
                let length = CivilDate.daysInMonth(year: year, month: month)
                let firstDay = year == start.year && month == start.month ? start.day : 1
                let first = CivilDate(year: year, month: month, day: firstDay)
                var epochDay = first.daysSinceEpoch
                var weekday = first.weekday
                for day in firstDay...length {
                    if days.matches(day: day, weekday: weekday, monthLength: length),
                        let fire = firing(onEpochDay: epochDay, after: after, clock: clock)
                    {
                        return fire
                    }
                    epochDay += 1
                    weekday = weekday % 7 + 1
                }
            }
        }
        return nil
    }

    /// The first firing on one local day strictly after `after`, if any.
    private func firing(onEpochDay epochDay: Int, after: Int64, clock: WallClock) -> Int64? {
        let midnight = Int64(epochDay) * 86_400
        func local(_ index: Int) -> Int64 { midnight + Int64(timesOfDay[index]) * 60 }
        // Every time of this day happens at or before `after`: nothing to convert.
        guard let lastIndex = timesOfDay.indices.last,
            local(lastIndex) + Int64(WallClock.maximumOffset) > after
        else { return nil }
        // The times' instants never decrease (WallClock.orderingInstant), so bisect for the first one after `after`.
        var low = 0
        var high = timesOfDay.count
        if local(0) - Int64(WallClock.maximumOffset) <= after {
            while low < high {
                let middle = (low + high) / 2
                if clock.orderingInstant(of: local(middle)) > after { high = middle } else { low = middle + 1 }
            }
        }
        for index in low..<timesOfDay.count {
            if let instant = clock.firstOccurrence(of: local(index)) { return instant }
            // A local time inside a spring-forward gap.
            if Self.gapPolicy == .fireAtGapEnd { return clock.firstInstant(after: local(index)) }
        }
        return nil
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (instants before 1970 are negative).
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
