/// What the last line of a canonical request says of the body: taken verbatim from `x-amz-content-sha256` when the
/// request has it, the body's SHA-256 otherwise.
public enum PayloadHash: Sendable, Hashable {
    /// The hex SHA-256 of the body, as sent (either case).
    case sha256(String)
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature.
    case unsigned
    /// An aws-chunked body: see ``AWSChunkedDecoder``.
    case streaming(StreamingPayload)

    /// The marker `UNSIGNED-PAYLOAD`.
    public static let unsignedMarker = "UNSIGNED-PAYLOAD"

    /// The hash an `x-amz-content-sha256` value declares, or nil when it is neither a digest nor a marker this
    /// module knows (SigV4a's ECDSA streaming markers included).
    public init?(contentSHA256 value: String) {
        if value == Self.unsignedMarker {
            self = .unsigned
        } else if let streaming = StreamingPayload(rawValue: value) {
            self = .streaming(streaming)
        } else if Hex.isSHA256(value) {
            self = .sha256(value)
        } else {
            return nil
        }
    }

    /// The text in the canonical request.
    public var value: String {
        switch self {
        case .sha256(let digest): digest
        case .unsigned: Self.unsignedMarker
        case .streaming(let streaming): streaming.rawValue
        }
    }
}

/// The aws-chunked flavours of `x-amz-content-sha256`.
public enum StreamingPayload: String, Sendable, Hashable, CaseIterable {
    /// Every chunk signed (`chunk-signature`), chained from the request's signature.
    case signed = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    /// Signed chunks, then trailing headers signed by `x-amz-trailer-signature`.
    case signedWithTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    /// Unsigned chunks, then trailing headers (a checksum) that are not signed: what boto3 sends over TLS.
    case unsignedWithTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

    /// Whether chunks carry signatures.
    public var hasChunkSignatures: Bool { self != .unsignedWithTrailer }

    /// Whether trailing headers follow the final chunk.
    public var hasTrailer: Bool { self != .signed }
}
