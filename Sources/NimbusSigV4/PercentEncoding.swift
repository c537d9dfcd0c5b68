/// SigV4's `UriEncode` and the lenient decoding the verifier applies to what clients send. Works on bytes: decoded
/// query values need not be UTF-8.
enum PercentEncoding {
    /// RFC 3986's unreserved characters, the only ones `UriEncode` leaves alone: `A-Z a-z 0-9 - . _ ~`.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Every byte but the unreserved ones (and `/` when `keepingSlash`) as `%XX` with upper-case hex.
    static func encode(_ bytes: some Sequence<UInt8>, keepingSlash: Bool) -> String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(bytes.underestimatedCount)
        for byte in bytes {
            if Self.isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(Hex.upperDigits[Int(byte >> 4)])
                encoded.append(Hex.upperDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// `%XX` escapes decoded and `+` read as a space; a `%` not followed by two hex digits stays as it is.
    static func decode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"),
                let first = bytes.index(index, offsetBy: 1, limitedBy: bytes.endIndex), first != bytes.endIndex,
                let second = bytes.index(first, offsetBy: 1, limitedBy: bytes.endIndex), second != bytes.endIndex,
                let high = Hex.value(of: bytes[first]), let low = Hex.value(of: bytes[second])
            {
                decoded.append(high << 4 | low)
                index = bytes.index(after: second)
                continue
            }
            decoded.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = bytes.index(after: index)
        }
        return decoded
    }

    static func decodedString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: Self.decode(bytes), as: UTF8.self)
    }

    /// A query component split at its first `=`; the value is empty when there is none.
    static func splitPair(_ component: Substring.UTF8View) -> (Substring.UTF8View, Substring.UTF8View) {
        guard let equals = component.firstIndex(of: UInt8(ascii: "=")) else {
            return (component, component[component.endIndex...])
        }
        return (component[..<equals], component[component.index(after: equals)...])
    }
}

/// Lower-case hex for digests and signatures, and hex digit values.
enum Hex {
    static let lowerDigits = Array("0123456789abcdef".utf8)
    static let upperDigits = Array("0123456789ABCDEF".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(Self.lowerDigits[Int(byte >> 4)])
            text.append(Self.lowerDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Whether `text` is a hex SHA-256 digest (64 digits, either case).
    static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { Self.value(of: $0) != nil }
    }
}
