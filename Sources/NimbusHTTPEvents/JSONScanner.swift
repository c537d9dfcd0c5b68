import NimbusCore

/// A single-pass JSON reader for function results: validates a whole document (RFC 8259) while building values only
/// for the top-level members the caller asks for.
///
/// `JSONValue.parse` goes through `JSONDecoder` and tries each type in turn, which costs far more than the response
/// itself on every HTTP request (and seconds on a multi-megabyte result). Response mapping needs one answer — is this
/// an object with `statusCode`, and what are its five or six members — so this reader skips everything else without
/// allocating.
struct JSONScanner {
    /// Why a document was refused (for the mapping error's message).
    struct Malformed: Error {
        var offset: Int
        var reason: String
    }

    /// The kind of a document's top-level value.
    enum TopLevel {
        /// An object, with the requested members (absent ones are missing from the dictionary).
        case object([String: JSONValue])
        /// A string, decoded.
        case string(String)
        /// A number, `true`, `false`, `null` or an array.
        case other
    }

    /// Validates `bytes` as one JSON document and returns its top-level kind, building only the object members named
    /// in `members`.
    static func scan(_ bytes: some Collection<UInt8>, members: Set<String>) throws(Malformed) -> TopLevel {
        // ByteBufferView is contiguous: no copy in practice.
        var outcome: Result<TopLevel, Malformed>?
        bytes.withContiguousStorageIfAvailable { buffer in
            outcome = Result { () throws(Malformed) -> TopLevel in try Self.scanContiguous(buffer, members: members) }
        }
        if let outcome { return try outcome.get() }
        return try Array(bytes).withUnsafeBufferPointer { (buffer) throws(Malformed) -> TopLevel in
            try Self.scanContiguous(buffer, members: members)
        }
    }

    private static func scanContiguous(
        _ buffer: UnsafeBufferPointer<UInt8>,
        members: Set<String>
    ) throws(Malformed) -> TopLevel {
        var scanner = JSONScanner(bytes: buffer)
        scanner.skipWhitespace()
        let result: TopLevel
        switch scanner.peek() {
        case UInt8(ascii: "{"):
            result = .object(try scanner.objectMembers(keeping: members))
        case UInt8(ascii: "\""):
            result = .string(try scanner.string())
        default:
            try scanner.skipValue(depth: 0)
            result = .other
        }
        scanner.skipWhitespace()
        guard scanner.index == buffer.count else { throw scanner.malformed("unexpected data after the document") }
        return result
    }

    /// Nesting deeper than this is refused rather than risking the stack.
    static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private func peek() -> UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    private func malformed(_ reason: String) -> Malformed { Malformed(offset: self.index, reason: reason) }

    private mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(Malformed) {
        guard self.peek() == byte else { throw self.malformed("expected \(what)") }
        self.index += 1
    }

    /// The members of the object at the cursor: values built for `keeping`, the others validated and skipped.
    private mutating func objectMembers(keeping: Set<String>) throws(Malformed) -> [String: JSONValue] {
        try self.expect(UInt8(ascii: "{"), "{")
        var members: [String: JSONValue] = [:]
        self.skipWhitespace()
        if self.peek() == UInt8(ascii: "}") {
            self.index += 1
            return members
        }
        while true {
            self.skipWhitespace()
            let key = try self.string()
            self.skipWhitespace()
            try self.expect(UInt8(ascii: ":"), ":")
            self.skipWhitespace()
            if keeping.contains(key) {
                members[key] = try self.value(depth: 1)
            } else {
                try self.skipValue(depth: 1)
            }
            self.skipWhitespace()
            switch self.peek() {
            case UInt8(ascii: ","): self.index += 1
            case UInt8(ascii: "}"):
                self.index += 1
                return members
            default: throw self.malformed("expected , or }")
            }
        }
    }

    /// Builds the value at the cursor.
    private mutating func value(depth: Int) throws(Malformed) -> JSONValue {
        guard depth < Self.maximumDepth else { throw self.malformed("nesting too deep") }
        switch self.peek() {
        case UInt8(ascii: "{"):
            self.index += 1
            var object: [String: JSONValue] = [:]
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: "}") {
                self.index += 1
                return .object(object)
            }
            while true {
                self.skipWhitespace()
                let key = try self.string()
                self.skipWhitespace()
                try self.expect(UInt8(ascii: ":"), ":")
                self.skipWhitespace()
                object[key] = try self.value(depth: depth + 1)
                self.skipWhitespace()
                switch self.peek() {
                case UInt8(ascii: ","): self.index += 1
                case UInt8(ascii: "}"):
                    self.index += 1
                    return .object(object)
                default: throw self.malformed("expected , or }")
                }
            }
        case UInt8(ascii: "["):
            self.index += 1
            var items: [JSONValue] = []
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: "]") {
                self.index += 1
                return .array(items)
            }
            while true {
                self.skipWhitespace()
                items.append(try self.value(depth: depth + 1))
                self.skipWhitespace()
                switch self.peek() {
                case UInt8(ascii: ","): self.index += 1
                case UInt8(ascii: "]"):
                    self.index += 1
                    return .array(items)
                default: throw self.malformed("expected , or ]")
                }
            }
        case UInt8(ascii: "\""):
            return .string(try self.string())
        case UInt8(ascii: "t"):
            try self.literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.literal("null")
            return .null
        default:
            let start = self.index
            try self.skipNumber()
            let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
            return .number(Double(text) ?? 0)
        }
    }

    /// Validates and skips the value at the cursor, allocating nothing.
    private mutating func skipValue(depth: Int) throws(Malformed) {
        guard depth < Self.maximumDepth else { throw self.malformed("nesting too deep") }
        switch self.peek() {
        case UInt8(ascii: "{"):
            self.index += 1
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: "}") {
                self.index += 1
                return
            }
            while true {
                self.skipWhitespace()
                try self.skipString()
                self.skipWhitespace()
                try self.expect(UInt8(ascii: ":"), ":")
                self.skipWhitespace()
                try self.skipValue(depth: depth + 1)
                self.skipWhitespace()
                switch self.peek() {
                case UInt8(ascii: ","): self.index += 1
                case UInt8(ascii: "}"):
                    self.index += 1
                    return
                default: throw self.malformed("expected , or }")
                }
            }
        case UInt8(ascii: "["):
            self.index += 1
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: "]") {
                self.index += 1
                return
            }
            while true {
                self.skipWhitespace()
                try self.skipValue(depth: depth + 1)
                self.skipWhitespace()
                switch self.peek() {
                case UInt8(ascii: ","): self.index += 1
                case UInt8(ascii: "]"):
                    self.index += 1
                    return
                default: throw self.malformed("expected , or ]")
                }
            }
        case UInt8(ascii: "\""): try self.skipString()
        case UInt8(ascii: "t"): try self.literal("true")
        case UInt8(ascii: "f"): try self.literal("false")
        case UInt8(ascii: "n"): try self.literal("null")
        default: try self.skipNumber()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Malformed) {
        let count = word.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else { throw self.malformed("unexpected end of input") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where self.bytes[self.index + offset] != expected[offset] {
            throw self.malformed("invalid literal")
        }
        self.index += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func skipNumber() throws(Malformed) {
        let start = self.index
        if self.peek() == UInt8(ascii: "-") { self.index += 1 }
        guard let first = self.peek(), Self.isDigit(first) else {
            self.index = start
            throw self.malformed(start == self.bytes.count ? "unexpected end of input" : "invalid value")
        }
        self.index += 1
        if first != UInt8(ascii: "0") { self.skipDigits() }
        if self.peek() == UInt8(ascii: ".") {
            self.index += 1
            guard let digit = self.peek(), Self.isDigit(digit) else { throw self.malformed("invalid number") }
            self.skipDigits()
        }
        if self.peek() == UInt8(ascii: "e") || self.peek() == UInt8(ascii: "E") {
            self.index += 1
            if self.peek() == UInt8(ascii: "+") || self.peek() == UInt8(ascii: "-") { self.index += 1 }
            guard let digit = self.peek(), Self.isDigit(digit) else { throw self.malformed("invalid number") }
            self.skipDigits()
        }
    }

    private mutating func skipDigits() {
        while let byte = self.peek(), Self.isDigit(byte) { self.index += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Validates and skips a string: escapes checked, control characters refused, UTF-8 validated.
    private mutating func skipString() throws(Malformed) {
        try self.expect(UInt8(ascii: "\""), "a string")
        var plainStart = self.index
        while true {
            guard self.index < self.bytes.count else { throw self.malformed("unterminated string") }
            let byte = self.bytes[self.index]
            if byte == UInt8(ascii: "\"") {
                try self.validateUTF8(plainStart..<self.index)
                self.index += 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                try self.validateUTF8(plainStart..<self.index)
                _ = try self.escape()
                plainStart = self.index
                continue
            }
            guard byte >= 0x20 else { throw self.malformed("control character in a string") }
            self.index += 1
        }
    }

    /// Decodes the string at the cursor.
    private mutating func string() throws(Malformed) -> String {
        try self.expect(UInt8(ascii: "\""), "a string")
        let start = self.index
        // Fast path: no escapes.
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            if byte == UInt8(ascii: "\"") {
                try self.validateUTF8(start..<self.index)
                let text = String(
                    decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.index]),
                    as: UTF8.self
                )
                self.index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw self.malformed("control character in a string") }
            self.index += 1
        }
        var scalars = String.UnicodeScalarView()
        var plainStart = start
        while true {
            guard self.index < self.bytes.count else { throw self.malformed("unterminated string") }
            let byte = self.bytes[self.index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                try self.validateUTF8(plainStart..<self.index)
                scalars.append(
                    contentsOf: String(
                        decoding: UnsafeBufferPointer(rebasing: self.bytes[plainStart..<self.index]),
                        as: UTF8.self
                    ).unicodeScalars
                )
                if byte == UInt8(ascii: "\"") {
                    self.index += 1
                    return String(scalars)
                }
                scalars.append(try self.escape())
                plainStart = self.index
                continue
            }
            guard byte >= 0x20 else { throw self.malformed("control character in a string") }
            self.index += 1
        }
    }

    /// Decodes the escape at the cursor (the backslash), including `\uXXXX` surrogate pairs.
    private mutating func escape() throws(Malformed) -> Unicode.Scalar {
        self.index += 1
        guard let byte = self.peek() else { throw self.malformed("unterminated string") }
        self.index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try self.hex4()
            if (0xD800...0xDBFF).contains(high) {
                guard self.peek() == UInt8(ascii: "\\"), self.index + 1 < self.bytes.count,
                    self.bytes[self.index + 1] == UInt8(ascii: "u")
                else { return "\u{FFFD}" }
                self.index += 2
                let low = try self.hex4()
                guard (0xDC00...0xDFFF).contains(low) else { return "\u{FFFD}" }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}"
            }
            return Unicode.Scalar(high) ?? "\u{FFFD}"
        default:
            throw self.malformed("invalid escape")
        }
    }

    private mutating func hex4() throws(Malformed) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.malformed("unterminated string") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.malformed("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            self.index += 1
        }
        return value
    }

    /// Refuses invalid UTF-8 in a run of string bytes (ASCII runs are checked with one comparison per byte).
    private func validateUTF8(_ range: Range<Int>) throws(Malformed) {
        var index = range.lowerBound
        while index < range.upperBound, self.bytes[index] < 0x80 { index += 1 }
        guard index < range.upperBound else { return }
        var iterator = UnsafeBufferPointer(rebasing: self.bytes[index..<range.upperBound]).makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return
            case .error: throw Malformed(offset: index, reason: "invalid UTF-8 in a string")
            }
        }
    }
}
