import Foundation
import NIOCore
import NimbusCore
import NimbusSigV4
import Testing

@testable import NimbusEdge

/// Who a request is, and in which (account, region): SigV4 against the credential store, `--auth none`'s
/// conventions, and the sandbox endpoints' rule that only an environment's own key passes.
@Suite struct AuthenticatorTests {
    static let operatorKey = OperatorKey(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        account: "111122223333")
    let credentials = CredentialStore(operatorKey: Self.operatorKey)
    let now = Date(timeIntervalSince1970: 1_764_800_000)
    let lambda = ServiceDefinition(name: "lambda", signingNames: ["lambda"], wire: .restJSON, operations: [])
    let sts = ServiceDefinition(name: "sts", signingNames: ["sts"], wire: .query, operations: [])

    func authenticator(_ mode: Authenticator.Mode) -> Authenticator {
        let now = self.now
        return Authenticator(
            mode: mode, credentials: self.credentials,
            defaultNamespace: AccountContext(region: "us-east-1", accountID: "000000000000"), now: { now })
    }

    /// A signed GET as botocore would send it, turned into the edge's view of a request.
    func head(
        key: String = operatorKey.accessKeyID, secret: String = operatorKey.secretAccessKey, token: String? = nil,
        region: String = "eu-west-1", at: Date? = nil, body: [UInt8] = [], chunked: Bool = false, sign: Bool = true
    ) -> (EdgeHead, ByteBuffer) {
        var request = SigV4Request(
            method: "POST", path: "/2015-03-31/functions/f/invocations", headers: [(name: "host", value: "127.0.0.1:9000")],
            body: body)
        if sign {
            let signer = SigV4Signer(
                credentials: SigV4Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token),
                region: region, service: "lambda")
            request =
                chunked
                ? signer.signChunked(request, at: at ?? self.now, mode: .signed, chunkSize: 8192).request
                : signer.sign(request, at: at ?? self.now).request
        }
        let headers = request.headers.map { ($0.name.lowercased(), $0.value) }
        let head = EdgeHead(
            routing: Router.Head(
                method: "POST", segments: ["2015-03-31", "functions", "f", "invocations"], query: [], host: "127.0.0.1:9000",
                target: nil,
                signingName: Authenticator.signingName(
                    authorization: headers.first { $0.0 == "authorization" }?.1, query: []),
                isSandbox: false),
            headers: headers, rawPath: request.path, rawQuery: nil, contentType: nil)
        return (head, ByteBuffer(bytes: request.body))
    }

    func code(_ call: () throws -> Authenticator.Authenticated) -> String? {
        do {
            _ = try call()
            return nil
        } catch let error as AuthError {
            return error.serviceError.code
        } catch {
            return "\(error)"
        }
    }

    @Test func theOperatorKeyPassesAndTheScopeNamesTheRegion() throws {
        let (head, body) = self.head()
        #expect(head.routing.signingName == "lambda")
        let result = try self.authenticator(.sigv4).authenticate(head, body: body, service: self.lambda, origin: .outside)
        #expect(result.caller.kind == .operatorKey)
        #expect(result.namespace == AccountContext(region: "eu-west-1", accountID: "111122223333"))
    }

    @Test func badSignaturesGetTheServiceFamilysErrors() {
        let auth = self.authenticator(.sigv4)
        let (wrong, body) = self.head(secret: "not-the-secret")
        #expect(self.code { try auth.authenticate(wrong, body: body, service: self.lambda, origin: .outside) } == "InvalidSignatureException")
        #expect(self.code { try auth.authenticate(wrong, body: body, service: self.sts, origin: .outside) } == "SignatureDoesNotMatch")
        let (unknown, _) = self.head(key: "AKIAUNKNOWNKEY000000")
        #expect(self.code { try auth.authenticate(unknown, body: body, service: self.lambda, origin: .outside) } == "UnrecognizedClientException")
        #expect(self.code { try auth.authenticate(unknown, body: body, service: self.sts, origin: .outside) } == "InvalidClientTokenId")
        let (unsigned, _) = self.head(sign: false)
        #expect(self.code { try auth.authenticate(unsigned, body: body, service: self.lambda, origin: .outside) } == "MissingAuthenticationTokenException")
        let (skewed, _) = self.head(at: self.now.addingTimeInterval(-16 * 60))
        #expect(self.code { try auth.authenticate(skewed, body: body, service: self.lambda, origin: .outside) } == "InvalidSignatureException")
        let (withinSkew, _) = self.head(at: self.now.addingTimeInterval(-14 * 60))
        #expect(self.code { try auth.authenticate(withinSkew, body: body, service: self.lambda, origin: .outside) } == nil)
    }

    @Test func aTamperedBodyIsRefused() {
        let (head, _) = self.head(body: Array(#"{"a":1}"#.utf8))
        let tampered = ByteBuffer(string: #"{"a":2}"#)
        #expect(
            self.code { try self.authenticator(.sigv4).authenticate(head, body: tampered, service: self.lambda, origin: .outside) }
                == "InvalidSignatureException")
    }

    @Test func chunkedBodiesAreVerifiedAndUnframed() throws {
        let payload = Array(repeating: UInt8(ascii: "a"), count: 20_000)
        let (head, body) = self.head(body: payload, chunked: true)
        let result = try self.authenticator(.sigv4).authenticate(head, body: body, service: self.lambda, origin: .outside)
        #expect(Array(result.body.readableBytesView) == payload)
        // With --auth none the framing is removed too (signatures unchecked).
        let anonymous = try self.authenticator(.none).authenticate(head, body: body, service: self.lambda, origin: .outside)
        #expect(Array(anonymous.body.readableBytesView) == payload)
    }

    @Test func authNoneAcceptsAnythingAndReadsTheAccountFromATwelveDigitKey() throws {
        let auth = self.authenticator(.none)
        let (garbage, body) = self.head(secret: "whatever")
        let a = try auth.authenticate(garbage, body: body, service: self.lambda, origin: .outside)
        #expect(a.caller.kind == .anonymous)
        #expect(a.namespace == AccountContext(region: "eu-west-1", accountID: "000000000000"))
        let (numbered, _) = self.head(key: "123456789012", region: "ap-southeast-1")
        let b = try auth.authenticate(numbered, body: body, service: self.lambda, origin: .outside)
        #expect(b.namespace == AccountContext(region: "ap-southeast-1", accountID: "123456789012"))
        let (unsigned, _) = self.head(sign: false)
        let c = try auth.authenticate(unsigned, body: body, service: self.lambda, origin: .outside)
        #expect(c.namespace == AccountContext(region: "us-east-1", accountID: "000000000000"))
    }

    @Test func sandboxesAcceptOnlyTheirOwnKeyWithItsToken() throws {
        let namespace = AccountContext(region: "eu-west-1", accountID: "111122223333")
        let mine = self.credentials.issue(
            function: "f", roleARN: "arn:aws:iam::111122223333:role/r", namespace: namespace, environmentID: "e1", now: self.now)
        let other = self.credentials.issue(
            function: "g", roleARN: "arn:aws:iam::111122223333:role/r", namespace: namespace, environmentID: "e2", now: self.now)
        let auth = self.authenticator(.none)  // inside a sandbox SigV4 is checked whatever --auth says
        let origin = ServiceEdge.Origin.sandbox(accessKeyID: mine.accessKeyID)
        let (good, body) = self.head(key: mine.accessKeyID, secret: mine.secretAccessKey, token: mine.sessionToken)
        let result = try auth.authenticate(good, body: body, service: self.lambda, origin: origin)
        #expect(result.caller.kind == .function(name: "f", roleARN: "arn:aws:iam::111122223333:role/r"))
        let (noToken, _) = self.head(key: mine.accessKeyID, secret: mine.secretAccessKey)
        #expect(self.code { try auth.authenticate(noToken, body: body, service: self.lambda, origin: origin) } != nil)
        let (others, _) = self.head(key: other.accessKeyID, secret: other.secretAccessKey, token: other.sessionToken)
        #expect(self.code { try auth.authenticate(others, body: body, service: self.lambda, origin: origin) } == "UnrecognizedClientException")
        let (operatorKey, _) = self.head()
        #expect(self.code { try auth.authenticate(operatorKey, body: body, service: self.lambda, origin: origin) } == "UnrecognizedClientException")
        let (unsigned, _) = self.head(sign: false)
        #expect(self.code { try auth.authenticate(unsigned, body: body, service: self.lambda, origin: origin) } == "MissingAuthenticationTokenException")
        self.credentials.revoke(environmentID: "e1")
        #expect(self.code { try auth.authenticate(good, body: body, service: self.lambda, origin: origin) } == "UnrecognizedClientException")
    }
}

@Suite struct RegionNameTests {
    @Test(arguments: ["us-east-1", "eu-central-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1", "eu-isoe-west-1"])
    func awsRegionsAreRegions(_ region: String) {
        #expect(Authenticator.isRegion(region))
    }

    @Test(arguments: ["", "us", "us-east", "US-EAST-1", "us-east-123", "us--1", "x" + String(repeating: "-a", count: 20) + "-1", "us-east-1\u{0}"])
    func othersAreNot(_ region: String) {
        #expect(!Authenticator.isRegion(region))
    }
}
