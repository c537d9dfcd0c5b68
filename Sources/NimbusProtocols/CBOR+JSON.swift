import Foundation
import NimbusCore

/// `smithy-rpc-v2-cbor` documents ↔ the awsJson-shaped `JSONValue` documents services exchange with the edge.
///
/// CBOR → JSON (a request body, for a service written against awsJson):
/// - integers and floats → numbers (integers beyond 2^53 are rounded, as any JSON number is); NaN and ±Infinity →
///   the strings `"NaN"`, `"Infinity"`, `"-Infinity"`, as awsJson writes them;
/// - byte strings → base64 strings, as awsJson writes a `blob` (lossy: a service that needs to tell a blob from a
///   string reads the ``CBORValue`` itself, with ``CBORValue/bytesValue``);
/// - tag 1 over a number → that number of epoch seconds, as awsJson writes a `timestamp` (likewise
///   ``CBORValue/timestampValue``); any other tag (bignums, decimal fractions…) is refused, as Smithy requires of an
///   implementation without arbitrary precision;
/// - `null` and `undefined` → `null`; maps whose keys are all text → objects; other maps and unassigned simple values
///   are refused.
///
/// JSON → CBOR (a response body): `null`, booleans, strings and arrays map directly; objects become maps with text
/// keys sorted by their UTF-8 bytes (deterministic output); a number that is a whole value in the 64-bit integer
/// range becomes an integer (Smithy allows this when no precision is lost), any other number — `-0.0`, fractions,
/// non-finite values — a ``CBORValue/float64(_:)``. JSON has no blobs or timestamps, so a caller that knows where they
/// are supplies them through `override` (see ``CBORValue/init(json:override:)``).
extension CBORValue {
    /// One step of the path from the root of a JSON document to a value.
    public enum PathComponent: Sendable, Hashable {
        /// A member of an object.
        case key(String)
        /// An element of an array, from 0.
        case index(Int)
    }

    /// The CBOR form of a JSON document, with `override` deciding any value first.
    /// - Parameters:
    ///   - json: the document.
    ///   - override: called for every value, outermost first, with its path; a non-nil result is used as the value's
    ///     CBOR form (its contents are not visited). Use it for the members the model says are timestamps
    ///     (``timestamp(_:)``) or blobs (``bytes(_:)``).
    public init(
        json: JSONValue,
        override: (_ path: [PathComponent], _ value: JSONValue) -> CBORValue? = { _, _ in nil }
    ) {
        var path: [PathComponent] = []
        self = Self.convert(json, path: &path, override: override)
    }

    private static func convert(
        _ json: JSONValue,
        path: inout [PathComponent],
        override: (_ path: [PathComponent], _ value: JSONValue) -> CBORValue?
    ) -> CBORValue {
        if let replaced = override(path, json) { return replaced }
        switch json {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .string(let s): return .text(s)
        case .number(let n): return Self.number(n)
        case .array(let items):
            return .array(
                items.enumerated().map { index, item in
                    path.append(.index(index))
                    defer { path.removeLast() }
                    return Self.convert(item, path: &path, override: override)
                }
            )
        case .object(let members):
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return .map(
                keys.map { key in
                    path.append(.key(key))
                    defer { path.removeLast() }
                    return Entry(.text(key), Self.convert(members[key] ?? .null, path: &path, override: override))
                }
            )
        }
    }

    private static func number(_ n: Double) -> CBORValue {
        guard n.rounded() == n, n.sign == .plus || n != 0 else { return .float64(n) }
        if n >= 0, n < 18_446_744_073_709_551_616.0 { return .unsigned(UInt64(n)) }
        if n < 0, n >= -9_223_372_036_854_775_808.0 { return CBORValue(Int64(n)) }
        return .float64(n)
    }

    /// This value as an awsJson-shaped document (see the mapping above).
    /// - Throws: ``WireFormatError`` `unrepresentable`, naming the path of a value JSON cannot carry.
    public func jsonValue() throws -> JSONValue {
        var path: [PathComponent] = []
        return try self.json(path: &path)
    }

    private func json(path: inout [PathComponent]) throws(WireFormatError) -> JSONValue {
        switch self {
        case .unsigned, .negative, .float16, .float32, .float64:
            guard let n = self.doubleValue else { preconditionFailure("every numeric case has a doubleValue") }
            if n.isNaN { return .string("NaN") }
            if n.isInfinite { return .string(n < 0 ? "-Infinity" : "Infinity") }
            return .number(n)
        case .bytes(let bytes): return .string(Data(bytes).base64EncodedString())
        case .text(let text): return .string(text)
        case .bool(let b): return .bool(b)
        case .null, .undefined: return .null
        case .array(let items):
            var array: [JSONValue] = []
            array.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                path.append(.index(index))
                array.append(try item.json(path: &path))
                path.removeLast()
            }
            return .array(array)
        case .map(let entries):
            var object: [String: JSONValue] = [:]
            for entry in entries {
                guard case .text(let key) = entry.key else {
                    throw Self.unrepresentable("a map key that is not a text string", at: path)
                }
                path.append(.key(key))
                defer { path.removeLast() }
                guard object[key] == nil else { throw Self.unrepresentable("a duplicate map key", at: path) }
                object[key] = try entry.value.json(path: &path)
            }
            return .object(object)
        case .tagged(Self.epochTimestampTag, let content):
            guard let seconds = content.doubleValue, seconds.isFinite else {
                throw Self.unrepresentable("tag 1 (epoch time) over something other than a finite number", at: path)
            }
            return .number(seconds)
        case .tagged(let tag, _):
            throw Self.unrepresentable("tag \(tag) (only tag 1, epoch time, is supported)", at: path)
        case .simple(let value):
            throw Self.unrepresentable("simple value \(value)", at: path)
        }
    }

    private static func unrepresentable(_ what: String, at path: [PathComponent]) -> WireFormatError {
        WireFormatError(.unrepresentable, "\(what) has no JSON form, at \(Self.describe(path))")
    }

    /// `$.MetricData[0].Timestamp`.
    static func describe(_ path: [PathComponent]) -> String {
        path.reduce("$") { text, component in
            switch component {
            case .key(let key): "\(text).\(key)"
            case .index(let index): "\(text)[\(index)]"
            }
        }
    }
}
