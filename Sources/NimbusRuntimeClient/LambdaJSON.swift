/// A deliberately tiny JSON toolkit for handlers that do not want Foundation: quote a string, and read one
/// top-level member of an object.
///
/// It is not a validating parser. Readers scan the top-level object once, skip nested values without
/// interpreting them, and return `nil` for anything that is not what was asked for (missing key, wrong type,
/// malformed input). When a key appears twice, the last occurrence wins, as in most JSON parsers.
public enum LambdaJSON {
    /// Returns `string` as a JSON string literal, quotes included: `he said "hi"` → `"he said \"hi\""`.
    public static func quoted(_ string: String) -> String {
        var bytes: [UInt8] = []
        Self.appendQuoted(string, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `string` as a JSON string literal, quotes included, to `bytes`.
    ///
    /// Escapes `"`, `\` and the control characters U+0000–U+001F; other characters are copied as UTF-8.
    public static func appendQuoted(_ string: String, to bytes: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        bytes.reserveCapacity(bytes.count + string.utf8.count + 2)
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"):
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"):
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"):
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"):
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                bytes += Array(#"\u00"#.utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The value of the top-level member `key` of the JSON object `json`, if it is a string.
    ///
    /// Escapes (including `\uXXXX` surrogate pairs) are decoded; lone surrogates become U+FFFD.
    public static func string(forKey key: String, in json: [UInt8]) -> String? {
        guard let range = Self.valueRange(forKey: key, in: json) else { return nil }
        var scanner = Scanner(bytes: json, index: range.lowerBound)
        return scanner.readString()
    }

    /// The value of the top-level member `key` of the JSON object `json`, if it is an integer that fits in
    /// `Int64`. Numbers with a fraction or an exponent (`1.5`, `1e3`) give `nil`.
    public static func integer(forKey key: String, in json: [UInt8]) -> Int64? {
        guard let range = Self.valueRange(forKey: key, in: json) else { return nil }
        return Int64(String(decoding: json[range], as: UTF8.self))
    }

    /// The raw JSON text of the top-level member `key` of the JSON object `json`, e.g. `{"a":[1,2]}` and `a`
    /// give `[1,2]`.
    public static func rawValue(forKey key: String, in json: [UInt8]) -> ArraySlice<UInt8>? {
        guard let range = Self.valueRange(forKey: key, in: json) else { return nil }
        return json[range]
    }

    private static func valueRange(forKey key: String, in json: [UInt8]) -> Range<Int>? {
        let wanted = Array(key.utf8)
        var scanner = Scanner(bytes: json, index: 0)
        scanner.skipWhitespace()
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        scanner.skipWhitespace()
        if scanner.consume(UInt8(ascii: "}")) { return nil }
        var found: Range<Int>?
        while true {
            scanner.skipWhitespace()
            guard let name = scanner.readStringBytes() else { return nil }
            scanner.skipWhitespace()
            guard scanner.consume(UInt8(ascii: ":")) else { return nil }
            scanner.skipWhitespace()
            let start = scanner.index
            guard scanner.skipValue() else { return nil }
            if name == wanted {
                found = start..<scanner.index
            }
            scanner.skipWhitespace()
            if scanner.consume(UInt8(ascii: ",")) { continue }
            guard scanner.consume(UInt8(ascii: "}")) else { return nil }
            return found
        }
    }
}

extension LambdaJSON {
    /// A forward-only cursor over JSON bytes.
    fileprivate struct Scanner {
        private static let replacementCharacter: Unicode.Scalar = "\u{FFFD}"

        let bytes: [UInt8]
        var index: Int

        var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

        mutating func skipWhitespace() {
            while let byte = self.current,
                byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                    || byte == UInt8(ascii: "\t")
            {
                self.index += 1
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard self.current == byte else { return false }
            self.index += 1
            return true
        }

        /// Skips one value of any type. Containers are skipped by bracket counting, strings by their escapes.
        mutating func skipValue() -> Bool {
            guard let first = self.current else { return false }
            switch first {
            case UInt8(ascii: "\""):
                return self.skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while let byte = self.current {
                    switch byte {
                    case UInt8(ascii: "\""):
                        guard self.skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                    default:
                        break
                    }
                    self.index += 1
                    if depth == 0 { return true }
                }
                return false
            default:
                // A number or a literal: runs until a delimiter.
                let start = self.index
                while let byte = self.current, !Self.isDelimiter(byte) {
                    self.index += 1
                }
                return self.index > start
            }
        }

        private static func isDelimiter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\n"),
                UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                return true
            default:
                return false
            }
        }

        private mutating func skipString() -> Bool {
            guard self.consume(UInt8(ascii: "\"")) else { return false }
            while let byte = self.current {
                self.index += 1
                if byte == UInt8(ascii: "\\") {
                    self.index += 1
                } else if byte == UInt8(ascii: "\"") {
                    return true
                }
            }
            return false
        }

        mutating func readString() -> String? {
            self.readStringBytes().map { String(decoding: $0, as: UTF8.self) }
        }

        /// Reads a string literal and returns its decoded UTF-8 bytes.
        mutating func readStringBytes() -> [UInt8]? {
            guard self.consume(UInt8(ascii: "\"")) else { return nil }
            var result: [UInt8] = []
            while let byte = self.current {
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return result
                case UInt8(ascii: "\\"):
                    guard let escaped = self.current else { return nil }
                    self.index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
                        result.append(escaped)
                    case UInt8(ascii: "b"):
                        result.append(0x08)
                    case UInt8(ascii: "f"):
                        result.append(0x0C)
                    case UInt8(ascii: "n"):
                        result.append(0x0A)
                    case UInt8(ascii: "r"):
                        result.append(0x0D)
                    case UInt8(ascii: "t"):
                        result.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let scalar = self.readUnicodeEscape() else { return nil }
                        result += Array(String(Character(scalar)).utf8)
                    default:
                        return nil
                    }
                default:
                    result.append(byte)
                }
            }
            return nil
        }

        /// Reads the `XXXX` after `\u`, joining a following `\uXXXX` low surrogate when there is one.
        private mutating func readUnicodeEscape() -> Unicode.Scalar? {
            guard let high = self.readHex4() else { return nil }
            if (0xD800..<0xDC00).contains(high) {
                let save = self.index
                if self.consume(UInt8(ascii: "\\")) && self.consume(UInt8(ascii: "u")),
                    let low = self.readHex4(), (0xDC00..<0xE000).contains(low)
                {
                    return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                }
                self.index = save
                return Self.replacementCharacter
            }
            return Unicode.Scalar(high) ?? Self.replacementCharacter
        }

        private mutating func readHex4() -> UInt32? {
            guard self.index + 4 <= self.bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = self.bytes[self.index]
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
                self.index += 1
            }
            return value
        }
    }
}
