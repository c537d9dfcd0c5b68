/// Decodes one CBOR data item (RFC 8949) from untrusted bytes.
///
/// Accepts definite and indefinite lengths and any head width. Refuses, with a ``WireFormatError``, anything not
/// well-formed or not valid: truncated input, reserved additional information (28–30), a misplaced break code,
/// indefinite strings whose chunks are not definite strings of the same type, text that is not UTF-8, two-byte simple
/// values below 32, duplicate map keys, nesting deeper than ``maximumDepth``, and bytes after the item. A declared
/// length is checked against the bytes that remain before anything is allocated for it.
public struct CBORDecoder: Sendable {
    /// The deepest nesting of arrays, maps and tags accepted; the top-level item is at depth 1.
    public var maximumDepth: Int

    /// A decoder accepting `maximumDepth` levels of nesting (Smithy documents rarely exceed ten).
    public init(maximumDepth: Int = 64) {
        self.maximumDepth = maximumDepth
    }

    /// The single data item that `bytes` holds.
    /// - Throws: ``WireFormatError`` (`malformedCBOR`, or `limitExceeded` for nesting).
    public func decode(_ bytes: some Collection<UInt8>) throws -> CBORValue {
        var reader = CBORReader(bytes: Array(bytes), maximumDepth: self.maximumDepth)
        guard !reader.bytes.isEmpty else { throw WireFormatError(.malformedCBOR, "empty input: expected a data item") }
        let value = try reader.readItem(depth: 1)
        guard reader.offset == reader.bytes.count else {
            throw reader.error("\(reader.bytes.count - reader.offset) trailing byte(s) after the data item")
        }
        return value
    }
}

/// The cursor behind ``CBORDecoder``: one recursive descent, depth-bounded.
private struct CBORReader {
    let bytes: [UInt8]
    var offset = 0
    let maximumDepth: Int

    init(bytes: [UInt8], maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    static let breakCode: UInt8 = 0xff

    var remaining: Int { self.bytes.count - self.offset }

    func error(_ what: String, at offset: Int? = nil) -> WireFormatError {
        WireFormatError(.malformedCBOR, "\(what) (at byte offset \(offset ?? self.offset))")
    }

    mutating func readByte() throws(WireFormatError) -> UInt8 {
        guard self.offset < self.bytes.count else { throw self.error("unexpected end of input") }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    mutating func readBigEndian(_ count: Int) throws(WireFormatError) -> UInt64 {
        guard self.remaining >= count else {
            throw self.error("unexpected end of input: \(count) byte(s) needed, \(self.remaining) left")
        }
        var value: UInt64 = 0
        for byte in self.bytes[self.offset..<self.offset + count] { value = value << 8 | UInt64(byte) }
        self.offset += count
        return value
    }

    /// The argument of a head: nil for indefinite length (additional information 31).
    mutating func readArgument(_ info: UInt8, start: Int) throws(WireFormatError) -> UInt64? {
        switch info {
        case 0..<24: return UInt64(info)
        case 24: return try self.readBigEndian(1)
        case 25: return try self.readBigEndian(2)
        case 26: return try self.readBigEndian(4)
        case 27: return try self.readBigEndian(8)
        case 31: return nil
        default: throw self.error("reserved additional information \(info)", at: start)
        }
    }

    /// A declared count that must be backed by at least `count × bytesPerUnit` remaining bytes.
    func checkedCount(_ count: UInt64, bytesPerUnit: UInt64, what: String, start: Int) throws(WireFormatError) -> Int {
        let (needed, overflow) = count.multipliedReportingOverflow(by: bytesPerUnit)
        guard !overflow, needed <= UInt64(self.remaining) else {
            throw self.error("\(what) declares \(count) but only \(self.remaining) byte(s) remain", at: start)
        }
        return Int(count)
    }

    mutating func readItem(depth: Int) throws(WireFormatError) -> CBORValue {
        let start = self.offset
        let initial = try self.readByte()
        let major = initial >> 5
        let info = initial & 0x1f
        if major == 7 { return try self.readSimpleOrFloat(info, start: start) }
        let argument = try self.readArgument(info, start: start)
        switch major {
        case 0, 1, 6:
            guard let argument else {
                throw self.error("indefinite length is not allowed for major type \(major)", at: start)
            }
            if major == 0 { return .unsigned(argument) }
            if major == 1 { return .negative(argument) }
            try self.checkDepth(depth, start: start)
            return .tagged(argument, try self.readItem(depth: depth + 1))
        case 2:
            return .bytes(try self.readBytes(length: argument, start: start))
        case 3:
            return .text(try self.readText(length: argument, start: start))
        case 4:
            try self.checkDepth(depth, start: start)
            return .array(try self.readArray(count: argument, depth: depth, start: start))
        default:
            try self.checkDepth(depth, start: start)
            return .map(try self.readMap(count: argument, depth: depth, start: start))
        }
    }

    func checkDepth(_ depth: Int, start: Int) throws(WireFormatError) {
        guard depth <= self.maximumDepth else {
            throw WireFormatError(
                .limitExceeded,
                "CBOR nesting deeper than \(self.maximumDepth) levels (at byte offset \(start))"
            )
        }
    }

    mutating func readSimpleOrFloat(_ info: UInt8, start: Int) throws(WireFormatError) -> CBORValue {
        switch info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23: return .undefined
        case 0..<20: return .simple(info)
        case 24:
            let value = try self.readByte()
            guard value >= 32 else { throw self.error("two-byte simple value \(value) is below 32", at: start) }
            return .simple(value)
        case 25: return .float16(HalfPrecision.float(fromBits: UInt16(try self.readBigEndian(2))))
        case 26: return .float32(Float(bitPattern: UInt32(try self.readBigEndian(4))))
        case 27: return .float64(Double(bitPattern: try self.readBigEndian(8)))
        case 31: throw self.error("break code outside an indefinite-length item", at: start)
        default: throw self.error("reserved additional information \(info)", at: start)
        }
    }

    /// A byte string: one definite string, or the concatenated chunks of an indefinite one.
    mutating func readBytes(length: UInt64?, start: Int) throws(WireFormatError) -> [UInt8] {
        if let length { return try self.readChunk(length: length, start: start) }
        var content: [UInt8] = []
        while let chunk = try self.readIndefiniteChunk(major: 2) { content += chunk.bytes }
        return content
    }

    /// A text string; each chunk of an indefinite one must itself be UTF-8 (RFC 8949 §3.2.3).
    mutating func readText(length: UInt64?, start: Int) throws(WireFormatError) -> String {
        if let length { return try self.utf8(try self.readChunk(length: length, start: start), start: start) }
        var text = ""
        while let chunk = try self.readIndefiniteChunk(major: 3) {
            text += try self.utf8(chunk.bytes, start: chunk.start)
        }
        return text
    }

    /// The next chunk of an indefinite-length string, which must be a definite string of the same major type, or nil
    /// at the break code.
    mutating func readIndefiniteChunk(major: UInt8) throws(WireFormatError) -> (bytes: [UInt8], start: Int)? {
        let start = self.offset
        let initial = try self.readByte()
        if initial == Self.breakCode { return nil }
        guard initial >> 5 == major, let length = try self.readArgument(initial & 0x1f, start: start) else {
            throw self.error(
                "a chunk of an indefinite-length string must be a definite string of the same type",
                at: start
            )
        }
        return (try self.readChunk(length: length, start: start), start)
    }

    mutating func readChunk(length: UInt64, start: Int) throws(WireFormatError) -> [UInt8] {
        let count = try self.checkedCount(length, bytesPerUnit: 1, what: "string length", start: start)
        defer { self.offset += count }
        return Array(self.bytes[self.offset..<self.offset + count])
    }

    func utf8(_ bytes: [UInt8], start: Int) throws(WireFormatError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw self.error("text string is not valid UTF-8", at: start)
        }
        return text
    }

    mutating func readArray(count: UInt64?, depth: Int, start: Int) throws(WireFormatError) -> [CBORValue] {
        var items: [CBORValue] = []
        if let count {
            let n = try self.checkedCount(count, bytesPerUnit: 1, what: "array length", start: start)
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try self.readItem(depth: depth + 1)) }
            return items
        }
        while try !self.consumeBreak() { items.append(try self.readItem(depth: depth + 1)) }
        return items
    }

    mutating func readMap(count: UInt64?, depth: Int, start: Int) throws(WireFormatError) -> [CBORValue.Entry] {
        var entries: [CBORValue.Entry] = []
        var keys = Set<CBORValue>()
        func append(_ reader: inout CBORReader) throws(WireFormatError) {
            let keyStart = reader.offset
            let key = try reader.readItem(depth: depth + 1)
            guard keys.insert(key).inserted else { throw reader.error("duplicate map key", at: keyStart) }
            entries.append(CBORValue.Entry(key, try reader.readItem(depth: depth + 1)))
        }
        if let count {
            let n = try self.checkedCount(count, bytesPerUnit: 2, what: "map size", start: start)
            entries.reserveCapacity(n)
            for _ in 0..<n { try append(&self) }
            return entries
        }
        while try !self.consumeBreak() { try append(&self) }
        return entries
    }

    /// Whether the next byte is the break code (consumed if so); running out of input inside an indefinite-length
    /// item is an error.
    mutating func consumeBreak() throws(WireFormatError) -> Bool {
        guard self.offset < self.bytes.count else { throw self.error("unexpected end of input: missing break code") }
        guard self.bytes[self.offset] == Self.breakCode else { return false }
        self.offset += 1
        return true
    }
}
