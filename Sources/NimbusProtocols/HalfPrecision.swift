/// IEEE 754 binary16 ↔ `Float`, by bit manipulation (`Float16` is unavailable on macOS/x86_64).
enum HalfPrecision {
    /// The exact `Float` of a half-precision bit pattern, NaN payloads and signed zeros included.
    static func float(fromBits bits: UInt16) -> Float {
        let sign: UInt32 = UInt32(bits >> 15) << 31
        let exponent = Int((bits >> 10) & 0x1f)
        let mantissa = UInt32(bits & 0x3ff)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2^-24, exact in single precision.
            let magnitude = Float(sign: .plus, exponent: -24, significand: Float(mantissa))
            return sign == 0 ? magnitude : -magnitude
        case 0x1f:
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
        }
    }

    /// The half-precision bit pattern of `value`, or nil when it has none that converts back to the same bits.
    static func bits(exactly value: Float) -> UInt16? {
        let bits = value.bitPattern
        let sign = UInt16(bits >> 31) << 15
        let exponent = Int((bits >> 23) & 0xff)
        let mantissa = bits & 0x7f_ffff
        let candidate: UInt16
        if exponent == 0xff {
            candidate = sign | 0x7c00 | UInt16(truncatingIfNeeded: mantissa >> 13)
        } else if value == 0 {
            candidate = sign
        } else {
            let unbiased = exponent - 127
            if unbiased > 15 || unbiased < -24 { return nil }
            if unbiased >= -14 {
                candidate = sign | UInt16((unbiased + 15) << 10) | UInt16(truncatingIfNeeded: mantissa >> 13)
            } else {
                // Subnormal half: the value is k × 2^-24 with k = significand × 2^(unbiased + 1) < 2^10.
                let significand = mantissa | 0x80_0000
                candidate = sign | UInt16(truncatingIfNeeded: significand >> UInt32(-unbiased - 1))
            }
        }
        return Self.float(fromBits: candidate).bitPattern == bits ? candidate : nil
    }
}
