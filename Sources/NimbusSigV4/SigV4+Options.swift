extension SigV4 {
    /// How a service canonicalises requests and which extra rules it enforces. S3 differs from every other service:
    /// use ``init(service:)`` to pick the right one from a credential scope's service name.
    public struct Options: Sendable, Equatable {
        /// Removes `.` and `..` segments and collapses repeated slashes before encoding the path (all services but
        /// S3).
        public var normalizesPath: Bool
        /// URI-encodes the path as received (so `%20` becomes `%2520`), as botocore and the other SDKs do for every
        /// service but S3, which signs the path exactly as sent.
        public var doubleEncodesPath: Bool
        /// Presigned URLs without an `x-amz-content-sha256` header sign `UNSIGNED-PAYLOAD` (S3) rather than the
        /// body's SHA-256 (every other service).
        public var presignedPayloadIsUnsigned: Bool
        /// Every `x-amz-*` header present must be among the signed headers (S3's "There were headers present in the
        /// request which were not signed").
        public var requiresSignedAmzHeaders: Bool
        /// How far the request's date may be from the verifier's clock. AWS allows 15 minutes (some services 5).
        public var maximumClockSkew: Duration

        public init(
            normalizesPath: Bool, doubleEncodesPath: Bool, presignedPayloadIsUnsigned: Bool,
            requiresSignedAmzHeaders: Bool, maximumClockSkew: Duration = .seconds(15 * 60)
        ) {
            self.normalizesPath = normalizesPath
            self.doubleEncodesPath = doubleEncodesPath
            self.presignedPayloadIsUnsigned = presignedPayloadIsUnsigned
            self.requiresSignedAmzHeaders = requiresSignedAmzHeaders
            self.maximumClockSkew = maximumClockSkew
        }

        /// Lambda, Logs, STS, SQS and every other non-S3 service.
        public static let standard = Options(
            normalizesPath: true, doubleEncodesPath: true, presignedPayloadIsUnsigned: false,
            requiresSignedAmzHeaders: false)

        /// S3: the path as sent, unsigned presigned payloads, every `x-amz-*` header signed.
        public static let s3 = Options(
            normalizesPath: false, doubleEncodesPath: false, presignedPayloadIsUnsigned: true,
            requiresSignedAmzHeaders: true)

        /// The rules of the service a credential scope names: ``s3`` for the S3 family (`s3`, `s3-object-lambda`,
        /// `s3-outposts`, `s3express`), ``standard`` for every other service.
        public init(service: String) {
            self = service == "s3" || service.hasPrefix("s3-") || service == "s3express" ? .s3 : .standard
        }

        var maximumClockSkewSeconds: Int64 { self.maximumClockSkew.components.seconds }
    }
}
