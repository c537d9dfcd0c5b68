import Crypto
import FoundationEssentials

/// A flexible checksum computed piece by piece, for a body that streams past and is never held whole: S3 checks an
/// upload's `x-amz-checksum-*` header or trailer against it once the last byte has gone by. Feeding the pieces in
/// any split gives ``ChecksumAlgorithm/digest(of:)`` of the whole.
public struct IncrementalChecksum: Sendable {
    public let algorithm: ChecksumAlgorithm
    private var state: State

    private enum State: Sendable {
        /// The CRC register, not yet complemented.
        case crc32(UInt32)
        case crc32c(UInt32)
        case crc64nvme(UInt64)
        case sha1(StreamingHash<Insecure.SHA1>)
        case sha256(StreamingHash<SHA256>)
    }

    public init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        self.state =
            switch algorithm {
            case .crc32: .crc32(CRC32.initialRegister)
            case .crc32c: .crc32c(CRC32.initialRegister)
            case .crc64nvme: .crc64nvme(CRC64.initialRegister)
            case .sha1: .sha1(StreamingHash())
            case .sha256: .sha256(StreamingHash())
            }
    }

    /// Adds the next bytes of the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch self.state {
        case .crc32(let register): self.state = .crc32(CRC32.standard.update(register, with: bytes))
        case .crc32c(let register): self.state = .crc32c(CRC32.castagnoli.update(register, with: bytes))
        case .crc64nvme(let register): self.state = .crc64nvme(CRC64.nvme.update(register, with: bytes))
        case .sha1(var hash):
            // Moved out of `state` first, so that the hash's storage stays uniquely referenced and is not copied.
            self.state = .crc32(0)
            hash.update(bytes)
            self.state = .sha1(hash)
        case .sha256(var hash):
            self.state = .crc32(0)
            hash.update(bytes)
            self.state = .sha256(hash)
        }
    }

    /// Adds the next bytes of the message.
    public mutating func update(_ bytes: some Collection<UInt8>) {
        let contiguous: Void? = bytes.withContiguousStorageIfAvailable { self.update(UnsafeRawBufferPointer($0)) }
        if contiguous == nil { Array(bytes).withUnsafeBytes { self.update($0) } }
    }

    /// The big-endian digest of the bytes so far (the checksum can go on being updated).
    public func finalize() -> [UInt8] {
        switch self.state {
        case .crc32(let register), .crc32c(let register): ChecksumAlgorithm.bigEndian(UInt64(~register), size: 4)
        case .crc64nvme(let register): ChecksumAlgorithm.bigEndian(~register, size: 8)
        case .sha1(let hash): hash.finalize()
        case .sha256(let hash): hash.finalize()
        }
    }

    /// The value of the `x-amz-checksum-*` header for the bytes so far: the base64 of ``finalize()``.
    public func base64Digest() -> String {
        Data(self.finalize()).base64EncodedString()
    }
}

/// A swift-crypto hash function fed piece by piece, as a `Sendable` value.
// @unchecked: swift-crypto's hash functions are copy-on-write values (their context class is copied before any
// update unless uniquely referenced, and finalize only reads it), so sharing one across tasks is as safe as sharing
// any value; they are just not declared Sendable.
struct StreamingHash<Function: HashFunction>: @unchecked Sendable {
    private var function = Function()

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        self.function.update(bufferPointer: bytes)
    }

    func finalize() -> [UInt8] {
        Array(self.function.finalize())
    }

    /// The lower-case hex digest, as canonical requests and strings to sign carry a SHA-256.
    func hex() -> String {
        Hex.encode(self.function.finalize())
    }
}
