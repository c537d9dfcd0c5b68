import Crypto

/// Verifies and decodes a request body piece by piece as it arrives, so that an upload of gigabytes streams through
/// in flat memory instead of being collected before its signature can be checked. Feed it every piece of the body
/// as received (any split: one byte, 64 KiB, across chunk boundaries, inside a CRLF), then ``finish()`` at its end.
///
/// What it checks depends on the payload hash the request's signature covers:
/// - a SHA-256 declared in `x-amz-content-sha256`: the body is hashed as it passes and compared at ``finish()``
///   (``SigV4Error/contentSHA256Mismatch(provided:computed:)``);
/// - `UNSIGNED-PAYLOAD`: nothing; the body passes through unchanged;
/// - aws-chunked (`STREAMING-…`): the framing is removed and every check of ``AWSChunkedDecoder/decode(_:)`` made,
///   with the same errors: each chunk signature chained from the request's, the trailer and its signature,
///   `x-amz-decoded-content-length`, and the trailing checksums `x-amz-trailer` declares.
///
/// **Payload is handed out before it is proven.** A chunk's data is returned as it arrives and its signature
/// checked when the chunk ends; a declared SHA-256 or a trailing checksum only at ``finish()``. Chunks may be
/// megabytes (boto3 sends 64 KiB, the CLI up to 8 MiB and more), so holding each one back until its signature
/// checks would defeat the flat memory. A consumer (S3's PutObject) therefore writes the payload somewhere
/// provisional and commits it only once ``finish()`` returned; when ``feed(_:payload:)`` or ``finish()`` throws,
/// it discards everything written. After an error the verifier must be dropped.
///
/// Memory: one chunk-size or trailer line (at most 256 bytes), the trailing headers and fixed-size hash states,
/// whatever the body's size.
public struct StreamingBodyVerifier: Sendable {
    /// aws-chunked framing to remove and check, or nil for a body that passes through.
    private var decoder: AWSChunkedStreamDecoder?
    /// The SHA-256 `x-amz-content-sha256` declared, and the hash of the body so far.
    private var digest: (declared: String, hash: StreamingHash<SHA256>)?
    /// The raw bytes fed so far, for a body without framing.
    private var passedCount: Int64 = 0

    private init(decoder: AWSChunkedStreamDecoder?, declaredSHA256: String?) {
        self.decoder = decoder
        self.digest = declaredSHA256.map { ($0, StreamingHash()) }
    }

    /// The verifier of the body of a request whose signature verified (with `bodyIsStreamed`, see
    /// ``SigV4Verifier/verify(_:authorization:secretAccessKey:now:bodyIsStreamed:)``): aws-chunked chunks chain
    /// from `signature` and are checked with its signing key.
    /// - Throws: ``SigV4Error/malformedChunkedBody(_:)`` when `x-amz-decoded-content-length` is not a number.
    public static func verified(
        _ signature: VerifiedSignature, request: SigV4Request
    ) throws(SigV4Error) -> StreamingBodyVerifier {
        switch signature.payloadHash {
        case .sha256(let declared):
            return StreamingBodyVerifier(decoder: nil, declaredSHA256: declared)
        case .unsigned:
            return StreamingBodyVerifier(decoder: nil, declaredSHA256: nil)
        case .streaming(let mode):
            let configuration = try AWSChunkedDecoder(
                mode: mode, seedSignature: signature.authorization.signature, signingKey: signature.signingKey,
                timestamp: signature.authorization.timestamp, headersOf: request)
            return StreamingBodyVerifier(decoder: Self.decoder(configuration), declaredSHA256: nil)
        }
    }

    /// The verifier of the body of a request accepted without checking its signature (`--auth none`): aws-chunked
    /// framing is removed and its framing, declared length and trailing checksums checked, but no signature; any
    /// other body passes through unchanged.
    /// - Throws: ``SigV4Error/malformedChunkedBody(_:)`` when `x-amz-decoded-content-length` is not a number.
    public static func unverified(request: SigV4Request) throws(SigV4Error) -> StreamingBodyVerifier {
        guard let configuration = try AWSChunkedDecoder.unverified(for: request) else {
            return StreamingBodyVerifier(decoder: nil, declaredSHA256: nil)
        }
        return StreamingBodyVerifier(decoder: Self.decoder(configuration), declaredSHA256: nil)
    }

    /// A decoder that computes, as the payload passes, the checksums the trailer is declared to carry.
    private static func decoder(_ configuration: AWSChunkedDecoder) -> AWSChunkedStreamDecoder {
        AWSChunkedStreamDecoder(
            configuration, tracking: AWSChunkedStreamDecoder.declaredChecksums(configuration.trailer))
    }

    /// Whether the payload is the body itself (no aws-chunked framing): ``feed(_:payload:)`` then hands out exactly
    /// the bytes it was given, only counting them (and hashing them for a declared SHA-256), so a caller holding
    /// them in a buffer may keep that buffer instead of copying what `payload` sees.
    public var isPassthrough: Bool { self.decoder == nil }

    /// The payload bytes handed out so far.
    public var decodedByteCount: Int64 {
        self.decoder.map { Int64($0.decodedCount) } ?? self.passedCount
    }

    /// Reads the next piece of the body as received, handing each run of payload bytes to `payload` as soon as it
    /// is decoded (none while a chunk-size line is split across pieces). The buffer `payload` gets is only valid
    /// during the call. Avoids the copy into an array that ``feed(_:)-(UnsafeRawBufferPointer)`` makes.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, payload: (UnsafeRawBufferPointer) -> Void
    ) throws(SigV4Error) {
        if self.decoder != nil {
            try self.decoder?.feed(bytes, payload: payload)
            return
        }
        self.digest?.hash.update(bytes)
        self.passedCount += Int64(bytes.count)
        payload(bytes)
    }

    /// Reads the next piece of the body as received: the payload bytes it decodes (possibly none).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(SigV4Error) -> [UInt8] {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        try self.feed(bytes) { decoded.append(contentsOf: $0) }
        return decoded
    }

    /// Reads the next piece of the body as received: the payload bytes it decodes (possibly none).
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(SigV4Error) -> [UInt8] {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(SigV4Error) in try self.feed(UnsafeRawBufferPointer(buffer)) }
        }
        if let contiguous { return try contiguous.get() }
        return try Array(bytes).withUnsafeBytes { buffer in
            Result { () throws(SigV4Error) in try self.feed(buffer) }
        }.get()
    }

    /// At the end of the body: checks it is complete (the final chunk and the trailers read, nothing cut short),
    /// its declared length, trailing checksums and declared SHA-256, and returns its trailing headers (names
    /// lower-cased, `x-amz-trailer-signature` left out; empty for a body without trailers).
    /// - Throws: ``SigV4Error/malformedChunkedBody(_:)`` with ``ChunkedBodyProblem/truncated(offset:)`` for a body
    ///   that ended early; ``ChunkedBodyProblem/undeclaredTrailer(name:offset:)`` for a trailing checksum
    ///   `x-amz-trailer` did not declare (it was not computed).
    public mutating func finish() throws(SigV4Error) -> [(name: String, value: String)] {
        if self.decoder != nil {
            return try self.decoder?.finish { _ in nil }.trailers ?? []
        }
        if let (declared, hash) = self.digest {
            let computed = hash.hex()
            guard computed == declared.lowercased() else {
                throw .contentSHA256Mismatch(provided: declared, computed: computed)
            }
        }
        return []
    }
}
