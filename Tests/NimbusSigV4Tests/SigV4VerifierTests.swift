import FoundationEssentials
import NimbusSigV4
import Testing

/// Signer → verifier round trips, and every way a request can fail verification.
@Suite("Verification")
struct SigV4VerifierTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let credentials = SigV4Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret)
    /// 2024-05-01T12:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_714_564_800)
    static let lambda = SigV4Signer(credentials: credentials, region: "us-east-1", service: "lambda")
    static let s3 = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")

    static func invoke(body: String = #"{"answer":42}"#) -> SigV4Request {
        SigV4Request(
            method: "POST", path: "/2015-03-31/functions/my-function/invocations",
            headers: [("Host", "127.0.0.1:9000"), ("Content-Type", "application/json")], body: Array(body.utf8))
    }

    static func putObject(body: String = "object data") -> SigV4Request {
        let bytes = Array(body.utf8)
        return SigV4Request(
            method: "PUT", path: "/bucket/key%20name.txt",
            headers: [("Host", "127.0.0.1:9000"), ("x-amz-content-sha256", Self.sha256(body))], body: bytes)
    }

    static func sha256(_ text: String) -> String {
        ChecksumAlgorithm.sha256.digest(of: Array(text.utf8)).map { String($0, radix: 16).leftPadded(2) }.joined()
    }

    /// The error verification throws, or nil when it succeeds.
    func failure(
        _ request: SigV4Request, options: SigV4.Options = .standard, secret: String = Self.secret,
        now: Date = Self.now
    ) -> SigV4Error? {
        do {
            _ = try SigV4Verifier(options: options).verify(request, secretAccessKey: secret, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test
    func aSignedRequestVerifies() throws {
        let signed = Self.lambda.sign(Self.invoke(), at: Self.now)
        let verified = try SigV4Verifier().verify(signed.request, secretAccessKey: Self.secret, now: Self.now)
        #expect(verified.canonicalRequest == signed.canonicalRequest)
        #expect(verified.stringToSign == signed.stringToSign)
        #expect(verified.scope.service == "lambda")
        #expect(verified.payloadHash == .sha256(Self.sha256(#"{"answer":42}"#)))
        #expect(try verified.chunkedDecoder(for: signed.request) == nil)
    }

    @Test
    func aWrongSecretIsASignatureMismatch() throws {
        let signed = Self.lambda.sign(Self.invoke(), at: Self.now)
        let error = try #require(self.failure(signed.request, secret: "another secret"))
        guard case .signatureMismatch(let mismatch) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(mismatch.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(mismatch.signatureProvided == signed.signature)
        #expect(mismatch.canonicalRequest == signed.canonicalRequest)
        #expect(mismatch.stringToSign == signed.stringToSign)
    }

    @Test
    func aTamperedBodyIsASignatureMismatch() {
        var request = Self.lambda.sign(Self.invoke(), at: Self.now).request
        request.body = Array(#"{"answer":43}"#.utf8)
        guard case .signatureMismatch = self.failure(request) else {
            Issue.record("accepted")
            return
        }
    }

    @Test
    func aBodyThatIsNotTheDeclaredSHA256IsAContentMismatch() {
        var request = Self.s3.sign(Self.putObject(), at: Self.now).request
        request.body = Array("other data!".utf8)
        #expect(
            self.failure(request, options: .s3)
                == .contentSHA256Mismatch(provided: Self.sha256("object data"), computed: Self.sha256("other data!")))
    }

    @Test
    func anUnsignedPayloadLetsTheBodyVary() throws {
        var request = Self.putObject()
        request.removeHeader("x-amz-content-sha256")
        request.addHeader("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        var signed = Self.s3.sign(request, at: Self.now).request
        signed.body = Array("anything".utf8)
        let verified = try SigV4Verifier(options: .s3).verify(signed, secretAccessKey: Self.secret, now: Self.now)
        #expect(verified.payloadHash == .unsigned)
    }

    @Test(arguments: ["abc", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", String(repeating: "g", count: 64)])
    func anUnknownContentSHA256IsInvalid(_ value: String) {
        var request = Self.putObject()
        request.removeHeader("x-amz-content-sha256")
        request.addHeader("x-amz-content-sha256", value)
        let signed = Self.s3.sign(request, at: Self.now).request
        #expect(self.failure(signed, options: .s3) == .invalidContentSHA256(value))
    }

    @Test
    func aTamperedSignedHeaderIsASignatureMismatch() {
        var request = Self.lambda.sign(Self.invoke(), at: Self.now).request
        request.removeHeader("Content-Type")
        request.addHeader("Content-Type", "text/plain")
        guard case .signatureMismatch = self.failure(request) else {
            Issue.record("accepted")
            return
        }
    }

    @Test
    func unsignedAmzHeadersAreRejectedByS3Only() {
        var lambda = Self.lambda.sign(Self.invoke(), at: Self.now).request
        lambda.addHeader("X-Amz-Log-Type", "Tail")
        #expect(self.failure(lambda) == nil)
        var s3 = Self.s3.sign(Self.putObject(), at: Self.now).request
        s3.addHeader("x-amz-acl", "public-read")
        s3.addHeader("X-Amz-Meta-Owner", "mallory")
        #expect(self.failure(s3, options: .s3) == .headersNotSigned(["x-amz-acl", "x-amz-meta-owner"]))
    }

    @Test
    func hostMustBeAmongTheSignedHeaders() {
        var request = Self.lambda.sign(Self.invoke(), at: Self.now).request
        let authorization = request.header("Authorization") ?? ""
        request.removeHeader("Authorization")
        let unsignedHost = authorization.replacing(
            "SignedHeaders=content-type;host;", with: "SignedHeaders=content-type;")
        request.addHeader("Authorization", unsignedHost)
        guard case .malformedAuthorization(let malformed) = self.failure(request) else {
            Issue.record("accepted")
            return
        }
        #expect(malformed.problems == [.hostNotSigned])
    }

    @Test(arguments: [-16 * 60, 16 * 60, -15 * 60 - 1])
    func aRequestOutsideTheSkewIsRejected(offset: Int) throws {
        let request = Self.lambda.sign(Self.invoke(), at: Self.now).request
        let now = Self.now.addingTimeInterval(Double(offset))
        let error = try #require(self.failure(request, now: now))
        guard case .clockSkew(let skew) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(skew.requestTime.basic == "20240501T120000Z")
        #expect(skew.serverTime == SigV4Timestamp(now))
        #expect(skew.isAhead == (offset < 0))
    }

    @Test(arguments: [-15 * 60, 15 * 60, 0])
    func aRequestWithinTheSkewVerifies(offset: Int) {
        let request = Self.lambda.sign(Self.invoke(), at: Self.now).request
        #expect(self.failure(request, now: Self.now.addingTimeInterval(Double(offset))) == nil)
    }

    @Test
    func theSkewIsAnOption() {
        let request = Self.lambda.sign(Self.invoke(), at: Self.now).request
        var options = SigV4.Options.standard
        options.maximumClockSkew = .seconds(5 * 60)
        guard case .clockSkew = self.failure(request, options: options, now: Self.now.addingTimeInterval(301)) else {
            Issue.record("accepted")
            return
        }
    }

    @Test
    func aPresignedURLExpires() throws {
        let request = SigV4Request(method: "GET", path: "/bucket/key", headers: [("Host", "h")])
        let signed = Self.s3.presign(request, at: Self.now, expiresIn: 60)
        #expect(self.failure(signed.request, options: .s3, now: Self.now.addingTimeInterval(60)) == nil)
        let error = self.failure(signed.request, options: .s3, now: Self.now.addingTimeInterval(61))
        guard case .expired(let expiry) = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(expiry.expiresIn == 60)
        #expect(expiry.expiredAt.basic == "20240501T120100Z")
        // A URL dated beyond the skew is not valid yet.
        let early = self.failure(signed.request, options: .s3, now: Self.now.addingTimeInterval(-901))
        guard case .clockSkew = early else {
            Issue.record("accepted")
            return
        }
    }

    @Test
    func aTamperedPresignedQueryIsASignatureMismatch() {
        var request = Self.s3.presign(
            SigV4Request(method: "GET", path: "/bucket/key", query: "versionId=1", headers: [("Host", "h")]),
            at: Self.now, expiresIn: 60
        ).request
        request.query = request.query?.replacing("versionId=1", with: "versionId=2")
        guard case .signatureMismatch = self.failure(request, options: .s3) else {
            Issue.record("accepted")
            return
        }
    }

    @Test
    func sessionTokensAreSignedAndExposed() throws {
        var credentials = Self.credentials
        credentials.sessionToken = "token/with+specials="
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1", service: "logs")
        let signed = signer.sign(Self.invoke(), at: Self.now)
        let verified = try SigV4Verifier().verify(signed.request, secretAccessKey: Self.secret, now: Self.now)
        #expect(verified.sessionToken == "token/with+specials=")
        #expect(verified.authorization.signedHeaders.contains("x-amz-security-token"))
        var swapped = signed.request
        swapped.removeHeader("X-Amz-Security-Token")
        swapped.addHeader("X-Amz-Security-Token", "another token")
        guard case .signatureMismatch = self.failure(swapped) else {
            Issue.record("accepted")
            return
        }

        let presigned = signer.presign(Self.invoke(), at: Self.now, expiresIn: 300)
        let verifiedURL = try SigV4Verifier().verify(presigned.request, secretAccessKey: Self.secret, now: Self.now)
        #expect(verifiedURL.sessionToken == "token/with+specials=")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - self.count)) + self
    }
}
