import Foundation
import NIOCore
import NimbusCore
import NimbusSigV4

/// Decides who is calling and in which (account, region): verifies SigV4 (header or presigned, aws-chunked
/// payloads) against the ``CredentialStore``, or with `--auth none` accepts any signature and reads the account
/// from a 12-digit access key id. Requests from a sandbox are always verified, against function credentials only.
public struct Authenticator: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Any signature (or none) is accepted; the region still comes from the scope.
        case none
        /// Every request outside must carry a valid signature of a known key.
        case sigv4
    }

    public let mode: Mode
    public let credentials: CredentialStore
    /// The server's `--region` and `--account`: the namespace of unsigned requests.
    public let defaultNamespace: AccountContext
    let now: @Sendable () -> Date

    public init(
        mode: Mode, credentials: CredentialStore, defaultNamespace: AccountContext,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.mode = mode
        self.credentials = credentials
        self.defaultNamespace = defaultNamespace
        self.now = now
    }

    /// The outcome: the caller, its namespace, and the body with any aws-chunked framing removed (or, for a body
    /// still to stream, the verifier it must pass through).
    struct Authenticated {
        var caller: Caller
        var namespace: AccountContext
        var body: ByteBuffer
        var streamVerifier: StreamingBodyVerifier? = nil
    }

    /// The SigV4 scope's service name, read cheaply from the Authorization header or `X-Amz-Credential`.
    static func signingName(authorization: String?, query: [(String, String)]) -> String? {
        let credential: Substring
        if let authorization, let range = authorization.range(of: "Credential=") {
            credential = authorization[range.upperBound...].prefix { $0 != "," && $0 != " " }
        } else if let value = query.first(where: { $0.0 == "X-Amz-Credential" })?.1 {
            credential = Substring(value)
        } else {
            return nil
        }
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 5 ? String(parts[3]) : nil
    }

    /// - Parameters:
    ///   - verify: check the signature even when `--auth none` would accept any.
    ///   - streamed: the body has not been read (``ServiceOperation/streamsBody``): only the signature of the head is
    ///     checked here, and the result carries the verifier the body must stream through.
    func authenticate(
        _ head: EdgeHead, body: ByteBuffer, service: ServiceDefinition, origin: ServiceEdge.Origin, verify: Bool = false,
        streamed: Bool = false
    ) throws -> Authenticated {
        // The body is copied in only where it is read (a signature to verify, aws-chunked framing to remove): an
        // unsigned 6 MB Invoke payload is not copied on its way to the function.
        var request = SigV4Request(
            method: head.routing.method, path: head.rawPath, query: head.rawQuery,
            headers: head.headers.map { (name: $0.0, value: $0.1) })
        let mustVerify = verify || origin != .outside || self.mode == .sigv4
        let streaming = head.headers.contains { $0.0 == "x-amz-content-sha256" && $0.1.hasPrefix("STREAMING-") }
        if (mustVerify || streaming) && !streamed { request.body = Array(body.readableBytesView) }
        let authorization: SigV4Authorization?
        do {
            authorization = try SigV4Authorization(parsing: request)
        } catch .missingAuthentication where !mustVerify {
            authorization = nil
        } catch {
            if !mustVerify { return try self.anonymous(nil, request: request, body: body, service: service, streamed: streamed) }
            throw AuthError(error, service: service)
        }
        guard mustVerify else {
            return try self.anonymous(authorization, request: request, body: body, service: service, streamed: streamed)
        }
        guard let authorization else { throw AuthError(.missingAuthentication, service: service) }
        try self.checkRegion(authorization.scope.region, service: service)
        let keyID = authorization.accessKeyID
        guard let entry = self.credentials.lookup(keyID, now: self.now()) else {
            throw AuthError(.unknownAccessKey(accessKeyID: keyID), service: service)
        }
        if case .sandbox(let only) = origin {
            guard case .function = entry.caller.kind, only == nil || only == keyID else {
                throw AuthError(.unknownAccessKey(accessKeyID: keyID), service: service)
            }
        }
        if let token = entry.sessionToken, authorization.sessionToken != token {
            throw AuthError(.invalidSessionToken, service: service)
        }
        let verified: VerifiedSignature
        var payload: [UInt8]?
        var streamVerifier: StreamingBodyVerifier?
        do {
            verified = try SigV4Verifier(options: SigV4.Options(service: authorization.scope.service)).verify(
                request, authorization: authorization, secretAccessKey: entry.secret, now: self.now(),
                bodyIsStreamed: streamed)
            if streamed {
                streamVerifier = try StreamingBodyVerifier.verified(verified, request: request)
            } else {
                payload = try verified.chunkedDecoder(for: request)?.decode(request.body).data
            }
        } catch {
            throw AuthError(error, service: service)
        }
        var namespace = AccountContext(region: authorization.scope.region, accountID: entry.caller.account)
        if namespace.region.isEmpty { namespace.region = self.defaultNamespace.region }
        return Authenticated(
            caller: entry.caller, namespace: namespace, body: payload.map { ByteBuffer(bytes: $0) } ?? body,
            streamVerifier: streamVerifier)
    }

    /// AWS's region names (`us-east-1`, `us-gov-west-1`, `cn-north-1`, `eu-isoe-west-1`): anything else in a scope is
    /// refused, as AWS refuses it, so that callers cannot invent namespaces.
    static func isRegion(_ region: String) -> Bool {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard region.utf8.count <= 32, parts.count >= 3, let number = parts.last, (1...2).contains(number.count),
            number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber)
        else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
    }

    func checkRegion(_ region: String, service: ServiceDefinition) throws {
        guard region.isEmpty || Self.isRegion(region) else {
            let code =
                switch service.wire {
                case .restXML: "AuthorizationHeaderMalformed"
                case .query: "SignatureDoesNotMatch"
                default: "InvalidSignatureException"
                }
            throw ServiceError(code: code, status: 403, message: "Credential should be scoped to a valid region.")
        }
    }

    /// `--auth none`: the region from the scope, the account from a 12-digit key id, aws-chunked framing removed
    /// without checking its signatures (a malformed framing is still an error).
    func anonymous(
        _ authorization: SigV4Authorization?, request: SigV4Request, body: ByteBuffer, service: ServiceDefinition,
        streamed: Bool = false
    ) throws -> Authenticated {
        var namespace = self.defaultNamespace
        var keyID = ""
        if let scope = authorization?.scope {
            try self.checkRegion(scope.region, service: service)
            keyID = scope.accessKeyID
            if !scope.region.isEmpty { namespace.region = scope.region }
            if keyID.utf8.count == 12, keyID.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { namespace.accountID = keyID }
        }
        var decoded = body
        var streamVerifier: StreamingBodyVerifier?
        do {
            if streamed {
                streamVerifier = try StreamingBodyVerifier.unverified(request: request)
            } else if let decoder = try AWSChunkedDecoder.unverified(for: request) {
                decoded = ByteBuffer(bytes: try decoder.decode(request.body).data)
            }
        } catch {
            throw AuthError(error, service: service)
        }
        return Authenticated(
            caller: Caller(kind: .anonymous, accessKeyID: keyID, account: namespace.accountID), namespace: namespace,
            body: decoded, streamVerifier: streamVerifier)
    }
}

/// A failed authentication, in the vocabulary of the service's protocol family (S3's, the query services', the
/// JSON services').
struct AuthError: ServiceErrorConvertible {
    let failure: SigV4Error
    let wire: WireProtocol

    init(_ failure: SigV4Error, service: ServiceDefinition) {
        self.failure = failure
        self.wire = service.wire
    }

    var serviceError: ServiceError {
        let family: SigV4Error.Vocabulary =
            switch self.wire {
            case .restXML: .s3
            case .query: .query
            default: .json
            }
        return ServiceError(
            code: self.failure.code(in: family), status: self.failure.httpStatus, message: self.failure.message(in: family),
            messageMember: family == .json ? "message" : "Message")
    }
}
