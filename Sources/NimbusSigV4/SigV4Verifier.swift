import FoundationEssentials

/// Checks a request's SigV4 signature, header or presigned, exactly as AWS computes it. Pure: the caller gives the
/// secret (looked up from ``SigV4Authorization/scope``) and the clock's time.
public struct SigV4Verifier: Sendable {
    public var options: SigV4.Options

    /// A verifier for one service's rules: ``SigV4/Options/init(service:)`` gives them from the scope's service.
    public init(options: SigV4.Options = .standard) {
        self.options = options
    }

    /// Parses the request's signature and verifies it with `secretAccessKey`.
    /// - Parameter bodyIsStreamed: see ``verify(_:authorization:secretAccessKey:now:bodyIsStreamed:)``.
    public func verify(
        _ request: SigV4Request, secretAccessKey: String, now: Date, bodyIsStreamed: Bool = false
    ) throws(SigV4Error) -> VerifiedSignature {
        try self.verify(
            request, authorization: SigV4Authorization(parsing: request), secretAccessKey: secretAccessKey, now: now,
            bodyIsStreamed: bodyIsStreamed)
    }

    /// Verifies a parsed signature, in AWS's order: the time (skew, presigned expiry), the `x-amz-content-sha256`
    /// value, the signed `x-amz-*` headers (S3), the signature, then the body against a declared SHA-256. An
    /// aws-chunked body is checked afterwards, chunk by chunk, by ``VerifiedSignature/chunkedDecoder(for:)``.
    /// - Parameter bodyIsStreamed: the body is not in `request` but will be read as it arrives, through
    ///   ``StreamingBodyVerifier/verified(_:request:)``, which then checks it against a declared SHA-256. The payload
    ///   hash must then be known from the headers: without `x-amz-content-sha256`, a header-signed request (or a
    ///   presigned one outside S3) throws ``SigV4Error/missingContentSHA256``.
    public func verify(
        _ request: SigV4Request, authorization: SigV4Authorization, secretAccessKey: String, now: Date,
        bodyIsStreamed: Bool = false
    ) throws(SigV4Error) -> VerifiedSignature {
        try self.checkTime(of: authorization, now: SigV4Timestamp(now))
        let (payloadHash, isDeclared) = try self.payloadHash(
            of: request, authorization: authorization, bodyIsStreamed: bodyIsStreamed)
        if self.options.requiresSignedAmzHeaders {
            let signed = Set(authorization.signedHeaders.map { $0.lowercased() })
            var unsigned: [String] = []
            for (name, _) in request.headers {
                let lowered = name.lowercased()
                if lowered.hasPrefix("x-amz-"), !signed.contains(lowered), !unsigned.contains(lowered) {
                    unsigned.append(lowered)
                }
            }
            guard unsigned.isEmpty else { throw .headersNotSigned(unsigned) }
        }
        let canonical = CanonicalRequest(
            request, signedHeaders: authorization.signedHeaders, payloadHash: payloadHash.value, options: self.options,
            excludedQueryParameter: authorization.isPresigned ? "X-Amz-Signature" : nil)
        let stringToSign = canonical.stringToSign(timestamp: authorization.timestamp, scope: authorization.scope)
        let key = SigningKey(secretAccessKey: secretAccessKey, scope: authorization.scope)
        guard key.isSignature(authorization.signature, of: stringToSign) else {
            throw .signatureMismatch(
                SignatureMismatch(
                    accessKeyID: authorization.accessKeyID, signatureProvided: authorization.signature,
                    canonicalRequest: canonical.text, stringToSign: stringToSign))
        }
        if isDeclared, !bodyIsStreamed, case .sha256(let declared) = payloadHash {
            let computed = sha256Hex(request.body)
            guard computed == declared.lowercased() else {
                throw .contentSHA256Mismatch(provided: declared, computed: computed)
            }
        }
        return VerifiedSignature(
            authorization: authorization, canonicalRequest: canonical.text, stringToSign: stringToSign,
            payloadHash: payloadHash, signingKey: key)
    }

    /// A header signature must be within the allowed skew of `now`; a presigned URL must not be past its expiry,
    /// nor dated further in the future than the skew.
    private func checkTime(of authorization: SigV4Authorization, now: SigV4Timestamp) throws(SigV4Error) {
        let skew = self.options.maximumClockSkewSeconds
        let requestTime = authorization.timestamp
        let tooSkewed = ClockSkew(requestTime: requestTime, serverTime: now, maximumSkew: self.options.maximumClockSkew)
        switch authorization.form {
        case .header:
            guard abs(requestTime.secondsSince1970 - now.secondsSince1970) <= skew else {
                throw .clockSkew(tooSkewed)
            }
        case .presigned(let expiresIn):
            guard requestTime.secondsSince1970 - now.secondsSince1970 <= skew else { throw .clockSkew(tooSkewed) }
            guard now <= requestTime.adding(seconds: Int64(expiresIn)) else {
                throw .expired(PresignedExpiry(signedAt: requestTime, expiresIn: expiresIn, serverTime: now))
            }
        }
    }

    /// `x-amz-content-sha256` when present (and whether it was), else `UNSIGNED-PAYLOAD` for an S3 presigned URL,
    /// else the body's SHA-256 (unknown when the body is streamed).
    private func payloadHash(
        of request: SigV4Request, authorization: SigV4Authorization, bodyIsStreamed: Bool
    ) throws(SigV4Error) -> (PayloadHash, isDeclared: Bool) {
        if let declared = request.header("X-Amz-Content-SHA256") {
            guard let hash = PayloadHash(contentSHA256: declared) else { throw .invalidContentSHA256(declared) }
            return (hash, true)
        }
        if authorization.isPresigned && self.options.presignedPayloadIsUnsigned {
            return (.unsigned, false)
        }
        guard !bodyIsStreamed else { throw .missingContentSHA256 }
        return (.sha256(sha256Hex(request.body)), false)
    }
}
