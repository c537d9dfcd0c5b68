/// A pull tokenizer over a pattern's JSON text that behaves, for error reporting, like the streaming JSON parser
/// behind EventBridge's pattern compiler (Jackson): the same token boundaries, the same "current location" (line and
/// column in UTF-16 units) and the same wording for malformed JSON. AWS's `InvalidEventPatternException` messages end
/// with that location (`at [Source: (String)"…"; line: 1, column: 11]`), so matching it is what makes Nimbus's
/// messages identical to AWS's for the same pattern.
///
/// Jackson reads the first character of a field's value together with the field name, and reads a string's content
/// lazily: right after a `VALUE_STRING` token the location is just past the opening quote, and only once the text is
/// read does it move past the closing quote. ``text()`` models that read.
struct PatternReader {
    enum Token: Equatable {
        case startObject, endObject, startArray, endArray
        case fieldName(String)
        case string(String)
        case number(String)
        case trueValue, falseValue, null
        case end

        var isNumeric: Bool { if case .number = self { true } else { false } }
    }

    /// Where a container started, for Jackson's "start marker" and mismatched-close messages.
    private struct Context {
        var isObject: Bool
        var startOffset: Int
        var startLine: Int
        var startLineStart: Int
        var expectsComma = false
    }

    private let bytes: [UInt8]
    private let source: String
    private var offset = 0
    private var line = 1
    private var lineStart = 0
    private var contexts: [Context] = []

    /// The token last returned by ``next()``.
    private(set) var current: Token = .end
    /// A value read together with the field name that precedes it, returned by the following ``next()``.
    private var pending: Token?
    private var pendingContext: Context?
    /// Offsets just past the opening quote and just past the closing quote of the current (or pending) string.
    private var stringStart = 0
    private var stringIsCurrent = false
    private var stringTextRead = false

    init(_ source: String) {
        self.source = source
        self.bytes = Array(source.utf8)
    }

    // MARK: - Tokens

    /// The next token, with Jackson's errors for malformed JSON.
    mutating func next() throws(PatternFailure) -> Token {
        if stringIsCurrent {
            // Jackson skips the rest of an unread string before moving on.
            stringIsCurrent = false
            stringTextRead = true
        }
        if let value = pending {
            pending = nil
            if let context = pendingContext {
                contexts.append(context)
                pendingContext = nil
            }
            current = value
            if case .string = value {
                stringIsCurrent = true
                stringTextRead = false
            }
            return value
        }
        guard let first = try skipWhitespace() else {
            if let context = contexts.last {
                let kind = context.isObject ? "Object" : "Array"
                let marker = sourceDescription(
                    line: context.startLine,
                    column: column(of: context.startOffset, lineStart: context.startLineStart)
                )
                throw failure("Unexpected end-of-input: expected close marker for \(kind) (start marker at \(marker))")
            }
            current = .end
            return .end
        }
        var char = first
        if char == UInt8(ascii: "]") || char == UInt8(ascii: "}") {
            // At the top of a token we are either in a fresh container or just after a value: a close is legal
            // unless it does not match its container.
            let closesObject = char == UInt8(ascii: "}")
            offset += 1
            guard let context = contexts.last else {
                throw failure(
                    "Unexpected close marker '\(Character(UnicodeScalar(char)))': expected '\(closesObject ? "]" : "}")' (for root starting at \(sourceDescription(line: 1, column: 0)))"
                )
            }
            guard closesObject == context.isObject else {
                let marker = sourceDescription(
                    line: context.startLine,
                    column: column(of: context.startOffset, lineStart: context.startLineStart)
                )
                throw failure(
                    "Unexpected close marker '\(Character(UnicodeScalar(char)))': expected '\(context.isObject ? "}" : "]")' (for \(context.isObject ? "Object" : "Array") starting at \(marker))"
                )
            }
            contexts.removeLast()
            current = closesObject ? .endObject : .endArray
            markValueDone()
            return current
        }
        if let context = contexts.last, context.expectsComma {
            guard char == UInt8(ascii: ",") else {
                offset += 1
                throw failure(
                    "Unexpected character (\(describe(char))): was expecting comma to separate \(context.isObject ? "Object" : "Array") entries",
                    minusOne: true
                )
            }
            offset += 1
            guard let afterComma = try skipWhitespace() else {
                let context = contexts[contexts.count - 1]
                let kind = context.isObject ? "Object" : "Array"
                let marker = sourceDescription(
                    line: context.startLine,
                    column: column(of: context.startOffset, lineStart: context.startLineStart)
                )
                throw failure("Unexpected end-of-input: expected close marker for \(kind) (start marker at \(marker))")
            }
            char = afterComma
        }
        if let context = contexts.last, context.isObject {
            // A field name, then the colon, then the start of its value.
            guard char == UInt8(ascii: "\"") else {
                offset += 1
                throw failure(
                    "Unexpected character (\(describe(char))): was expecting double-quote to start field name",
                    minusOne: true
                )
            }
            offset += 1
            let name = try readString(inFieldName: true)
            guard let colon = try skipWhitespace() else {
                throw failure("Unexpected end-of-input: was expecting a colon to separate field name and value")
            }
            guard colon == UInt8(ascii: ":") else {
                offset += 1
                throw failure(
                    "Unexpected character (\(describe(colon))): was expecting a colon to separate field name and value",
                    minusOne: true
                )
            }
            offset += 1
            guard let valueStart = try skipWhitespace() else {
                throw failure("Unexpected end-of-input: expected a value")
            }
            contexts[contexts.count - 1].expectsComma = true
            if valueStart == UInt8(ascii: "}") {
                offset += 1
                throw failure("Unexpected character ('}' (code 125)): expected a value", minusOne: true)
            }
            let (value, context) = try readValueStart(valueStart)
            pending = value
            pendingContext = context
            current = .fieldName(name)
            stringIsCurrent = false
            return current
        }
        if let index = contexts.indices.last {
            contexts[index].expectsComma = true
        }
        let (value, context) = try readValueStart(char)
        if let context { contexts.append(context) }
        current = value
        if case .string = value {
            stringIsCurrent = true
            stringTextRead = false
        }
        return value
    }

    /// The text of the current token as Jackson's `getText()` gives it; for a string it completes the read.
    mutating func text() -> String {
        switch current {
        case .startObject: return "{"
        case .endObject: return "}"
        case .startArray: return "["
        case .endArray: return "]"
        case .fieldName(let name): return name
        case .string(let value):
            stringTextRead = true
            return value
        case .number(let text): return text
        case .trueValue: return "true"
        case .falseValue: return "false"
        case .null: return "null"
        case .end: return ""
        }
    }

    /// A failure at the current location, as Jackson's `JsonParseException(parser, message)` words it.
    func failure(_ message: String, minusOne: Bool = false) -> PatternFailure {
        PatternFailure(message + "\n at " + sourceDescription(line: line, column: currentColumn(minusOne: minusOne)))
    }

    /// The location suffix alone, for reasons that Ruler wraps twice.
    func locationSuffix() -> String {
        "\n at " + sourceDescription(line: line, column: currentColumn(minusOne: false))
    }

    // MARK: - Values

    private mutating func markValueDone() {
        if let index = contexts.indices.last {
            contexts[index].expectsComma = true
        }
    }

    /// Reads the start of a value whose first character is `char` (not yet consumed).
    private mutating func readValueStart(_ char: UInt8) throws(PatternFailure) -> (Token, Context?) {
        switch char {
        case UInt8(ascii: "\""):
            offset += 1
            let start = offset
            let value = try readString(inFieldName: false)
            stringStart = start
            return (.string(value), nil)
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            let context = Context(
                isObject: char == UInt8(ascii: "{"),
                startOffset: offset,
                startLine: line,
                startLineStart: lineStart
            )
            offset += 1
            return (char == UInt8(ascii: "{") ? .startObject : .startArray, context)
        case UInt8(ascii: "t"):
            try matchLiteral("true")
            return (.trueValue, nil)
        case UInt8(ascii: "f"):
            try matchLiteral("false")
            return (.falseValue, nil)
        case UInt8(ascii: "n"):
            try matchLiteral("null")
            return (.null, nil)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return (.number(try readNumber()), nil)
        case UInt8(ascii: "N"):
            try matchLiteral("NaN")
            throw failure("Non-standard token 'NaN': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow")
        case UInt8(ascii: "I"):
            try matchLiteral("Infinity")
            throw failure("Non-standard token 'Infinity': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow")
        default:
            offset += 1
            if Self.isIdentifierStart(char) {
                throw invalidToken(matched: String(decoding: bytes[(offset - 1)..<offset], as: UTF8.self))
            }
            throw failure(
                "Unexpected character (\(describe(char))): expected a valid value \(Self.validValues)",
                minusOne: true
            )
        }
    }

    static let validValues = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"

    private mutating func matchLiteral(_ literal: String) throws(PatternFailure) {
        let expected = Array(literal.utf8)
        let start = offset
        for byte in expected {
            guard offset < bytes.count, bytes[offset] == byte else {
                throw invalidToken(matched: String(decoding: bytes[start..<offset], as: UTF8.self))
            }
            offset += 1
        }
        if offset < bytes.count, Self.isIdentifierPart(bytes[offset]) {
            throw invalidToken(matched: literal)
        }
    }

    /// Jackson's "Unrecognized token": the part already matched plus the identifier characters that follow.
    private mutating func invalidToken(matched: String) -> PatternFailure {
        var token = matched
        var consumed: [UInt8] = []
        while offset < bytes.count, Self.isIdentifierPart(bytes[offset]) {
            consumed.append(bytes[offset])
            offset += 1
            if token.utf16.count + consumed.count >= 256 {
                consumed.append(contentsOf: Array("...".utf8))
                break
            }
        }
        token += String(decoding: consumed, as: UTF8.self)
        return failure("Unrecognized token '\(token)': was expecting \(Self.validValues)")
    }

    private mutating func readNumber() throws(PatternFailure) -> String {
        let start = offset
        if bytes[offset] == UInt8(ascii: "-") {
            offset += 1
            guard offset < bytes.count else {
                throw failure("Unexpected end-of-input in a Number value")
            }
            let next = bytes[offset]
            if next == UInt8(ascii: "I") {
                try matchLiteral("Infinity")
                throw failure(
                    "Non-standard token '-Infinity': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow"
                )
            }
            guard Self.isDigit(next) else {
                offset += 1
                throw failure(
                    "Unexpected character (\(describe(next))) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value",
                    minusOne: true
                )
            }
        }
        if bytes[offset] == UInt8(ascii: "0"), offset + 1 < bytes.count, Self.isDigit(bytes[offset + 1]) {
            offset += 2
            throw failure("Invalid numeric value: Leading zeroes not allowed")
        }
        while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            let fractionStart = offset
            while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
            if offset == fractionStart {
                guard offset < bytes.count else {
                    throw failure("Unexpected end-of-input in numeric value: Decimal point not followed by a digit")
                }
                let bad = bytes[offset]
                offset += 1
                throw failure(
                    "Unexpected character (\(describe(bad))) in numeric value: Decimal point not followed by a digit",
                    minusOne: true
                )
            }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") {
                offset += 1
            }
            let exponentStart = offset
            while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
            if offset == exponentStart {
                guard offset < bytes.count else {
                    throw failure(
                        "Unexpected end-of-input in numeric value: Exponent indicator not followed by a digit"
                    )
                }
                let bad = bytes[offset]
                offset += 1
                throw failure(
                    "Unexpected character (\(describe(bad))) in numeric value: Exponent indicator not followed by a digit",
                    minusOne: true
                )
            }
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    /// Reads a string's content after its opening quote, through the closing quote.
    private mutating func readString(inFieldName: Bool) throws(PatternFailure) -> String {
        let start = offset
        // Fast path: no escapes.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let value = String(decoding: bytes[start..<offset], as: UTF8.self)
                offset += 1
                return value
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            offset += 1
        }
        var content = Array(bytes[start..<offset])
        while true {
            guard offset < bytes.count else {
                throw failure(
                    inFieldName
                        ? "Unexpected end-of-input in field name"
                        : "Unexpected end-of-input: was expecting closing quote for a string value"
                )
            }
            let byte = bytes[offset]
            offset += 1
            if byte == UInt8(ascii: "\"") {
                return String(decoding: content, as: UTF8.self)
            }
            if byte < 0x20 {
                throw failure(
                    "Illegal unquoted character (\(describe(byte))): has to be escaped using backslash to be included in \(inFieldName ? "name" : "string value")"
                )
            }
            guard byte == UInt8(ascii: "\\") else {
                content.append(byte)
                continue
            }
            guard offset < bytes.count else {
                throw failure("Unexpected end-of-input in character escape sequence")
            }
            let escape = bytes[offset]
            offset += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): content.append(escape)
            case UInt8(ascii: "b"): content.append(0x08)
            case UInt8(ascii: "f"): content.append(0x0C)
            case UInt8(ascii: "n"): content.append(0x0A)
            case UInt8(ascii: "r"): content.append(0x0D)
            case UInt8(ascii: "t"): content.append(0x09)
            case UInt8(ascii: "u"):
                var unit = try readHex4()
                if (0xD800..<0xDC00).contains(unit), offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                    bytes[offset + 1] == UInt8(ascii: "u")
                {
                    let save = offset
                    offset += 2
                    let low = try readHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        offset = save
                    }
                }
                let scalar = Unicode.Scalar(unit) ?? "\u{FFFD}"
                content.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw failure("Unrecognized character escape \(describe(escape))")
            }
        }
    }

    private mutating func readHex4() throws(PatternFailure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard offset < bytes.count else {
                throw failure("Unexpected end-of-input in character escape sequence")
            }
            let byte = bytes[offset]
            offset += 1
            guard let digit = Self.hexValue(byte) else {
                throw failure(
                    "Unexpected character (\(describe(byte))): expected a hex-digit for character escape sequence",
                    minusOne: true
                )
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Skips JSON whitespace, counting lines as Jackson does (`\n`, `\r` and `\r\n` each end one); `nil` at the end.
    private mutating func skipWhitespace() throws(PatternFailure) -> UInt8? {
        while offset < bytes.count {
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                offset += 1
            case UInt8(ascii: "\n"):
                offset += 1
                line += 1
                lineStart = offset
            case UInt8(ascii: "\r"):
                offset += 1
                if offset < bytes.count, bytes[offset] == UInt8(ascii: "\n") { offset += 1 }
                line += 1
                lineStart = offset
            default:
                if byte < 0x20 {
                    offset += 1
                    throw failure(
                        "Illegal character (\(describe(byte))): only regular white space (\\r, \\n, \\t) is allowed between tokens",
                        minusOne: true
                    )
                }
                return byte
            }
        }
        return nil
    }

    // MARK: - Locations

    private func currentColumn(minusOne: Bool) -> Int {
        var position = offset
        if stringIsCurrent && !stringTextRead {
            position = stringStart
        }
        if pending.map({ if case .string = $0 { true } else { false } }) == true {
            position = stringStart
        }
        let column = column(of: position, lineStart: lineStart)
        return minusOne ? column - 1 : column
    }

    /// The 1-based column of byte `offset`, in UTF-16 units as Java counts a `String`.
    private func column(of offset: Int, lineStart: Int) -> Int {
        var units = 0
        var index = lineStart
        while index < offset && index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 || byte >= 0xC0 {
                units += byte >= 0xF0 ? 2 : 1
            }
            index += 1
        }
        return units + 1
    }

    /// Jackson's `[Source: (String)"…"; line: L, column: C]`, the source cut at 500 characters.
    private func sourceDescription(line: Int, column: Int) -> String {
        let units = source.utf16
        var content: String
        var truncated = 0
        if units.count > 500 {
            let cut = units.index(units.startIndex, offsetBy: 500)
            content = String(decoding: Array(units[..<cut]), as: UTF16.self)
            truncated = units.count - 500
        } else {
            content = source
        }
        if truncated > 0 {
            content += "\"[truncated \(truncated) chars]"
        } else {
            content += "\""
        }
        return "[Source: (String)\"\(content); line: \(line), column: \(column)]"
    }

    /// Jackson's description of a character in its messages: `'x' (code 120)` or `(CTRL-CHAR, code 10)`.
    private func describe(_ byte: UInt8) -> String {
        if byte < 0x20 || byte == 0x7F {
            return "(CTRL-CHAR, code \(byte))"
        }
        if byte < 0x80 {
            return "'\(Character(UnicodeScalar(byte)))' (code \(byte))"
        }
        // A multi-byte character: decode it from the bytes that start at the previous offset.
        var start = offset - 1
        while start > 0 && bytes[start] & 0xC0 == 0x80 { start -= 1 }
        var end = start + 1
        while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
        let text = String(decoding: bytes[start..<end], as: UTF8.self)
        guard let scalar = text.unicodeScalars.first else { return "(code \(byte))" }
        let code = scalar.value
        return code > 255
            ? "'\(text)' (code \(code) / 0x\(String(code, radix: 16)))" : "'\(text)' (code \(code))"
    }

    // MARK: - Character classes

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Java's `Character.isJavaIdentifierStart`, approximated: ASCII letters, `_`, `$`, and any non-ASCII character.
    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$") || byte >= 0x80
    }

    /// Java's `Character.isJavaIdentifierPart`, approximated likewise, plus digits.
    private static func isIdentifierPart(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || isDigit(byte)
    }
}

/// A compilation failure carrying the whole reason (message and, where Ruler gives one, location).
struct PatternFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
