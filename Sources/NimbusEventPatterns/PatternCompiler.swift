/// What a field's list of alternatives may hold besides value tests.
enum LeafMatcher: Sendable {
    case exists(Bool)
    case test(ValueTest)
}

/// One conjunction of field conditions, keyed by the field's dot-joined path. A pattern compiles to one or more of
/// these (one per combination of `$or` alternatives); it matches an event when any of them does.
typealias SubRule = [String: [LeafMatcher]]

/// Compiles a pattern's JSON into sub-rules with EventBridge's validation: the grammar, the checks and the messages
/// of Ruler's JSON rule compiler (the one EventBridge validates with), in the same order, at the same parser
/// positions. Later definitions of the same path replace earlier ones, as EventBridge does with duplicate keys.
struct PatternCompiler {
    /// Nimbus's bound on `$or` combinations; EventBridge publishes none. See docs/event-patterns.md.
    static let maximumCombinations = 1000
    /// Nimbus's bound on object nesting in a pattern, which also bounds recursion while matching.
    static let maximumDepth = 100

    private static let reservedInOr: Set<String> = [
        "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard", "numeric", "cidr",
        "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case", "date-after",
        "date-on-or-after", "date-before", "date-on-or-before", "in-date-range", "ip-address-in-range",
        "ip-address-not-in-range",
    ]

    private var reader: PatternReader
    private var path: [String] = []

    static func compile(_ json: String) throws(PatternFailure) -> [SubRule] {
        var compiler = PatternCompiler(reader: PatternReader(json))
        guard try compiler.reader.next() == .startObject else {
            throw compiler.reader.failure("Filter is not an object")
        }
        var rules: [SubRule] = []
        try compiler.parseObject(into: &rules, insideOr: false)
        return rules
    }

    // MARK: - Structure

    private mutating func parseObject(into rules: inout [SubRule], insideOr: Bool) throws(PatternFailure) {
        guard path.count < Self.maximumDepth else {
            throw PatternFailure("Event pattern is nested more than \(Self.maximumDepth) levels deep")
        }
        var fieldsPresent = false
        while true {
            let token = try reader.next()
            if token == .endObject { break }
            guard case .fieldName(let name) = token else { break }
            fieldsPresent = true
            if name == "$or" {
                try parseOr(into: &rules)
                continue
            }
            if insideOr && Self.reservedInOr.contains(name) {
                throw reader.failure("\(name) is Ruler reserved fieldName which cannot be used inside $or.")
            }
            switch try reader.next() {
            case .startObject:
                path.append(name)
                try parseObject(into: &rules, insideOr: insideOr)
                path.removeLast()
            case .startArray:
                try writeRules(into: &rules, name: (path + [name]).joined(separator: "."))
            default:
                throw reader.failure("\"\(name)\" must be an object or an array")
            }
        }
        if !fieldsPresent {
            throw reader.failure("Empty objects are not allowed")
        }
    }

    /// `"$or": [ {…}, {…}, … ]`: every alternative extends a copy of the sub-rules built so far.
    private mutating func parseOr(into rules: inout [SubRule]) throws(PatternFailure) {
        let base = rules
        rules = []
        guard try reader.next() == .startArray else {
            throw reader.failure("It must be an Array followed with $or.")
        }
        var alternatives = 0
        while true {
            let token = try reader.next()
            if token == .endArray { break }
            alternatives += 1
            guard token == .startObject else {
                throw reader.failure("Only JSON object is allowed in array of $or relationship.")
            }
            var extended = base.isEmpty ? [SubRule()] : base
            try parseObject(into: &extended, insideOr: true)
            rules.append(contentsOf: extended)
            if rules.count > Self.maximumCombinations {
                throw PatternFailure(
                    "Event pattern has more than \(Self.maximumCombinations) combinations of $or alternatives"
                )
            }
        }
        if alternatives < 2 {
            throw reader.failure("There must have at least 2 Objects in $or relationship.")
        }
    }

    /// `"field": [ alternative, … ]`
    private mutating func writeRules(into rules: inout [SubRule], name: String) throws(PatternFailure) {
        var values: [LeafMatcher] = []
        loop: while true {
            switch try reader.next() {
            case .endArray:
                break loop
            case .startObject:
                values.append(try matchExpression())
            case .string:
                let text = reader.text()
                if IPAddress.looksLikeAddress(text), let address = IPAddress.parse(text) {
                    values.append(.test(.address(IPRange(single: address))))
                } else {
                    values.append(.test(.string(text)))
                }
            case .number(let text):
                values.append(.test(.number(Numbers.value(text))))
            case .trueValue: values.append(.test(.bool(true)))
            case .falseValue: values.append(.test(.bool(false)))
            case .null: values.append(.test(.null))
            default:
                throw reader.failure("Match value must be String, number, true, false, or null")
            }
        }
        if values.isEmpty {
            throw reader.failure("Empty arrays are not allowed")
        }
        if rules.isEmpty { rules.append(SubRule()) }
        for index in rules.indices {
            rules[index][name] = values
        }
    }

    // MARK: - Match expressions

    private mutating func matchExpression() throws(PatternFailure) -> LeafMatcher {
        guard case .fieldName(let kind) = try reader.next() else {
            throw reader.failure("Match expression name not found")
        }
        switch kind {
        case "exactly":
            guard case .string = try reader.next() else {
                throw reader.failure("exact match pattern must be a string")
            }
            let value = reader.text()
            try expectEndOfExpression()
            return .test(.string(value))
        case "prefix":
            let token = try reader.next()
            if token == .startObject {
                return .test(.prefixIgnoringCase(try ignoringCaseExpression(of: "Prefix", name: "prefix")))
            }
            guard case .string = token else { throw reader.failure("prefix match pattern must be a string") }
            let value = reader.text()
            try expectEndOfExpression()
            return .test(.prefix(value))
        case "suffix":
            let token = try reader.next()
            if token == .startObject {
                return .test(.suffixIgnoringCase(try ignoringCaseExpression(of: "Suffix", name: "suffix")))
            }
            guard case .string = token else { throw reader.failure("suffix match pattern must be a string") }
            let value = reader.text()
            try expectEndOfExpression()
            return .test(.suffix(value))
        case "numeric":
            guard try reader.next() == .startArray else {
                throw reader.failure("Value of numeric must be an array.")
            }
            let range = try numericExpression()
            if try reader.next() != .endObject {
                throw reader.failure("Too many elements in numeric expression")
            }
            return .test(.numeric(range))
        case "anything-but":
            return .test(.anythingBut(try anythingButExpression()))
        case "exists":
            let exists: Bool
            switch try reader.next() {
            case .trueValue: exists = true
            case .falseValue: exists = false
            default: throw reader.failure("exists match pattern must be either true or false.")
            }
            try expectEndOfExpression()
            return .exists(exists)
        case "cidr":
            guard case .string = try reader.next() else {
                throw reader.failure("prefix match pattern must be a string")
            }
            let range = try IPRange(cidr: reader.text())
            try expectEndOfExpression()
            return .test(.cidr(range))
        case "equals-ignore-case":
            guard case .string = try reader.next() else {
                throw reader.failure("equals-ignore-case match pattern must be a string")
            }
            let value = reader.text()
            try expectEndOfExpression()
            return .test(.equalsIgnoringCase(value))
        case "wildcard":
            guard case .string = try reader.next() else {
                throw reader.failure("wildcard match pattern must be a string")
            }
            // Read first: a non-mutating call would see the reader as it was before the read.
            let text = reader.text()
            let pattern = try wildcard(text)
            try expectEndOfExpression()
            return .test(.wildcard(pattern))
        default:
            throw reader.failure("Unrecognized match type \(kind)")
        }
    }

    private mutating func expectEndOfExpression() throws(PatternFailure) {
        if try reader.next() != .endObject {
            throw reader.failure("Only one key allowed in match expression")
        }
    }

    /// `{"prefix": {"equals-ignore-case": "…"}}` and the suffix form.
    private mutating func ignoringCaseExpression(of kind: String, name: String) throws(PatternFailure) -> String {
        guard case .fieldName(let operation) = try reader.next() else {
            throw reader.failure("\(kind) expression name not found")
        }
        guard operation == "equals-ignore-case" else {
            throw reader.failure("Unsupported \(name) pattern: \(operation)")
        }
        guard case .string = try reader.next() else {
            throw reader.failure("equals-ignore-case match pattern must be a string")
        }
        let value = reader.text()
        try expectEndOfExpression()
        try expectEndOfExpression()
        return value
    }

    private func wildcard(_ text: String) throws(PatternFailure) -> WildcardPattern {
        do {
            return try WildcardPattern(parsing: text)
        } catch {
            throw reader.failure(error.reason)
        }
    }

    // MARK: - numeric

    private mutating func numericExpression() throws(PatternFailure) -> NumericRange {
        guard case .string = try reader.next() else {
            throw reader.failure("Invalid member in numeric match: \(reader.text())")
        }
        let operation = reader.text()
        let token = try reader.next()
        switch operation {
        case "=":
            guard case .number(let text) = token else { throw reader.failure("Value of equals must be numeric") }
            if try reader.next() != .endArray { throw reader.failure("Too many elements in numeric expression") }
            return .equal(try comparable(text))
        case ">=", ">":
            guard case .number(let text) = token else {
                throw reader.failure("Value of \(operation) must be numeric")
            }
            let next = try reader.next()
            if next == .endArray {
                return NumericRange(lower: try comparable(text), lowerInclusive: operation == ">=")
            }
            return try completeRange(after: next, bottom: text, openBottom: operation == ">")
        case "<=", "<":
            guard case .number(let text) = token else {
                throw reader.failure("Value of \(operation) must be numeric")
            }
            if try reader.next() != .endArray { throw reader.failure("Too many elements in numeric expression") }
            return NumericRange(upper: try comparable(text), upperInclusive: operation == "<=")
        default:
            throw reader.failure("Unrecognized numeric range operator: \(operation)")
        }
    }

    private mutating func completeRange(
        after token: PatternReader.Token,
        bottom: String,
        openBottom: Bool
    ) throws(PatternFailure) -> NumericRange {
        guard case .string = token else {
            throw reader.failure("Bad value in numeric range: \(reader.text())")
        }
        let operation = reader.text()
        guard operation == "<" || operation == "<=" else {
            throw reader.failure("Bad numeric range operator: \(operation)")
        }
        guard case .number(let top) = try reader.next() else {
            throw reader.failure("Value of \(operation) must be numeric")
        }
        if try reader.next() != .endArray {
            throw reader.failure("Too many terms in numeric range expression")
        }
        let lower = try comparable(bottom)
        let upper = try comparable(top)
        guard lower < upper else { throw reader.failure("Bottom must be less than top") }
        return NumericRange(lower: lower, lowerInclusive: !openBottom, upper: upper, upperInclusive: operation == "<=")
    }

    /// A pattern number usable in a numeric comparison: a finite double that is exactly the number written.
    private func comparable(_ text: String) throws(PatternFailure) -> Double {
        guard let value = Numbers.comparableValue(text) else {
            throw reader.failure("Cannot compare number : \(text)")
        }
        return value
    }

    // MARK: - anything-but

    private mutating func anythingButExpression() throws(PatternFailure) -> AnythingBut {
        var kind = Kind.values
        var token = try reader.next()
        if token == .startObject {
            guard case .fieldName(let operation) = try reader.next() else {
                throw reader.failure("Anything-But expression name not found")
            }
            switch operation {
            case "equals-ignore-case": kind = .ignoringCase
            case "prefix": kind = .prefix
            case "suffix": kind = .suffix
            case "wildcard": kind = .wildcard
            default: throw reader.failure("Unsupported anything-but pattern: \(operation)")
            }
            token = try reader.next()
        }
        switch token {
        case .startArray, .string, .number: break
        default:
            throw reader.failure("Value of anything-but must be an array or single string/number value.")
        }
        let result: AnythingBut
        if token == .startArray {
            result = kind == .values ? try anythingButList() : try anythingButSet(kind: kind)
        } else if kind == .values {
            switch token {
            case .string: result = .strings([reader.text()])
            case .number(let text):
                // Outside any try block in Ruler: the message carries no location.
                guard let value = Numbers.comparableValue(text) else {
                    throw PatternFailure("Cannot compare number : \(text)")
                }
                result = .numbers([value])
            default: throw reader.failure("Inside anything-but list, start|null|boolean is not supported.")
            }
        } else {
            result = try anythingButSetValue(kind: kind, token: token)
        }
        if try reader.next() != .endObject {
            throw reader.failure("Too many elements in numeric expression")
        }
        if kind != .values, try reader.next() != .endObject {
            throw reader.failure("Too many elements in numeric expression")
        }
        return result
    }

    /// Ruler reports failures inside an anything-but list from within a handler that adds the location a second
    /// time; AWS's messages show it twice, so these do too.
    private func doubled(_ message: String) -> PatternFailure {
        PatternFailure(message + reader.locationSuffix() + reader.locationSuffix())
    }

    private mutating func anythingButList() throws(PatternFailure) -> AnythingBut {
        var strings: [String] = []
        var numbers: [Double] = []
        while true {
            let token = try reader.next()
            if token == .endArray { break }
            switch token {
            case .string: strings.append(reader.text())
            case .number(let text):
                guard let value = Numbers.comparableValue(text) else {
                    throw reader.failure("Cannot compare number : \(text)")
                }
                numbers.append(value)
            default:
                throw doubled("Inside anything but list, start|null|boolean is not supported.")
            }
        }
        if strings.isEmpty == numbers.isEmpty {
            throw reader.failure(
                "Inside anything but list, either all values are number or string, mixed type is not supported"
            )
        }
        if strings.isEmpty { return .numbers(numbers) }
        return strings.count > ValueTest.hashingThreshold ? .stringSet(StringSet(strings)) : .strings(strings)
    }

    private mutating func anythingButSet(kind: Kind) throws(PatternFailure) -> AnythingBut {
        var values: [String] = []
        while true {
            let token = try reader.next()
            if token == .endArray { break }
            guard case .string = token else { throw doubled(Self.setError(kind)) }
            let text = reader.text()
            if (kind == .prefix || kind == .suffix) && text.isEmpty {
                throw doubled("Null prefix/suffix not allowed")
            }
            values.append(text)
        }
        return try wrapSet(values, kind)
    }

    private mutating func anythingButSetValue(
        kind: Kind,
        token: PatternReader.Token
    ) throws(PatternFailure)
        -> AnythingBut
    {
        guard case .string = token else { throw reader.failure(Self.setError(kind)) }
        let text = reader.text()
        if (kind == .prefix || kind == .suffix) && text.isEmpty {
            throw reader.failure("Null prefix/suffix not allowed")
        }
        return try wrapSet([text], kind)
    }

    enum Kind { case values, ignoringCase, prefix, suffix, wildcard }

    private static func setError(_ kind: Kind) -> String {
        switch kind {
        case .ignoringCase: "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
        case .wildcard: "wildcard match pattern must be a string"
        default: "prefix/suffix match pattern must be a string"
        }
    }

    private func wrapSet(_ values: [String], _ kind: Kind) throws(PatternFailure) -> AnythingBut {
        switch kind {
        case .ignoringCase: return .ignoringCase(values)
        case .prefix: return .prefixes(values)
        case .suffix: return .suffixes(values)
        case .wildcard:
            var patterns: [WildcardPattern] = []
            for value in values { patterns.append(try wildcard(value)) }
            return .wildcards(patterns)
        case .values: return .strings(values)
        }
    }
}
