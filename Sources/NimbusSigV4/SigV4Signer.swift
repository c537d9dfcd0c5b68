import FoundationEssentials

/// An access key pair, with the session token of temporary credentials.
public struct SigV4Credentials: Sendable, Hashable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// Signs requests as the AWS SDKs do: in the `Authorization` header, as a presigned URL, or as an aws-chunked
/// upload. Every header the request carries is signed except the hop-by-hop ones botocore leaves out; the request
/// must carry its `Host` header.
public struct SigV4Signer: Sendable {
    public var credentials: SigV4Credentials
    public var region: String
    public var service: String
    public var options: SigV4.Options

    /// A signer for `service` in `region`; `options` default to the service's (``SigV4/Options/init(service:)``).
    public init(credentials: SigV4Credentials, region: String, service: String, options: SigV4.Options? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options ?? SigV4.Options(service: service)
    }

    /// `request` with `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials) and `Authorization` set. The
    /// payload hash is `x-amz-content-sha256` when the request has that header, the body's SHA-256 otherwise.
    public func sign(_ request: SigV4Request, at date: Date) -> SignedRequest {
        let timestamp = SigV4Timestamp(date)
        var request = request
        request.removeHeader("Authorization")
        request.removeHeader("X-Amz-Date")
        request.addHeader("X-Amz-Date", timestamp.basic)
        if let token = self.credentials.sessionToken {
            request.removeHeader("X-Amz-Security-Token")
            request.addHeader("X-Amz-Security-Token", token)
        }
        let signedHeaders = Self.headersToSign(request)
        let payloadHash = request.header("X-Amz-Content-SHA256") ?? sha256Hex(request.body)
        let canonical = CanonicalRequest(
            request, signedHeaders: signedHeaders, payloadHash: payloadHash, options: self.options)
        let key = self.signingKey(for: timestamp)
        let stringToSign = canonical.stringToSign(timestamp: timestamp, scope: key.scope)
        let signature = key.signature(of: stringToSign)
        request.addHeader(
            "Authorization",
            "\(SigV4.algorithm) Credential=\(key.scope.credential), SignedHeaders="
                + "\(signedHeaders.joined(separator: ";")), Signature=\(signature)")
        return SignedRequest(
            request: request, canonicalRequest: canonical.text, stringToSign: stringToSign, signature: signature)
    }

    /// `request` with the presigned query parameters appended (`X-Amz-Algorithm`, `X-Amz-Credential`,
    /// `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token`, then `X-Amz-Signature`). The
    /// payload is `UNSIGNED-PAYLOAD` for S3, the body's SHA-256 for other services, unless the request has
    /// `x-amz-content-sha256`.
    public func presign(_ request: SigV4Request, at date: Date, expiresIn: Int) -> SignedRequest {
        let timestamp = SigV4Timestamp(date)
        let key = self.signingKey(for: timestamp)
        let signedHeaders = Self.headersToSign(request)
        var parameters = [
            ("X-Amz-Algorithm", SigV4.algorithm), ("X-Amz-Credential", key.scope.credential),
            ("X-Amz-Date", timestamp.basic), ("X-Amz-Expires", String(expiresIn)),
            ("X-Amz-SignedHeaders", signedHeaders.joined(separator: ";")),
        ]
        if let token = self.credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        var request = request
        let encoded = parameters.map { name, value in
            "\(name)=\(PercentEncoding.encode(value.utf8, keepingSlash: false))"
        }
        request.query = ((request.query.map { $0.isEmpty ? [] : [$0] } ?? []) + encoded).joined(separator: "&")
        let payloadHash =
            request.header("X-Amz-Content-SHA256")
            ?? (self.options.presignedPayloadIsUnsigned ? PayloadHash.unsignedMarker : sha256Hex(request.body))
        let canonical = CanonicalRequest(
            request, signedHeaders: signedHeaders, payloadHash: payloadHash, options: self.options)
        let stringToSign = canonical.stringToSign(timestamp: timestamp, scope: key.scope)
        let signature = key.signature(of: stringToSign)
        request.query = (request.query ?? "") + "&X-Amz-Signature=\(signature)"
        return SignedRequest(
            request: request, canonicalRequest: canonical.text, stringToSign: stringToSign, signature: signature)
    }

    /// `request`, whose body is the payload, signed for an aws-chunked upload in `mode`: the headers
    /// (`Content-Encoding`, `x-amz-content-sha256`, `x-amz-decoded-content-length`, `x-amz-trailer`,
    /// `Content-Length`) set and signed, and the body replaced by its framing, `checksum` in the trailer.
    public func signChunked(
        _ request: SigV4Request, at date: Date, mode: StreamingPayload, chunkSize: Int = 64 * 1024,
        checksum: ChecksumAlgorithm? = nil
    ) -> SignedRequest {
        var request = request
        let payload = request.body
        for name in ["Content-Encoding", "Content-Length", "X-Amz-Content-SHA256", "X-Amz-Decoded-Content-Length"] {
            request.removeHeader(name)
        }
        request.addHeader("Content-Encoding", "aws-chunked")
        request.addHeader("X-Amz-Content-SHA256", mode.rawValue)
        request.addHeader("X-Amz-Decoded-Content-Length", String(payload.count))
        if mode.hasTrailer, let checksum {
            request.removeHeader("X-Amz-Trailer")
            request.addHeader("X-Amz-Trailer", checksum.headerName)
        }
        let length = AWSChunkedEncoder.encodedLength(
            payloadLength: payload.count, chunkSize: chunkSize, mode: mode, checksum: checksum)
        request.addHeader("Content-Length", String(length))
        request.body = []
        var signed = self.sign(request, at: date)
        let encoder = AWSChunkedEncoder(
            mode: mode, seedSignature: signed.signature, signingKey: self.signingKey(for: SigV4Timestamp(date)),
            timestamp: SigV4Timestamp(date))
        signed.request.body = encoder.encode(payload, chunkSize: chunkSize, checksum: checksum)
        return signed
    }

    /// The signing key of the day of `timestamp`.
    public func signingKey(for timestamp: SigV4Timestamp) -> SigningKey {
        SigningKey(
            secretAccessKey: self.credentials.secretAccessKey,
            scope: CredentialScope(
                accessKeyID: self.credentials.accessKeyID, date: timestamp.day, region: self.region,
                service: self.service))
    }

    /// The request's header names, lower-cased, sorted, without duplicates and without the ones never signed.
    static func headersToSign(_ request: SigV4Request) -> [String] {
        Set(request.headers.map { $0.name.lowercased() }).subtracting(Self.unsignedHeaders).sorted()
    }

    /// Hop-by-hop and proxy-rewritten headers: botocore's list.
    static let unsignedHeaders: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]
}

/// A request after signing, with the intermediate values AWS's test suite publishes.
public struct SignedRequest: Sendable {
    /// The request to send: signature headers or query parameters added.
    public var request: SigV4Request
    public var canonicalRequest: String
    public var stringToSign: String
    public var signature: String
}
