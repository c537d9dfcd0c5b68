import NimbusCore

/// Lambda's event filtering (`FilterCriteria`) for SQS event source mappings.
///
/// Lambda applies each filter to the SQS record it would deliver (`messageId`, `body`, `attributes`, …). The `body`
/// is parsed as JSON when it is a JSON object, so a pattern can reach into it (`{"body": {"RequestCode": ["BBBB"]}}`);
/// otherwise it is a plain string (`{"body": ["plain text"]}`). As Lambda's documentation specifies, a record whose
/// body format does not fit the pattern's (a JSON body against a plain-string filter, or the reverse) is dropped.
public enum LambdaEventFilter {
    /// Parses one `FilterCriteria` pattern as Lambda validates it: EventBridge's grammar, without the operators
    /// Lambda's event filtering lacks (`wildcard` and the `prefix`, `suffix`, `equals-ignore-case` and `wildcard`
    /// forms of `anything-but`). Lambda answers every refusal with ``EventPatternError/lambdaMessage``.
    public static func pattern(_ json: String) throws(EventPatternError) -> EventPattern {
        let pattern = try EventPattern(json: json)
        if let unsupported = pattern.operatorOutsideLambdaFiltering {
            throw EventPatternError(code: .invalid, reason: "\(unsupported) is not supported by Lambda event filtering")
        }
        return pattern
    }

    /// Whether `record` passes a mapping's filters: with no filters every record passes; otherwise a record passes
    /// when any pattern matches, as Lambda's `Filters` list works. The body is parsed at most once per call.
    public static func matches(record: JSONValue, patterns: [EventPattern]) -> Bool {
        if patterns.isEmpty { return true }
        guard patterns.contains(where: { $0.bodyUsage.asJSON || $0.bodyUsage.asString }) else {
            return patterns.contains { $0.matches(record) }
        }
        switch record["body"] {
        case .string(let body)?:
            let parsed = EventJSON.parseObject(body)
            return patterns.contains { pattern in
                guard fits(pattern, jsonBody: parsed != nil) else { return false }
                if let parsed { return pattern.matches(record, replacing: "body", with: parsed) }
                return pattern.matches(record)
            }
        case .object?:
            // A record whose body the caller already parsed.
            return patterns.contains { fits($0, jsonBody: true) && $0.matches(record) }
        default:
            return patterns.contains { $0.matches(record) }
        }
    }

    /// Lambda's body-format rule: a pattern that only tests the body as text drops JSON bodies, one that only tests
    /// fields inside it drops the others.
    private static func fits(_ pattern: EventPattern, jsonBody: Bool) -> Bool {
        let usage = pattern.bodyUsage
        if jsonBody { return !(usage.asString && !usage.asJSON) }
        return !(usage.asJSON && !usage.asString)
    }
}
