extension CBORValue {
    /// The CBOR bytes of this value in preferred serialisation (RFC 8949 §4.1): the shortest head for every integer,
    /// length and tag, definite lengths only, map pairs in their stored order.
    ///
    /// Floats keep the width their case names, so a decoded value re-encodes byte for byte. Values converted from
    /// JSON are ``float64(_:)`` — the `double` encoding Smithy's own serialisers use — and the encoder never narrows a
    /// float by itself (Smithy asks senders not to use half precision). A ``float16(_:)`` whose value has no exact
    /// half-precision form is written as single precision rather than rounded.
    ///
    /// - Precondition: a ``simple(_:)`` value is not in 24...31, which CBOR cannot represent.
    public func encoded() -> [UInt8] {
        var output: [UInt8] = []
        self.encode(into: &output)
        return output
    }

    private func encode(into output: inout [UInt8]) {
        switch self {
        case .unsigned(let n): Self.writeHead(major: 0, n, into: &output)
        case .negative(let n): Self.writeHead(major: 1, n, into: &output)
        case .bytes(let bytes):
            Self.writeHead(major: 2, UInt64(bytes.count), into: &output)
            output += bytes
        case .text(let text):
            let utf8 = text.utf8
            Self.writeHead(major: 3, UInt64(utf8.count), into: &output)
            output += utf8
        case .array(let items):
            Self.writeHead(major: 4, UInt64(items.count), into: &output)
            for item in items { item.encode(into: &output) }
        case .map(let entries):
            Self.writeHead(major: 5, UInt64(entries.count), into: &output)
            for entry in entries {
                entry.key.encode(into: &output)
                entry.value.encode(into: &output)
            }
        case .tagged(let tag, let content):
            Self.writeHead(major: 6, tag, into: &output)
            content.encode(into: &output)
        case .bool(let b): output.append(b ? 0xf5 : 0xf4)
        case .null: output.append(0xf6)
        case .undefined: output.append(0xf7)
        case .simple(let value):
            precondition(!(24...31).contains(value), "simple(\(value)) has no CBOR encoding")
            if value < 24 { output.append(0xe0 | value) } else { output += [0xf8, value] }
        case .float16(let f):
            if let half = HalfPrecision.bits(exactly: f) {
                output.append(0xf9)
                Self.writeBigEndian(UInt64(half), bytes: 2, into: &output)
            } else {
                CBORValue.float32(f).encode(into: &output)
            }
        case .float32(let f):
            output.append(0xfa)
            Self.writeBigEndian(UInt64(f.bitPattern), bytes: 4, into: &output)
        case .float64(let d):
            output.append(0xfb)
            Self.writeBigEndian(d.bitPattern, bytes: 8, into: &output)
        }
    }

    /// A head with the shortest argument encoding.
    private static func writeHead(major: UInt8, _ argument: UInt64, into output: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24: output.append(type | UInt8(argument))
        case 24...0xff:
            output.append(type | 24)
            Self.writeBigEndian(argument, bytes: 1, into: &output)
        case 0x100...0xffff:
            output.append(type | 25)
            Self.writeBigEndian(argument, bytes: 2, into: &output)
        case 0x1_0000...0xffff_ffff:
            output.append(type | 26)
            Self.writeBigEndian(argument, bytes: 4, into: &output)
        default:
            output.append(type | 27)
            Self.writeBigEndian(argument, bytes: 8, into: &output)
        }
    }

    private static func writeBigEndian(_ value: UInt64, bytes: Int, into output: inout [UInt8]) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
