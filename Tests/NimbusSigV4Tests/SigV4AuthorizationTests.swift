import NimbusSigV4
import Testing

/// Parsing the signature without the secret: the forms SDKs send, and what garbage gives.
@Suite("Authorization parsing")
struct SigV4AuthorizationTests {
    static let credential = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
    static let signature = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

    func request(authorization: String?, date: String? = "20150830T123600Z") -> SigV4Request {
        var request = SigV4Request(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")])
        if let date { request.addHeader("X-Amz-Date", date) }
        if let authorization { request.addHeader("Authorization", authorization) }
        return request
    }

    func problems(_ request: SigV4Request) -> [MalformedAuthorization.Problem] {
        do {
            _ = try SigV4Authorization(parsing: request)
            Issue.record("parsed")
        } catch {
            if case .malformedAuthorization(let malformed) = error { return malformed.problems }
            Issue.record("unexpected \(error)")
        }
        return []
    }

    @Test(arguments: [
        "AWS4-HMAC-SHA256 Credential=\(credential), SignedHeaders=host;x-amz-date, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=\(credential),SignedHeaders=host;x-amz-date,Signature=\(signature)",
        "  AWS4-HMAC-SHA256   Credential=\(credential) ,  SignedHeaders=host;x-amz-date ,Signature=\(signature)  ",
        "AWS4-HMAC-SHA256 Signature=\(signature), Credential=\(credential), SignedHeaders=host;x-amz-date",
    ])
    func headerFormsTheSDKsSend(_ header: String) throws {
        let authorization = try SigV4Authorization(parsing: self.request(authorization: header))
        #expect(authorization.form == .header)
        #expect(
            authorization.scope
                == CredentialScope(
                    accessKeyID: "AKIDEXAMPLE", date: "20150830", region: "us-east-1", service: "service"))
        #expect(authorization.scope.credential == Self.credential)
        #expect(authorization.signedHeaders == ["host", "x-amz-date"])
        #expect(authorization.signature == Self.signature)
        #expect(authorization.timestamp.basic == "20150830T123600Z")
        #expect(authorization.sessionToken == nil)
    }

    @Test
    func theDateHeaderStandsInForXAmzDate() throws {
        var request = self.request(
            authorization: "AWS4-HMAC-SHA256 Credential=\(Self.credential), SignedHeaders=date;host, "
                + "Signature=\(Self.signature)",
            date: nil)
        request.addHeader("Date", "Sun, 30 Aug 2015 12:36:00 GMT")
        #expect(try SigV4Authorization(parsing: request).timestamp.basic == "20150830T123600Z")
    }

    @Test
    func noSignatureAtAllIsMissingAuthentication() {
        #expect(throws: SigV4Error.missingAuthentication) {
            try SigV4Authorization(parsing: self.request(authorization: nil))
        }
        #expect(throws: SigV4Error.missingAuthentication) {
            try SigV4Authorization(parsing: SigV4Request(method: "GET", path: "/", query: "Action=ListQueues"))
        }
    }

    @Test
    func theAlgorithmAloneLacksEveryParameter() {
        #expect(
            self.problems(self.request(authorization: "AWS4-HMAC-SHA256"))
                == [
                    .missingParameter("Credential"), .missingParameter("Signature"), .missingParameter("SignedHeaders"),
                ])
    }

    @Test(arguments: ["Bearer x", "AWS AKIDEXAMPLE:qaNdqGsI6bq4Hi+9Gzovwyjbh0E=", "", "Basic dXNlcjpwYXNz"])
    func otherSchemesReadAsIncompleteSignatures(_ header: String) {
        let problems = self.problems(self.request(authorization: header, date: nil))
        #expect(
            problems == [
                .missingParameter("Credential"), .missingParameter("Signature"), .missingParameter("SignedHeaders"),
                .missingDate,
            ])
    }

    @Test
    func tenThousandCommasAreJustMissingParameters() {
        let header = "AWS4-HMAC-SHA256 " + String(repeating: ",", count: 10_000)
        #expect(self.problems(self.request(authorization: header)).count == 3)
    }

    @Test
    func anElementWithoutEqualsIsNotAKeyValuePair() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE /20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=\(Self.signature)"
        #expect(
            self.problems(self.request(authorization: header))
                == [.notKeyValuePair("/20150830/us-east-1/service/aws4_request")])
    }

    @Test
    func sigV4aIsAnUnsupportedAlgorithm() {
        let header = "AWS4-ECDSA-P256-SHA256 Credential=\(Self.credential), SignedHeaders=host, Signature=ab"
        #expect(self.problems(self.request(authorization: header)) == [.unsupportedAlgorithm("AWS4-ECDSA-P256-SHA256")])
    }

    @Test(arguments: [
        ("AKIDEXAMPLE/20150830/us-east-1/aws4_request", MalformedAuthorization.Problem.malformedCredential(
            "AKIDEXAMPLE/20150830/us-east-1/aws4_request")),
        ("AKIDEXAMPLE/20150830/us-east-1/service/aws5_request", .invalidTerminator("aws5_request")),
        ("AKIDEXAMPLE/20150831/us-east-1/service/aws4_request", .scopeDateMismatch(
            scopeDate: "20150831", requestTimestamp: "20150830T123600Z")),
        ("/20150830/us-east-1/service/aws4_request", .malformedCredential("/20150830/us-east-1/service/aws4_request")),
    ])
    func badCredentials(credential: String, problem: MalformedAuthorization.Problem) {
        let header = "AWS4-HMAC-SHA256 Credential=\(credential), SignedHeaders=host;x-amz-date, "
            + "Signature=\(Self.signature)"
        #expect(self.problems(self.request(authorization: header)) == [problem])
    }

    @Test
    func hostMustBeSigned() {
        let header = "AWS4-HMAC-SHA256 Credential=\(Self.credential), SignedHeaders=x-amz-date, "
            + "Signature=\(Self.signature)"
        #expect(self.problems(self.request(authorization: header)) == [.hostNotSigned])
    }

    @Test(arguments: ["2015-08-30T12:36:00Z", "20150830T123600", "20151330T123600Z", "yesterday"])
    func malformedDates(_ date: String) {
        let header = "AWS4-HMAC-SHA256 Credential=\(Self.credential), SignedHeaders=host;x-amz-date, "
            + "Signature=\(Self.signature)"
        #expect(self.problems(self.request(authorization: header, date: date)) == [.malformedDate(date)])
    }

    // MARK: Presigned query

    static let presignedQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2F"
        + "us-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
        + "host&X-Amz-Security-Token=tok%2Ben%3D&X-Amz-Signature=\(signature)"

    @Test
    func presignedQueryForm() throws {
        let request = SigV4Request(
            method: "GET", path: "/", query: Self.presignedQuery, headers: [("Host", "example.amazonaws.com")])
        let authorization = try SigV4Authorization(parsing: request)
        #expect(authorization.form == .presigned(expiresIn: 3600))
        #expect(authorization.isPresigned)
        #expect(authorization.scope.credential == Self.credential)
        #expect(authorization.sessionToken == "tok+en=")
        #expect(authorization.signedHeaders == ["host"])
    }

    @Test
    func presignedQueryMissingParameters() {
        let request = SigV4Request(
            method: "GET", path: "/", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab",
            headers: [("Host", "example.amazonaws.com")])
        #expect(
            self.problems(request) == [
                .missingParameter("X-Amz-Credential"), .missingParameter("X-Amz-Date"),
                .missingParameter("X-Amz-SignedHeaders"), .missingParameter("X-Amz-Expires"),
            ])
    }

    @Test(arguments: ["0", "-1", "604801", "1e3", "soon"])
    func presignedExpiryMustBeWithinAWeek(_ expires: String) {
        let query = Self.presignedQuery.replacing("X-Amz-Expires=3600", with: "X-Amz-Expires=\(expires)")
        let request = SigV4Request(method: "GET", path: "/", query: query, headers: [("Host", "example.amazonaws.com")])
        #expect(self.problems(request) == [.invalidExpires(expires)])
    }

    @Test
    func aHeaderAndAPresignedQueryConflict() {
        var request = SigV4Request(
            method: "GET", path: "/", query: Self.presignedQuery, headers: [("Host", "example.amazonaws.com")])
        request.addHeader("Authorization", "AWS4-HMAC-SHA256 Credential=\(Self.credential)")
        #expect(self.problems(request) == [.conflictingMechanisms])
    }
}
