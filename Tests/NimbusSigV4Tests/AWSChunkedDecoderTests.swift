import FoundationEssentials
import NimbusSigV4
import Testing

/// aws-chunked bodies: round trips through the signer for every mode and checksum, and every way framing,
/// signatures and checksums can be wrong.
@Suite("aws-chunked payloads")
struct AWSChunkedDecoderTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let signer = SigV4Signer(
        credentials: SigV4Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret),
        region: "us-east-1", service: "s3")
    /// 2024-05-01T12:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_714_564_800)
    static let payload = Array("The quick brown fox jumps over the lazy dog, again and again.".utf8)

    static func upload(_ payload: [UInt8] = Self.payload) -> SigV4Request {
        SigV4Request(method: "PUT", path: "/bucket/fox.txt", headers: [("Host", "127.0.0.1:9000")], body: payload)
    }

    /// A signed upload in `mode`, chunks of 16 bytes, verified: its request and its decoder.
    static func signed(
        _ mode: StreamingPayload, checksum: ChecksumAlgorithm? = .crc32
    ) throws -> (SigV4Request, AWSChunkedDecoder) {
        let signed = Self.signer.signChunked(Self.upload(), at: Self.now, mode: mode, chunkSize: 16, checksum: checksum)
        let verified = try SigV4Verifier(options: .s3)
            .verify(signed.request, secretAccessKey: Self.secret, now: Self.now)
        return (signed.request, try #require(try verified.chunkedDecoder(for: signed.request)))
    }

    /// A decoder of bare framing: unsigned chunks, no declared trailer or length.
    static func plainDecoder(trailer: String? = nil, decodedContentLength: Int? = nil) -> AWSChunkedDecoder {
        AWSChunkedDecoder(
            mode: .unsignedWithTrailer, seedSignature: "",
            signingKey: Self.signer.signingKey(for: SigV4Timestamp(Self.now)), timestamp: SigV4Timestamp(Self.now),
            trailer: trailer, decodedContentLength: decodedContentLength)
    }

    static func decodingError(_ decoder: AWSChunkedDecoder, _ body: [UInt8]) -> SigV4Error? {
        do {
            _ = try decoder.decode(body)
            return nil
        } catch {
            return error
        }
    }

    static func replacing(_ body: [UInt8], _ old: String, with new: String) -> [UInt8] {
        Array(String(decoding: body, as: UTF8.self).replacing(old, with: new).utf8)
    }

    @Test(arguments: StreamingPayload.allCases, ChecksumAlgorithm.allCases)
    func roundTrips(mode: StreamingPayload, checksum: ChecksumAlgorithm) throws {
        let (request, decoder) = try Self.signed(mode, checksum: checksum)
        #expect(request.header("Content-Length") == String(request.body.count))
        #expect(request.header("x-amz-decoded-content-length") == String(Self.payload.count))
        let decoded = try decoder.decode(request.body)
        #expect(decoded.data == Self.payload)
        #expect(decoded.verifiedChecksums == (mode.hasTrailer ? [checksum] : []))
        let trailer = mode.hasTrailer ? checksum.base64Digest(of: Self.payload) : nil
        #expect(decoded.trailer(checksum.headerName) == trailer)
    }

    @Test(arguments: StreamingPayload.allCases)
    func anEmptyPayloadIsJustTheFinalChunk(mode: StreamingPayload) throws {
        let signed = Self.signer.signChunked(Self.upload([]), at: Self.now, mode: mode, checksum: .sha256)
        let verified = try SigV4Verifier(options: .s3)
            .verify(signed.request, secretAccessKey: Self.secret, now: Self.now)
        let decoded = try #require(try verified.chunkedDecoder(for: signed.request)).decode(signed.request.body)
        #expect(decoded.data.isEmpty)
    }

    @Test
    func aTamperedChunkSignatureIsRejected() throws {
        let (request, decoder) = try Self.signed(.signed)
        var body = request.body
        let text = String(decoding: body, as: UTF8.self)
        let second = try #require(text.ranges(of: "chunk-signature=").dropFirst().first)
        let digit = text.utf8.distance(from: text.startIndex, to: second.upperBound)
        body[digit] = body[digit] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        guard case .chunkSignatureMismatch(let mismatch) = Self.decodingError(decoder, body) else {
            Issue.record("accepted")
            return
        }
        #expect(mismatch.chunk == 1)
    }

    @Test
    func tamperedChunkDataIsRejected() throws {
        let (request, decoder) = try Self.signed(.signedWithTrailer)
        let body = Self.replacing(request.body, "quick", with: "slow!")
        guard case .chunkSignatureMismatch(let mismatch) = Self.decodingError(decoder, body) else {
            Issue.record("accepted")
            return
        }
        #expect(mismatch.chunk == 0)
    }

    @Test
    func aTamperedTrailerSignatureIsRejected() throws {
        let (request, decoder) = try Self.signed(.signedWithTrailer)
        var body = request.body
        let marker = Array("x-amz-trailer-signature:".utf8)
        let start = try #require(
            body.indices.first { body[$0...].starts(with: marker) }.map { $0 + marker.count })
        body[start] = body[start] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        guard case .chunkSignatureMismatch(let mismatch) = Self.decodingError(decoder, body) else {
            Issue.record("accepted")
            return
        }
        #expect(mismatch.chunk == nil)
    }

    /// `--auth none`: the framing is removed and checked, the signatures are not.
    @Test
    func unverifiedDecodingChecksFramingButNotSignatures() throws {
        let (request, _) = try Self.signed(.signedWithTrailer)
        let decoder = try #require(try AWSChunkedDecoder.unverified(for: request))
        #expect(try decoder.decode(request.body).data == Self.payload)
        let text = String(decoding: request.body, as: UTF8.self)
        let signature = try #require(text.firstRange(of: "chunk-signature=")).upperBound
        var wrong = request.body
        let index = text.utf8.distance(from: text.startIndex, to: signature)
        wrong[index] = wrong[index] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(try decoder.decode(wrong).data == Self.payload)
        #expect(Self.decodingError(decoder, Array(request.body.dropLast(40))) != nil)
        #expect(try AWSChunkedDecoder.unverified(for: Self.upload()) == nil)
    }

    /// Every cut of the body short of its final CRLF fails with a framing (or checksum) error; none crashes.
    @Test(arguments: StreamingPayload.allCases)
    func everyTruncationIsAnError(mode: StreamingPayload) throws {
        let (request, decoder) = try Self.signed(mode)
        for length in 0..<(request.body.count - 2) {
            let error = Self.decodingError(decoder, Array(request.body[..<length]))
            switch error {
            case .malformedChunkedBody, .chunkSignatureMismatch, .invalidChecksum: continue
            default: Issue.record("length \(length): \(String(describing: error))")
            }
        }
    }

    @Test(arguments: [
        ("zz\r\nab\r\n0\r\n\r\n", ChunkedBodyProblem.invalidChunkSize(offset: 0)),
        ("\r\n", .invalidChunkSize(offset: 0)),
        ("1234567890abcdef0\r\n", .invalidChunkSize(offset: 0)),
        ("fffffffffffffff\r\nab", .truncated(offset: 17)),
        ("2\r\nabXX0\r\n\r\n", .missingCRLF(offset: 5)),
        ("2\nab\r\n0\r\n\r\n", .invalidChunkSize(offset: 0)),
        ("2\r\nab\r\n0\r\n\r\ntrailing", .trailingData(offset: 12)),
        ("2\r\nab\r\n", .truncated(offset: 7)),
        (String(repeating: "0", count: 300) + "\r\n", .invalidChunkSize(offset: 0)),
    ])
    func malformedFraming(body: String, problem: ChunkedBodyProblem) {
        #expect(Self.decodingError(Self.plainDecoder(), Array(body.utf8)) == .malformedChunkedBody(problem))
    }

    @Test
    func aSignedChunkWithoutASignatureIsRejected() {
        var decoder = Self.plainDecoder()
        decoder.mode = .signed
        #expect(
            Self.decodingError(decoder, Array("2\r\nab\r\n0\r\n\r\n".utf8))
                == .malformedChunkedBody(.missingChunkSignature(offset: 0)))
    }

    @Test
    func chunksLargerThanTheDeclaredLengthAreRejectedBeforeReading() {
        var decoder = Self.plainDecoder(decodedContentLength: 3)
        #expect(
            Self.decodingError(decoder, Array("4\r\nabcd\r\n0\r\n\r\n".utf8))
                == .malformedChunkedBody(.exceedsDecodedContentLength(declared: 3)))
        decoder.decodedContentLength = 5
        #expect(
            Self.decodingError(decoder, Array("4\r\nabcd\r\n0\r\n\r\n".utf8))
                == .malformedChunkedBody(.decodedContentLengthMismatch(declared: 5, decoded: 4)))
    }

    @Test(arguments: ChecksumAlgorithm.allCases)
    func aWrongTrailingChecksumIsRejected(checksum: ChecksumAlgorithm) throws {
        let (request, decoder) = try Self.signed(.unsignedWithTrailer, checksum: checksum)
        let correct = checksum.base64Digest(of: Self.payload)
        let wrong = checksum.base64Digest(of: Array("something else".utf8))
        let body = Self.replacing(request.body, correct, with: wrong)
        #expect(
            Self.decodingError(decoder, body)
                == .checksumMismatch(ChecksumMismatch(algorithm: checksum, provided: wrong, computed: correct)))
    }

    @Test
    func aDeclaredTrailerMustBePresent() {
        let decoder = Self.plainDecoder(trailer: "x-amz-checksum-crc32c")
        let body = Array("2\r\nab\r\n0\r\n\r\n".utf8)
        #expect(Self.decodingError(decoder, body) == .invalidChecksum(.missing(name: "x-amz-checksum-crc32c")))
    }

    @Test
    func trailingChecksumsMustBeValidAndKnown() {
        let decoder = Self.plainDecoder()
        #expect(
            Self.decodingError(decoder, Array("2\r\nab\r\n0\r\nx-amz-checksum-crc32:not base64!\r\n\r\n".utf8))
                == .invalidChecksum(.malformedValue(name: "x-amz-checksum-crc32", value: "not base64!")))
        #expect(
            Self.decodingError(decoder, Array("2\r\nab\r\n0\r\nx-amz-checksum-crc32:AAAAAAAA\r\n\r\n".utf8))
                == .invalidChecksum(.malformedValue(name: "x-amz-checksum-crc32", value: "AAAAAAAA")))
        #expect(
            Self.decodingError(decoder, Array("2\r\nab\r\n0\r\nx-amz-checksum-md5:AAAA\r\n\r\n".utf8))
                == .invalidChecksum(.unsupportedAlgorithm(name: "x-amz-checksum-md5")))
        #expect(
            Self.decodingError(decoder, Array("2\r\nab\r\n0\r\nno colon here\r\n\r\n".utf8))
                == .malformedChunkedBody(.malformedTrailer(offset: 10)))
    }

    /// botocore's unsigned framing (lower-case hex sizes, checksum trailer) without the final empty line still
    /// decodes: some clients end the body after the last trailer.
    @Test
    func theFinalEmptyLineIsOptional() throws {
        let decoder = Self.plainDecoder(trailer: "x-amz-checksum-crc32", decodedContentLength: 26)
        let payload = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        let checksum = ChecksumAlgorithm.crc32.base64Digest(of: payload)
        let body = Array("1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-amz-checksum-crc32:\(checksum)\r\n".utf8)
        #expect(try decoder.decode(body).data == payload)
    }
}
