import NimbusCore

/// Where S3's metadata persists: buckets, objects, multipart uploads and their parts, and the outbox of bucket
/// notifications. An object's bytes live in immutable files (blobs) named by random ids, never by keys; the store
/// records which blobs make up each object and part. The embedded default is ``SQLiteObjectStore``; a PostgreSQL
/// store for scale-out implements the same protocol.
///
/// Atomicity is the store's promise: an object becomes visible, is replaced or is removed together with the
/// notifications it causes (one transaction), so every acknowledged PUT has its event even across `kill -9`.
/// Blobs an operation makes unreachable are returned to the caller, who deletes their files after the commit; a
/// crash in between leaves orphans that ``referencedBlobs()`` lets the start-up sweep find.
public protocol ObjectStore: Sendable {
    // MARK: Buckets

    /// Creates the bucket. - Throws: ``ObjectStoreError/bucketExists(_:)`` with the existing bucket.
    func createBucket(_ bucket: StoredBucket) async throws
    func bucket(_ name: String) async throws -> StoredBucket?
    /// The buckets an account owns, by name.
    func buckets(account: String) async throws -> [StoredBucket]
    /// Deletes an empty bucket with its multipart uploads and returns the blobs of their parts.
    /// - Throws: ``ObjectStoreError/noSuchBucket``, ``ObjectStoreError/bucketNotEmpty``.
    func deleteBucket(_ name: String) async throws -> [BlobSegment]
    /// Changes a bucket's tags or notification configuration. - Throws: ``ObjectStoreError/noSuchBucket``.
    @discardableResult
    func updateBucket(_ name: String, _ change: @Sendable (inout StoredBucket) throws -> Void) async throws -> StoredBucket

    // MARK: Objects

    func object(bucket: String, key: String) async throws -> StoredObject?
    /// Makes `object` visible under its key, replacing the object there, and queues `notifications` in the same
    /// transaction. Returns the replaced object's segments. - Throws: ``ObjectStoreError/noSuchBucket``.
    func putObject(_ object: StoredObject, notifications: [OutboxNotification]) async throws -> [BlobSegment]
    /// Removes the object and queues the notifications `notify` builds from it, in one transaction; nil (and no
    /// notification) when there is no such object. - Throws: ``ObjectStoreError/noSuchBucket``.
    func deleteObject(
        bucket: String, key: String, notify: @Sendable (StoredObject) -> [OutboxNotification]
    ) async throws -> StoredObject?
    /// Replaces an object's tags; false when there is no such object.
    func setObjectTags(bucket: String, key: String, tags: [S3Tag]) async throws -> Bool
    /// Objects whose key starts with `prefix` and sorts after `startAfter` (UTF-8 byte order, S3's), ascending, at
    /// most `limit`.
    func listObjects(bucket: String, prefix: String, startAfter: String?, limit: Int) async throws -> [StoredObject]

    // MARK: Multipart uploads

    /// - Throws: ``ObjectStoreError/noSuchBucket``.
    func createUpload(_ upload: StoredUpload) async throws
    func upload(_ uploadID: String) async throws -> StoredUpload?
    /// In-progress uploads of a bucket, by key then initiation time.
    func uploads(bucket: String) async throws -> [StoredUpload]
    /// Stores a part, replacing one of the same number; returns the replaced part's blob.
    /// - Throws: ``ObjectStoreError/noSuchUpload``.
    func putPart(_ part: StoredPart) async throws -> BlobSegment?
    /// The upload's parts by part number.
    func parts(uploadID: String) async throws -> [StoredPart]
    /// Ends an upload: `object` (whose segments are blobs of the upload's parts) becomes visible as ``putObject(_:
    /// notifications:)`` would make it, the upload and its parts are removed. Returns the replaced object's segments
    /// and the blobs of parts the object does not use. - Throws: ``ObjectStoreError/noSuchUpload``.
    func completeUpload(_ uploadID: String, object: StoredObject, notifications: [OutboxNotification]) async throws
        -> (replaced: [BlobSegment], unused: [BlobSegment])
    /// Removes an upload and returns its parts' blobs. - Throws: ``ObjectStoreError/noSuchUpload``.
    func abortUpload(_ uploadID: String) async throws -> [BlobSegment]

    // MARK: Notification outbox

    /// The oldest notifications not yet delivered.
    func pendingNotifications(limit: Int) async throws -> [OutboxNotification]
    /// Forgets delivered notifications.
    func removeNotifications(ids: [Int64]) async throws

    // MARK: Recovery

    /// Every blob an object or a part refers to: the start-up sweep deletes the other files.
    func referencedBlobs() async throws -> Set<String>
}

/// Why an ``ObjectStore`` refused a change.
public enum ObjectStoreError: Error, Sendable, Equatable {
    case noSuchBucket
    case bucketExists(StoredBucket)
    case bucketNotEmpty
    case noSuchUpload
}

/// One key/value tag of a bucket or an object.
public struct S3Tag: Sendable, Hashable, Codable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A bucket as stored.
public struct StoredBucket: Sendable, Equatable {
    public var name: String
    /// The owner's account and the bucket's region (its `LocationConstraint`).
    public var namespace: AccountContext
    public var createdAtMillis: Int64
    /// Nil when the bucket has no tag set (GetBucketTagging's `NoSuchTagSet`).
    public var tags: [S3Tag]?
    /// The notification configuration as Nimbus encodes it (the S3 module's business; opaque to the store).
    public var notificationConfiguration: String?

    public init(
        name: String, namespace: AccountContext, createdAtMillis: Int64, tags: [S3Tag]? = nil,
        notificationConfiguration: String? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.createdAtMillis = createdAtMillis
        self.tags = tags
        self.notificationConfiguration = notificationConfiguration
    }
}

/// A run of an object's bytes: one immutable file of the blob directory.
public struct BlobSegment: Sendable, Hashable, Codable {
    public var blobID: String
    public var size: Int64

    public init(blobID: String, size: Int64) {
        self.blobID = blobID
        self.size = size
    }
}

/// The representation headers and user metadata an object was stored with.
public struct ObjectMetadata: Sendable, Equatable, Codable {
    public var contentType: String?
    public var contentEncoding: String?
    public var contentDisposition: String?
    public var contentLanguage: String?
    public var cacheControl: String?
    public var expires: String?
    /// `x-amz-meta-*` (names lower-cased, without the prefix), in the order sent.
    public var user: [S3Tag]

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, contentDisposition: String? = nil,
        contentLanguage: String? = nil, cacheControl: String? = nil, expires: String? = nil, user: [S3Tag] = []
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.contentDisposition = contentDisposition
        self.contentLanguage = contentLanguage
        self.cacheControl = cacheControl
        self.expires = expires
        self.user = user
    }
}

/// A flexible checksum S3 keeps with an object or a part.
public struct StoredChecksum: Sendable, Hashable, Codable {
    /// `crc32`, `crc32c`, `crc64nvme`, `sha1`, `sha256`.
    public var algorithm: String
    /// The base64 digest; a composite one ends in `-<part count>`.
    public var value: String
    /// `FULL_OBJECT` or `COMPOSITE`.
    public var type: String

    public init(algorithm: String, value: String, type: String = "FULL_OBJECT") {
        self.algorithm = algorithm
        self.value = value
        self.type = type
    }
}

/// An object as stored.
public struct StoredObject: Sendable, Equatable {
    public var bucket: String
    public var key: String
    /// The blobs holding the bytes, in order: one for a PUT or a copy, one per part for a multipart upload.
    public var segments: [BlobSegment]
    public var size: Int64
    /// The entity tag without quotes: the MD5's hex, or `<hex of MD5 of part MD5s>-<part count>`.
    public var etag: String
    public var lastModifiedMillis: Int64
    public var metadata: ObjectMetadata
    public var checksum: StoredChecksum?
    public var tags: [S3Tag]
    public var storageClass: String

    public init(
        bucket: String, key: String, segments: [BlobSegment], size: Int64, etag: String, lastModifiedMillis: Int64,
        metadata: ObjectMetadata = ObjectMetadata(), checksum: StoredChecksum? = nil, tags: [S3Tag] = [],
        storageClass: String = "STANDARD"
    ) {
        self.bucket = bucket
        self.key = key
        self.segments = segments
        self.size = size
        self.etag = etag
        self.lastModifiedMillis = lastModifiedMillis
        self.metadata = metadata
        self.checksum = checksum
        self.tags = tags
        self.storageClass = storageClass
    }
}

/// A multipart upload in progress: what CreateMultipartUpload was given, for the object Complete makes.
public struct StoredUpload: Sendable, Equatable {
    public var uploadID: String
    public var bucket: String
    public var key: String
    public var initiatedMillis: Int64
    public var metadata: ObjectMetadata
    /// The checksum algorithm parts must carry, when the upload named one.
    public var checksumAlgorithm: String?
    /// `FULL_OBJECT` or `COMPOSITE`, with an algorithm.
    public var checksumType: String?
    public var tags: [S3Tag]
    public var storageClass: String

    public init(
        uploadID: String, bucket: String, key: String, initiatedMillis: Int64, metadata: ObjectMetadata = ObjectMetadata(),
        checksumAlgorithm: String? = nil, checksumType: String? = nil, tags: [S3Tag] = [], storageClass: String = "STANDARD"
    ) {
        self.uploadID = uploadID
        self.bucket = bucket
        self.key = key
        self.initiatedMillis = initiatedMillis
        self.metadata = metadata
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
        self.tags = tags
        self.storageClass = storageClass
    }
}

/// One uploaded part.
public struct StoredPart: Sendable, Equatable {
    public var uploadID: String
    public var partNumber: Int
    public var blob: BlobSegment
    /// The part's MD5 hex, without quotes.
    public var etag: String
    public var lastModifiedMillis: Int64
    public var checksum: StoredChecksum?

    public init(
        uploadID: String, partNumber: Int, blob: BlobSegment, etag: String, lastModifiedMillis: Int64,
        checksum: StoredChecksum? = nil
    ) {
        self.uploadID = uploadID
        self.partNumber = partNumber
        self.blob = blob
        self.etag = etag
        self.lastModifiedMillis = lastModifiedMillis
        self.checksum = checksum
    }
}

/// A bucket notification waiting for delivery, committed with the change that caused it.
public struct OutboxNotification: Sendable, Equatable {
    public enum Destination: String, Sendable, Codable {
        /// A Lambda function's ARN: an asynchronous invocation through the durable queue.
        case function
        /// An SQS queue's ARN: a message.
        case queue
    }

    /// Assigned by the store; 0 before it is stored.
    public var id: Int64
    /// A random id, unique per notification: the asynchronous invocation's request id, so that a notification
    /// delivered twice (a crash between delivery and removal) is queued once.
    public var deliveryID: String
    /// The bucket's namespace (the invoking resource's account and region).
    public var namespace: AccountContext
    /// The bucket, for the policy's `AWS:SourceArn`.
    public var bucket: String
    public var destination: Destination
    public var targetARN: String
    /// The event document (`{"Records":[…]}`).
    public var body: [UInt8]
    public var createdAtMillis: Int64

    public init(
        id: Int64 = 0, deliveryID: String, namespace: AccountContext, bucket: String, destination: Destination,
        targetARN: String, body: [UInt8], createdAtMillis: Int64
    ) {
        self.id = id
        self.deliveryID = deliveryID
        self.namespace = namespace
        self.bucket = bucket
        self.destination = destination
        self.targetARN = targetARN
        self.body = body
        self.createdAtMillis = createdAtMillis
    }
}
