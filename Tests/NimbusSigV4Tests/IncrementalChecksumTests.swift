import NimbusSigV4
import Testing

@Suite("Incremental checksums")
struct IncrementalChecksumTests {
    /// 1000 bytes of every value, so that every CRC table entry is used.
    static let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 3) }

    /// Every way of cutting the message in two, and byte by byte, gives the digest of the whole.
    @Test(arguments: ChecksumAlgorithm.allCases)
    func anySplitGivesTheDigestOfTheWhole(algorithm: ChecksumAlgorithm) {
        let whole = algorithm.digest(of: Self.message)
        for cut in stride(from: 0, through: Self.message.count, by: 37) {
            var checksum = IncrementalChecksum(algorithm)
            checksum.update(Self.message[..<cut])
            checksum.update(Self.message[cut...])
            #expect(checksum.finalize() == whole, "cut at \(cut)")
        }
        var bytewise = IncrementalChecksum(algorithm)
        for byte in Self.message { bytewise.update(CollectionOfOne(byte)) }
        #expect(bytewise.finalize() == whole)
        #expect(bytewise.base64Digest() == algorithm.base64Digest(of: Self.message))
        #expect(bytewise.algorithm == algorithm)
    }

    @Test
    func checkValuesAndEmptyInput() {
        let check = Array("123456789".utf8)
        var crc32c = IncrementalChecksum(.crc32c)
        check.withUnsafeBytes { crc32c.update($0) }
        #expect(crc32c.finalize() == [0xE3, 0x06, 0x92, 0x83])
        var crc64 = IncrementalChecksum(.crc64nvme)
        crc64.update(check.lazy.map { $0 })  // not contiguous
        #expect(crc64.finalize() == [0xAE, 0x8B, 0x14, 0x86, 0x0A, 0x79, 0x98, 0x88])
        for algorithm in ChecksumAlgorithm.allCases {
            #expect(IncrementalChecksum(algorithm).finalize() == algorithm.digest(of: []))
        }
    }

    /// Finalizing reads the state without ending it: the checksum goes on over further bytes.
    @Test(arguments: ChecksumAlgorithm.allCases)
    func finalizingDoesNotEndTheChecksum(algorithm: ChecksumAlgorithm) {
        var checksum = IncrementalChecksum(algorithm)
        checksum.update(Self.message[..<500])
        let copy = checksum
        #expect(checksum.finalize() == algorithm.digest(of: Array(Self.message[..<500])))
        checksum.update(Self.message[500...])
        #expect(checksum.finalize() == algorithm.digest(of: Self.message))
        #expect(copy.finalize() == algorithm.digest(of: Array(Self.message[..<500])))
    }
}
