import NimbusCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict JSON (RFC 8259) reader for events and message bodies, several times faster than `JSONDecoder`: filtering
/// parses every queue record's body once, so this is on the hot path.
///
/// Iterative, so hostile nesting cannot exhaust the stack; documents nested deeper than ``maximumDepth`` are refused
/// (`JSONDecoder` refuses them as well), which for an SQS body means it is matched as a plain string. Duplicate keys
/// keep the last value.
public enum EventJSON {
    public static let maximumDepth = 512

    /// Parses a JSON document; `nil` when it is not one.
    public static func parse(_ text: String) -> JSONValue? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// Parses a JSON document from UTF-8 bytes; `nil` when it is not one.
    public static func parse(bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var reader = Reader(bytes: bytes)
        return reader.document()
    }

    /// Parses `text` only when it is a JSON object (what Lambda's SQS filtering treats as a JSON body).
    public static func parseObject(_ text: String) -> JSONValue? {
        // Cheap pre-check: skip the work for bodies that cannot be objects.
        guard let first = text.utf8.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }),
            first == UInt8(ascii: "{")
        else { return nil }
        guard let value = parse(text), case .object = value else { return nil }
        return value
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func document() -> JSONValue? {
            // Open containers, innermost last. Arrays and objects live in their own stacks so that appending to the
            // innermost one mutates it in place (no copy-on-write copies).
            var isObject: [Bool] = []
            var arrays: [[JSONValue]] = []
            var objects: [[String: JSONValue]] = []
            var keys: [String] = []
            var value: JSONValue
            // Each pass reads one value (descending into containers by opening them), then attaches it to the
            // enclosing container, closing containers as their ends come.
            outer: while true {
                guard let byte = skipWhitespace() else { return nil }
                switch byte {
                case UInt8(ascii: "{"):
                    offset += 1
                    guard let next = skipWhitespace() else { return nil }
                    if next == UInt8(ascii: "}") {
                        offset += 1
                        value = .object([:])
                    } else {
                        guard isObject.count < EventJSON.maximumDepth, let key = readKey() else { return nil }
                        isObject.append(true)
                        objects.append([:])
                        keys.append(key)
                        continue outer
                    }
                case UInt8(ascii: "["):
                    offset += 1
                    guard let next = skipWhitespace() else { return nil }
                    if next == UInt8(ascii: "]") {
                        offset += 1
                        value = .array([])
                    } else {
                        guard isObject.count < EventJSON.maximumDepth else { return nil }
                        isObject.append(false)
                        arrays.append([])
                        continue outer
                    }
                case UInt8(ascii: "\""):
                    offset += 1
                    guard let string = readString() else { return nil }
                    value = .string(string)
                case UInt8(ascii: "t"):
                    guard literal("true") else { return nil }
                    value = .bool(true)
                case UInt8(ascii: "f"):
                    guard literal("false") else { return nil }
                    value = .bool(false)
                case UInt8(ascii: "n"):
                    guard literal("null") else { return nil }
                    value = .null
                default:
                    guard let number = readNumber() else { return nil }
                    value = .number(number)
                }
                // Attach `value` and close finished containers.
                while let inObject = isObject.last {
                    guard let separator = skipWhitespace() else { return nil }
                    offset += 1
                    if inObject {
                        let last = objects.count - 1
                        objects[last][keys[last]] = value
                        if separator == UInt8(ascii: ",") {
                            guard skipWhitespace() != nil, let next = readKey() else { return nil }
                            keys[last] = next
                            continue outer
                        }
                        guard separator == UInt8(ascii: "}") else { return nil }
                        keys.removeLast()
                        value = .object(objects.removeLast())
                    } else {
                        arrays[arrays.count - 1].append(value)
                        if separator == UInt8(ascii: ",") { continue outer }
                        guard separator == UInt8(ascii: "]") else { return nil }
                        value = .array(arrays.removeLast())
                    }
                    isObject.removeLast()
                }
                // The document must end here.
                return skipWhitespace() == nil ? value : nil
            }
        }

        /// `"key" :` with the offset on the opening quote.
        private mutating func readKey() -> String? {
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { return nil }
            offset += 1
            guard let key = readString(), skipWhitespace() == UInt8(ascii: ":") else { return nil }
            offset += 1
            return key
        }

        private mutating func skipWhitespace() -> UInt8? {
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                    offset += 1
                } else {
                    return byte
                }
            }
            return nil
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.count - offset >= count else { return false }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
            for index in 0..<count where bytes[offset + index] != expected[index] { return false }
            offset += count
            return true
        }

        private mutating func readString() -> String? {
            let start = offset
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte == UInt8(ascii: "\"") {
                    let string = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
                    offset += 1
                    return string
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                offset += 1
            }
            var content = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
            while offset < bytes.count {
                let byte = bytes[offset]
                offset += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: content, as: UTF8.self) }
                if byte < 0x20 { return nil }
                guard byte == UInt8(ascii: "\\") else {
                    content.append(byte)
                    continue
                }
                guard offset < bytes.count else { return nil }
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
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar), bytes.count - offset >= 6,
                        bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                    {
                        let save = offset
                        offset += 2
                        if let low = hex4(), (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            offset = save
                        }
                    }
                    appendUTF8(Unicode.Scalar(scalar) ?? "\u{FFFD}", to: &content)
                default:
                    return nil
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt32? {
            guard bytes.count - offset >= 4 else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[offset]
                offset += 1
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
            }
            return value
        }

        private func appendUTF8(_ scalar: Unicode.Scalar, to content: inout [UInt8]) {
            UTF8.encode(scalar) { content.append($0) }
        }

        /// A JSON number, converted by `strtod` from a stack copy of its characters.
        private mutating func readNumber() -> Double? {
            let start = offset
            if offset < bytes.count && bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard offset < bytes.count, isDigit(bytes[offset]) else { return nil }
            if bytes[offset] == UInt8(ascii: "0") {
                offset += 1
            } else {
                while offset < bytes.count && isDigit(bytes[offset]) { offset += 1 }
            }
            if offset < bytes.count && bytes[offset] == UInt8(ascii: ".") {
                offset += 1
                let digits = offset
                while offset < bytes.count && isDigit(bytes[offset]) { offset += 1 }
                guard offset > digits else { return nil }
            }
            if offset < bytes.count && (bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E")) {
                offset += 1
                if offset < bytes.count && (bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-")) {
                    offset += 1
                }
                let digits = offset
                while offset < bytes.count && isDigit(bytes[offset]) { offset += 1 }
                guard offset > digits else { return nil }
            }
            let count = offset - start
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer -> Double? in
                guard let base = buffer.baseAddress else { return nil }
                for index in 0..<count { buffer[index] = CChar(bitPattern: bytes[start + index]) }
                buffer[count] = 0
                return strtod(base, nil)
            }
        }

        private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}
