import FoundationEssentials

/// Decodes an aws-chunked body (`Content-Encoding: aws-chunked`), verifying what it carries:
///
/// ```
/// <hex size>;chunk-signature=<signature>\r\n<data>\r\n     (signed chunks; unsigned ones are just <hex size>\r\n)
/// …
/// 0;chunk-signature=<signature>\r\n                       (the final, empty chunk)
/// <trailer name>:<value>\r\n …                            (trailer modes: the checksum named by x-amz-trailer)
/// x-amz-trailer-signature:<signature>\r\n                (signed trailers)
/// \r\n
/// ```
///
/// Each chunk signature signs `AWS4-HMAC-SHA256-PAYLOAD`, the timestamp, the scope, the previous signature (the
/// request's for the first chunk), the empty string's SHA-256 and the chunk's SHA-256; the trailer signature signs
/// `AWS4-HMAC-SHA256-TRAILER`, the timestamp, the scope, the final chunk's signature and the SHA-256 of the
/// trailing headers. Works on the complete body; it never allocates more than the body's size.
public struct AWSChunkedDecoder: Sendable {
    public var mode: StreamingPayload
    /// The request's signature, which the first chunk signature chains from.
    public var seedSignature: String
    /// The key chunk and trailer signatures are checked with; nil reads them unchecked (``unverified(for:)``), and
    /// then ``seedSignature`` and ``timestamp`` are not used.
    public var signingKey: SigningKey?
    /// The request's `X-Amz-Date`, the second line of every chunk's string to sign.
    public var timestamp: SigV4Timestamp
    /// `x-amz-trailer`: the trailing header(s) the body must end with, comma-separated.
    public var trailer: String?
    /// `x-amz-decoded-content-length`: the payload's length, when the client declared it.
    public var decodedContentLength: Int?

    public init(
        mode: StreamingPayload, seedSignature: String, signingKey: SigningKey?, timestamp: SigV4Timestamp,
        trailer: String? = nil, decodedContentLength: Int? = nil
    ) {
        self.mode = mode
        self.seedSignature = seedSignature
        self.signingKey = signingKey
        self.timestamp = timestamp
        self.trailer = trailer
        self.decodedContentLength = decodedContentLength
    }

    /// A decoder of `request`'s aws-chunked body that checks its framing, declared length and checksums but no
    /// signature: for requests accepted without verification. Nil when the payload is not streaming.
    public static func unverified(for request: SigV4Request) throws(SigV4Error) -> AWSChunkedDecoder? {
        guard let declared = request.header("X-Amz-Content-SHA256"), let mode = StreamingPayload(rawValue: declared)
        else { return nil }
        return try Self(
            mode: mode, seedSignature: "", signingKey: nil, timestamp: SigV4Timestamp(secondsSince1970: 0),
            headersOf: request)
    }

    /// A decoder that reads `x-amz-trailer` and `x-amz-decoded-content-length` from the request's headers.
    init(
        mode: StreamingPayload, seedSignature: String, signingKey: SigningKey?, timestamp: SigV4Timestamp,
        headersOf request: SigV4Request
    ) throws(SigV4Error) {
        var decodedContentLength: Int?
        if let declared = request.header("X-Amz-Decoded-Content-Length") {
            guard let length = Int(declared), length >= 0 else {
                throw .malformedChunkedBody(.invalidDecodedContentLength(declared))
            }
            decodedContentLength = length
        }
        self.init(
            mode: mode, seedSignature: seedSignature, signingKey: signingKey, timestamp: timestamp,
            trailer: request.header("X-Amz-Trailer"), decodedContentLength: decodedContentLength)
    }

    /// The payload and trailing headers of `body`, every signature (with a ``signingKey``) and checksum verified.
    /// A trailing checksum is verified whether or not `x-amz-trailer` declared it. For a body that arrives in
    /// pieces, see ``StreamingBodyVerifier``.
    public func decode(_ body: [UInt8]) throws(SigV4Error) -> DecodedPayload {
        // Checksums are computed over the whole payload once it is read, so that any trailing checksum can be
        // verified, declared or not (no work for a body without one).
        var stream = AWSChunkedStreamDecoder(self, tracking: [])
        var payload: [UInt8] = []
        payload.reserveCapacity(min(self.decodedContentLength ?? body.count, body.count))
        try body.withUnsafeBytes { bytes in
            Result { () throws(SigV4Error) in try stream.feed(bytes) { payload.append(contentsOf: $0) } }
        }.get()
        let (trailers, checksums) = try stream.finish { $0.digest(of: payload) }
        return DecodedPayload(data: payload, trailers: trailers, verifiedChecksums: checksums)
    }

    static func trimmed(_ text: some StringProtocol) -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(text.drop(while: isBlank).reversed().drop(while: isBlank).reversed())
    }
}

/// An aws-chunked body's content.
public struct DecodedPayload: Sendable {
    /// The payload, chunks concatenated.
    public var data: [UInt8]
    /// The trailing headers (names lower-cased), `x-amz-trailer-signature` left out.
    public var trailers: [(name: String, value: String)]
    /// The trailing checksums that were verified against ``data``.
    public var verifiedChecksums: [ChecksumAlgorithm]

    /// The value of the trailer `name` (case-insensitive).
    public func trailer(_ name: String) -> String? {
        let lowered = name.lowercased()
        return self.trailers.first { $0.name == lowered }?.value
    }
}
