import NimbusCore

/// One alternative in a field's list of values (`"field": [ alternative, … ]`), tested against one leaf value of the
/// event (a string, number, boolean or null; objects and arrays are not leaves).
///
/// Type discipline follows EventBridge: strings only match string tests (exact, prefix, suffix, case-insensitive,
/// wildcard, CIDR), numbers only numeric tests, `true`/`false`/`null` only themselves; `anything-but` matches every
/// leaf that its excluded values do not match, whatever its type, including `null`.
enum ValueTest: Sendable {
    case string(String)
    case number(Double)
    /// Many exact strings or numbers of one field, hashed (built by ``optimized(_:)``).
    case strings(StringSet)
    case numbers(Set<Double>)
    case bool(Bool)
    case null
    /// A pattern string that is an IP literal: EventBridge compares it as an address, so equivalent spellings match.
    case address(IPRange)
    case prefix(String)
    case prefixIgnoringCase(String)
    case suffix(String)
    case suffixIgnoringCase(String)
    case equalsIgnoringCase(String)
    case wildcard(WildcardPattern)
    case numeric(NumericRange)
    case cidr(IPRange)
    case anythingBut(AnythingBut)

    func matches(_ value: JSONValue) -> Bool {
        switch self {
        case .string(let expected):
            guard case .string(let actual) = value else { return false }
            return Text.equal(actual, expected)
        case .number(let expected):
            guard case .number(let actual) = value else { return false }
            return actual == expected
        case .strings(let set):
            guard case .string(let actual) = value else { return false }
            return set.contains(actual)
        case .numbers(let set):
            guard case .number(let actual) = value else { return false }
            return set.contains(actual)
        case .bool(let expected):
            guard case .bool(let actual) = value else { return false }
            return actual == expected
        case .null:
            return value.isNull
        case .address(let range), .cidr(let range):
            guard case .string(let actual) = value, let address = IPAddress.parse(actual) else { return false }
            return range.contains(address)
        case .prefix(let prefix):
            guard case .string(let actual) = value else { return false }
            return actual.utf8.starts(with: prefix.utf8)
        case .prefixIgnoringCase(let prefix):
            guard case .string(let actual) = value else { return false }
            return Text.hasPrefixIgnoringCase(actual, prefix)
        case .suffix(let suffix):
            guard case .string(let actual) = value else { return false }
            return Text.hasSuffix(actual, suffix)
        case .suffixIgnoringCase(let suffix):
            guard case .string(let actual) = value else { return false }
            return Text.hasSuffixIgnoringCase(actual, suffix)
        case .equalsIgnoringCase(let expected):
            guard case .string(let actual) = value else { return false }
            return Text.equalIgnoringCase(actual, expected)
        case .wildcard(let pattern):
            guard case .string(let actual) = value else { return false }
            return pattern.matches(actual)
        case .numeric(let range):
            guard case .number(let actual) = value else { return false }
            return range.contains(actual)
        case .anythingBut(let excluded):
            return !excluded.excludes(value)
        }
    }
}

extension ValueTest {
    /// Lists longer than this are hashed rather than scanned.
    static let hashingThreshold = 8

    /// The same alternatives with long runs of exact strings or numbers replaced by one hashed test each, so a field
    /// listing hundreds of values (account ids, say) costs one lookup per event value rather than a scan.
    static func optimized(_ matchers: [LeafMatcher]) -> [LeafMatcher] {
        var strings: [String] = []
        var numbers: [Double] = []
        for matcher in matchers {
            switch matcher {
            case .test(.string(let value)): strings.append(value)
            case .test(.number(let value)): numbers.append(value)
            default: break
            }
        }
        let hashStrings = strings.count > hashingThreshold
        let hashNumbers = numbers.count > hashingThreshold
        guard hashStrings || hashNumbers else { return matchers }
        var result = matchers.filter { matcher in
            switch matcher {
            case .test(.string): !hashStrings
            case .test(.number): !hashNumbers
            default: true
            }
        }
        if hashStrings { result.append(.test(.strings(StringSet(strings)))) }
        if hashNumbers { result.append(.test(.numbers(Set(numbers)))) }
        return result
    }
}

/// Exact strings, looked up by hash and confirmed byte for byte. Swift's `String` hashing treats canonically
/// equivalent spellings as equal, so each key keeps every byte-distinct spelling the pattern gave.
struct StringSet: Sendable {
    private let spellings: [String: [String]]

    init(_ strings: [String]) {
        var spellings: [String: [String]] = [:]
        for string in strings where !(spellings[string] ?? []).contains(where: { Text.equal($0, string) }) {
            spellings[string, default: []].append(string)
        }
        self.spellings = spellings
    }

    func contains(_ value: String) -> Bool {
        guard let candidates = spellings[value] else { return false }
        return candidates.contains { Text.equal($0, value) }
    }
}

/// A `numeric` condition: one bound, two bounds, or `=`. Compared as IEEE doubles, as Ruler does since it widened
/// numeric matching to the full `double` range.
struct NumericRange: Sendable, Hashable {
    var lower: Double?
    var lowerInclusive = false
    var upper: Double?
    var upperInclusive = false

    static func equal(_ value: Double) -> NumericRange {
        NumericRange(lower: value, lowerInclusive: true, upper: value, upperInclusive: true)
    }

    func contains(_ value: Double) -> Bool {
        if let lower {
            if lowerInclusive ? value < lower : value <= lower { return false }
        }
        if let upper {
            if upperInclusive ? value > upper : value >= upper { return false }
        }
        return true
    }
}

/// The values an `anything-but` excludes, of one kind.
enum AnythingBut: Sendable {
    case strings([String])
    case numbers([Double])
    /// A long `strings` list, hashed.
    case stringSet(StringSet)
    case prefixes([String])
    case suffixes([String])
    case ignoringCase([String])
    case wildcards([WildcardPattern])

    /// Whether `value` is one of the excluded values (so `anything-but` does not match it).
    func excludes(_ value: JSONValue) -> Bool {
        switch self {
        case .numbers(let numbers):
            guard case .number(let actual) = value else { return false }
            return numbers.contains(actual)
        default:
            guard case .string(let actual) = value else { return false }
            switch self {
            case .strings(let strings): return strings.contains { Text.equal(actual, $0) }
            case .stringSet(let set): return set.contains(actual)
            case .prefixes(let prefixes): return prefixes.contains { actual.utf8.starts(with: $0.utf8) }
            case .suffixes(let suffixes): return suffixes.contains { Text.hasSuffix(actual, $0) }
            case .ignoringCase(let strings): return strings.contains { Text.equalIgnoringCase(actual, $0) }
            case .wildcards(let patterns): return patterns.contains { $0.matches(actual) }
            case .numbers: return false
            }
        }
    }
}

/// Byte-wise string comparisons. EventBridge compares UTF-8 bytes exactly; Swift's `==` would also equate
/// canonically equivalent spellings, so it is not used for matching. Case-insensitive comparisons fold ASCII in place
/// and fall back to Unicode lowercasing only for non-ASCII text.
enum Text {
    static func equal(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
    }

    static func hasSuffix(_ value: String, _ suffix: String) -> Bool {
        let count = suffix.utf8.count
        guard value.utf8.count >= count else { return false }
        return value.utf8.suffix(count).elementsEqual(suffix.utf8)
    }

    static func equalIgnoringCase(_ a: String, _ b: String) -> Bool {
        if let result = asciiFolded(a.utf8, b.utf8, mode: .whole) { return result }
        return Text.equal(a.lowercased(), b.lowercased())
    }

    static func hasPrefixIgnoringCase(_ value: String, _ prefix: String) -> Bool {
        if let result = asciiFolded(value.utf8, prefix.utf8, mode: .prefix) { return result }
        return value.lowercased().utf8.starts(with: prefix.lowercased().utf8)
    }

    static func hasSuffixIgnoringCase(_ value: String, _ suffix: String) -> Bool {
        if let result = asciiFolded(value.utf8, suffix.utf8, mode: .suffix) { return result }
        return hasSuffix(value.lowercased(), suffix.lowercased())
    }

    private enum Mode { case whole, prefix, suffix }

    /// The comparison when both strings are ASCII, `nil` when either is not.
    private static func asciiFolded(_ value: String.UTF8View, _ other: String.UTF8View, mode: Mode) -> Bool? {
        let valueCount = value.count
        let otherCount = other.count
        switch mode {
        case .whole: if valueCount != otherCount { return isASCII(value) && isASCII(other) ? false : nil }
        case .prefix, .suffix: if valueCount < otherCount { return isASCII(value) && isASCII(other) ? false : nil }
        }
        var valueIndex = mode == .suffix ? value.index(value.endIndex, offsetBy: -otherCount) : value.startIndex
        var equal = true
        for byte in other {
            let actual = value[valueIndex]
            if actual >= 0x80 || byte >= 0x80 { return nil }
            if fold(actual) != fold(byte) { equal = false }
            valueIndex = value.index(after: valueIndex)
        }
        // The compared bytes are all ASCII, whose lowercase is themselves folded: the verdict stands whatever the rest
        // of the value holds.
        return equal
    }

    private static func isASCII(_ bytes: String.UTF8View) -> Bool { bytes.allSatisfy { $0 < 0x80 } }

    private static func fold(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
