/// A signature that verified: what the edge needs next (the caller's scope and session token, the body's
/// framing) and what AWS would log.
public struct VerifiedSignature: Sendable {
    public var authorization: SigV4Authorization
    public var canonicalRequest: String
    public var stringToSign: String
    /// The payload hash the signature covers; ``PayloadHash/streaming(_:)`` for aws-chunked bodies.
    public var payloadHash: PayloadHash
    /// The scope's signing key, which also signs the chunks of an aws-chunked body.
    public var signingKey: SigningKey

    public init(
        authorization: SigV4Authorization, canonicalRequest: String, stringToSign: String, payloadHash: PayloadHash,
        signingKey: SigningKey
    ) {
        self.authorization = authorization
        self.canonicalRequest = canonicalRequest
        self.stringToSign = stringToSign
        self.payloadHash = payloadHash
        self.signingKey = signingKey
    }

    public var scope: CredentialScope { self.authorization.scope }

    public var sessionToken: String? { self.authorization.sessionToken }

    /// The decoder of `request`'s aws-chunked body, or nil when the payload is not streaming. The decoder chains
    /// from this signature and reads `x-amz-trailer` and `x-amz-decoded-content-length` from the request.
    /// - Throws: ``SigV4Error/malformedChunkedBody(_:)`` when `x-amz-decoded-content-length` is not a number.
    public func chunkedDecoder(for request: SigV4Request) throws(SigV4Error) -> AWSChunkedDecoder? {
        guard case .streaming(let mode) = self.payloadHash else { return nil }
        return try AWSChunkedDecoder(
            mode: mode, seedSignature: self.authorization.signature, signingKey: self.signingKey,
            timestamp: self.authorization.timestamp, headersOf: request)
    }
}
