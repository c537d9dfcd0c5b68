import FoundationEssentials
import NimbusSigV4
import Testing

/// Bodies verified as they arrive: every split of the input gives what decoding the complete body gives, payload,
/// trailers and errors alike.
@Suite("Streaming body verification")
struct StreamingBodyVerifierTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let signer = SigV4Signer(
        credentials: SigV4Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret),
        region: "us-east-1", service: "s3")
    /// 2024-05-01T12:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_714_564_800)
    static let payload = Array("The quick brown fox jumps over the lazy dog, again and again.".utf8)
    /// Two data chunks and the final one: enough for every transition of the framing, short enough to sweep every
    /// offset of.
    static let shortPayload = Array("The quick brown fox jumps".utf8)
    static let verifier = SigV4Verifier(options: .s3)

    static func upload(_ payload: [UInt8] = Self.payload, headers: [(name: String, value: String)] = []) -> SigV4Request
    {
        SigV4Request(
            method: "PUT", path: "/bucket/fox.txt", headers: [("Host", "127.0.0.1:9000")] + headers, body: payload)
    }

    /// A signed aws-chunked upload in `mode` (chunks of 16 bytes), its signature verified without its body as the
    /// edge verifies it: the request as received and the signature.
    static func chunked(
        _ mode: StreamingPayload, checksum: ChecksumAlgorithm? = .crc32, payload: [UInt8] = Self.payload
    ) throws -> (request: SigV4Request, signature: VerifiedSignature) {
        let signed = Self.signer.signChunked(
            Self.upload(payload), at: Self.now, mode: mode, chunkSize: 16, checksum: checksum)
        return (signed.request, try Self.verifiedHeaders(signed.request))
    }

    /// The signature of `request` verified as the edge verifies it before reading the body.
    static func verifiedHeaders(_ request: SigV4Request, now: Date = Self.now) throws(SigV4Error) -> VerifiedSignature {
        var headersOnly = request
        headersOnly.body = []
        return try Self.verifier.verify(headersOnly, secretAccessKey: Self.secret, now: now, bodyIsStreamed: true)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// A deterministic generator (SplitMix64), so that a failing split can be replayed.
    struct Splits: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// What streaming `body` in pieces of the lengths `lengths` gives (the last piece takes the rest).
    static func stream(
        _ verifier: StreamingBodyVerifier, _ body: [UInt8], lengths: (Int) -> Int
    ) -> Result<(payload: [UInt8], trailers: [String]), SigV4Error> {
        var verifier = verifier
        var payload: [UInt8] = []
        var start = 0
        do {
            while start < body.count {
                let end = min(body.count, start + max(1, lengths(start)))
                payload += try verifier.feed(body[start..<end])
                start = end
            }
            let trailers = try verifier.finish()
            #expect(verifier.decodedByteCount == Int64(payload.count))
            return .success((payload, trailers.map { "\($0.name):\($0.value)" }))
        } catch {
            return .failure(error)
        }
    }

    static func whole(_ verifier: StreamingBodyVerifier, _ body: [UInt8]) -> Result<[UInt8], SigV4Error> {
        Self.stream(verifier, body) { _ in body.count }.map(\.payload)
    }

    static func bytewise(_ verifier: StreamingBodyVerifier, _ body: [UInt8]) -> Result<[UInt8], SigV4Error> {
        Self.stream(verifier, body) { _ in 1 }.map(\.payload)
    }

    /// Random pieces of 1 to 100 bytes.
    static func randomly(
        _ verifier: StreamingBodyVerifier, _ body: [UInt8], seed: UInt64
    ) -> Result<[UInt8], SigV4Error> {
        var splits = Splits(state: seed)
        return Self.stream(verifier, body) { _ in Int.random(in: 1...100, using: &splits) }.map(\.payload)
    }

    /// What ``AWSChunkedDecoder/decode(_:)`` makes of the complete body.
    static func decoded(
        _ signature: VerifiedSignature, _ request: SigV4Request, _ body: [UInt8]
    ) throws -> Result<
        (payload: [UInt8], trailers: [String]), SigV4Error
    > {
        let decoder = try #require(try signature.chunkedDecoder(for: request))
        return Result { () throws(SigV4Error) in try decoder.decode(body) }
            .map { ($0.data, $0.trailers.map { "\($0.name):\($0.value)" }) }
    }

    static func expectSame(
        _ streamed: Result<(payload: [UInt8], trailers: [String]), SigV4Error>,
        _ decoded: Result<(payload: [UInt8], trailers: [String]), SigV4Error>,
        _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch (streamed, decoded) {
        case (.success(let streamed), .success(let decoded)):
            #expect(streamed.payload == decoded.payload, comment, sourceLocation: sourceLocation)
            #expect(streamed.trailers == decoded.trailers, comment, sourceLocation: sourceLocation)
        case (.failure(let streamed), .failure(let decoded)):
            #expect(streamed == decoded, comment, sourceLocation: sourceLocation)
        default:
            Issue.record("\(comment): streamed \(streamed), decoded \(decoded)", sourceLocation: sourceLocation)
        }
    }

    // MARK: aws-chunked

    /// Every mode and checksum, fed whole, byte by byte (so that every boundary of the framing falls between two
    /// pieces) and in random pieces.
    @Test(arguments: StreamingPayload.allCases, ChecksumAlgorithm.allCases)
    func everySplitDecodesThePayload(mode: StreamingPayload, checksum: ChecksumAlgorithm) throws {
        let (request, signature) = try Self.chunked(mode, checksum: checksum)
        let verifier = try StreamingBodyVerifier.verified(signature, request: request)
        let body = request.body
        let expected = try Self.decoded(signature, request, body)
        let trailers = mode.hasTrailer ? ["\(checksum.headerName):\(checksum.base64Digest(of: Self.payload))"] : []
        #expect(try expected.get().payload == Self.payload)
        #expect(try expected.get().trailers == trailers)
        Self.expectSame(Self.stream(verifier, body) { _ in body.count }, expected, "whole")
        Self.expectSame(Self.stream(verifier, body) { _ in 1 }, expected, "byte by byte")
        for seed in 0..<3 as Range<UInt64> {
            var splits = Splits(state: seed)
            let streamed = Self.stream(verifier, body) { _ in Int.random(in: 1...40, using: &splits) }
            Self.expectSame(streamed, expected, "seed \(seed)")
        }
    }

    /// Cut in two anywhere: the first piece ends at every offset of the framing.
    @Test(arguments: StreamingPayload.allCases)
    func everyCutInTwoDecodesThePayload(mode: StreamingPayload) throws {
        let (request, signature) = try Self.chunked(mode, checksum: .crc32c, payload: Self.shortPayload)
        let verifier = try StreamingBodyVerifier.verified(signature, request: request)
        let body = request.body
        let expected = try Self.decoded(signature, request, body)
        for cut in 1..<body.count {
            Self.expectSame(Self.stream(verifier, body) { $0 == 0 ? cut : body.count }, expected, "cut at \(cut)")
        }
    }

    /// The S3 API reference's chunked upload (64 KiB and 1 KiB of `a`) and the same with a signed CRC32C trailer:
    /// byte by byte around the chunk boundary and over the end of the body, in random pieces up to 8 KiB elsewhere.
    @Test(arguments: [false, true])
    func theDocumentationExamplesStream(withTrailer: Bool) throws {
        let (request, body) = withTrailer ? Self.documentedUploadWithTrailer() : Self.documentedUpload()
        let signature = try Self.verifiedHeaders(request, now: Self.documentedDate)
        let verifier = try StreamingBodyVerifier.verified(signature, request: request)
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)
        let trailers = withTrailer ? ["x-amz-checksum-crc32c:sOO8/Q=="] : []
        // The first chunk's data ends at 88 + 65536; the final chunk starts 1024 bytes and a header later.
        let bytewise = [65_500..<65_750, 66_600..<body.count]
        var splits = Splits(state: 7)
        let streamed = Self.stream(verifier, body) { start in
            if bytewise.contains(where: { $0.contains(start) }) { return 1 }
            let next = bytewise.map(\.lowerBound).filter { $0 > start }.min() ?? body.count
            return min(next - start, Int.random(in: 1...8192, using: &splits))
        }
        Self.expectSame(streamed, .success((payload, trailers)), "split")
        Self.expectSame(Self.stream(verifier, body) { _ in body.count }, .success((payload, trailers)), "whole")
    }

    /// Chunk data is handed out as it arrives, before the chunk (and its signature) is complete; a chunk-size line
    /// split across pieces yields nothing until it is whole.
    @Test
    func dataIsHandedOutBeforeTheChunkEnds() throws {
        let (request, body) = Self.documentedUpload()
        var verifier = try StreamingBodyVerifier.verified(
            try Self.verifiedHeaders(request, now: Self.documentedDate), request: request)
        let header = "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"
        #expect(try verifier.feed(body[..<40]).isEmpty)
        #expect(try verifier.feed(body[40..<header.utf8.count]).isEmpty)
        let first = try verifier.feed(body[header.utf8.count..<header.utf8.count + 1000])
        #expect(first == [UInt8](repeating: UInt8(ascii: "a"), count: 1000))
        #expect(verifier.decodedByteCount == 1000)
        var handedOut = 0
        try body[(header.utf8.count + 1000)...].withUnsafeBytes { bytes in
            try Result { () throws(SigV4Error) in try verifier.feed(bytes) { handedOut += $0.count } }.get()
        }
        #expect(handedOut == 66560 - 1000)
        #expect(try verifier.finish().isEmpty)
    }

    @Test
    func aTamperedChunkIsRejectedWhenItEnds() throws {
        let (request, body) = Self.documentedUpload()
        let verifier = try StreamingBodyVerifier.verified(
            try Self.verifiedHeaders(request, now: Self.documentedDate), request: request)
        let dataStart = 88  // after `10000;chunk-signature=<64 hex digits>\r\n`
        var tampered = body
        tampered[dataStart + 64_000] = UInt8(ascii: "b")
        let signature = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        let mismatch = SigV4Error.chunkSignatureMismatch(ChunkSignatureMismatch(chunk: 0, signatureProvided: signature))
        #expect(Self.randomly(verifier, tampered, seed: 1).failure == mismatch)
        // The data before the end of the chunk went out; the error comes with the chunk's last byte.
        var partial = verifier
        let chunkEnd = dataStart + 65536
        #expect(try partial.feed(tampered[..<(chunkEnd - 1)]).count == 65535)
        #expect(throws: mismatch) { try partial.feed(tampered[(chunkEnd - 1)..<chunkEnd]) }
    }

    /// Tampered signatures, data and trailers, wrong checksums: the error the complete body's decoding raises, at the
    /// same offset, whatever the split.
    @Test(arguments: StreamingPayload.allCases)
    func corruptedBodiesFailAsDecodingFails(mode: StreamingPayload) throws {
        let (request, signature) = try Self.chunked(mode, checksum: .sha256, payload: Self.shortPayload)
        let verifier = try StreamingBodyVerifier.verified(signature, request: request)
        let body = request.body
        let replacements = [UInt8(ascii: "0"), UInt8(ascii: "\r"), UInt8(ascii: ";"), UInt8(ascii: "\n")]
        var failures = 0
        // Every third byte, replaced in turn by a digit, CR, a semicolon and LF (the bytes the framing is made of).
        for position in stride(from: 0, to: body.count, by: 3) {
            let replacement = replacements[position / 3 % replacements.count]
            guard body[position] != replacement else { continue }
            var corrupted = body
            corrupted[position] = replacement
            let expected = try Self.decoded(signature, request, corrupted)
            if case .failure = expected { failures += 1 }
            Self.expectSame(
                Self.stream(verifier, corrupted) { _ in position % 7 + 1 }, expected, "byte \(position)")
        }
        #expect(failures > body.count / 4)
    }

    /// Every cut of the body short of its end: the same error as decoding the cut body (truncated, for most).
    @Test(arguments: StreamingPayload.allCases)
    func truncatedBodiesFailAsDecodingFails(mode: StreamingPayload) throws {
        let (request, signature) = try Self.chunked(mode, payload: Self.shortPayload)
        let verifier = try StreamingBodyVerifier.verified(signature, request: request)
        for length in 0..<(request.body.count - 2) {
            let cut = Array(request.body[..<length])
            let expected = try Self.decoded(signature, request, cut)
            #expect(expected.failure != nil)
            Self.expectSame(Self.stream(verifier, cut) { _ in 64 }, expected, "length \(length)")
        }
        #expect(
            Self.whole(verifier, []).failure == .malformedChunkedBody(.truncated(offset: 0)))
    }

    /// The framing errors of ``AWSChunkedDecoderTests``, fed byte by byte, with bare unsigned chunks.
    @Test(arguments: [
        ("zz\r\nab\r\n0\r\n\r\n", ChunkedBodyProblem.invalidChunkSize(offset: 0)),
        ("\r\n", .invalidChunkSize(offset: 0)),
        ("1234567890abcdef0\r\n", .invalidChunkSize(offset: 0)),
        ("fffffffffffffff\r\nab", .truncated(offset: 17)),
        ("2\r\nabXX0\r\n\r\n", .missingCRLF(offset: 5)),
        ("2\r\nab\r", .truncated(offset: 5)),
        ("2\nab\r\n0\r\n\r\n", .invalidChunkSize(offset: 0)),
        ("2\r\nab\r\n0\r\n\r\ntrailing", .trailingData(offset: 12)),
        ("2\r\nab\r\n", .truncated(offset: 7)),
        ("2\r\nab\r\n0\r\nx-amz-meta:1\r", .truncated(offset: 23)),
        (String(repeating: "0", count: 300) + "\r\n", .invalidChunkSize(offset: 0)),
        (String(repeating: "0", count: 256), .truncated(offset: 256)),
        (String(repeating: "0", count: 257), .truncated(offset: 257)),
        (String(repeating: "0", count: 258), .invalidChunkSize(offset: 0)),
    ])
    func malformedFraming(body: String, problem: ChunkedBodyProblem) throws {
        let request = Self.upload(
            Array(body.utf8), headers: [("x-amz-content-sha256", StreamingPayload.unsignedWithTrailer.rawValue)])
        let verifier = try StreamingBodyVerifier.unverified(request: request)
        #expect(Self.bytewise(verifier, request.body).failure == .malformedChunkedBody(problem))
        #expect(Self.whole(verifier, request.body).failure == .malformedChunkedBody(problem))
        let decoder = try #require(try AWSChunkedDecoder.unverified(for: request))
        #expect(throws: SigV4Error.malformedChunkedBody(problem)) { try decoder.decode(request.body) }
    }

    /// A chunk-size line that never ends is refused once it is too long: it is not buffered.
    @Test
    func anEndlessLineIsRefusedNotBuffered() throws {
        let request = Self.upload(headers: [("x-amz-content-sha256", StreamingPayload.unsignedWithTrailer.rawValue)])
        var verifier = try StreamingBodyVerifier.unverified(request: request)
        #expect(throws: SigV4Error.malformedChunkedBody(.invalidChunkSize(offset: 0))) {
            try verifier.feed([UInt8](repeating: UInt8(ascii: "f"), count: 1 << 20))
        }
    }

    @Test
    func theDeclaredLengthIsEnforced() throws {
        let body = Array("4\r\nabcd\r\n0\r\n\r\n".utf8)
        for (declared, problem) in [
            ("3", ChunkedBodyProblem.exceedsDecodedContentLength(declared: 3)),
            ("5", .decodedContentLengthMismatch(declared: 5, decoded: 4)),
        ] {
            let request = Self.upload(
                body,
                headers: [
                    ("x-amz-content-sha256", StreamingPayload.unsignedWithTrailer.rawValue),
                    ("x-amz-decoded-content-length", declared),
                ])
            let verifier = try StreamingBodyVerifier.unverified(request: request)
            #expect(Self.bytewise(verifier, body).failure == .malformedChunkedBody(problem))
        }
        let invalid = Self.upload(
            body,
            headers: [
                ("x-amz-content-sha256", StreamingPayload.unsignedWithTrailer.rawValue),
                ("x-amz-decoded-content-length", "-1"),
            ])
        #expect(throws: SigV4Error.malformedChunkedBody(.invalidDecodedContentLength("-1"))) {
            try StreamingBodyVerifier.unverified(request: invalid)
        }
    }

    @Test(arguments: ChecksumAlgorithm.allCases)
    func aWrongTrailingChecksumIsABadDigest(checksum: ChecksumAlgorithm) throws {
        let (request, signature) = try Self.chunked(.unsignedWithTrailer, checksum: checksum)
        let correct = checksum.base64Digest(of: Self.payload)
        let wrong = checksum.base64Digest(of: Array("something else".utf8))
        let body = Array(String(decoding: request.body, as: UTF8.self).replacing(correct, with: wrong).utf8)
        let verifier = try StreamingBodyVerifier.verified(signature, request: request)
        #expect(
            Self.randomly(verifier, body, seed: 3).failure
                == .checksumMismatch(ChecksumMismatch(algorithm: checksum, provided: wrong, computed: correct)))
    }

    /// A trailing checksum `x-amz-trailer` did not declare was not computed as the body streamed: S3's
    /// MalformedTrailerError. (Decoding the complete body still verifies it.)
    @Test
    func anUndeclaredTrailingChecksumIsRefused() throws {
        let checksum = ChecksumAlgorithm.crc32.base64Digest(of: Array("ab".utf8))
        let body = Array("2\r\nab\r\n0\r\nx-amz-checksum-crc32:\(checksum)\r\n\r\n".utf8)
        let request = Self.upload(body, headers: [("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")])
        let verifier = try StreamingBodyVerifier.unverified(request: request)
        let error = SigV4Error.malformedChunkedBody(.undeclaredTrailer(name: "x-amz-checksum-crc32", offset: 10))
        #expect(Self.whole(verifier, body).failure == error)
        #expect(error.code(in: .s3) == "MalformedTrailerError")
        #expect(error.httpStatus == 400)
        let decoded = try #require(try AWSChunkedDecoder.unverified(for: request)).decode(body)
        #expect(decoded.verifiedChecksums == [.crc32])
    }

    /// `--auth none`: framing, length and checksums are checked, signatures are not.
    @Test
    func unverifiedBodiesAreDechunkedWithoutCheckingSignatures() throws {
        let (request, body) = Self.documentedUploadWithTrailer()
        var wrong = body
        wrong[30] = wrong[30] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")  // first chunk-signature
        let verifier = try StreamingBodyVerifier.unverified(request: request)
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)
        #expect(Self.randomly(verifier, wrong, seed: 5).success == payload)
        #expect(Self.randomly(verifier, Array(body.dropLast(40)), seed: 5).failure != nil)
        let signed = try StreamingBodyVerifier.verified(
            try Self.verifiedHeaders(request, now: Self.documentedDate), request: request)
        guard case .chunkSignatureMismatch = Self.randomly(signed, wrong, seed: 5).failure else {
            Issue.record("a tampered chunk signature verified")
            return
        }
    }

    // MARK: Bodies without framing

    @Test
    func aDeclaredSHA256IsCheckedAtTheEnd() throws {
        let body = Array("object data".utf8)
        let declared = Self.hex(ChecksumAlgorithm.sha256.digest(of: body))
        let signed = Self.signer.sign(Self.upload(body, headers: [("x-amz-content-sha256", declared)]), at: Self.now)
        let signature = try Self.verifiedHeaders(signed.request)
        #expect(signature.payloadHash == .sha256(declared))
        let verifier = try StreamingBodyVerifier.verified(signature, request: signed.request)
        #expect(Self.bytewise(verifier, body).success == body)
        let other = Array("other data!".utf8)
        let computed = Self.hex(ChecksumAlgorithm.sha256.digest(of: other))
        var partial = verifier
        #expect(try partial.feed(other) == other)
        #expect(throws: SigV4Error.contentSHA256Mismatch(provided: declared, computed: computed)) {
            try partial.finish()
        }
        #expect(Self.whole(verifier, []).failure != nil)
    }

    @Test
    func unsignedAndUnverifiedBodiesPassThrough() throws {
        let signed = Self.signer.sign(
            Self.upload([], headers: [("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]), at: Self.now)
        let unsigned = try StreamingBodyVerifier.verified(
            try Self.verifiedHeaders(signed.request), request: signed.request)
        let body = Array("anything at all\r\n0\r\n".utf8)
        #expect(Self.randomly(unsigned, body, seed: 9).success == body)
        #expect(Self.whole(unsigned, []).success == [])
        let anonymous = try StreamingBodyVerifier.unverified(request: Self.upload())
        #expect(Self.bytewise(anonymous, body).success == body)
    }

    // MARK: Verifying the headers without the body

    /// Without `x-amz-content-sha256` the payload hash would be the body's SHA-256, unknown before the body is read:
    /// S3 requires the header. Presigned S3 URLs sign `UNSIGNED-PAYLOAD` and need none.
    @Test
    func aStreamedBodyNeedsADeclaredPayloadHash() throws {
        let signed = Self.signer.sign(Self.upload(), at: Self.now)
        #expect(throws: SigV4Error.missingContentSHA256) { try Self.verifiedHeaders(signed.request) }
        let error = SigV4Error.missingContentSHA256
        #expect(error.code(in: .s3) == "InvalidRequest")
        #expect(error.message(in: .s3) == "Missing required header for this request: x-amz-content-sha256")
        #expect(error.httpStatus == 400)
        // The body-collecting path is unchanged.
        _ = try Self.verifier.verify(signed.request, secretAccessKey: Self.secret, now: Self.now)

        let presigned = Self.signer.presign(Self.upload([]), at: Self.now, expiresIn: 60)
        let signature = try Self.verifiedHeaders(presigned.request)
        #expect(signature.payloadHash == .unsigned)
    }

    /// With `bodyIsStreamed` the declared digest is not compared with the (absent) body; the signature still is
    /// checked.
    @Test
    func headersVerifyWithoutTheBody() throws {
        let body = Array("object data".utf8)
        let declared = Self.hex(ChecksumAlgorithm.sha256.digest(of: body))
        var request = Self.signer.sign(Self.upload(body, headers: [("x-amz-content-sha256", declared)]), at: Self.now)
            .request
        request.body = []
        #expect(throws: SigV4Error.self) {
            try Self.verifier.verify(request, secretAccessKey: Self.secret, now: Self.now)
        }
        _ = try Self.verifier.verify(request, secretAccessKey: Self.secret, now: Self.now, bodyIsStreamed: true)
        #expect(throws: SigV4Error.self) {
            try Self.verifier.verify(request, secretAccessKey: "another", now: Self.now, bodyIsStreamed: true)
        }
    }

    // MARK: Fixtures

    /// "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks".
    static func documentedUpload() -> (SigV4Request, [UInt8]) {
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)
        var body = Array(
            "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n".utf8)
        body += payload[0..<65536]
        body += Array(
            "\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n".utf8)
        body += payload[65536...]
        body += Array(
            "\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n".utf8)
        let request = SigV4Request(
            method: "PUT", path: "/examplebucket/chunkObject.txt",
            headers: Self.documentedHeaders + [
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Length", "66824"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                        + "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                        + "x-amz-decoded-content-length;x-amz-storage-class,"
                        + "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
                ),
            ])
        return (request, body)
    }

    /// "Signature Calculations … Including Trailing Headers": the same payload with a signed CRC32C trailer.
    static func documentedUploadWithTrailer() -> (SigV4Request, [UInt8]) {
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)
        var body = Array(
            "10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n".utf8)
        body += payload[0..<65536]
        body += Array(
            "\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n".utf8)
        body += payload[65536...]
        body += Array(
            ("\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n"
                + "x-amz-checksum-crc32c:sOO8/Q==\r\n"
                + "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n")
                .utf8)
        let request = SigV4Request(
            method: "PUT", path: "/examplebucket/chunkObject.txt",
            headers: Self.documentedHeaders + [
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
                ("x-amz-trailer", "x-amz-checksum-crc32c"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                        + "SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;"
                        + "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,"
                        + "Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
                ),
            ])
        return (request, body)
    }

    /// 2013-05-24T00:00:00Z.
    static let documentedDate = Date(timeIntervalSince1970: 1_369_353_600)

    static let documentedHeaders: [(name: String, value: String)] = [
        ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
    ]
}

extension Result {
    fileprivate var success: Success? {
        guard case .success(let value) = self else { return nil }
        return value
    }

    fileprivate var failure: Failure? {
        guard case .failure(let error) = self else { return nil }
        return error
    }
}
