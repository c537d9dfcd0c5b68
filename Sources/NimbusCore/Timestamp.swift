import Foundation

/// Time formats of the Lambda API and its logs.
public enum Timestamp {
    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// `2020-04-10T19:06:32.563+0000`, as `FunctionConfiguration.LastModified`.
    public static func awsString(millis: Int64) -> String {
        let c = self.components(millis: millis)
        return "\(self.pad(c.year, 4))-\(self.pad(c.month, 2))-\(self.pad(c.day, 2))T\(self.pad(c.hour, 2)):\(self.pad(c.minute, 2)):\(self.pad(c.second, 2)).\(self.pad(c.millisecond, 3))+0000"
    }

    /// `2020-04-10T19:06:32.563Z`, as in log lines and destination records.
    public static func isoString(millis: Int64) -> String {
        let c = self.components(millis: millis)
        return "\(self.pad(c.year, 4))-\(self.pad(c.month, 2))-\(self.pad(c.day, 2))T\(self.pad(c.hour, 2)):\(self.pad(c.minute, 2)):\(self.pad(c.second, 2)).\(self.pad(c.millisecond, 3))Z"
    }

    /// `Wed, 12 Oct 2009 17:50:00 GMT` (RFC 9110's IMF-fixdate), as in `Last-Modified`: computed, because a
    /// DateFormatter per response costs more than the rest of a small GET.
    public static func httpDate(millis: Int64) -> String {
        let c = self.components(millis: millis)
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        // 1970-01-01 was a Thursday.
        let weekday = Int(((days % 7) + 7 + 4) % 7)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(weekdays[weekday]), \(self.pad(c.day, 2)) \(months[c.month - 1]) \(self.pad(c.year, 4)) \(self.pad(c.hour, 2)):\(self.pad(c.minute, 2)):\(self.pad(c.second, 2)) GMT"
    }

    /// `2020/04/10`, the date prefix of a log stream name.
    public static func streamDate(millis: Int64) -> String {
        let c = self.components(millis: millis)
        return "\(self.pad(c.year, 4))/\(self.pad(c.month, 2))/\(self.pad(c.day, 2))"
    }

    /// Zero-padded decimal (String(format:) is slow on Linux, and these are formatted per invocation).
    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// `12.34`: milliseconds with two decimals, as REPORT lines print them.
    public static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(self.pad(hundredths % 100, 2))"
    }

    struct Components {
        var year, month, day, hour, minute, second, millisecond: Int
    }

    /// Civil-from-days (Howard Hinnant's algorithm): UTC components without Calendar's cost or locale.
    static func components(millis: Int64) -> Components {
        let ms = Int(((millis % 1000) + 1000) % 1000)
        let totalSeconds = (millis - Int64(ms)) / 1000
        var days = Int(totalSeconds / 86_400)
        var secondsOfDay = Int(totalSeconds % 86_400)
        if secondsOfDay < 0 {
            secondsOfDay += 86_400
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return Components(
            year: year, month: month, day: day, hour: secondsOfDay / 3600, minute: (secondsOfDay % 3600) / 60,
            second: secondsOfDay % 60, millisecond: ms)
    }
}
