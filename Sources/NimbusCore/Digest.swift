import Crypto
import Foundation

/// SHA-256 in the two spellings Nimbus needs: hex (code store keys) and base64 (`CodeSha256`).
public enum Digest {
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(bytes)))
    }

    public static func sha256Hex(_ bytes: some Collection<UInt8>) -> String {
        self.hex(self.sha256(bytes))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `length` characters drawn uniformly from `alphabet`: access keys and secrets, function URL ids, API Gateway ids.
    public static func random(
        from alphabet: [Character], length: Int, using generator: inout some RandomNumberGenerator
    ) -> String {
        String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    public static func random(from alphabet: [Character], length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return self.random(from: alphabet, length: length, using: &generator)
    }

    /// 32 lowercase hex characters of randomness: log stream suffixes and environment ids.
    public static func randomHex32() -> String {
        var g = SystemRandomNumberGenerator()
        let a = g.next()
        let b = g.next()
        return self.hex((0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? a : b) >> (UInt64(i % 8) * 8)) })
    }
}
