import ExtrasBase64
import NIOCore

/// Appends JSON text straight into a `ByteBuffer`, in the order the caller writes members.
///
/// The events are built on every HTTP request, so they are written byte by byte instead of through `JSONValue` and
/// `JSONEncoder` (which allocate a tree and sort keys). The writer only tracks whether a comma is due; the caller is
/// responsible for well-formed nesting, which the event builders guarantee by construction.
struct JSONWriter {
    var buffer: ByteBuffer
    /// Whether the next member or element must be preceded by a comma.
    private var needsComma = false

    init(capacity: Int) {
        self.buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    mutating func beginObject() {
        self.separator()
        self.buffer.writeInteger(UInt8(ascii: "{"))
        self.needsComma = false
    }

    mutating func endObject() {
        self.buffer.writeInteger(UInt8(ascii: "}"))
        self.needsComma = true
    }

    mutating func beginArray() {
        self.separator()
        self.buffer.writeInteger(UInt8(ascii: "["))
        self.needsComma = false
    }

    mutating func endArray() {
        self.buffer.writeInteger(UInt8(ascii: "]"))
        self.needsComma = true
    }

    /// Writes `"key":` (with a leading comma when needed); the value must follow.
    mutating func key(_ key: String) {
        self.separator()
        self.writeQuoted(key)
        self.buffer.writeInteger(UInt8(ascii: ":"))
        self.needsComma = false
    }

    mutating func string(_ value: String) {
        self.separator()
        self.writeQuoted(value)
        self.needsComma = true
    }

    mutating func bool(_ value: Bool) {
        self.separator()
        self.buffer.writeStaticString(value ? "true" : "false")
        self.needsComma = true
    }

    mutating func null() {
        self.separator()
        self.buffer.writeStaticString("null")
        self.needsComma = true
    }

    mutating func integer(_ value: Int64) {
        self.separator()
        self.buffer.writeString(String(value))
        self.needsComma = true
    }

    /// `"key":"value"`.
    mutating func member(_ key: String, _ value: String) {
        self.key(key)
        self.string(value)
    }

    /// `"key":"value"`, or `"key":null` when `value` is nil.
    mutating func member(_ key: String, _ value: String?) {
        self.key(key)
        if let value { self.string(value) } else { self.null() }
    }

    /// `"key":{"k":"v",…}` with keys sorted (deterministic output; JSON objects are unordered anyway).
    mutating func member(_ key: String, _ map: [String: String]) {
        self.key(key)
        self.beginObject()
        for name in map.keys.sorted() {
            // The key comes from the map itself, so the lookup cannot miss.
            self.member(name, map[name] ?? "")
        }
        self.endObject()
    }

    /// A string whose content is the base64 encoding of `bytes`, written without an intermediate `String`.
    mutating func base64String(_ bytes: ByteBuffer) {
        self.separator()
        self.buffer.writeInteger(UInt8(ascii: "\""))
        self.buffer.writeBytes(Base64.encodeToBytes(bytes: bytes.readableBytesView))
        self.buffer.writeInteger(UInt8(ascii: "\""))
        self.needsComma = true
    }

    /// A string whose content is `bytes` (valid UTF-8), escaped, written without an intermediate `String`.
    mutating func utf8String(_ bytes: ByteBuffer) {
        self.separator()
        self.buffer.writeInteger(UInt8(ascii: "\""))
        bytes.withUnsafeReadableBytes { self.writeEscaped($0) }
        self.buffer.writeInteger(UInt8(ascii: "\""))
        self.needsComma = true
    }

    private mutating func separator() {
        if self.needsComma { self.buffer.writeInteger(UInt8(ascii: ",")) }
    }

    private mutating func writeQuoted(_ value: String) {
        self.buffer.writeInteger(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { self.writeEscaped(UnsafeRawBufferPointer($0)) }
        self.buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// Writes UTF-8 bytes as JSON string content: `"`, `\\` and control characters escaped, everything else verbatim.
    /// One pass measures the escaped length, a second fills exactly that much of the buffer through a pointer (bodies
    /// of several megabytes go through here).
    private mutating func writeEscaped(_ bytes: UnsafeRawBufferPointer) {
        var escapedCount = bytes.count
        for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            escapedCount += Self.escapeLength(byte) - 1
        }
        guard escapedCount != bytes.count else {
            self.buffer.writeBytes(bytes)
            return
        }
        self.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: escapedCount) { output in
            var out = 0
            for byte in bytes {
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                    output[out] = byte
                    out += 1
                    continue
                }
                output[out] = UInt8(ascii: "\\")
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): output[out + 1] = byte
                case 0x0A: output[out + 1] = UInt8(ascii: "n")
                case 0x0D: output[out + 1] = UInt8(ascii: "r")
                case 0x09: output[out + 1] = UInt8(ascii: "t")
                case 0x08: output[out + 1] = UInt8(ascii: "b")
                case 0x0C: output[out + 1] = UInt8(ascii: "f")
                default:
                    output[out + 1] = UInt8(ascii: "u")
                    output[out + 2] = UInt8(ascii: "0")
                    output[out + 3] = UInt8(ascii: "0")
                    output[out + 4] = Self.hexDigit(byte >> 4)
                    output[out + 5] = Self.hexDigit(byte & 0x0F)
                }
                out += Self.escapeLength(byte)
            }
            return out
        }
    }

    /// The length of the escape for a byte that needs one: `\n` and friends are 2, `\u00XX` is 6.
    private static func escapeLength(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09, 0x08, 0x0C: 2
        default: 6
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
