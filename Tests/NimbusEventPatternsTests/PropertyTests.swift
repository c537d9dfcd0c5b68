import Foundation
import NimbusCore
import Testing

@testable import NimbusEventPatterns

/// Seeded random events and patterns, checking invariants of the matcher and comparing it with a brute-force
/// reference of Ruler's semantics. Bounded counts: the whole suite runs in milliseconds.
@Suite struct PropertyTests {
    static let iterations = 200

    @Test func orIsTheDisjunctionOfItsAlternatives() throws {
        var random = SplitMix64(seed: 1)
        for _ in 0..<Self.iterations {
            let a = Generator.pattern(&random)
            let b = Generator.pattern(&random)
            let either = try EventPattern(json: text(["$or": [a, b]]))
            let left = try EventPattern(json: text(a))
            let right = try EventPattern(json: text(b))
            for _ in 0..<4 {
                let event = Generator.event(&random)
                #expect(
                    either.matches(event) == (left.matches(event) || right.matches(event)),
                    "\(text(a)) | \(text(b)) on \(text(event))"
                )
            }
        }
    }

    @Test func anythingButIsTheComplementOnASinglePresentValue() throws {
        var random = SplitMix64(seed: 2)
        for _ in 0..<Self.iterations {
            let (positive, negative) = Generator.complementaryTests(&random)
            let value = Generator.scalar(&random)
            let event: JSONValue = ["detail": ["field": value]]
            let matching = try EventPattern(json: text(["detail": ["field": [positive]]]))
            let excluding = try EventPattern(json: text(["detail": ["field": [["anything-but": negative]]]]))
            #expect(
                matching.matches(event) != excluding.matches(event),
                "\(text(positive)) / anything-but \(text(negative)) on \(text(value))"
            )
            // A missing field matches neither.
            let missing: JSONValue = ["detail": ["other": value]]
            #expect(!matching.matches(missing) && !excluding.matches(missing))
        }
    }

    @Test func anEventMatchesThePatternOfItsOwnValues() throws {
        var random = SplitMix64(seed: 3)
        var checked = 0
        for _ in 0..<Self.iterations {
            let event = Generator.event(&random)
            guard let values = Generator.patternOfValues(event), let exists = Generator.patternOfExistence(event) else {
                continue
            }
            checked += 1
            #expect(try EventPattern(json: text(values)).matches(event), "\(text(values)) on \(text(event))")
            #expect(try EventPattern(json: text(exists)).matches(event), "\(text(exists)) on \(text(event))")
        }
        #expect(checked > Self.iterations / 2)
    }

    @Test func theMatcherAgreesWithTheReference() throws {
        var random = SplitMix64(seed: 4)
        var matched = 0
        for _ in 0..<Self.iterations {
            let pattern = Generator.pattern(&random)
            let compiled = try EventPattern(json: text(pattern))
            let rules = try PatternCompiler.compile(text(pattern)).flatMap(PatternNode.splittingAbsence)
            for _ in 0..<8 {
                let event = Generator.event(&random)
                let expected = Reference.matches(rules, event)
                if expected { matched += 1 }
                #expect(compiled.matches(event) == expected, "\(text(pattern)) on \(text(event))")
            }
        }
        // The generators must produce both verdicts often enough for the comparison to mean something.
        #expect(matched > Self.iterations / 10)
    }

    @Test func layoutDoesNotChangeTheVerdict() throws {
        var random = SplitMix64(seed: 5)
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted, .sortedKeys]
        for _ in 0..<Self.iterations {
            let pattern = Generator.pattern(&random)
            let spaced = try #require(String(data: try pretty.encode(pattern), encoding: .utf8))
            let compact = try EventPattern(json: text(pattern))
            let laidOut = try EventPattern(json: spaced)
            let event = Generator.event(&random)
            #expect(compact.matches(event) == laidOut.matches(event))
        }
    }

    @Test func eventJSONReadsWhatJSONEncoderWrites() {
        var random = SplitMix64(seed: 6)
        for _ in 0..<Self.iterations {
            let value = Generator.document(&random, depth: 4)
            let written = String(decoding: value.serialized(), as: UTF8.self)
            #expect(EventJSON.parse(written) == value, "\(written)")
        }
    }

    func text(_ value: JSONValue) -> String { String(decoding: value.serialized(), as: UTF8.self) }
}

/// A brute-force statement of Ruler's matching semantics: flatten the event into (dot-joined path, leaf, array
/// positions) fields, then search for an array-consistent choice of a field for every positive condition, with every
/// absent path having no field consistent with that choice.
enum Reference {
    struct Field {
        var path: String
        var value: JSONValue
        var positions: [Int: Int]
    }

    static func matches(_ rules: [SubRule], _ event: JSONValue) -> Bool {
        var fields: [Field] = []
        var arrays = 0
        if case .object = event { flatten(event, path: nil, positions: [:], arrays: &arrays, into: &fields) }
        return rules.contains { rule in
            let positive = rule.filter { !PatternNode.isAbsence($0.value) }.sorted { $0.key < $1.key }
            let absent = rule.filter { PatternNode.isAbsence($0.value) }.map(\.key)
            return assign(positive[...], fields, [:]) { positions in
                absent.allSatisfy { path in
                    !fields.contains { $0.path == path && consistent($0.positions, positions) }
                }
            }
        }
    }

    private static func assign(
        _ conditions: ArraySlice<(key: String, value: [LeafMatcher])>,
        _ fields: [Field],
        _ positions: [Int: Int],
        _ finish: ([Int: Int]) -> Bool
    ) -> Bool {
        guard let (path, condition) = conditions.first else { return finish(positions) }
        for field in fields where field.path == path && consistent(field.positions, positions) {
            let holds = condition.contains { matcher in
                switch matcher {
                case .exists(let wanted): wanted
                case .test(let test): test.matches(field.value)
                }
            }
            if holds, assign(conditions.dropFirst(), fields, positions.merging(field.positions) { a, _ in a }, finish) {
                return true
            }
        }
        return false
    }

    private static func consistent(_ a: [Int: Int], _ b: [Int: Int]) -> Bool {
        a.allSatisfy { array, index in b[array].map { $0 == index } ?? true }
    }

    private static func flatten(
        _ value: JSONValue,
        path: String?,
        positions: [Int: Int],
        arrays: inout Int,
        into fields: inout [Field]
    ) {
        switch value {
        case .object(let members):
            for (key, member) in members {
                flatten(
                    member,
                    path: path.map { $0 + "." + key } ?? key,
                    positions: positions,
                    arrays: &arrays,
                    into: &fields
                )
            }
        case .array(let elements):
            arrays += 1
            let id = arrays
            for (index, element) in elements.enumerated() {
                var inner = positions
                inner[id] = index
                flatten(element, path: path, positions: inner, arrays: &arrays, into: &fields)
            }
        default:
            if let path { fields.append(Field(path: path, value: value, positions: positions)) }
        }
    }
}

/// Small pools, so that random patterns and events meet often.
enum Generator {
    static let keys = ["a", "b", "c", "d"]
    static let strings = ["", "a", "ab", "abc", "B", "aB", "10.0.0.1", "10.0.0.200", "2001:db8::1", "x*y", "é"]
    static let numbers: [Double] = [0, 1, -1, 2.5, 100, 1e9]

    static func scalar(_ random: inout SplitMix64) -> JSONValue {
        switch random.next(below: 10) {
        case 0..<5: .string(strings[random.next(below: strings.count)])
        case 5..<8: .number(numbers[random.next(below: numbers.count)])
        case 8: .bool(random.next(below: 2) == 0)
        default: .null
        }
    }

    static func event(_ random: inout SplitMix64) -> JSONValue {
        object(&random, depth: 3)
    }

    private static func object(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<random.next(below: 4) {
            var key = keys[random.next(below: keys.count)]
            if random.next(below: 12) == 0 { key += "." + keys[random.next(below: keys.count)] }
            members[key] = value(&random, depth: depth - 1)
        }
        return .object(members)
    }

    private static func value(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        guard depth > 0 else { return scalar(&random) }
        switch random.next(below: 8) {
        case 0..<4: return scalar(&random)
        case 4, 5: return object(&random, depth: depth)
        default:
            return .array((0..<random.next(below: 4)).map { _ in value(&random, depth: depth - 1) })
        }
    }

    /// A JSON document of any shape with awkward strings, for the reader.
    static func document(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        let awkward = ["", "\"quoted\"", "back\\slash", "tab\t", "nl\n", "\u{1}", "emoji 🚀", "é", "/path"]
        switch depth > 0 ? random.next(below: 7) : random.next(below: 4) {
        case 0: return .string(awkward[random.next(below: awkward.count)])
        case 1: return .number([0, -0.5, 1e-7, 123_456_789, 1.5e300, -42][random.next(below: 6)])
        case 2: return .bool(random.next(below: 2) == 0)
        case 3: return .null
        case 4, 5:
            var members: [String: JSONValue] = [:]
            for _ in 0..<random.next(below: 4) {
                members[awkward[random.next(below: awkward.count)]] = document(&random, depth: depth - 1)
            }
            return .object(members)
        default:
            return .array((0..<random.next(below: 4)).map { _ in document(&random, depth: depth - 1) })
        }
    }

    static func pattern(_ random: inout SplitMix64) -> JSONValue {
        patternObject(&random, depth: 3)
    }

    private static func patternObject(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<(1 + random.next(below: 3)) {
            let key = keys[random.next(below: keys.count)]
            if depth > 1 && random.next(below: 3) == 0 {
                members[key] = patternObject(&random, depth: depth - 1)
            } else {
                members[key] = .array((0..<(1 + random.next(below: 2))).map { _ in alternative(&random) })
            }
        }
        if depth > 1 && random.next(below: 6) == 0 {
            members["$or"] = [patternObject(&random, depth: depth - 1), patternObject(&random, depth: depth - 1)]
        }
        return .object(members)
    }

    static func alternative(_ random: inout SplitMix64) -> JSONValue {
        switch random.next(below: 14) {
        case 0..<4: return scalar(&random)
        case 4: return ["exists": .bool(random.next(below: 2) == 0)]
        case 5: return ["numeric": [[">", 0], [">=", 0, "<", 100], ["=", 1], ["<=", -1]][random.next(below: 4)]]
        case 6: return ["cidr": ["10.0.0.0/24", "2001:db8::/32"][random.next(below: 2)] as JSONValue]
        case 7: return ["anything-but": anythingBut(&random)]
        case 8: return ["prefix": ["equals-ignore-case": "A"]]
        case 9: return ["suffix": ["equals-ignore-case": "b"]]
        default: return complementaryTests(&random).0
        }
    }

    private static func anythingBut(_ random: inout SplitMix64) -> JSONValue {
        switch random.next(below: 5) {
        case 0: .string(strings[random.next(below: strings.count)])
        case 1: ["a", "abc"]
        case 2: .number(numbers[random.next(below: numbers.count)])
        case 3: [0, 1]
        default: complementaryTests(&random).1
        }
    }

    /// A test and the `anything-but` operand that excludes exactly what it matches.
    static func complementaryTests(_ random: inout SplitMix64) -> (JSONValue, JSONValue) {
        switch random.next(below: 6) {
        case 0:
            let value = strings.filter { !IPAddress.looksLikeAddress($0) }[random.next(below: 8)]
            return (.string(value), .string(value))
        case 1:
            let value = numbers[random.next(below: numbers.count)]
            return (.number(value), .number(value))
        case 2:
            let prefix = ["a", "ab", "1"][random.next(below: 3)] as JSONValue
            return (["prefix": prefix], ["prefix": prefix])
        case 3:
            let suffix = ["b", "B", "c"][random.next(below: 3)] as JSONValue
            return (["suffix": suffix], ["suffix": suffix])
        case 4:
            let value = ["ab", "AB", "é"][random.next(below: 3)] as JSONValue
            return (["equals-ignore-case": value], ["equals-ignore-case": value])
        default:
            let value = ["a*", "*b", "*", "x\\*y", "a*b*c"][random.next(below: 5)] as JSONValue
            return (["wildcard": value], ["wildcard": value])
        }
    }

    /// `{path: [its values]}` for the leaves of `event` (one element of each array of objects).
    static func patternOfValues(_ event: JSONValue) -> JSONValue? {
        guard case .object(let members) = event else { return nil }
        var pattern: [String: JSONValue] = [:]
        for (key, value) in members {
            switch value {
            case .object:
                if let inner = patternOfValues(value) { pattern[key] = inner }
            case .array(let elements):
                if let object = elements.first(where: { if case .object = $0 { true } else { false } }) {
                    if let inner = patternOfValues(object) { pattern[key] = inner }
                } else if !elements.isEmpty, elements.allSatisfy({ if case .array = $0 { false } else { true } }) {
                    pattern[key] = .array(elements)
                }
            default:
                pattern[key] = [value]
            }
        }
        return pattern.isEmpty ? nil : .object(pattern)
    }

    /// `{path: [{"exists": true}]}` for the same leaves.
    static func patternOfExistence(_ event: JSONValue) -> JSONValue? {
        guard let values = patternOfValues(event) else { return nil }
        func existence(_ value: JSONValue) -> JSONValue {
            guard case .object(let members) = value else { return value }
            return .object(
                members.mapValues { member in
                    if case .array = member { return [["exists": true]] }
                    return existence(member)
                }
            )
        }
        return existence(values)
    }
}

/// A small seeded generator (SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
