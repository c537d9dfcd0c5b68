/// One of the plain fields of AWS's cron (minutes, hours, day-of-month, month, day-of-week, year) and the grammar
/// they share: `*`, `a`, `a-b`, `a/s`, `*/s`, `a-b/s`, and lists of those joined by `,`.
///
/// AWS's cron is Quartz's (less the seconds field), so the rules follow Quartz where AWS's page is silent: a range
/// whose start is past its end wraps around (`20-2` in hours is 20:00 to 02:59, AWS's own example; `FRI-MON`), a step
/// counts from the range's start (`1/10` is minutes 1, 11, 21 …), names are case-insensitive. The special
/// characters of the day fields (`?`, `L`, `W`, `#`) are parsed by `CronSchedule`, which then hands plain text here.
struct CronField: Sendable {
    let name: String
    let range: ClosedRange<Int>
    /// Names standing for `range.lowerBound`, `range.lowerBound + 1` … (JAN-DEC, SUN-SAT).
    let names: [String]
    /// Whether `a-b` with `a > b` wraps around the field (years do not).
    let wraps: Bool

    static let minutes = CronField(name: "Minutes", range: 0...59, names: [], wraps: true)
    static let hours = CronField(name: "Hours", range: 0...23, names: [], wraps: true)
    static let dayOfMonth = CronField(name: "Day-of-month", range: 1...31, names: [], wraps: true)
    static let month = CronField(
        name: "Month",
        range: 1...12,
        names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        wraps: true
    )
    static let dayOfWeek = CronField(
        name: "Day-of-week",
        range: 1...7,
        names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        wraps: true
    )
    static let year = CronField(name: "Year", range: 1970...2199, names: [], wraps: false)

    /// The values the field's text selects, as a membership table indexed by value - `range.lowerBound`.
    func values(_ text: Substring) throws(ScheduleExpressionError) -> [Bool] {
        var selected = [Bool](repeating: false, count: range.count)
        guard !text.isEmpty else { throw invalid("is empty") }
        for element in text.split(separator: ",", omittingEmptySubsequences: false) {
            try select(element, into: &selected)
        }
        return selected
    }

    /// One value: a number or (in month and day-of-week) a name, inside the field's range.
    func value(_ text: Substring) throws(ScheduleExpressionError) -> Int {
        if let index = names.firstIndex(of: text.uppercased()) {
            return range.lowerBound + index
        }
        guard let number = Self.number(text) else { throw invalid("\"\(text)\" is not a value") }
        guard range.contains(number) else {
            throw invalid("\(number) is outside \(range.lowerBound)-\(range.upperBound)")
        }
        return number
    }

    /// Digits only (no sign, no spaces), at most 18 of them so the value fits in an `Int`; callers bound it.
    static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return Int(text)
    }

    func invalid(_ reason: String) -> ScheduleExpressionError {
        ScheduleExpressionError(message: "\(name) field: \(reason).")
    }

    private func select(_ element: Substring, into selected: inout [Bool]) throws(ScheduleExpressionError) {
        guard !element.isEmpty else { throw invalid("has an empty list element") }
        var rangeText = element
        var step: Int?
        if let slash = element.firstIndex(of: "/") {
            rangeText = element[..<slash]
            let stepText = element[element.index(after: slash)...]
            guard let increment = Self.number(stepText), increment >= 1 else {
                throw invalid("\"\(stepText)\" is not a positive increment")
            }
            step = increment
        }
        let start: Int
        let end: Int
        if rangeText == "*" {
            start = range.lowerBound
            end = range.upperBound
        } else if let dash = rangeText.firstIndex(of: "-") {
            start = try value(rangeText[..<dash])
            end = try value(rangeText[rangeText.index(after: dash)...])
            guard start <= end || wraps else { throw invalid("the range \(rangeText) runs backwards") }
        } else {
            start = try value(rangeText)
            // `a/s` runs from a to the end of the field; a lone `a` is just a.
            end = step == nil ? start : range.upperBound
        }
        // Walk from start to end (wrapping past the top of the field if need be), taking every step-th value.
        let span = start <= end ? end - start + 1 : (range.upperBound - start + 1) + (end - range.lowerBound + 1)
        for offset in stride(from: 0, to: span, by: step ?? 1) {
            var value = start + offset
            if value > range.upperBound { value -= range.count }
            selected[value - range.lowerBound] = true
        }
    }
}
