import NimbusCore

/// Lambda's event filtering (`FilterCriteria`) over event source records.
public enum LambdaEventFilter {
    /// Whether `record` passes a mapping's filters: with no filters every record passes; otherwise a record passes
    /// when any pattern matches, as Lambda's `Filters` list works.
    public static func matches(record: JSONValue, patterns: [EventPattern]) -> Bool {
        if patterns.isEmpty { return true }
        return patterns.contains { $0.matches(record) }
    }
}
