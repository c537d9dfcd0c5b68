import NimbusSigV4
import Testing

/// The codes and messages the edge renders, in AWS's words.
@Suite("Error vocabularies")
struct SigV4ErrorTests {
    static let skewed = ClockSkew(
        requestTime: SigV4Timestamp(basic: "20150830T123600Z")!, serverTime: SigV4Timestamp(basic: "20150830T130100Z")!,
        maximumSkew: .seconds(900))
    static let mismatch = SignatureMismatch(
        accessKeyID: "AKID", signatureProvided: "00", canonicalRequest: "", stringToSign: "")

    @Test
    func clockSkewMessages() {
        #expect(
            Self.skewed.message
                == "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z "
                + "(20150830T130100Z - 15 min.)")
        let ahead = ClockSkew(
            requestTime: Self.skewed.serverTime, serverTime: Self.skewed.requestTime, maximumSkew: .seconds(300))
        #expect(
            ahead.message
                == "Signature not yet current: 20150830T130100Z is still later than 20150830T124100Z "
                + "(20150830T123600Z + 5 min.)")
        let error = SigV4Error.clockSkew(Self.skewed)
        #expect(error.code(in: .s3) == "RequestTimeTooSkewed")
        #expect(error.message(in: .s3) == "The difference between the request time and the current time is too large.")
        #expect(error.code(in: .json) == "InvalidSignatureException")
        #expect(error.code(in: .query) == "SignatureDoesNotMatch")
    }

    @Test
    func incompleteSignatureMessageListsEveryProblem() {
        let malformed = MalformedAuthorization(
            form: .header,
            problems: [
                .missingParameter("Credential"), .missingParameter("Signature"), .missingParameter("SignedHeaders"),
                .missingDate,
            ],
            authorization: "Bearer x")
        #expect(
            malformed.message
                == "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
                + "parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires "
                + "existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer x")
        let error = SigV4Error.malformedAuthorization(malformed)
        #expect(error.code(in: .json) == "IncompleteSignatureException")
        #expect(error.code(in: .query) == "IncompleteSignature")
        #expect(error.code(in: .s3) == "AuthorizationHeaderMalformed")
    }

    @Test
    func presignedProblemsUseS3sQueryVocabulary() {
        let error = SigV4Error.malformedAuthorization(
            MalformedAuthorization(form: .query, problems: [.missingParameter("X-Amz-Date")], authorization: "a=b"))
        #expect(error.code(in: .s3) == "AuthorizationQueryParametersError")
        #expect(error.message(in: .s3).hasPrefix("Query-string authentication version 4 requires the X-Amz-Algorithm"))
    }

    @Test(arguments: [
        (
            SigV4Error.missingAuthentication, "AccessDenied", "MissingAuthenticationTokenException",
            "MissingAuthenticationToken"
        ),
        (
            .unknownAccessKey(accessKeyID: "AKID"), "InvalidAccessKeyId", "UnrecognizedClientException",
            "InvalidClientTokenId"
        ),
        (.invalidSessionToken, "InvalidToken", "UnrecognizedClientException", "InvalidClientTokenId"),
        (
            .signatureMismatch(Self.mismatch), "SignatureDoesNotMatch", "InvalidSignatureException",
            "SignatureDoesNotMatch"
        ),
        (
            .chunkSignatureMismatch(ChunkSignatureMismatch(chunk: 2, signatureProvided: "00")), "SignatureDoesNotMatch",
            "InvalidSignatureException", "SignatureDoesNotMatch"
        ),
        (.contentSHA256Mismatch(provided: "a", computed: "b"), "XAmzContentSHA256Mismatch", "InvalidSignatureException",
            "SignatureDoesNotMatch"),
        (.headersNotSigned(["x-amz-acl"]), "AccessDenied", "InvalidSignatureException", "SignatureDoesNotMatch"),
        (
            .checksumMismatch(ChecksumMismatch(algorithm: .crc32, provided: "a", computed: "b")), "BadDigest",
            "BadDigest", "BadDigest"
        ),
        (.malformedChunkedBody(.truncated(offset: 3)), "IncompleteBody", "SerializationException", "MalformedInput"),
    ])
    func codes(error: SigV4Error, s3: String, json: String, query: String) {
        #expect(error.code(in: .s3) == s3)
        #expect(error.code(in: .json) == json)
        #expect(error.code(in: .query) == query)
        #expect(!error.message(in: .s3).isEmpty && !error.message(in: .json).isEmpty)
    }

    @Test
    func malformedRequestsAre400AndUnauthenticatedOnes403() {
        #expect(SigV4Error.missingAuthentication.httpStatus == 403)
        #expect(SigV4Error.clockSkew(Self.skewed).httpStatus == 403)
        #expect(SigV4Error.invalidContentSHA256("x").httpStatus == 400)
        #expect(SigV4Error.malformedChunkedBody(.truncated(offset: 0)).httpStatus == 400)
        #expect(
            SigV4Error.malformedAuthorization(MalformedAuthorization(form: .header, problems: [], authorization: ""))
                .httpStatus == 400)
    }

    @Test
    func awsWording() {
        #expect(
            SigV4Error.unknownAccessKey(accessKeyID: "AKID").message
                == "The security token included in the request is invalid.")
        let mismatch = SigV4Error.signatureMismatch(Self.mismatch)
        #expect(
            mismatch.message
                == "The request signature we calculated does not match the signature you provided. Check your AWS "
                + "Secret Access Key and signing method. Consult the service documentation for details.")
        #expect(
            mismatch.message(in: .s3)
                == "The request signature we calculated does not match the signature you provided. Check your key and "
                + "signing method.")
        let badDigest = SigV4Error.checksumMismatch(ChecksumMismatch(algorithm: .crc32, provided: "a", computed: "b"))
        #expect(badDigest.message(in: .s3) == "The CRC32 you specified did not match the calculated checksum.")
        #expect(SigV4Error.missingAuthentication.message == "Missing Authentication Token")
    }
}
