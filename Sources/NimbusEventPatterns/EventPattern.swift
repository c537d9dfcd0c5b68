import NimbusCore

/// An EventBridge event pattern, parsed and validated once, then matched against many events.
///
/// One matcher serves both Lambda event source mappings' `FilterCriteria` and EventBridge rules, so the two agree on
/// every edge case. Matching allocates nothing per event: the pattern is compiled into a tree of field tests here.
public struct EventPattern: Sendable {
    /// Parses and validates a pattern given as JSON text, refusing it with AWS's reason when it is not valid.
    public init(json: String) throws(EventPatternError) {
        throw EventPatternError(reason: "not implemented yet")
    }

    /// Whether `event` matches this pattern, with EventBridge's semantics.
    public func matches(_ event: JSONValue) -> Bool {
        false
    }
}

/// A pattern that EventBridge or Lambda would refuse; `message` is the text AWS puts in its error.
public struct EventPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason alone, as AWS words it after "Event pattern is not valid. Reason: ".
    public var reason: String

    public init(reason: String) { self.reason = reason }

    /// The whole message of EventBridge's `InvalidEventPatternException`.
    public var message: String { "Event pattern is not valid. Reason: \(reason)" }

    public var description: String { message }
}
