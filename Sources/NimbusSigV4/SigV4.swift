/// AWS Signature Version 4: parsing (``SigV4Authorization``), verification (``SigV4Verifier``), signing
/// (``SigV4Signer``), aws-chunked payloads (``AWSChunkedDecoder``, ``AWSChunkedEncoder``) and the trailing
/// checksums S3 clients send (``ChecksumAlgorithm``). Pure: no HTTP types, no I/O, no clock.
///
/// The edge verifies a request in four steps:
///
/// ```swift
/// let authorization = try SigV4Authorization(parsing: request)  // the scope, before any secret is known
/// guard let secret = keys[authorization.accessKeyID] else {
///     throw SigV4Error.unknownAccessKey(accessKeyID: authorization.accessKeyID)
/// }
/// let verifier = SigV4Verifier(options: SigV4.Options(service: authorization.scope.service))
/// let verified = try verifier.verify(request, authorization: authorization, secretAccessKey: secret, now: Date())
/// let body = try verified.chunkedDecoder(for: request)?.decode(request.body).data ?? request.body
/// ```
///
/// Errors are ``SigV4Error`` values; ``SigV4Error/code(in:)`` and ``SigV4Error/message(in:)`` give AWS's words
/// for S3, the JSON protocols and the query protocol.
public enum SigV4 {
    /// The only algorithm this module signs and verifies.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The last element of every credential scope.
    public static let scopeTerminator = "aws4_request"
    /// The longest validity a presigned URL may ask for (`X-Amz-Expires`), in seconds: one week.
    public static let maximumPresignedExpiry = 604_800
    /// The hex SHA-256 of the empty string.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}
