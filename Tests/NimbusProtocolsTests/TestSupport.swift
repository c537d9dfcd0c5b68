/// Bytes from hex digits (spaces ignored), for test vectors.
func hex(_ digits: String) -> [UInt8] {
    let clean = Array(digits.filter { !$0.isWhitespace }.utf8)
    return stride(from: 0, to: clean.count, by: 2).map {
        UInt8(String(decoding: clean[$0...$0 + 1], as: UTF8.self), radix: 16)!
    }
}

/// Lowercase hex of bytes, for readable expectations.
func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// A seeded generator (SplitMix64), so that the robustness tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9e37_79b9_7f4a_7c15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
