import NimbusCore

/// JSON as text: quoting, minifying and serialising with the key order a document was given in. Events are passed
/// on as text so that what a target receives keeps the producer's key order and number spelling, which a round trip
/// through `JSONValue` (a dictionary of doubles) would lose.
enum JSONText {
    /// `"text"` with JSON's escapes.
    static func quote(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }

    /// The text without whitespace outside strings (valid JSON in, the same document out).
    static func minify(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var inString = false
        var escaped = false
        for byte in text.utf8 {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "\""):
                inString = true
                out.append(byte)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compact JSON of a value (keys sorted: a `JSONValue` object has no order of its own).
    static func serialize(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return self.number(number)
        case .string(let text): return self.quote(text)
        case .array(let items): return "[" + items.map(self.serialize).joined(separator: ",") + "]"
        case .object(let members):
            return "{"
                + members.sorted { $0.key < $1.key }.map { self.quote($0.key) + ":" + self.serialize($0.value) }
                .joined(separator: ",") + "}"
        }
    }

    /// Integers without a fraction, other numbers as Swift prints a double (shortest round-trip form).
    static func number(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 9.0e15 { return String(Int64(number)) }
        return "\(number)"
    }
}
