import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusProtocols
import NimbusSQS
import NimbusStore

/// Amazon S3 (2006-03-01, rest-xml): buckets, objects, multipart uploads, tagging and bucket notifications, path-style
/// (`/<bucket>/<key>`) and virtual-hosted (`<bucket>.s3.<domain>`).
///
/// Bytes stream between the connection and immutable files (``BlobStore``) and never sit whole in memory; metadata
/// goes through ``ObjectStore``. A write becomes visible in one store transaction, after its file is synced and in
/// place, together with the notifications it causes (an outbox that ``NotificationRelay`` delivers to Lambda's
/// durable async queue and to SQS). Files an operation makes unreachable are deleted after its commit; files a crash
/// strands are swept at start (``recover()``).
public final class S3Service: Sendable {
    let store: any ObjectStore
    let blobs: BlobStore
    let notifications: BucketNotifications
    let logger: Logger

    /// The largest object a single PUT (and the largest part an UploadPart) takes: 5 GiB.
    public static let maximumPutBytes: Int64 = 5 * 1024 * 1024 * 1024
    /// Every part of a multipart upload but the last is at least 5 MiB.
    public static let minimumPartBytes: Int64 = 5 * 1024 * 1024
    static let namespaceURI = "http://s3.amazonaws.com/doc/2006-03-01/"

    public init(
        store: any ObjectStore, blobs: BlobStore, functions: (any FunctionInvoking)?, queues: SQSService?,
        relay: NotificationRelay, logger: Logger
    ) {
        self.store = store
        self.blobs = blobs
        self.notifications = BucketNotifications(functions: functions, queues: queues, relay: relay)
        self.logger = logger
    }

    /// Removes what a crash left behind: files still being written, and files no object or part refers to. Runs
    /// once at start, before the edge serves requests.
    public func recover() async throws {
        let swept = try self.blobs.sweep(keeping: try await self.store.referencedBlobs())
        if swept.incoming + swept.orphans > 0 {
            self.logger.notice(
                "S3 files left by an interrupted write removed",
                metadata: ["s3.incoming": "\(swept.incoming)", "s3.orphans": "\(swept.orphans)"])
        }
    }

    public var definition: ServiceDefinition {
        let op = { (name: String, method: String, uri: String, handler: @escaping @Sendable (S3Service, ServiceRequest) async throws -> ServiceResponse) in
            ServiceOperation(name, HTTPBinding(method, uri), bodyLimit: 4 << 20) { [self] request in
                try Self.refuseUnimplementedSubresources(request)
                return try await handler(self, request)
            }
        }
        let streamed = { (name: String, uri: String, handler: @escaping @Sendable (S3Service, ServiceRequest) async throws -> ServiceResponse) in
            ServiceOperation(
                name, HTTPBinding("PUT", uri), bodyLimit: Int(Self.maximumPutBytes), streamsBody: true
            ) { [self] request in
                try Self.refuseUnimplementedSubresources(request)
                return try await handler(self, request)
            }
        }
        return ServiceDefinition(
            name: "s3", signingNames: ["s3"], wire: .restXML, xmlNamespace: Self.namespaceURI,
            hostRules: [HostRule("{Bucket}.s3", pathLabel: "Bucket")], defaultBodyLimit: 4 << 20,
            operations: [
                op("ListBuckets", "GET", "/") { try await $0.listBuckets($1) },
                op("CreateBucket", "PUT", "/{Bucket}") { try await $0.createBucket($1) },
                op("DeleteBucket", "DELETE", "/{Bucket}") { try await $0.deleteBucket($1) },
                op("HeadBucket", "HEAD", "/{Bucket}") { try await $0.headBucket($1) },
                op("GetBucketLocation", "GET", "/{Bucket}?location") { try await $0.getBucketLocation($1) },
                op("ListObjects", "GET", "/{Bucket}") { try await $0.listObjects($1) },
                op("ListObjectsV2", "GET", "/{Bucket}?list-type=2") { try await $0.listObjectsV2($1) },
                op("DeleteObjects", "POST", "/{Bucket}?delete") { try await $0.deleteObjects($1) },
                op("ListMultipartUploads", "GET", "/{Bucket}?uploads") { try await $0.listMultipartUploads($1) },
                op("PutBucketTagging", "PUT", "/{Bucket}?tagging") { try await $0.putBucketTagging($1) },
                op("GetBucketTagging", "GET", "/{Bucket}?tagging") { try await $0.getBucketTagging($1) },
                op("DeleteBucketTagging", "DELETE", "/{Bucket}?tagging") { try await $0.deleteBucketTagging($1) },
                op("PutBucketNotificationConfiguration", "PUT", "/{Bucket}?notification") {
                    try await $0.putNotificationConfiguration($1)
                },
                op("GetBucketNotificationConfiguration", "GET", "/{Bucket}?notification") {
                    try await $0.getNotificationConfiguration($1)
                },
                // PutObject and CopyObject share a binding (a copy names its source in `x-amz-copy-source`), as do
                // UploadPart and UploadPartCopy.
                streamed("PutObject", "/{Bucket}/{Key+}") { try await $0.putOrCopyObject($1) },
                streamed("UploadPart", "/{Bucket}/{Key+}?partNumber&uploadId") { try await $0.uploadPartOrCopy($1) },
                op("GetObject", "GET", "/{Bucket}/{Key+}") { try await $0.getObject($1, head: false) },
                op("HeadObject", "HEAD", "/{Bucket}/{Key+}") { try await $0.getObject($1, head: true) },
                op("DeleteObject", "DELETE", "/{Bucket}/{Key+}") { try await $0.deleteObject($1) },
                op("CreateMultipartUpload", "POST", "/{Bucket}/{Key+}?uploads") { try await $0.createMultipartUpload($1) },
                op("CompleteMultipartUpload", "POST", "/{Bucket}/{Key+}?uploadId") { try await $0.completeMultipartUpload($1) },
                op("AbortMultipartUpload", "DELETE", "/{Bucket}/{Key+}?uploadId") { try await $0.abortMultipartUpload($1) },
                op("ListParts", "GET", "/{Bucket}/{Key+}?uploadId") { try await $0.listParts($1) },
                op("PutObjectTagging", "PUT", "/{Bucket}/{Key+}?tagging") { try await $0.putObjectTagging($1) },
                op("GetObjectTagging", "GET", "/{Bucket}/{Key+}?tagging") { try await $0.getObjectTagging($1) },
                op("DeleteObjectTagging", "DELETE", "/{Bucket}/{Key+}?tagging") { try await $0.deleteObjectTagging($1) },
            ])
    }

    // MARK: Shared steps

    /// S3's subresources Nimbus does not serve. Their requests would otherwise match a plain bucket or object
    /// operation (`PUT /b?versioning` is CreateBucket's path), so they are refused by name instead.
    static let unimplementedSubresources: Set<String> = [
        "accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering", "inventory",
        "legal-hold", "lifecycle", "logging", "metadataTable", "metrics", "object-lock", "ownershipControls", "policy",
        "policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore", "retention", "select",
        "session", "torrent", "versioning", "versions", "website",
    ]

    static func refuseUnimplementedSubresources(_ request: ServiceRequest) throws {
        if let name = request.query.first(where: { Self.unimplementedSubresources.contains($0.0) })?.0 {
            throw S3Error(
                "NotImplemented", status: 501, "Nimbus's S3 does not implement the ?\(name) subresource (see docs/s3.md).")
        }
        if let version = request.queryValue("versionId"), version != "null" {
            throw S3Error("NoSuchVersion", status: 404, "The specified version does not exist.", fields: [("VersionId", version)])
        }
    }

    /// The bucket of the request, which the caller's account must own.
    func ownedBucket(_ request: ServiceRequest) async throws -> StoredBucket {
        let name = request.label("Bucket")
        guard let bucket = try await self.store.bucket(name) else { throw S3Error.noSuchBucket(name) }
        guard bucket.namespace.accountID == request.namespace.accountID else { throw S3Error.accessDenied }
        return bucket
    }

    /// The request's key: 1 to 1,024 bytes of UTF-8.
    static func key(_ request: ServiceRequest) throws -> String {
        let key = request.label("Key")
        guard !key.isEmpty else { throw S3Error.invalidArgument("Key must not be empty", name: "Key", value: key) }
        guard key.utf8.count <= 1024 else { throw S3Error.keyTooLong }
        return key
    }

    /// An XML answer in S3's namespace.
    static func xml(_ root: XML.Element, status: Int = 200, headers: [(String, String)] = []) -> ServiceResponse {
        .bytes(status, ByteBuffer(bytes: root.document(namespace: Self.namespaceURI)), contentType: "application/xml", headers: headers)
    }

    /// Reads a request's XML body. - Throws: `MalformedXML`.
    static func document(_ request: ServiceRequest) throws -> XML.Element {
        do {
            return try XMLReader().read(request.body.readableBytesView)
        } catch {
            throw S3Error.malformedXML
        }
    }
}

/// S3's time formats.
enum S3Time {
    /// `2009-10-12T17:50:30.000Z`, in XML bodies.
    static func iso(_ millis: Int64) -> String { Timestamp.isoString(millis: millis) }

    /// `Wed, 12 Oct 2009 17:50:00 GMT`, in headers (`Last-Modified`).
    static func http(_ millis: Int64) -> String { Timestamp.httpDate(millis: millis) }

    /// An HTTP date (`If-Modified-Since`), in milliseconds; nil when unreadable (S3 then ignores the condition).
    static func parseHTTP(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        }
        if let date = ISO8601DateFormatter().date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        return nil
    }
}
