import Crypto
import FoundationEssentials

/// The flexible checksums S3 clients send in `x-amz-checksum-*` headers and aws-chunked trailers: the base64 of the
/// big-endian digest.
public enum ChecksumAlgorithm: String, Sendable, Hashable, CaseIterable {
    case crc32
    case crc32c
    case crc64nvme
    case sha1
    case sha256

    /// The algorithm a `x-amz-checksum-<name>` header (any case) carries, or nil for other names.
    public init?(headerName: String) {
        let lowered = headerName.lowercased()
        guard lowered.hasPrefix(Self.headerPrefix) else { return nil }
        self.init(rawValue: String(lowered.dropFirst(Self.headerPrefix.count)))
    }

    /// `x-amz-checksum-crc32`, ….
    public var headerName: String { Self.headerPrefix + self.rawValue }

    /// The digest's size in bytes.
    public var digestSize: Int {
        switch self {
        case .crc32, .crc32c: 4
        case .crc64nvme: 8
        case .sha1: 20
        case .sha256: 32
        }
    }

    /// The big-endian digest of `bytes`.
    public func digest(of bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .crc32: Self.bigEndian(UInt64(CRC32.standard.checksum(bytes)), size: 4)
        case .crc32c: Self.bigEndian(UInt64(CRC32.castagnoli.checksum(bytes)), size: 4)
        case .crc64nvme: Self.bigEndian(CRC64.nvme.checksum(bytes), size: 8)
        case .sha1: Array(Insecure.SHA1.hash(data: bytes))
        case .sha256: Array(SHA256.hash(data: bytes))
        }
    }

    /// The value of the `x-amz-checksum-*` header for `bytes`: the base64 of ``digest(of:)``.
    public func base64Digest(of bytes: [UInt8]) -> String {
        Data(self.digest(of: bytes)).base64EncodedString()
    }

    /// How S3's `BadDigest` message names the algorithm.
    var messageName: String {
        switch self {
        case .crc32, .crc32c, .crc64nvme: self.rawValue.uppercased()
        case .sha1, .sha256: self.rawValue
        }
    }

    private static let headerPrefix = "x-amz-checksum-"

    static func bigEndian(_ value: UInt64, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64(size - 1 - $0))) }
    }
}

/// Reflected, table-driven 32-bit CRCs. Written here because nothing this package may depend on provides them:
/// swift-crypto has only cryptographic hashes, and zlib's `crc32` would not give CRC-32C (Castagnoli) anyway.
///
/// Slicing-by-8: eight tables let each step consume eight bytes, several times faster than a byte at a time, which
/// matters because S3 checksums every byte of every upload.
struct CRC32: Sendable {
    /// CRC-32 (ISO-HDLC, zlib's): check value of "123456789" is 0xCBF43926.
    static let standard = CRC32(reflectedPolynomial: 0xEDB8_8320)
    /// CRC-32C (Castagnoli, iSCSI): check value of "123456789" is 0xE3069283.
    static let castagnoli = CRC32(reflectedPolynomial: 0x82F6_3B78)

    /// Eight tables of 256 entries: table `k` advances the register over a byte followed by `k` zero bytes.
    private let tables: [UInt32]

    private init(reflectedPolynomial: UInt32) {
        var tables: [UInt32] = (0..<256).map { index in
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ reflectedPolynomial : value >> 1 }
            return value
        }
        for index in 256..<(8 * 256) {
            let previous = tables[index - 256]
            tables.append((previous >> 8) ^ tables[Int(previous & 0xFF)])
        }
        self.tables = tables
    }

    func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { ~self.update(Self.initialRegister, with: $0) }
    }

    /// The register a checksum starts from; the checksum is the complement of the final register.
    static let initialRegister = UInt32.max

    /// `register` advanced over `bytes`: feeding a message in pieces gives the register of the whole, so
    /// ``IncrementalChecksum`` can checksum a body as it streams.
    func update(_ register: UInt32, with bytes: UnsafeRawBufferPointer) -> UInt32 {
        self.tables.withUnsafeBufferPointer { tables in
            var value = register
            var offset = 0
            while bytes.count - offset >= 8 {
                let low = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) ^ value
                let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                value =
                    tables[7 * 256 + Int(low & 0xFF)] ^ tables[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ tables[5 * 256 + Int((low >> 16) & 0xFF)] ^ tables[4 * 256 + Int(low >> 24)]
                    ^ tables[3 * 256 + Int(high & 0xFF)] ^ tables[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ tables[256 + Int((high >> 16) & 0xFF)] ^ tables[Int(high >> 24)]
                offset += 8
            }
            while offset < bytes.count {
                value = tables[Int((value ^ UInt32(bytes[offset])) & 0xFF)] ^ (value >> 8)
                offset += 1
            }
            return value
        }
    }
}

/// Reflected, table-driven 64-bit CRC, for S3's CRC-64/NVME (same reasons and method as ``CRC32``).
struct CRC64: Sendable {
    /// CRC-64/NVME: check value of "123456789" is 0xAE8B14860A799888.
    static let nvme = CRC64(reflectedPolynomial: 0x9A6C_9329_AC4B_C9B5)

    /// Eight tables of 256 entries, as ``CRC32``'s.
    private let tables: [UInt64]

    private init(reflectedPolynomial: UInt64) {
        var tables: [UInt64] = (0..<256).map { index in
            var value = UInt64(index)
            for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ reflectedPolynomial : value >> 1 }
            return value
        }
        for index in 256..<(8 * 256) {
            let previous = tables[index - 256]
            tables.append((previous >> 8) ^ tables[Int(previous & 0xFF)])
        }
        self.tables = tables
    }

    func checksum(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { ~self.update(Self.initialRegister, with: $0) }
    }

    /// The register a checksum starts from; the checksum is the complement of the final register.
    static let initialRegister = UInt64.max

    /// `register` advanced over `bytes` (see ``CRC32/update(_:with:)``).
    func update(_ register: UInt64, with bytes: UnsafeRawBufferPointer) -> UInt64 {
        self.tables.withUnsafeBufferPointer { tables in
            var value = register
            var offset = 0
            while bytes.count - offset >= 8 {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) ^ value
                value =
                    tables[7 * 256 + Int(word & 0xFF)] ^ tables[6 * 256 + Int((word >> 8) & 0xFF)]
                    ^ tables[5 * 256 + Int((word >> 16) & 0xFF)] ^ tables[4 * 256 + Int((word >> 24) & 0xFF)]
                    ^ tables[3 * 256 + Int((word >> 32) & 0xFF)] ^ tables[2 * 256 + Int((word >> 40) & 0xFF)]
                    ^ tables[256 + Int((word >> 48) & 0xFF)] ^ tables[Int(word >> 56)]
                offset += 8
            }
            while offset < bytes.count {
                value = tables[Int((value ^ UInt64(bytes[offset])) & 0xFF)] ^ (value >> 8)
                offset += 1
            }
            return value
        }
    }
}
