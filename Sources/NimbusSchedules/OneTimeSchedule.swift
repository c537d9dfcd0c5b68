/// `at(yyyy-mm-ddThh:mm:ss)`: EventBridge Scheduler's one-time schedule, a local date and time.
///
/// Scheduler's "Schedule types" page gives the form; the time is local to the schedule's
/// `ScheduleExpressionTimezone`. Fields are fixed width, and the date must exist (no 30 February).
struct OneTimeSchedule: Sendable {
    let date: CivilDate
    /// Seconds into the local day.
    let secondOfDay: Int

    /// The local time as naive seconds (see `WallClock`).
    var localTime: Int64 { Int64(date.daysSinceEpoch) * 86_400 + Int64(secondOfDay) }

    /// Parses the text between `at(` and `)`.
    init(arguments text: Substring) throws(ScheduleExpressionError) {
        let invalid = ScheduleExpressionError(
            message: "A one-time expression is at(yyyy-mm-ddThh:mm:ss), for example at(2025-11-20T13:00:00)."
        )
        let characters = Array(text.utf8)
        guard characters.count == 19 else { throw invalid }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let character = characters[index]
                guard character >= 0x30, character <= 0x39 else { return nil }
                value = value * 10 + Int(character - 0x30)
            }
            return value
        }
        guard characters[4] == UInt8(ascii: "-"), characters[7] == UInt8(ascii: "-"),
            characters[10] == UInt8(ascii: "T"), characters[13] == UInt8(ascii: ":"),
            characters[16] == UInt8(ascii: ":"),
            let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
            let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19)
        else { throw invalid }
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 59
        else {
            throw ScheduleExpressionError(message: "at(\(text)) is not a valid date and time.")
        }
        self.date = CivilDate(year: year, month: month, day: day)
        self.secondOfDay = hour * 3_600 + minute * 60 + second
    }
}
