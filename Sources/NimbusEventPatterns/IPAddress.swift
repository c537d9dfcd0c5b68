/// IP addresses for `cidr` and for pattern strings that are IP literals, parsed as EventBridge does: a value is an
/// address only when it looks like one (four dotted decimal parts, or hex digits and colons with at least one colon)
/// and parses as an IPv4 or IPv6 address (Java's `InetAddress` rules: IPv4 parts up to 255, leading zeros allowed;
/// IPv6 with at most one `::` that stands for at least one group, no embedded IPv4).
enum IPAddress: Sendable, Hashable, Comparable {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    /// Parses an event or pattern string; `nil` when it is not an address. Allocation-free.
    static func parse(_ text: String) -> IPAddress? {
        text.utf8.withContiguousStorageIfAvailable { parse(bytes: $0) } ?? parse(bytes: Array(text.utf8))
    }

    /// Whether `text` has the shape EventBridge tests before treating a string as an address.
    static func looksLikeAddress(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return looksLikeIPv4(bytes) || looksLikeIPv6(bytes)
    }

    static func parse(bytes: some RandomAccessCollection<UInt8>) -> IPAddress? {
        if looksLikeIPv4(bytes) { return parseIPv4(bytes) }
        if looksLikeIPv6(bytes) { return parseIPv6(bytes) }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func hexValue(_ byte: UInt8) -> UInt16? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt16(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt16(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt16(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// `[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+`
    private static func looksLikeIPv4(_ bytes: some Collection<UInt8>) -> Bool {
        var dots = 0
        var digitsInPart = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digitsInPart > 0 else { return false }
                dots += 1
                digitsInPart = 0
            } else if isDigit(byte) {
                digitsInPart += 1
            } else {
                return false
            }
        }
        return dots == 3 && digitsInPart > 0
    }

    /// `[0-9a-fA-F:]*:[0-9a-fA-F:]*`
    private static func looksLikeIPv6(_ bytes: some Collection<UInt8>) -> Bool {
        var colon = false
        for byte in bytes {
            if byte == UInt8(ascii: ":") {
                colon = true
            } else if hexValue(byte) == nil {
                return false
            }
        }
        return colon
    }

    private static func parseIPv4(_ bytes: some Collection<UInt8>) -> IPAddress? {
        var value: UInt32 = 0
        var part: UInt32 = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                value = value << 8 | part
                part = 0
            } else {
                part = part * 10 + UInt32(byte - UInt8(ascii: "0"))
                if part > 255 { return nil }
            }
        }
        return .v4(value << 8 | part)
    }

    private static func parseIPv6(_ bytes: some RandomAccessCollection<UInt8>) -> IPAddress? {
        // Up to eight groups in a fixed buffer: event values are parsed on the matching path, so no allocation.
        var groups: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &groups) { raw -> IPAddress? in
            let buffer = raw.bindMemory(to: UInt16.self)
            var count = 0
            var compressionAt: Int?
            var index = bytes.startIndex
            let end = bytes.endIndex
            if index == end { return nil }
            if bytes[index] == UInt8(ascii: ":") {
                // Only "::" may lead.
                let next = bytes.index(after: index)
                guard next != end, bytes[next] == UInt8(ascii: ":") else { return nil }
                compressionAt = 0
                index = bytes.index(after: next)
                if index == end { return .v6(0, 0) }
            }
            while index != end {
                var group: UInt16 = 0
                var digits = 0
                while index != end, let digit = hexValue(bytes[index]) {
                    group = group << 4 | digit
                    digits += 1
                    if digits > 4 { return nil }
                    index = bytes.index(after: index)
                }
                guard digits > 0, count < 8 else { return nil }
                buffer[count] = group
                count += 1
                if index == end { break }
                index = bytes.index(after: index)
                guard index != end else { return nil }  // a trailing single ':'
                if bytes[index] == UInt8(ascii: ":") {
                    guard compressionAt == nil else { return nil }
                    compressionAt = count
                    index = bytes.index(after: index)
                }
            }
            if let at = compressionAt {
                // "::" stands for at least one group of zeros: shift the groups after it to the end.
                guard count <= 7 else { return nil }
                let tail = count - at
                for offset in stride(from: tail - 1, through: 0, by: -1) {
                    buffer[8 - tail + offset] = buffer[at + offset]
                }
                for position in at..<(8 - tail) { buffer[position] = 0 }
            } else {
                guard count == 8 else { return nil }
            }
            var high: UInt64 = 0
            var low: UInt64 = 0
            for position in 0..<4 { high = high << 16 | UInt64(buffer[position]) }
            for position in 4..<8 { low = low << 16 | UInt64(buffer[position]) }
            return .v6(high, low)
        }
    }

    static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let ah, let al), .v6(let bh, let bl)): (ah, al) < (bh, bl)
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}

/// An inclusive range of addresses of one family: a CIDR block, or a single address from a pattern string.
struct IPRange: Sendable, Hashable {
    let lower: IPAddress
    let upper: IPAddress

    func contains(_ address: IPAddress) -> Bool {
        switch (address, lower) {
        case (.v4, .v4), (.v6, .v6): lower <= address && address <= upper
        default: false
        }
    }

    /// Parses `cidr` with Ruler's checks and messages (reported without a location, as AWS does).
    init(cidr text: String) throws(PatternFailure) {
        // Java's String.split("/") drops trailing empty parts.
        var parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        while parts.last == "" { parts.removeLast() }
        guard parts.count == 2 else { throw PatternFailure("Malformed CIDR, one '/' required") }
        guard let maskBits = Self.parseJavaInt(parts[1]) else {
            throw PatternFailure("Malformed CIDR, mask bits must be an integer")
        }
        guard maskBits >= 0 else { throw PatternFailure("Malformed CIDR, mask bits must not be negative") }
        let addressText = parts[0]
        guard IPAddress.looksLikeAddress(addressText) else {
            throw PatternFailure("Nonstandard IP address: \(addressText)")
        }
        guard let address = IPAddress.parse(addressText) else {
            throw PatternFailure("Invalid IP address: \(addressText)")
        }
        switch address {
        case .v4(let value):
            guard maskBits <= 31 else { throw PatternFailure("IPv4 mask bits must be < 32") }
            let hostMask: UInt32 = maskBits == 0 ? .max : (UInt32(1) << (32 - maskBits)) &- 1
            self.lower = .v4(value & ~hostMask)
            self.upper = .v4(value | hostMask)
        case .v6(let high, let low):
            guard maskBits <= 127 else { throw PatternFailure("IPv6 mask bits must be < 128") }
            let hostBits = 128 - maskBits
            let lowMask: UInt64 = hostBits >= 64 ? .max : (UInt64(1) << hostBits) &- 1
            let highMask: UInt64 = hostBits <= 64 ? 0 : (hostBits == 128 ? .max : (UInt64(1) << (hostBits - 64)) &- 1)
            self.lower = .v6(high & ~highMask, low & ~lowMask)
            self.upper = .v6(high | highMask, low | lowMask)
        }
    }

    init(single address: IPAddress) {
        self.lower = address
        self.upper = address
    }

    /// Java's `Integer.parseInt`: an optional sign and decimal digits that fit in 32 bits.
    private static func parseJavaInt(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int32(digits) else {
            return nil
        }
        return negative ? -Int(value) : Int(value)
    }
}
