import Foundation

/// A CBOR data item (RFC 8949), with full fidelity: integers across the whole 64-bit range of both signs, byte and
/// text strings, arrays, maps with keys of any type in wire order, tags, simple values and floats of each width.
///
/// ``CBORDecoder`` produces it and ``encoded()`` serialises it; `smithy-rpc-v2-cbor` documents convert to and from
/// `JSONValue` (see `CBOR+JSON.swift`). A decoded value re-encodes to the same bytes when the input used the preferred
/// (shortest) heads and definite lengths.
public enum CBORValue: Sendable, Hashable {
    /// Major type 0: the integer `n`.
    case unsigned(UInt64)
    /// Major type 1: the integer `-1 - n` (so `.negative(0)` is -1 and `.negative(UInt64.max)` is -2^64).
    case negative(UInt64)
    /// Major type 2: a byte string (a Smithy `blob`). Indefinite-length strings decode to their concatenated chunks.
    case bytes([UInt8])
    /// Major type 3: a text string. Indefinite-length strings decode to their concatenated chunks.
    case text(String)
    /// Major type 4.
    case array([CBORValue])
    /// Major type 5: the pairs in wire order. The decoder refuses duplicate keys.
    case map([Entry])
    /// Major type 6: tag number and content, e.g. tag 1 (epoch date/time), which Smithy uses for every timestamp.
    indirect case tagged(UInt64, CBORValue)
    /// Simple values 20 and 21.
    case bool(Bool)
    /// Simple value 22.
    case null
    /// Simple value 23. Smithy reads it as null and never writes it.
    case undefined
    /// An unassigned simple value: 0–19 or 32–255 (20–23 have their own cases; 24–31 are not well-formed).
    case simple(UInt8)
    /// A half-precision float (additional information 25). Every half-precision value is exact as a `Float`; a value
    /// that has no half-precision form is encoded as single precision rather than rounded.
    case float16(Float)
    /// A single-precision float (additional information 26).
    case float32(Float)
    /// A double-precision float (additional information 27).
    case float64(Double)

    /// One key/value pair of a ``CBORValue/map(_:)``.
    public struct Entry: Sendable, Hashable {
        /// The key: any data item, usually a text string (a structure member's name).
        public var key: CBORValue
        /// The value.
        public var value: CBORValue

        /// The pair `key: value`.
        public init(_ key: CBORValue, _ value: CBORValue) {
            self.key = key
            self.value = value
        }
    }

    /// The tag RFC 8949 §3.4.2 assigns to epoch-based date/time: seconds since 1970 as an integer or float.
    public static let epochTimestampTag: UInt64 = 1

    /// An integer: ``unsigned(_:)`` or ``negative(_:)``.
    public init(_ integer: Int64) {
        self = integer >= 0 ? .unsigned(UInt64(integer)) : .negative(UInt64(-(integer + 1)))
    }

    /// A Smithy timestamp: tag 1 over whole epoch seconds as an integer, or over a double with millisecond
    /// resolution (the protocol's precision) when the date has a fractional second.
    public static func timestamp(_ date: Date) -> CBORValue {
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        let seconds = millis / 1000
        if seconds.rounded() == seconds, abs(seconds) < 9.0e15 {
            return .tagged(Self.epochTimestampTag, CBORValue(Int64(seconds)))
        }
        return .tagged(Self.epochTimestampTag, .float64(seconds))
    }
}

// MARK: - Accessors

extension CBORValue {
    /// The integer, when it fits in `Int64`.
    public var int64Value: Int64? {
        switch self {
        case .unsigned(let n): n <= UInt64(Int64.max) ? Int64(n) : nil
        case .negative(let n): n <= UInt64(Int64.max) ? -1 - Int64(n) : nil
        default: nil
        }
    }

    /// The integer, when it is non-negative.
    public var uint64Value: UInt64? { if case .unsigned(let n) = self { n } else { nil } }

    /// The number as a `Double`: a float of any width, or an integer (rounded to the nearest double beyond 2^53).
    public var doubleValue: Double? {
        switch self {
        case .unsigned(let n): Double(n)
        case .negative(let n): -1 - Double(n)
        case .float16(let f), .float32(let f): Double(f)
        case .float64(let d): d
        default: nil
        }
    }

    /// The text of a text string.
    public var textValue: String? { if case .text(let s) = self { s } else { nil } }

    /// The bytes of a byte string: how a service reads a Smithy `blob` member.
    public var bytesValue: [UInt8]? { if case .bytes(let b) = self { b } else { nil } }

    /// The boolean of `true` or `false`.
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The items of an array.
    public var arrayValue: [CBORValue]? { if case .array(let a) = self { a } else { nil } }
    /// The pairs of a map, in wire order.
    public var mapEntries: [Entry]? { if case .map(let m) = self { m } else { nil } }

    /// Whether this is `null` or `undefined`, which Smithy reads alike.
    public var isNull: Bool {
        switch self {
        case .null, .undefined: true
        default: false
        }
    }

    /// A Smithy timestamp: tag 1 over a finite number of epoch seconds. An untagged number is accepted as well, as
    /// Smithy's own deserialisers do.
    public var timestampValue: Date? {
        let seconds: Double?
        if case .tagged(Self.epochTimestampTag, let content) = self {
            seconds = content.doubleValue
        } else {
            seconds = self.doubleValue
        }
        guard let seconds, seconds.isFinite else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// The value under a text key of a map (the first such pair), as a structure member is read.
    public subscript(key: String) -> CBORValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == .text(key) }?.value
    }
}

// MARK: - Literals

extension CBORValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// An integer literal is ``unsigned(_:)`` or ``negative(_:)``.
    public init(integerLiteral value: Int64) { self.init(value) }
    /// A float literal is a double-precision float, as Smithy encodes `double`.
    public init(floatLiteral value: Double) { self = .float64(value) }
    /// A string literal is a text string.
    public init(stringLiteral value: String) { self = .text(value) }
    /// `true` or `false`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array of the literal's items.
    public init(arrayLiteral elements: CBORValue...) { self = .array(elements) }
    /// A map with the literal's pairs in the literal's order.
    public init(dictionaryLiteral elements: (CBORValue, CBORValue)...) {
        self = .map(elements.map { Entry($0.0, $0.1) })
    }
}
