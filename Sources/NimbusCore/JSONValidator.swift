/// Checks that bytes are one JSON text (RFC 8259), without building anything: Invoke checks every payload, up to
/// 6 MB, on the hot path. Nesting is bounded so that hostile input cannot exhaust the stack (it is iterative
/// anyway) or memory.
public enum JSONValidator {
    public static let maximumDepth = 1024

    /// nil when `bytes` is valid JSON; otherwise what is wrong and where.
    public static func problem(in bytes: some Collection<UInt8>) -> String? {
        let result = Array(bytes).withUnsafeBufferPointer { Self.check($0) }
        return result
    }

    enum Container: UInt8 {
        case array
        case object
    }

    static func check(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        var i = 0
        let n = b.count
        var stack: [Container] = []

        @inline(__always) func skipSpace() {
            while i < n, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        func fail(_ what: String) -> String {
            i < n ? "\(what) at offset \(i) (byte '\(Unicode.Scalar(b[i]))')" : "\(what) at the end of the input"
        }

        /// Scans a string starting at `i` (which holds the opening quote).
        func string() -> String? {
            i += 1
            while i < n {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    return nil
                }
                if c < 0x20 { return fail("Illegal unquoted control character in a string") }
                if c == UInt8(ascii: "\\") {
                    i += 1
                    guard i < n else { return fail("Unterminated escape") }
                    switch b[i] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        i += 1
                    case UInt8(ascii: "u"):
                        guard i + 4 < n else { return fail("Truncated \\u escape") }
                        for k in 1...4 where !Self.isHex(b[i + k]) { return fail("Invalid \\u escape") }
                        i += 5
                    default:
                        return fail("Unrecognized character escape")
                    }
                    continue
                }
                if c < 0x80 {
                    i += 1
                    continue
                }
                // UTF-8 multi-byte sequence.
                let length: Int
                switch c {
                case 0xC2...0xDF: length = 2
                case 0xE0...0xEF: length = 3
                case 0xF0...0xF4: length = 4
                default: return fail("Invalid UTF-8")
                }
                guard i + length <= n else { return fail("Truncated UTF-8") }
                for k in 1..<length where b[i + k] & 0xC0 != 0x80 { return fail("Invalid UTF-8") }
                i += length
            }
            return fail("Unexpected end-of-input in a string")
        }

        func number() -> String? {
            if b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < n, Self.isDigit(b[i]) else { return fail("Invalid number") }
            if b[i] == UInt8(ascii: "0") {
                i += 1
            } else {
                while i < n, Self.isDigit(b[i]) { i += 1 }
            }
            if i < n, b[i] == UInt8(ascii: ".") {
                i += 1
                guard i < n, Self.isDigit(b[i]) else { return fail("Invalid number") }
                while i < n, Self.isDigit(b[i]) { i += 1 }
            }
            if i < n, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1
                if i < n, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                guard i < n, Self.isDigit(b[i]) else { return fail("Invalid number") }
                while i < n, Self.isDigit(b[i]) { i += 1 }
            }
            return nil
        }

        func literal(_ word: StaticString) -> String? {
            let count = word.utf8CodeUnitCount
            guard i + count <= n else { return fail("Unrecognized token") }
            for k in 0..<count where b[i + k] != word.utf8Start[k] { return fail("Unrecognized token") }
            i += count
            return nil
        }

        /// `"name" :` at the cursor (after optional space before the colon).
        func fieldName() -> String? {
            guard i < n, b[i] == UInt8(ascii: "\"") else { return fail("Expected a field name") }
            if let problem = string() { return problem }
            skipSpace()
            guard i < n, b[i] == UInt8(ascii: ":") else { return fail("Expected ':'") }
            i += 1
            return nil
        }

        // A value is expected at the top and after '[', ',' in arrays and ':' in objects.
        var expectValue = true
        while true {
            skipSpace()
            if expectValue {
                guard i < n else { return fail("Unexpected end-of-input: expected a value") }
                switch b[i] {
                case UInt8(ascii: "{"):
                    guard stack.count < Self.maximumDepth else { return fail("Nesting deeper than \(Self.maximumDepth)") }
                    stack.append(.object)
                    i += 1
                    skipSpace()
                    if i < n, b[i] == UInt8(ascii: "}") {
                        i += 1
                        stack.removeLast()
                        expectValue = false
                        continue
                    }
                    if let problem = fieldName() { return problem }
                    continue
                case UInt8(ascii: "["):
                    guard stack.count < Self.maximumDepth else { return fail("Nesting deeper than \(Self.maximumDepth)") }
                    stack.append(.array)
                    i += 1
                    skipSpace()
                    if i < n, b[i] == UInt8(ascii: "]") {
                        i += 1
                        stack.removeLast()
                        expectValue = false
                    }
                    continue
                case UInt8(ascii: "\""):
                    if let problem = string() { return problem }
                case UInt8(ascii: "t"):
                    if let problem = literal("true") { return problem }
                case UInt8(ascii: "f"):
                    if let problem = literal("false") { return problem }
                case UInt8(ascii: "n"):
                    if let problem = literal("null") { return problem }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if let problem = number() { return problem }
                default:
                    return fail("Unrecognized token")
                }
                expectValue = false
                continue
            }
            // After a value: close containers or continue with ','.
            guard let top = stack.last else {
                return i == n ? nil : fail("Unexpected data after the JSON value")
            }
            guard i < n else { return fail("Unexpected end-of-input in a container") }
            switch (top, b[i]) {
            case (.array, UInt8(ascii: ",")):
                i += 1
                expectValue = true
            case (.object, UInt8(ascii: ",")):
                i += 1
                skipSpace()
                if let problem = fieldName() { return problem }
                expectValue = true
            case (.array, UInt8(ascii: "]")), (.object, UInt8(ascii: "}")):
                i += 1
                stack.removeLast()
            default:
                return fail(top == .array ? "Expected ',' or ']'" : "Expected ',' or '}'")
            }
        }
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isHex(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}
