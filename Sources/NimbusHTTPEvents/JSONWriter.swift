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
    mutating func base64String(_ bytes: ByteBufferView) {
        self.separator()
        self.buffer.writeInteger(UInt8(ascii: "\""))
        Base64.encode(bytes, into: &self.buffer)
        self.buffer.writeInteger(UInt8(ascii: "\""))
        self.needsComma = true
    }

    /// A string whose content is `bytes` (valid UTF-8), escaped, written without an intermediate `String`.
    mutating func utf8String(_ bytes: ByteBufferView) {
        self.separator()
        self.buffer.writeInteger(UInt8(ascii: "\""))
        self.writeEscaped(bytes)
        self.buffer.writeInteger(UInt8(ascii: "\""))
        self.needsComma = true
    }

    private mutating func separator() {
        if self.needsComma { self.buffer.writeInteger(UInt8(ascii: ",")) }
    }

    private mutating func writeQuoted(_ value: String) {
        self.buffer.writeInteger(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { self.writeEscaped($0) }
        self.buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// Writes UTF-8 bytes as JSON string content: `"`, `\` and control characters escaped, everything else verbatim
    /// (runs without escapes are copied in one call).
    private mutating func writeEscaped(_ bytes: some Collection<UInt8>) {
        var runStart = bytes.startIndex
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                if runStart != index { self.buffer.writeBytes(bytes[runStart..<index]) }
                self.writeEscape(byte)
                runStart = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        if runStart != bytes.endIndex { self.buffer.writeBytes(bytes[runStart..<bytes.endIndex]) }
    }

    private mutating func writeEscape(_ byte: UInt8) {
        self.buffer.writeInteger(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): self.buffer.writeInteger(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): self.buffer.writeInteger(UInt8(ascii: "\\"))
        case 0x0A: self.buffer.writeInteger(UInt8(ascii: "n"))
        case 0x0D: self.buffer.writeInteger(UInt8(ascii: "r"))
        case 0x09: self.buffer.writeInteger(UInt8(ascii: "t"))
        case 0x08: self.buffer.writeInteger(UInt8(ascii: "b"))
        case 0x0C: self.buffer.writeInteger(UInt8(ascii: "f"))
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            self.buffer.writeStaticString("u00")
            self.buffer.writeInteger(hex[Int(byte >> 4)])
            self.buffer.writeInteger(hex[Int(byte & 0x0F)])
        }
    }
}
