import NimbusCore

/// An EventBridge event pattern, parsed and validated once, then matched against many events.
///
/// One matcher serves Lambda event source mappings' `FilterCriteria` and EventBridge rules, so the two agree on every
/// edge case. Parsing does all the work that does not depend on the event (validation, `$or` expansion, wildcard and
/// CIDR compilation, the path tree); matching walks the event along the pattern's paths only and allocates nothing
/// in the common case. docs/event-patterns.md lists the semantics and the limits.
public struct EventPattern: Sendable {
    /// The longest pattern EventBridge (`EventPattern`) and Lambda (`Filter.Pattern`) accept, in characters.
    public static let maximumLength = 4096

    /// The pattern's text, as given.
    public let json: String
    /// One tree per combination of `$or` alternatives; the pattern matches when any matches.
    let rules: [PatternNode]
    /// How the pattern uses an SQS record's `body`, for Lambda's body-format check.
    let bodyUsage: BodyUsage
    /// The first operator the pattern uses that Lambda's event filtering lacks, if any.
    let operatorOutsideLambdaFiltering: String?

    struct BodyUsage: Sendable {
        /// Some alternative tests `body` itself (the plain-string form).
        var asString = false
        /// Some alternative tests fields inside `body` (the JSON form).
        var asJSON = false
    }

    /// Parses and validates a pattern given as JSON text, refusing it with AWS's reason when it is not valid.
    public init(json: String) throws(EventPatternError) {
        guard json.utf16.count <= Self.maximumLength else {
            throw EventPatternError(
                code: .tooLong,
                reason: "Member must have length less than or equal to \(Self.maximumLength)"
            )
        }
        let subRules: [SubRule]
        do {
            subRules = try PatternCompiler.compile(json)
        } catch {
            throw EventPatternError(code: .invalid, reason: error.reason)
        }
        if Self.wildcardsTooComplex(subRules) {
            throw EventPatternError(
                code: .invalid,
                reason:
                    "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"
            )
        }
        self.json = json
        self.rules = subRules.flatMap(PatternNode.splittingAbsence).map(PatternNode.build)
        var usage = BodyUsage()
        for rule in subRules {
            for path in rule.keys {
                let segments = path.split(separator: ".", omittingEmptySubsequences: false)
                guard segments.first == "body" else { continue }
                if segments.count == 1 { usage.asString = true } else { usage.asJSON = true }
            }
        }
        self.bodyUsage = usage
        self.operatorOutsideLambdaFiltering = Self.operatorOutsideLambdaFiltering(subRules)
    }

    /// EventBridge's operator table marks these as unsupported by Pipes, whose filtering Lambda's event source
    /// mappings share; Lambda's own operator table omits them too.
    private static func operatorOutsideLambdaFiltering(_ rules: [SubRule]) -> String? {
        for rule in rules {
            for matchers in rule.values {
                for matcher in matchers {
                    switch matcher {
                    case .test(.wildcard): return "wildcard"
                    case .test(.anythingBut(.prefixes)): return "anything-but prefix"
                    case .test(.anythingBut(.suffixes)): return "anything-but suffix"
                    case .test(.anythingBut(.ignoringCase)): return "anything-but equals-ignore-case"
                    case .test(.anythingBut(.wildcards)): return "anything-but wildcard"
                    default: continue
                    }
                }
            }
        }
        return nil
    }

    /// Whether `event` matches this pattern, with EventBridge's semantics.
    public func matches(_ event: JSONValue) -> Bool {
        rules.contains { PatternMatcher.matches($0, event: event) }
    }

    /// Matching with the value of one top-level field replaced (an SQS record whose `body` was parsed), without
    /// copying the event.
    func matches(_ event: JSONValue, replacing key: String, with value: JSONValue?) -> Bool {
        rules.contains { PatternMatcher.matches($0, event: event, replacing: key, with: value) }
    }

    /// EventBridge measures wildcard complexity per field, over every wildcard pattern (plain and `anything-but`)
    /// that any alternative applies to that field.
    private static func wildcardsTooComplex(_ rules: [SubRule]) -> Bool {
        var byPath: [String: Set<WildcardPattern>] = [:]
        for rule in rules {
            for (path, matchers) in rule {
                for matcher in matchers {
                    switch matcher {
                    case .test(.wildcard(let pattern)):
                        byPath[path, default: []].insert(pattern)
                    case .test(.anythingBut(.wildcards(let patterns))):
                        byPath[path, default: []].formUnion(patterns)
                    default:
                        break
                    }
                }
            }
        }
        // The measure is a property of the set: the order patterns are given in does not change it.
        return byPath.values.contains { WildcardComplexity.isTooComplex(Array($0)) }
    }
}

/// A pattern that EventBridge or Lambda would refuse.
public struct EventPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// Not a valid pattern: EventBridge's `InvalidEventPatternException` (``message``), Lambda's
        /// `InvalidParameterValueException` (``lambdaMessage``).
        case invalid
        /// Longer than ``EventPattern/maximumLength``: both services answer a `ValidationException` for the
        /// parameter's length constraint; ``reason`` is that constraint's wording.
        case tooLong
    }

    public var code: Code
    /// The reason as AWS words it after "Event pattern is not valid. Reason: ", location included where AWS gives one.
    public var reason: String

    public init(code: Code = .invalid, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The whole message of EventBridge's `InvalidEventPatternException` (and of `TestEventPattern`'s).
    public var message: String { "Event pattern is not valid. Reason: \(reason)" }

    /// What Lambda answers for any invalid `FilterCriteria` pattern (`InvalidParameterValueException`).
    public static let lambdaMessage = "Invalid filter pattern definition."

    public var description: String { message }
}
