/// JSON number literals in patterns.
enum Numbers {
    /// The double a JSON number literal denotes (nearest, as `strtod` rounds).
    static func value(_ text: String) -> Double {
        Double(text) ?? .nan
    }

    /// The literal's value when Ruler can compare it: finite, and exactly the double's shortest decimal form (so
    /// `0.1` is comparable and `0.30000000000000001` or `1e400` are not); `nil` otherwise.
    static func comparableValue(_ text: String) -> Double? {
        guard let value = Double(text), value.isFinite else { return nil }
        guard let written = Decimal(text), let shortest = Decimal(value.description) else { return nil }
        return written == shortest ? value : nil
    }

    /// A decimal literal reduced to sign, significant digits and exponent, for exact comparison.
    private struct Decimal: Equatable {
        var negative: Bool
        var digits: [UInt8]
        var exponent: Int

        init?(_ text: String) {
            var bytes = Substring(text).utf8[...]
            negative = false
            if bytes.first == UInt8(ascii: "-") {
                negative = true
                bytes = bytes.dropFirst()
            }
            var digits: [UInt8] = []
            var exponent = 0
            var seenPoint = false
            while let byte = bytes.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
                bytes = bytes.dropFirst()
                if byte == UInt8(ascii: ".") {
                    seenPoint = true
                } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    digits.append(byte)
                    if seenPoint { exponent -= 1 }
                } else {
                    return nil
                }
            }
            if !bytes.isEmpty {
                bytes = bytes.dropFirst()
                guard let power = Int(String(decoding: bytes, as: UTF8.self).replacingPlus()) else { return nil }
                exponent += power
            }
            while let first = digits.first, first == UInt8(ascii: "0") { digits.removeFirst() }
            while let last = digits.last, last == UInt8(ascii: "0") {
                digits.removeLast()
                exponent += 1
            }
            if digits.isEmpty {
                negative = false
                exponent = 0
            }
            self.digits = digits
            self.exponent = exponent
        }
    }
}

extension String {
    fileprivate func replacingPlus() -> String { hasPrefix("+") ? String(dropFirst()) : self }
}
