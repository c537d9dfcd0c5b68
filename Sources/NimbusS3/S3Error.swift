import NimbusCore
import NimbusEdge

/// An error of the S3 API as AWS answers it: `<Error><Code>…</Code><Message>…</Message>…<RequestId>` with the code's
/// status, and any extra members S3 adds for that code (`BucketName`, `Key`, `Condition`, `ArgumentName`…).
public struct S3Error: Error, Sendable, Equatable, ServiceErrorConvertible {
    public var code: String
    public var status: Int
    public var message: String
    /// Extra elements of `<Error>`, in the order S3 writes them.
    public var fields: [(String, String)]

    public init(_ code: String, status: Int = 400, _ message: String, fields: [(String, String)] = []) {
        self.code = code
        self.status = status
        self.message = message
        self.fields = fields
    }

    public static func == (a: S3Error, b: S3Error) -> Bool {
        a.code == b.code && a.status == b.status && a.message == b.message
            && a.fields.map(\.0) == b.fields.map(\.0) && a.fields.map(\.1) == b.fields.map(\.1)
    }

    public var serviceError: ServiceError {
        var fields: [String: JSONValue] = [:]
        for (name, value) in self.fields { fields[name] = .string(value) }
        return ServiceError(
            code: self.code, status: self.status, message: self.message, messageMember: "Message",
            senderFault: self.status < 500, fields: fields)
    }

    // MARK: The catalogue (codes, statuses and messages as S3 answers them)

    public static func noSuchBucket(_ bucket: String) -> S3Error {
        S3Error("NoSuchBucket", status: 404, "The specified bucket does not exist", fields: [("BucketName", bucket)])
    }

    public static func noSuchKey(_ key: String) -> S3Error {
        S3Error("NoSuchKey", status: 404, "The specified key does not exist.", fields: [("Key", key)])
    }

    public static func noSuchUpload(_ uploadID: String) -> S3Error {
        S3Error(
            "NoSuchUpload", status: 404,
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            fields: [("UploadId", uploadID)])
    }

    public static func bucketAlreadyOwnedByYou(_ bucket: String) -> S3Error {
        S3Error(
            "BucketAlreadyOwnedByYou", status: 409,
            "Your previous request to create the named bucket succeeded and you already own it.",
            fields: [("BucketName", bucket)])
    }

    public static func bucketAlreadyExists(_ bucket: String) -> S3Error {
        S3Error(
            "BucketAlreadyExists", status: 409,
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            fields: [("BucketName", bucket)])
    }

    public static func bucketNotEmpty(_ bucket: String) -> S3Error {
        S3Error(
            "BucketNotEmpty", status: 409, "The bucket you tried to delete is not empty",
            fields: [("BucketName", bucket)])
    }

    public static func invalidBucketName(_ bucket: String) -> S3Error {
        S3Error("InvalidBucketName", status: 400, "The specified bucket is not valid.", fields: [("BucketName", bucket)])
    }

    public static let keyTooLong = S3Error("KeyTooLongError", status: 400, "Your key is too long")

    public static let malformedXML = S3Error(
        "MalformedXML", status: 400,
        "The XML you provided was not well-formed or did not validate against our published schema")

    public static func invalidArgument(_ message: String, name: String? = nil, value: String? = nil) -> S3Error {
        var fields: [(String, String)] = []
        if let name { fields.append(("ArgumentName", name)) }
        if let value { fields.append(("ArgumentValue", value)) }
        return S3Error("InvalidArgument", status: 400, message, fields: fields)
    }

    public static func invalidRequest(_ message: String) -> S3Error {
        S3Error("InvalidRequest", status: 400, message)
    }

    public static func preconditionFailed(_ condition: String) -> S3Error {
        S3Error(
            "PreconditionFailed", status: 412, "At least one of the pre-conditions you specified did not hold",
            fields: [("Condition", condition)])
    }

    public static func invalidRange(requested: String, size: Int64) -> S3Error {
        S3Error(
            "InvalidRange", status: 416, "The requested range is not satisfiable",
            fields: [("RangeRequested", requested), ("ActualObjectSize", String(size))])
    }

    public static func entityTooSmall(size: Int64, minimum: Int64) -> S3Error {
        S3Error(
            "EntityTooSmall", status: 400, "Your proposed upload is smaller than the minimum allowed object size.",
            fields: [("ProposedSize", String(size)), ("MinSizeAllowed", String(minimum))])
    }

    public static func entityTooLarge(size: Int64, maximum: Int64) -> S3Error {
        S3Error(
            "EntityTooLarge", status: 400, "Your proposed upload exceeds the maximum allowed size",
            fields: [("ProposedSize", String(size)), ("MaxSizeAllowed", String(maximum))])
    }

    public static func invalidPart(uploadID: String, partNumber: Int, etag: String) -> S3Error {
        S3Error(
            "InvalidPart", status: 400,
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            fields: [("UploadId", uploadID), ("PartNumber", String(partNumber)), ("ETag", etag)])
    }

    public static let invalidPartOrder = S3Error(
        "InvalidPartOrder", status: 400,
        "The list of parts was not in ascending order. Parts must be ordered by part number.")

    public static func badDigest(expected: String, calculated: String) -> S3Error {
        S3Error(
            "BadDigest", status: 400, "The Content-MD5 you specified did not match what we received.",
            fields: [("ExpectedDigest", expected), ("CalculatedDigest", calculated)])
    }

    public static let unsupportedChecksumAlgorithm = S3Error.invalidRequest(
        "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")

    public static let invalidDigest = S3Error("InvalidDigest", status: 400, "The Content-MD5 you specified was invalid.")

    public static func checksumMismatch(_ algorithm: String) -> S3Error {
        S3Error(
            "BadDigest", status: 400,
            "The \(algorithm.uppercased()) you specified did not match the calculated checksum.")
    }

    public static func notImplemented(_ what: String) -> S3Error {
        S3Error(
            "NotImplemented", status: 501, "A header you provided implies functionality that is not implemented",
            fields: [("Header", what)])
    }

    public static func noSuchTagSet(bucket: String) -> S3Error {
        S3Error("NoSuchTagSet", status: 404, "The TagSet does not exist", fields: [("BucketName", bucket)])
    }

    public static func invalidTag(_ message: String) -> S3Error {
        S3Error("InvalidTag", status: 400, message)
    }

    public static let accessDenied = S3Error("AccessDenied", status: 403, "Access Denied")
}
