import NimbusSigV4
import Testing

@Suite("Checksums")
struct ChecksumTests {
    static let check = Array("123456789".utf8)

    /// The catalogue check values of CRC-32/ISO-HDLC, CRC-32C (iSCSI) and CRC-64/NVME.
    @Test
    func crcCheckValues() {
        #expect(ChecksumAlgorithm.crc32.digest(of: Self.check) == [0xCB, 0xF4, 0x39, 0x26])
        #expect(ChecksumAlgorithm.crc32c.digest(of: Self.check) == [0xE3, 0x06, 0x92, 0x83])
        #expect(
            ChecksumAlgorithm.crc64nvme.digest(of: Self.check) == [0xAE, 0x8B, 0x14, 0x86, 0x0A, 0x79, 0x98, 0x88])
    }

    @Test
    func emptyInputs() {
        #expect(ChecksumAlgorithm.crc32.digest(of: []) == [0, 0, 0, 0])
        #expect(ChecksumAlgorithm.crc32c.digest(of: []) == [0, 0, 0, 0])
        #expect(ChecksumAlgorithm.crc64nvme.digest(of: []) == [0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// Values clients sent: boto3's CRC32 trailer and the CRC32C of the S3 trailer example (66560 bytes of `a`).
    @Test
    func base64DigestsAsClientsSendThem() {
        #expect(ChecksumAlgorithm.crc32.base64Digest(of: Array("Hello, chunked world!".utf8)) == "F/8VHg==")
        #expect(ChecksumAlgorithm.crc32c.base64Digest(of: [UInt8](repeating: 0x61, count: 66560)) == "sOO8/Q==")
        #expect(ChecksumAlgorithm.sha1.base64Digest(of: Array("abc".utf8)) == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
        #expect(
            ChecksumAlgorithm.sha256.base64Digest(of: Array("abc".utf8))
                == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
    }

    @Test
    func headerNames() {
        #expect(ChecksumAlgorithm(headerName: "X-Amz-Checksum-CRC32C") == .crc32c)
        #expect(ChecksumAlgorithm(headerName: "x-amz-checksum-md5") == nil)
        #expect(ChecksumAlgorithm(headerName: "content-md5") == nil)
        #expect(ChecksumAlgorithm.allCases.map(\.headerName).allSatisfy { ChecksumAlgorithm(headerName: $0) != nil })
        #expect(ChecksumAlgorithm.allCases.allSatisfy { $0.digest(of: Self.check).count == $0.digestSize })
    }
}
