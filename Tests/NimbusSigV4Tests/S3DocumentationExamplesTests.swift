import FoundationEssentials
import NimbusSigV4
import Testing

/// The worked examples of the S3 API reference ("Signature Calculations for the Authorization Header",
/// "Authenticating Requests: Using Query Parameters", and the two chunked-upload pages): AKIAIOSFODNN7EXAMPLE,
/// bucket `examplebucket`, us-east-1, signed at 20130524T000000Z.
@Suite("S3 documentation examples")
struct S3DocumentationExamplesTests {
    static let credentials = SigV4Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    /// 2013-05-24T00:00:00Z.
    static let date = Date(timeIntervalSince1970: 1_369_353_600)
    static let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "s3")
    static let verifier = SigV4Verifier(options: .s3)
    static let host = ("Host", "examplebucket.s3.amazonaws.com")
    static let emptySHA256 = ("x-amz-content-sha256", SigV4.emptyPayloadSHA256)

    @Test
    func getObjectWithRange() throws {
        let request = SigV4Request(
            method: "GET", path: "/test.txt", headers: [Self.host, ("Range", "bytes=0-9"), Self.emptySHA256])
        let signed = Self.signer.sign(request, at: Self.date)
        #expect(
            signed.canonicalRequest
                == [
                    "GET", "/test.txt", "", "host:examplebucket.s3.amazonaws.com", "range:bytes=0-9",
                    "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    "x-amz-date:20130524T000000Z", "", "host;range;x-amz-content-sha256;x-amz-date",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ].joined(separator: "\n"))
        #expect(signed.stringToSign.hasSuffix("\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(
            signed.request.header("Authorization")
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        _ = try Self.verifier.verify(signed.request, secretAccessKey: Self.credentials.secretAccessKey, now: Self.date)
    }

    /// The key `test$file.text` goes on the wire as `test%24file.text`; S3 signs that path as sent. The request
    /// also has a `Date` header, which `X-Amz-Date` overrides.
    @Test
    func putObject() throws {
        let body = Array("Welcome to Amazon S3.".utf8)
        let hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        let request = SigV4Request(
            method: "PUT", path: "/test%24file.text",
            headers: [
                Self.host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", hash),
            ],
            body: body)
        let signed = Self.signer.sign(request, at: Self.date)
        #expect(
            signed.canonicalRequest
                == [
                    "PUT", "/test%24file.text", "", "date:Fri, 24 May 2013 00:00:00 GMT",
                    "host:examplebucket.s3.amazonaws.com", "x-amz-content-sha256:\(hash)",
                    "x-amz-date:20130524T000000Z", "x-amz-storage-class:REDUCED_REDUNDANCY", "",
                    "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", hash,
                ].joined(separator: "\n"))
        #expect(signed.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        let verified = try Self.verifier.verify(
            signed.request, secretAccessKey: Self.credentials.secretAccessKey, now: Self.date)
        #expect(verified.payloadHash == .sha256(hash))
    }

    @Test(arguments: [
        ("lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        ("max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
    ])
    func bucketRequestsWithQueries(query: String, signature: String) throws {
        let request = SigV4Request(method: "GET", path: "/", query: query, headers: [Self.host, Self.emptySHA256])
        let signed = Self.signer.sign(request, at: Self.date)
        #expect(signed.signature == signature)
        _ = try Self.verifier.verify(signed.request, secretAccessKey: Self.credentials.secretAccessKey, now: Self.date)
    }

    @Test
    func presignedGetObject() throws {
        let request = SigV4Request(method: "GET", path: "/test.txt", headers: [Self.host])
        let signed = Self.signer.presign(request, at: Self.date, expiresIn: 86400)
        let expected = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            + "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        #expect(
            signed.canonicalRequest
                == ["GET", "/test.txt", expected, "host:examplebucket.s3.amazonaws.com", "", "host", "UNSIGNED-PAYLOAD"]
                .joined(separator: "\n"))
        #expect(signed.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(signed.request.query == expected + "&X-Amz-Signature=\(signed.signature)")
        let verified = try Self.verifier.verify(
            signed.request, secretAccessKey: Self.credentials.secretAccessKey,
            now: Self.date.addingTimeInterval(86400))
        #expect(verified.payloadHash == .unsigned)
    }

    // MARK: Chunked uploads

    static let chunkedHeaders: [(name: String, value: String)] = [
        ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
    ]

    /// 64 KiB and 1 KiB of `a`, each chunk signature chained from the seed signature of the request.
    @Test
    func signedChunkedUpload() throws {
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)
        let signatures = [
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ]
        var body = Array("10000;chunk-signature=\(signatures[0])\r\n".utf8) + payload[0..<65536]
        body += Array("\r\n400;chunk-signature=\(signatures[1])\r\n".utf8) + payload[65536...]
        body += Array("\r\n0;chunk-signature=\(signatures[2])\r\n\r\n".utf8)
        #expect(body.count == 66824)
        let request = SigV4Request(
            method: "PUT", path: "/examplebucket/chunkObject.txt",
            headers: Self.chunkedHeaders + [
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Length", "66824"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                        + "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                        + "x-amz-decoded-content-length;x-amz-storage-class,"
                        + "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
                ),
            ],
            body: body)
        let verified = try Self.verifier.verify(
            request, secretAccessKey: Self.credentials.secretAccessKey, now: Self.date)
        #expect(verified.payloadHash == .streaming(.signed))
        let decoder = try #require(try verified.chunkedDecoder(for: request))
        let decoded = try decoder.decode(body)
        #expect(decoded.data == payload)
        #expect(decoded.trailers.isEmpty)

        let encoder = AWSChunkedEncoder(
            mode: .signed, seedSignature: verified.authorization.signature, signingKey: verified.signingKey,
            timestamp: verified.authorization.timestamp)
        #expect(encoder.encode(payload, chunkSize: 65536) == body)
        #expect(AWSChunkedEncoder.encodedLength(payloadLength: 66560, chunkSize: 65536, mode: .signed) == 66824)
    }

    /// The same payload with a signed CRC32C trailer (`sOO8/Q==`).
    @Test
    func signedChunkedUploadWithTrailer() throws {
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
            headers: Self.chunkedHeaders + [
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
                ("x-amz-trailer", "x-amz-checksum-crc32c"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                        + "SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;"
                        + "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,"
                        + "Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
                ),
            ],
            body: body)
        let verified = try Self.verifier.verify(
            request, secretAccessKey: Self.credentials.secretAccessKey, now: Self.date)
        #expect(
            verified.stringToSign.hasSuffix("\n44d48b8c2f70eae815a0198cc73d7a546a73a93359c070abbaa5e6c7de112559"))
        let decoded = try #require(try verified.chunkedDecoder(for: request)).decode(body)
        #expect(decoded.data == payload)
        #expect(decoded.trailer("x-amz-checksum-crc32c") == "sOO8/Q==")
        #expect(decoded.verifiedChecksums == [.crc32c])

        let encoder = AWSChunkedEncoder(
            mode: .signedWithTrailer, seedSignature: verified.authorization.signature,
            signingKey: verified.signingKey, timestamp: verified.authorization.timestamp)
        #expect(encoder.encode(payload, chunkSize: 65536, checksum: .crc32c) == body)
    }
}
