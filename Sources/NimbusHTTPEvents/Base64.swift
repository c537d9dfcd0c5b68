import NIOCore

/// Standard base64 (RFC 4648 §4, with padding), the alphabet AWS uses for `body` when `isBase64Encoded` is true.
///
/// Written here rather than through Foundation's `Data` so that bodies go from and to `ByteBuffer` without copies.
enum Base64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )

    /// The value of each byte in the alphabet (both `+/` and the URL-safe `-_`), 0xFF for anything else.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Appends the base64 encoding of `bytes` to `buffer`, in one reservation and a pointer loop (a 6 MB body is
    /// encoded on the request path).
    static func encode(_ bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        let outputCount = (bytes.count + 2) / 3 * 4
        guard outputCount > 0 else { return }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: outputCount) { output in
            Self.alphabet.withUnsafeBufferPointer { table in
                var input = 0
                var out = 0
                let whole = bytes.count - bytes.count % 3
                while input < whole {
                    let value = UInt32(bytes[input]) << 16 | UInt32(bytes[input + 1]) << 8 | UInt32(bytes[input + 2])
                    output[out] = table[Int(value >> 18)]
                    output[out + 1] = table[Int(value >> 12 & 0x3F)]
                    output[out + 2] = table[Int(value >> 6 & 0x3F)]
                    output[out + 3] = table[Int(value & 0x3F)]
                    input += 3
                    out += 4
                }
                let rest = bytes.count - whole
                if rest > 0 {
                    let b0 = UInt32(bytes[input])
                    let b1 = rest == 2 ? UInt32(bytes[input + 1]) : 0
                    output[out] = table[Int(b0 >> 2)]
                    output[out + 1] = table[Int((b0 & 0x03) << 4 | b1 >> 4)]
                    output[out + 2] = rest == 2 ? table[Int((b1 & 0x0F) << 2)] : UInt8(ascii: "=")
                    output[out + 3] = UInt8(ascii: "=")
                }
            }
            return outputCount
        }
    }

    /// Appends the base64 encoding of `bytes` to `buffer`.
    static func encode(_ bytes: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        let array = Array(bytes)
        array.withUnsafeBytes { Self.encode($0, into: &buffer) }
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
        if let decoded = text.withContiguousStorageIfAvailable({ Self.decode(UnsafeRawBufferPointer($0)) }) {
            return decoded
        }
        return Array(text).withUnsafeBytes { Self.decode($0) }
    }

    static func decode(_ text: UnsafeRawBufferPointer) -> ByteBuffer? {
        // Padding only at the end: at most two `=`, and nothing after them.
        var length = text.count
        while length > 0, text[length - 1] == UInt8(ascii: "=") { length -= 1 }
        guard text.count - length <= 2, length % 4 != 1 else { return nil }
        let outputCount = length / 4 * 3 + max(0, length % 4 - 1)
        var buffer = ByteBufferAllocator().buffer(capacity: outputCount)
        var valid = true
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: outputCount) { output in
            Self.values.withUnsafeBufferPointer { table in
                var accumulator: UInt32 = 0
                var count = 0
                var out = 0
                for index in 0..<length {
                    let value = table[Int(text[index])]
                    if value == 0xFF {
                        valid = false
                        return 0
                    }
                    accumulator = accumulator << 6 | UInt32(value)
                    count += 1
                    if count == 4 {
                        output[out] = UInt8(truncatingIfNeeded: accumulator >> 16)
                        output[out + 1] = UInt8(truncatingIfNeeded: accumulator >> 8)
                        output[out + 2] = UInt8(truncatingIfNeeded: accumulator)
                        out += 3
                        accumulator = 0
                        count = 0
                    }
                }
                if count == 2 {
                    output[out] = UInt8(truncatingIfNeeded: accumulator >> 4)
                    out += 1
                } else if count == 3 {
                    output[out] = UInt8(truncatingIfNeeded: accumulator >> 10)
                    output[out + 1] = UInt8(truncatingIfNeeded: accumulator >> 2)
                    out += 2
                }
                return out
            }
        }
        return valid ? buffer : nil
    }
}
