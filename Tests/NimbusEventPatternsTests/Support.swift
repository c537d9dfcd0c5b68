import NimbusCore
import Testing

@testable import NimbusEventPatterns

/// Parses JSON test data with the module's own reader (the one message bodies go through).
func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
    try #require(EventJSON.parse(text), "not JSON: \(text)", sourceLocation: sourceLocation)
}

/// Whether `pattern` matches `event`, both given as JSON text.
func matches(_ pattern: String, _ event: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
    try EventPattern(json: pattern).matches(json(event, sourceLocation: sourceLocation))
}

/// The reason AWS would give for refusing `pattern` (`nil` when it is valid).
func refusal(_ pattern: String) -> String? {
    do {
        _ = try EventPattern(json: pattern)
        return nil
    } catch {
        return error.reason
    }
}

/// The AWS-style location suffix Jackson appends: `\n at [Source: (String)"…"; line: L, column: C]`.
func at(_ pattern: String, line: Int = 1, column: Int) -> String {
    "\n at [Source: (String)\"\(pattern)\"; line: \(line), column: \(column)]"
}
