import NIOCore

/// Standard base64 (RFC 4648 §4, with padding), the alphabet AWS uses for `body` when `isBase64Encoded` is true.
///
/// Written here rather than through Foundation's `Data` so that bodies go from and to `ByteBuffer` without copies.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The value of each byte in the alphabet (both `+/` and the URL-safe `-_`), 0xFF for anything else.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Appends the base64 encoding of `bytes` to `buffer`.
    static func encode(_ bytes: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: (bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            buffer.writeInteger(alphabet[Int(b0 >> 2)])
            buffer.writeInteger(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                buffer.writeInteger(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            } else {
                buffer.writeInteger(UInt8(ascii: "="))
            }
            if let b2 {
                buffer.writeInteger(alphabet[Int(b2 & 0x3F)])
            } else {
                buffer.writeInteger(UInt8(ascii: "="))
            }
        }
    }

    /// The base64 encoding of `bytes` as a string.
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var buffer = ByteBufferAllocator().buffer(capacity: (bytes.count + 2) / 3 * 4)
        Self.encode(bytes, into: &buffer)
        return String(buffer: buffer)
    }

    /// Decodes base64 text; `nil` when it holds a byte outside the alphabet or an impossible length.
    ///
    /// Padding is optional and the URL-safe alphabet is accepted too: a function's `body` is decoded leniently, as a
    /// client library would, because the alternative is failing the whole response.
    static func decode(_ text: some Collection<UInt8>) -> ByteBuffer? {
        var buffer = ByteBufferAllocator().buffer(capacity: text.count / 4 * 3 + 3)
        var accumulator: UInt32 = 0
        var count = 0
        var padding = 0
        for byte in text {
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            // Nothing but padding may follow padding.
            if padding > 0 { return nil }
            let value = values[Int(byte)]
            if value == 0xFF { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            count += 1
            if count == 4 {
                buffer.writeInteger(UInt8(truncatingIfNeeded: accumulator >> 16))
                buffer.writeInteger(UInt8(truncatingIfNeeded: accumulator >> 8))
                buffer.writeInteger(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
                count = 0
            }
        }
        if padding > 2 { return nil }
        switch count {
        case 0: break
        case 2:
            buffer.writeInteger(UInt8(truncatingIfNeeded: accumulator >> 4))
        case 3:
            buffer.writeInteger(UInt8(truncatingIfNeeded: accumulator >> 10))
            buffer.writeInteger(UInt8(truncatingIfNeeded: accumulator >> 2))
        default:
            return nil
        }
        return buffer
    }
}
