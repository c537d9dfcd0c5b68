import Foundation
import GRDB
import NimbusCore

/// The embedded default ``ObjectStore``: tables `s3_*` of `nimbus.sqlite` (migration v10).
///
/// Every change is one short write transaction (the caller encodes the JSON columns before it starts), so an object,
/// its replacement and the notifications it causes commit together. Writes use the database's WAL with
/// `synchronous = NORMAL`: a committed change survives a crash of the process (`kill -9`); the object's bytes were
/// fsynced by the blob store before the commit.
///
/// Object keys are stored as BLOBs of their UTF-8 bytes, not as TEXT: GRDB binds and reads Swift strings as C
/// strings, so a key holding U+0000 would be cut short there (and two keys could collide), while a BLOB keeps every
/// byte. BLOBs compare with `memcmp`, which is UTF-8 byte order: S3's listing order, served by the primary key.
public final class SQLiteObjectStore: ObjectStore {
    let database: NimbusDatabase

    public init(database: NimbusDatabase) {
        self.database = database
    }

    // MARK: Buckets

    public func createBucket(_ bucket: StoredBucket) async throws {
        let tags = try bucket.tags.map(Self.encodeJSON)
        try await self.database.pool.write { db in
            if let existing = try Self.fetchBucket(db, bucket.name) {
                throw ObjectStoreError.bucketExists(existing)
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO s3_buckets (name, account, region, created_at, tags, notification)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                bucket.name, bucket.namespace.accountID, bucket.namespace.region, bucket.createdAtMillis, tags,
                bucket.notificationConfiguration,
            ])
        }
    }

    public func bucket(_ name: String) async throws -> StoredBucket? {
        try await self.database.pool.read { db in try Self.fetchBucket(db, name) }
    }

    public func buckets(account: String) async throws -> [StoredBucket] {
        try await self.database.pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM s3_buckets WHERE account = ? ORDER BY name"),
                arguments: [account]
            ).map(Self.bucket(from:))
        }
    }

    public func deleteBucket(_ name: String) async throws -> [BlobSegment] {
        try await self.database.pool.write { db in
            guard try Self.bucketExists(db, name) else { throw ObjectStoreError.noSuchBucket }
            let hasObjects =
                try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM s3_objects WHERE bucket = ?)"),
                    arguments: [name]
                ) ?? false
            if hasObjects { throw ObjectStoreError.bucketNotEmpty }
            let blobs = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT p.blob_id, p.size FROM s3_parts p JOIN s3_uploads u ON u.upload_id = p.upload_id
                        WHERE u.bucket = ?
                        """
                ),
                arguments: [name]
            ).map { BlobSegment(blobID: $0["blob_id"], size: $0["size"]) }
            try db.cachedStatement(
                sql: "DELETE FROM s3_parts WHERE upload_id IN (SELECT upload_id FROM s3_uploads WHERE bucket = ?)"
            ).execute(arguments: [name])
            try db.cachedStatement(sql: "DELETE FROM s3_uploads WHERE bucket = ?").execute(arguments: [name])
            try db.cachedStatement(sql: "DELETE FROM s3_buckets WHERE name = ?").execute(arguments: [name])
            return blobs
        }
    }

    /// Only the tags and the notification configuration are written: a bucket's name, owner and creation time are
    /// fixed, and the returned bucket keeps the stored ones whatever `change` did to them.
    @discardableResult
    public func updateBucket(
        _ name: String,
        _ change: @Sendable (inout StoredBucket) throws -> Void
    ) async throws -> StoredBucket {
        try await self.database.pool.write { db in
            guard let stored = try Self.fetchBucket(db, name) else { throw ObjectStoreError.noSuchBucket }
            var bucket = stored
            try change(&bucket)
            bucket.name = stored.name
            bucket.namespace = stored.namespace
            bucket.createdAtMillis = stored.createdAtMillis
            try db.cachedStatement(sql: "UPDATE s3_buckets SET tags = ?, notification = ? WHERE name = ?")
                .execute(arguments: [
                    try bucket.tags.map(Self.encodeJSON), bucket.notificationConfiguration, name,
                ])
            return bucket
        }
    }

    // MARK: Objects

    public func object(bucket: String, key: String) async throws -> StoredObject? {
        try await self.database.pool.read { db in try Self.fetchObject(db, bucket: bucket, key: Self.keyBytes(key)) }
    }

    public func putObject(_ object: StoredObject, notifications: [OutboxNotification]) async throws -> [BlobSegment] {
        let row = try ObjectRow(object)
        return try await self.database.pool.write { db in
            guard try Self.bucketExists(db, object.bucket) else { throw ObjectStoreError.noSuchBucket }
            let replaced = try Self.upsert(db, row)
            try Self.enqueue(db, notifications)
            return replaced
        }
    }

    public func deleteObject(
        bucket: String,
        key: String,
        notify: @Sendable (StoredObject) -> [OutboxNotification]
    ) async throws -> StoredObject? {
        let keyBytes = Self.keyBytes(key)
        return try await self.database.pool.write { db in
            guard try Self.bucketExists(db, bucket) else { throw ObjectStoreError.noSuchBucket }
            guard let object = try Self.fetchObject(db, bucket: bucket, key: keyBytes) else { return nil }
            try db.cachedStatement(sql: "DELETE FROM s3_objects WHERE bucket = ? AND key = ?")
                .execute(arguments: [bucket, keyBytes])
            try Self.enqueue(db, notify(object))
            return object
        }
    }

    public func setObjectTags(bucket: String, key: String, tags: [S3Tag]) async throws -> Bool {
        let encoded = try Self.encodeJSON(tags)
        let keyBytes = Self.keyBytes(key)
        return try await self.database.pool.write { db in
            try db.cachedStatement(sql: "UPDATE s3_objects SET tags = ? WHERE bucket = ? AND key = ?")
                .execute(arguments: [encoded, bucket, keyBytes])
            return db.changesCount > 0
        }
    }

    public func listObjects(
        bucket: String,
        prefix: String,
        startAfter: String?,
        limit: Int
    ) async throws
        -> [StoredObject]
    {
        guard limit > 0, let range = KeyRange(prefix: prefix, startAfter: startAfter) else { return [] }
        return try await self.database.pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: range.sql),
                arguments: [bucket] + range.arguments + [limit]
            ).map(Self.object(from:))
        }
    }

    // MARK: Multipart uploads

    public func createUpload(_ upload: StoredUpload) async throws {
        let metadata = try Self.encodeJSON(upload.metadata)
        let tags = try Self.encodeJSON(upload.tags)
        try await self.database.pool.write { db in
            guard try Self.bucketExists(db, upload.bucket) else { throw ObjectStoreError.noSuchBucket }
            try db.cachedStatement(
                sql: """
                    INSERT INTO s3_uploads (upload_id, bucket, key, initiated_at, metadata, checksum_algorithm,
                        checksum_type, tags, storage_class)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                upload.uploadID, upload.bucket, Self.keyBytes(upload.key), upload.initiatedMillis, metadata,
                upload.checksumAlgorithm, upload.checksumType, tags, upload.storageClass,
            ])
        }
    }

    public func upload(_ uploadID: String) async throws -> StoredUpload? {
        try await self.database.pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM s3_uploads WHERE upload_id = ?"),
                arguments: [uploadID]
            ).map(Self.upload(from:))
        }
    }

    public func uploads(bucket: String) async throws -> [StoredUpload] {
        try await self.database.pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT * FROM s3_uploads WHERE bucket = ? ORDER BY key, initiated_at, upload_id"
                ),
                arguments: [bucket]
            ).map(Self.upload(from:))
        }
    }

    public func putPart(_ part: StoredPart) async throws -> BlobSegment? {
        let checksum = try part.checksum.map(Self.encodeJSON)
        return try await self.database.pool.write { db in
            guard try Self.uploadExists(db, part.uploadID) else { throw ObjectStoreError.noSuchUpload }
            let replaced = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT blob_id, size FROM s3_parts WHERE upload_id = ? AND part_number = ?"),
                arguments: [part.uploadID, part.partNumber]
            ).map { BlobSegment(blobID: $0["blob_id"], size: $0["size"]) }
            try db.cachedStatement(
                sql: """
                    INSERT INTO s3_parts (upload_id, part_number, blob_id, size, etag, last_modified, checksum)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (upload_id, part_number) DO UPDATE SET blob_id = excluded.blob_id,
                        size = excluded.size, etag = excluded.etag, last_modified = excluded.last_modified,
                        checksum = excluded.checksum
                    """
            ).execute(arguments: [
                part.uploadID, part.partNumber, part.blob.blobID, part.blob.size, part.etag, part.lastModifiedMillis,
                checksum,
            ])
            return replaced
        }
    }

    public func parts(uploadID: String) async throws -> [StoredPart] {
        try await self.database.pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM s3_parts WHERE upload_id = ? ORDER BY part_number"),
                arguments: [uploadID]
            ).map { row in
                StoredPart(
                    uploadID: row["upload_id"],
                    partNumber: row["part_number"],
                    blob: BlobSegment(blobID: row["blob_id"], size: row["size"]),
                    etag: row["etag"],
                    lastModifiedMillis: row["last_modified"],
                    checksum: try Self.decodeOptionalJSON(StoredChecksum.self, row["checksum"])
                )
            }
        }
    }

    public func completeUpload(
        _ uploadID: String,
        object: StoredObject,
        notifications: [OutboxNotification]
    ) async throws -> (replaced: [BlobSegment], unused: [BlobSegment]) {
        let row = try ObjectRow(object)
        let used = Set(object.segments.map(\.blobID))
        return try await self.database.pool.write { db in
            guard try Self.uploadExists(db, uploadID) else { throw ObjectStoreError.noSuchUpload }
            let unused = try Self.removeUpload(db, uploadID).filter { !used.contains($0.blobID) }
            let replaced = try Self.upsert(db, row)
            try Self.enqueue(db, notifications)
            return (replaced, unused)
        }
    }

    public func abortUpload(_ uploadID: String) async throws -> [BlobSegment] {
        try await self.database.pool.write { db in
            guard try Self.uploadExists(db, uploadID) else { throw ObjectStoreError.noSuchUpload }
            return try Self.removeUpload(db, uploadID)
        }
    }

    // MARK: Notification outbox

    public func pendingNotifications(limit: Int) async throws -> [OutboxNotification] {
        guard limit > 0 else { return [] }
        return try await self.database.pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM s3_outbox ORDER BY id LIMIT ?"),
                arguments: [limit]
            ).map { row in
                let destination: String = row["destination"]
                guard let kind = OutboxNotification.Destination(rawValue: destination) else {
                    throw DatabaseError(
                        message: "s3_outbox row \(row["id"] as Int64): unknown destination \(destination)"
                    )
                }
                return OutboxNotification(
                    id: row["id"],
                    deliveryID: row["delivery_id"],
                    namespace: AccountContext(region: row["region"], accountID: row["account"]),
                    bucket: row["bucket"],
                    destination: kind,
                    targetARN: row["target_arn"],
                    body: [UInt8](row["body"] as Data),
                    createdAtMillis: row["created_at"]
                )
            }
        }
    }

    public func removeNotifications(ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await self.database.pool.write { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM s3_outbox WHERE id = ?")
            for id in ids { try statement.execute(arguments: [id]) }
        }
    }

    // MARK: Recovery

    public func referencedBlobs() async throws -> Set<String> {
        try await self.database.pool.read { db in
            var blobs = Set<String>()
            let objects = try Row.fetchCursor(db, sql: "SELECT segments FROM s3_objects")
            while let row = try objects.next() {
                for segment in try Self.decodeJSON([BlobSegment].self, row["segments"]) { blobs.insert(segment.blobID) }
            }
            let parts = try String.fetchCursor(db, sql: "SELECT blob_id FROM s3_parts")
            while let blobID = try parts.next() { blobs.insert(blobID) }
            return blobs
        }
    }
}

// MARK: - Statements shared by the operations (run inside their transaction)

extension SQLiteObjectStore {
    /// An object's columns, encoded before the transaction starts.
    struct ObjectRow: Sendable {
        let bucket: String
        let key: Data
        let size: Int64
        let etag: String
        let lastModified: Int64
        let segments: String
        let metadata: String
        let checksum: String?
        let tags: String
        let storageClass: String

        init(_ object: StoredObject) throws {
            self.bucket = object.bucket
            self.key = SQLiteObjectStore.keyBytes(object.key)
            self.size = object.size
            self.etag = object.etag
            self.lastModified = object.lastModifiedMillis
            self.segments = try SQLiteObjectStore.encodeJSON(object.segments)
            self.metadata = try SQLiteObjectStore.encodeJSON(object.metadata)
            self.checksum = try object.checksum.map(SQLiteObjectStore.encodeJSON)
            self.tags = try SQLiteObjectStore.encodeJSON(object.tags)
            self.storageClass = object.storageClass
        }
    }

    /// Writes the object over whatever is under its key; returns the replaced object's segments.
    static func upsert(_ db: Database, _ row: ObjectRow) throws -> [BlobSegment] {
        let old = try String.fetchOne(
            db.cachedStatement(sql: "SELECT segments FROM s3_objects WHERE bucket = ? AND key = ?"),
            arguments: [row.bucket, row.key]
        )
        try db.cachedStatement(
            sql: """
                INSERT INTO s3_objects (bucket, key, size, etag, last_modified, segments, metadata, checksum, tags,
                    storage_class)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag,
                    last_modified = excluded.last_modified, segments = excluded.segments,
                    metadata = excluded.metadata, checksum = excluded.checksum, tags = excluded.tags,
                    storage_class = excluded.storage_class
                """
        ).execute(arguments: [
            row.bucket, row.key, row.size, row.etag, row.lastModified, row.segments, row.metadata, row.checksum,
            row.tags, row.storageClass,
        ])
        return try old.map { try decodeJSON([BlobSegment].self, $0) } ?? []
    }

    static func enqueue(_ db: Database, _ notifications: [OutboxNotification]) throws {
        guard !notifications.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO s3_outbox (delivery_id, account, region, bucket, destination, target_arn, body, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for notification in notifications {
            try statement.execute(arguments: [
                notification.deliveryID, notification.namespace.accountID, notification.namespace.region,
                notification.bucket, notification.destination.rawValue, notification.targetARN,
                Data(notification.body), notification.createdAtMillis,
            ])
        }
    }

    /// Deletes an upload and its parts; returns the parts' blobs.
    static func removeUpload(_ db: Database, _ uploadID: String) throws -> [BlobSegment] {
        let blobs = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT blob_id, size FROM s3_parts WHERE upload_id = ? ORDER BY part_number"),
            arguments: [uploadID]
        ).map { BlobSegment(blobID: $0["blob_id"], size: $0["size"]) }
        try db.cachedStatement(sql: "DELETE FROM s3_parts WHERE upload_id = ?").execute(arguments: [uploadID])
        try db.cachedStatement(sql: "DELETE FROM s3_uploads WHERE upload_id = ?").execute(arguments: [uploadID])
        return blobs
    }

    static func bucketExists(_ db: Database, _ name: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM s3_buckets WHERE name = ?)"),
            arguments: [name]
        ) ?? false
    }

    static func uploadExists(_ db: Database, _ uploadID: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM s3_uploads WHERE upload_id = ?)"),
            arguments: [uploadID]
        ) ?? false
    }

    static func fetchBucket(_ db: Database, _ name: String) throws -> StoredBucket? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM s3_buckets WHERE name = ?"), arguments: [name])
            .map(Self.bucket(from:))
    }

    static func fetchObject(_ db: Database, bucket: String, key: Data) throws -> StoredObject? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM s3_objects WHERE bucket = ? AND key = ?"),
            arguments: [bucket, key]
        ).map(Self.object(from:))
    }

    // MARK: Rows to values

    static func bucket(from row: Row) throws -> StoredBucket {
        StoredBucket(
            name: row["name"],
            namespace: AccountContext(region: row["region"], accountID: row["account"]),
            createdAtMillis: row["created_at"],
            tags: try decodeOptionalJSON([S3Tag].self, row["tags"]),
            notificationConfiguration: row["notification"]
        )
    }

    static func object(from row: Row) throws -> StoredObject {
        StoredObject(
            bucket: row["bucket"],
            key: Self.key(row["key"]),
            segments: try decodeJSON([BlobSegment].self, row["segments"]),
            size: row["size"],
            etag: row["etag"],
            lastModifiedMillis: row["last_modified"],
            metadata: try decodeJSON(ObjectMetadata.self, row["metadata"]),
            checksum: try decodeOptionalJSON(StoredChecksum.self, row["checksum"]),
            tags: try decodeJSON([S3Tag].self, row["tags"]),
            storageClass: row["storage_class"]
        )
    }

    static func upload(from row: Row) throws -> StoredUpload {
        StoredUpload(
            uploadID: row["upload_id"],
            bucket: row["bucket"],
            key: Self.key(row["key"]),
            initiatedMillis: row["initiated_at"],
            metadata: try decodeJSON(ObjectMetadata.self, row["metadata"]),
            checksumAlgorithm: row["checksum_algorithm"],
            checksumType: row["checksum_type"],
            tags: try decodeJSON([S3Tag].self, row["tags"]),
            storageClass: row["storage_class"]
        )
    }

    // MARK: Keys and JSON columns

    static func keyBytes(_ key: String) -> Data { Data(key.utf8) }

    static func key(_ bytes: Data) -> String { String(decoding: bytes, as: UTF8.self) }

    static func encodeJSON(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// A nullable column: nil stays nil.
    static func decodeOptionalJSON<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

// MARK: - Listing ranges

/// The primary-key range a listing scans: `key >= prefix` (or `key > startAfter` when that is further on) and
/// `key < successor(prefix)`, the first byte string after every string that starts with the prefix. Keys are compared
/// as bytes (BLOBs), so the bounds are byte strings and need not be UTF-8.
struct KeyRange: Equatable {
    var lower: [UInt8]
    /// True for `key > lower` (the listing resumes after `startAfter`), false for `key >= lower`.
    var lowerExclusive: Bool
    /// Nil when no key is too large: the prefix is empty (or all 0xFF, which UTF-8 never is).
    var upper: [UInt8]?

    /// Nil when the range is empty (`startAfter` is past every key with the prefix).
    init?(prefix: String, startAfter: String?) {
        let prefixBytes = Array(prefix.utf8)
        self.upper = Self.successor(of: prefixBytes)
        if let startAfter, Array(startAfter.utf8).lexicographicallyPrecedes(prefixBytes) == false {
            self.lower = Array(startAfter.utf8)
            self.lowerExclusive = true
        } else {
            self.lower = prefixBytes
            self.lowerExclusive = false
        }
        if let upper, !self.lower.lexicographicallyPrecedes(upper) { return nil }
    }

    /// The smallest byte string greater than every string starting with `prefix`: drop trailing 0xFF bytes, then
    /// increment the last byte. Nil when there is none (empty or all 0xFF).
    static func successor(of prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last == 0xFF {
                bytes.removeLast()
            } else {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
        }
        return nil
    }

    var sql: String {
        let lowerBound = self.lowerExclusive ? "key > ?" : "key >= ?"
        let upperBound = self.upper == nil ? "" : " AND key < ?"
        return "SELECT * FROM s3_objects WHERE bucket = ? AND \(lowerBound)\(upperBound) ORDER BY key LIMIT ?"
    }

    var arguments: StatementArguments {
        var arguments: StatementArguments = [Data(self.lower)]
        if let upper { arguments += [Data(upper)] }
        return arguments
    }
}
