import NimbusSigV4
import Testing

/// What botocore signs, the verifier accepts with the same canonical request; what the signer signs, botocore
/// would have signed the same way.
@Suite("botocore compatibility")
struct BotocoreCompatibilityTests {
    func verify(_ vector: BotocoreVector) throws -> VerifiedSignature {
        let request = vector.request
        let authorization = try SigV4Authorization(parsing: request)
        return try SigV4Verifier(options: SigV4.Options(service: authorization.scope.service)).verify(
            request, authorization: authorization, secretAccessKey: BotocoreVector.secret, now: BotocoreVector.date)
    }

    @Test(arguments: BotocoreVector.all)
    func verifierAcceptsWhatBotocoreSigned(_ vector: BotocoreVector) throws {
        let verified = try self.verify(vector)
        if let canonicalRequest = vector.canonicalRequest { #expect(verified.canonicalRequest == canonicalRequest) }
        if let stringToSign = vector.stringToSign { #expect(verified.stringToSign == stringToSign) }
    }

    /// The header-signed vectors botocore produced from the given headers alone (the captured boto3 requests
    /// carry headers added after signing, which this signer would sign too).
    static let headerSigned = BotocoreVector.all.filter {
        $0.canonicalRequest != nil && $0.request.header("Authorization") != nil
    }

    @Test(arguments: Self.headerSigned)
    func signerReproducesBotocoresSignature(_ vector: BotocoreVector) throws {
        let authorization = try SigV4Authorization(parsing: vector.request)
        var unsigned = vector.request
        unsigned.removeHeader("Authorization")
        unsigned.removeHeader("X-Amz-Date")
        let signer = SigV4Signer(
            credentials: SigV4Credentials(
                accessKeyID: authorization.accessKeyID, secretAccessKey: BotocoreVector.secret,
                sessionToken: authorization.sessionToken),
            region: authorization.scope.region, service: authorization.scope.service)
        let signed = signer.sign(unsigned, at: BotocoreVector.date)
        #expect(signed.signature == authorization.signature)
        #expect(signed.request.header("Authorization") == vector.request.header("Authorization"))
    }

    @Test
    func lambdaPathsAreEncodedTwice() throws {
        let vector = try #require(BotocoreVector.all.first { $0.name == "lambda-invoke" })
        let verified = try self.verify(vector)
        #expect(verified.canonicalRequest.contains("\n/2015-03-31/functions/my%253Afunction/invocations\n"))
        // The same request verified with S3's rules signs a different path.
        #expect(throws: SigV4Error.self) {
            try SigV4Verifier(options: .s3).verify(
                vector.request, secretAccessKey: BotocoreVector.secret, now: BotocoreVector.date)
        }
    }

    /// boto3's `put_object` over HTTPS: unsigned aws-chunked framing with a CRC32 trailer.
    @Test
    func boto3UnsignedTrailerUploadDecodes() throws {
        let vector = try #require(BotocoreVector.all.first { $0.name == "before-send.s3.PutObject" })
        let verified = try self.verify(vector)
        #expect(verified.payloadHash == .streaming(.unsignedWithTrailer))
        let decoder = try #require(try verified.chunkedDecoder(for: vector.request))
        let decoded = try decoder.decode(vector.request.body)
        #expect(decoded.data == Array("Hello, chunked world!".utf8))
        #expect(decoded.trailer("x-amz-checksum-crc32") == "F/8VHg==")
        #expect(decoded.verifiedChecksums == [.crc32])
    }

    @Test
    func sessionTokensAreExposed() throws {
        let logs = try #require(BotocoreVector.all.first { $0.name == "logs-json" })
        #expect(try self.verify(logs).sessionToken == "FQoGZXIvYXdzEXAMPLE+token/==")
        let sts = try #require(BotocoreVector.all.first { $0.name == "sts-presign" })
        let verified = try self.verify(sts)
        #expect(verified.sessionToken == "FQoGZXIvYXdzEXAMPLE+token/==")
        #expect(verified.authorization.form == .presigned(expiresIn: 60))
    }
}
