/// Why a request's signature was not accepted. Data only: each case carries what the edge needs to render AWS's
/// error in the caller's protocol (see ``code(in:)`` and ``message(in:)``); the edge chooses status and shape.
public enum SigV4Error: Error, Sendable, Equatable {
    /// No `Authorization` header and no presigned query parameters (`MissingAuthenticationToken`, S3's
    /// `AccessDenied`).
    case missingAuthentication
    /// The `Authorization` header or the presigned query is incomplete or malformed (`IncompleteSignature`, S3's
    /// `AuthorizationHeaderMalformed` / `AuthorizationQueryParametersError`).
    case malformedAuthorization(MalformedAuthorization)
    /// The edge knows no secret for the scope's access key id (`UnrecognizedClientException`,
    /// `InvalidClientTokenId`, S3's `InvalidAccessKeyId`). Thrown by the edge, not by this module.
    case unknownAccessKey(accessKeyID: String)
    /// The access key is temporary and the request's `X-Amz-Security-Token` is not its session token
    /// (`UnrecognizedClientException`, `InvalidClientTokenId`, S3's `InvalidToken`). Thrown by the edge.
    case invalidSessionToken
    /// The signature is not the one computed with the secret (`InvalidSignatureException`,
    /// `SignatureDoesNotMatch`).
    case signatureMismatch(SignatureMismatch)
    /// The request's date is too far from the verifier's clock (`Signature expired: …`, S3's
    /// `RequestTimeTooSkewed`).
    case clockSkew(ClockSkew)
    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires` (S3's `AccessDenied: Request has expired`).
    case expired(PresignedExpiry)
    /// `x-amz-*` headers that are present but not signed, where the service requires them signed (S3).
    case headersNotSigned([String])
    /// `x-amz-content-sha256` is neither a SHA-256 hex digest nor one of the payload markers.
    case invalidContentSHA256(String)
    /// A header-signed request whose body is streamed has no `x-amz-content-sha256`: the payload hash the signature
    /// covers would be the SHA-256 of a body not yet received (S3's `InvalidRequest`, which requires the header).
    case missingContentSHA256
    /// The body's SHA-256 is not the one `x-amz-content-sha256` declared (S3's `XAmzContentSHA256Mismatch`).
    case contentSHA256Mismatch(provided: String, computed: String)
    /// An aws-chunked body whose framing is broken.
    case malformedChunkedBody(ChunkedBodyProblem)
    /// A chunk's `chunk-signature` (chunks are numbered from 0; the final empty chunk counts) or the trailer's
    /// `x-amz-trailer-signature` does not match.
    case chunkSignatureMismatch(ChunkSignatureMismatch)
    /// The trailing checksum named by `x-amz-trailer` is missing, of an unknown algorithm or not valid base64.
    case invalidChecksum(InvalidChecksum)
    /// The trailing checksum does not match the decoded payload (S3's `BadDigest`).
    case checksumMismatch(ChecksumMismatch)
}

/// What is wrong with an `Authorization` header or a presigned query: every problem found, in AWS's order.
public struct MalformedAuthorization: Sendable, Equatable {
    /// Where the signature was given.
    public enum Form: Sendable, Equatable {
        case header
        case query
    }

    public enum Problem: Sendable, Equatable {
        /// `Credential`, `SignedHeaders` or `Signature` (header form) or an `X-Amz-*` parameter (query form).
        case missingParameter(String)
        /// Neither `X-Amz-Date` nor `Date` is present.
        case missingDate
        /// `X-Amz-Date` (or `Date`) does not parse.
        case malformedDate(String)
        /// A header element without `=`.
        case notKeyValuePair(String)
        /// An algorithm other than `AWS4-HMAC-SHA256` (for example SigV4a's `AWS4-ECDSA-P256-SHA256`).
        case unsupportedAlgorithm(String)
        /// A `Credential` that is not `<key>/<yyyyMMdd>/<region>/<service>/aws4_request`.
        case malformedCredential(String)
        /// The scope's last element is not `aws4_request`.
        case invalidTerminator(String)
        /// The scope's date is not the date part of `X-Amz-Date`.
        case scopeDateMismatch(scopeDate: String, requestTimestamp: String)
        /// `X-Amz-Expires` is not a whole number of seconds in 1…604800.
        case invalidExpires(String)
        /// `host` is not among the signed headers.
        case hostNotSigned
        /// Both an `Authorization` header and presigned query parameters.
        case conflictingMechanisms
    }

    public var form: Form
    public var problems: [Problem]
    /// The `Authorization` header's value, or the query string of a presigned request.
    public var authorization: String

    public init(form: Form, problems: [Problem], authorization: String) {
        self.form = form
        self.problems = problems
        self.authorization = authorization
    }
}

/// A signature that does not match, with what AWS returns to help the caller find out why.
public struct SignatureMismatch: Sendable, Equatable {
    public var accessKeyID: String
    public var signatureProvided: String
    public var canonicalRequest: String
    public var stringToSign: String

    public init(accessKeyID: String, signatureProvided: String, canonicalRequest: String, stringToSign: String) {
        self.accessKeyID = accessKeyID
        self.signatureProvided = signatureProvided
        self.canonicalRequest = canonicalRequest
        self.stringToSign = stringToSign
    }
}

/// A request signed too long before, or too far after, the verifier's clock.
public struct ClockSkew: Sendable, Equatable {
    public var requestTime: SigV4Timestamp
    public var serverTime: SigV4Timestamp
    public var maximumSkew: Duration

    public init(requestTime: SigV4Timestamp, serverTime: SigV4Timestamp, maximumSkew: Duration) {
        self.requestTime = requestTime
        self.serverTime = serverTime
        self.maximumSkew = maximumSkew
    }

    /// Whether the request claims a time after the server's (the client's clock runs fast).
    public var isAhead: Bool { self.requestTime > self.serverTime }
}

/// A presigned URL past its expiry.
public struct PresignedExpiry: Sendable, Equatable {
    public var signedAt: SigV4Timestamp
    /// `X-Amz-Expires`, in seconds.
    public var expiresIn: Int
    public var serverTime: SigV4Timestamp

    public init(signedAt: SigV4Timestamp, expiresIn: Int, serverTime: SigV4Timestamp) {
        self.signedAt = signedAt
        self.expiresIn = expiresIn
        self.serverTime = serverTime
    }

    /// When the URL stopped being valid.
    public var expiredAt: SigV4Timestamp { self.signedAt.adding(seconds: Int64(self.expiresIn)) }
}

/// How an aws-chunked body's framing is broken.
public enum ChunkedBodyProblem: Sendable, Equatable {
    /// A chunk-size line that is not hex (or is absurdly long), at this byte offset.
    case invalidChunkSize(offset: Int)
    /// A signed chunk without a `chunk-signature` extension, at this byte offset.
    case missingChunkSignature(offset: Int)
    /// A line or chunk not followed by CRLF, at this byte offset.
    case missingCRLF(offset: Int)
    /// The body ends before the chunk it announces (or before the final chunk).
    case truncated(offset: Int)
    /// `x-amz-decoded-content-length` is not a number.
    case invalidDecodedContentLength(String)
    /// The chunks add up to more bytes than `x-amz-decoded-content-length` declared.
    case exceedsDecodedContentLength(declared: Int)
    /// The chunks add up to a different length than `x-amz-decoded-content-length` declared.
    case decodedContentLengthMismatch(declared: Int, decoded: Int)
    /// A trailer line that is not `name:value`, or a signed trailer without `x-amz-trailer-signature`.
    case malformedTrailer(offset: Int)
    /// Bytes after the end of the chunked body.
    case trailingData(offset: Int)
    /// A trailing checksum, at this byte offset, that `x-amz-trailer` did not declare, so that it was not computed
    /// while the body streamed (S3's `MalformedTrailerError`).
    case undeclaredTrailer(name: String, offset: Int)
}

/// A chunk or trailer signature that does not match.
public struct ChunkSignatureMismatch: Sendable, Equatable {
    /// The chunk's index from 0, or nil for the trailer signature.
    public var chunk: Int?
    public var signatureProvided: String

    public init(chunk: Int?, signatureProvided: String) {
        self.chunk = chunk
        self.signatureProvided = signatureProvided
    }
}

/// A trailing checksum that cannot be checked.
public enum InvalidChecksum: Sendable, Equatable {
    /// `x-amz-trailer` names a header the trailer does not carry.
    case missing(name: String)
    /// A checksum header of an algorithm this module does not know.
    case unsupportedAlgorithm(name: String)
    /// A value that is not the base64 of a digest of the algorithm's size.
    case malformedValue(name: String, value: String)
}

/// A trailing checksum that does not match the decoded payload.
public struct ChecksumMismatch: Sendable, Equatable {
    public var algorithm: ChecksumAlgorithm
    /// Base64, as sent.
    public var provided: String
    /// Base64, computed over the decoded payload.
    public var computed: String

    public init(algorithm: ChecksumAlgorithm, provided: String, computed: String) {
        self.algorithm = algorithm
        self.provided = provided
        self.computed = computed
    }
}
