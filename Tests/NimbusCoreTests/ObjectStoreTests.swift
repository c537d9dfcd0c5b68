import Foundation
import GRDB
import Testing

@testable import NimbusCore
@testable import NimbusStore

/// S3's metadata in SQLite: buckets, objects with the outbox rows committed with them, listing ranges in UTF-8 byte
/// order, multipart uploads, and the blobs recovery must keep.
@Suite struct ObjectStoreTests {
    static let namespace = AccountContext(region: "eu-west-1", accountID: "111122223333")

    func withStore(_ body: (SQLiteObjectStore, NimbusDatabase) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-objects-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let database = try NimbusDatabase(path: "\(root)/nimbus.sqlite")
        try await body(SQLiteObjectStore(database: database), database)
    }

    static func bucket(_ name: String, account: String = "111122223333") -> StoredBucket {
        StoredBucket(name: name, namespace: AccountContext(region: "eu-west-1", accountID: account), createdAtMillis: 7)
    }

    static func object(_ key: String, bucket: String = "b", blob: String? = nil, size: Int64 = 3) -> StoredObject {
        StoredObject(
            bucket: bucket,
            key: key,
            segments: [BlobSegment(blobID: blob ?? "blob-\(key)", size: size)],
            size: size,
            etag: "etag-\(key)",
            lastModifiedMillis: 42
        )
    }

    static func notification(_ delivery: String, bucket: String = "b") -> OutboxNotification {
        OutboxNotification(
            deliveryID: delivery,
            namespace: Self.namespace,
            bucket: bucket,
            destination: .queue,
            targetARN: "arn:aws:sqs:eu-west-1:111122223333:q",
            body: Array("{\"Records\":[]}".utf8),
            createdAtMillis: 5
        )
    }

    // MARK: Buckets

    @Test func bucketsAreCreatedListedUpdatedAndDeleted() async throws {
        try await self.withStore { store, _ in
            try await store.createBucket(Self.bucket("zeta"))
            try await store.createBucket(Self.bucket("alpha"))
            try await store.createBucket(Self.bucket("other", account: "999988887777"))
            await #expect(throws: ObjectStoreError.bucketExists(Self.bucket("alpha"))) {
                try await store.createBucket(Self.bucket("alpha", account: "999988887777"))
            }
            #expect(try await store.buckets(account: "111122223333").map(\.name) == ["alpha", "zeta"])
            #expect(try await store.bucket("alpha") == Self.bucket("alpha"))
            #expect(try await store.bucket("missing") == nil)

            let updated = try await store.updateBucket("alpha") { bucket in
                bucket.tags = [S3Tag(key: "k", value: "v")]
                bucket.notificationConfiguration = "<config/>"
                bucket.name = "renamed"  // ignored: names are fixed
            }
            #expect(updated.name == "alpha")
            let stored = try #require(try await store.bucket("alpha"))
            #expect(stored.tags == [S3Tag(key: "k", value: "v")])
            #expect(stored.notificationConfiguration == "<config/>")
            try await store.updateBucket("alpha") { $0.tags = nil }
            #expect(try await store.bucket("alpha")?.tags == nil)
            await #expect(throws: ObjectStoreError.noSuchBucket) {
                try await store.updateBucket("missing") { _ in }
            }

            #expect(try await store.deleteBucket("zeta") == [])
            #expect(try await store.bucket("zeta") == nil)
            await #expect(throws: ObjectStoreError.noSuchBucket) { try await store.deleteBucket("zeta") }
        }
    }

    @Test func aBucketWithObjectsIsNotDeletedButItsUploadsGoWithIt() async throws {
        try await self.withStore { store, _ in
            try await store.createBucket(Self.bucket("b"))
            _ = try await store.putObject(Self.object("k"), notifications: [])
            await #expect(throws: ObjectStoreError.bucketNotEmpty) { try await store.deleteBucket("b") }

            _ = try await store.deleteObject(bucket: "b", key: "k") { _ in [] }
            try await store.createUpload(StoredUpload(uploadID: "u1", bucket: "b", key: "big", initiatedMillis: 1))
            _ = try await store.putPart(
                StoredPart(
                    uploadID: "u1",
                    partNumber: 1,
                    blob: BlobSegment(blobID: "p1", size: 5),
                    etag: "e",
                    lastModifiedMillis: 1
                )
            )
            _ = try await store.putPart(
                StoredPart(
                    uploadID: "u1",
                    partNumber: 2,
                    blob: BlobSegment(blobID: "p2", size: 6),
                    etag: "e",
                    lastModifiedMillis: 1
                )
            )
            let blobs = try await store.deleteBucket("b")
            #expect(Set(blobs) == [BlobSegment(blobID: "p1", size: 5), BlobSegment(blobID: "p2", size: 6)])
            #expect(try await store.upload("u1") == nil)
            #expect(try await store.parts(uploadID: "u1") == [])
            #expect(try await store.referencedBlobs() == [])
        }
    }

    // MARK: Objects

    @Test func putReplacesAndReturnsTheReplacedSegments() async throws {
        try await self.withStore { store, _ in
            try await store.createBucket(Self.bucket("b"))
            var object = Self.object("k", blob: "one")
            object.metadata = ObjectMetadata(contentType: "text/plain", user: [S3Tag(key: "a", value: "1")])
            object.checksum = StoredChecksum(algorithm: "crc32", value: "AAAAAA==")
            object.tags = [S3Tag(key: "t", value: "v")]
            #expect(try await store.putObject(object, notifications: []) == [])
            #expect(try await store.object(bucket: "b", key: "k") == object)

            let replacement = Self.object("k", blob: "two")
            #expect(try await store.putObject(replacement, notifications: []) == [BlobSegment(blobID: "one", size: 3)])
            #expect(try await store.object(bucket: "b", key: "k") == replacement)
            #expect(try await store.object(bucket: "b", key: "other") == nil)

            #expect(try await store.setObjectTags(bucket: "b", key: "k", tags: [S3Tag(key: "x", value: "y")]))
            #expect(try await store.object(bucket: "b", key: "k")?.tags == [S3Tag(key: "x", value: "y")])
            #expect(try await store.setObjectTags(bucket: "b", key: "nope", tags: []) == false)
        }
    }

    @Test func theOutboxIsWrittenWithTheObjectOrNotAtAll() async throws {
        try await self.withStore { store, _ in
            await #expect(throws: ObjectStoreError.noSuchBucket) {
                try await store.putObject(Self.object("k"), notifications: [Self.notification("lost")])
            }
            #expect(try await store.pendingNotifications(limit: 10) == [])

            try await store.createBucket(Self.bucket("b"))
            _ = try await store.putObject(
                Self.object("k"),
                notifications: [Self.notification("n1"), Self.notification("n2")]
            )
            let pending = try await store.pendingNotifications(limit: 10)
            #expect(pending.map(\.deliveryID) == ["n1", "n2"])
            var expected = Self.notification("n1")
            expected.id = pending[0].id
            #expect(pending[0] == expected)
            #expect(pending[0].id < pending[1].id)
            #expect(try await store.pendingNotifications(limit: 1).map(\.deliveryID) == ["n1"])

            try await store.removeNotifications(ids: [pending[0].id])
            #expect(try await store.pendingNotifications(limit: 10).map(\.deliveryID) == ["n2"])
            try await store.removeNotifications(ids: [pending[1].id, 12345])
            #expect(try await store.pendingNotifications(limit: 10) == [])
        }
    }

    @Test func deleteQueuesWhatNotifyBuildsFromTheDeletedObject() async throws {
        try await self.withStore { store, _ in
            await #expect(throws: ObjectStoreError.noSuchBucket) {
                try await store.deleteObject(bucket: "b", key: "k") { _ in [Self.notification("x")] }
            }
            try await store.createBucket(Self.bucket("b"))
            let absent = try await store.deleteObject(bucket: "b", key: "k") { _ in [Self.notification("never")] }
            #expect(absent == nil)
            #expect(try await store.pendingNotifications(limit: 10) == [])

            _ = try await store.putObject(Self.object("k"), notifications: [])
            let deleted = try await store.deleteObject(bucket: "b", key: "k") { object in
                [Self.notification("deleted-\(object.key)-\(object.size)")]
            }
            #expect(deleted == Self.object("k"))
            #expect(try await store.object(bucket: "b", key: "k") == nil)
            #expect(try await store.pendingNotifications(limit: 10).map(\.deliveryID) == ["deleted-k-3"])
        }
    }

    // MARK: Listing

    /// Keys in UTF-8 byte order (not UTF-16's, not Unicode collation), including the last code point, LIKE's
    /// wildcards and U+0000.
    static let keys = [
        "", "a", "a%", "a%b", "a/", "a/b", "a_", "a_b", "ab", "b", "z", "\u{7F}", "\u{E9}", "\u{FFFD}",
        "\u{1F600}", "\u{10FFFF}", "\u{10FFFF}x", "a\u{0}b", "a\u{0}c", "\u{FF}", "\u{FF}\u{FF}",
    ].filter { !$0.isEmpty }

    static func byteOrder(_ keys: [String]) -> [String] {
        keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    @Test func listingFollowsUTF8ByteOrderAndPrefixRanges() async throws {
        try await self.withStore { store, _ in
            try await store.createBucket(Self.bucket("b"))
            try await store.createBucket(Self.bucket("c"))
            for key in Self.keys.shuffled() { _ = try await store.putObject(Self.object(key), notifications: []) }
            _ = try await store.putObject(Self.object("a", bucket: "c"), notifications: [])

            let all = try await store.listObjects(bucket: "b", prefix: "", startAfter: nil, limit: 1000)
            #expect(all.map(\.key) == Self.byteOrder(Self.keys))
            #expect(all.allSatisfy { $0.bucket == "b" })
            #expect(Set(all.map(\.key)).count == Self.keys.count)  // "a\0b" and "a\0c" stay distinct

            for prefix in ["a", "a%", "a_", "a/", "\u{10FFFF}", "\u{FF}", "\u{1F600}", "a\u{0}", "%", "_", "q"] {
                let listed = try await store.listObjects(bucket: "b", prefix: prefix, startAfter: nil, limit: 1000)
                #expect(
                    listed.map(\.key) == Self.byteOrder(Self.keys.filter { $0.hasPrefixBytes(prefix) }),
                    "\(prefix)"
                )
            }

            // Pages: startAfter before, inside and after the prefix's range.
            var page = try await store.listObjects(bucket: "b", prefix: "a", startAfter: "a/b", limit: 2)
            #expect(page.map(\.key) == ["a_", "a_b"])
            page = try await store.listObjects(bucket: "b", prefix: "a", startAfter: "0", limit: 2)
            #expect(page.map(\.key) == ["a", "a\u{0}b"])
            page = try await store.listObjects(bucket: "b", prefix: "a", startAfter: "ab", limit: 10)
            #expect(page.isEmpty)
            page = try await store.listObjects(bucket: "b", prefix: "a", startAfter: "b", limit: 10)
            #expect(page.isEmpty)
            page = try await store.listObjects(bucket: "b", prefix: "", startAfter: "\u{10FFFF}", limit: 10)
            #expect(page.map(\.key) == ["\u{10FFFF}x"])
            #expect(try await store.listObjects(bucket: "b", prefix: "", startAfter: nil, limit: 0).isEmpty)
            #expect(try await store.listObjects(bucket: "missing", prefix: "", startAfter: nil, limit: 10).isEmpty)
        }
    }

    @Test func listingScansThePrimaryKeyRange() async throws {
        try await self.withStore { _, database in
            for range in [
                KeyRange(prefix: "a%", startAfter: nil), KeyRange(prefix: "a", startAfter: "ab"),
                KeyRange(prefix: "", startAfter: "x"),
            ] {
                let range = try #require(range)
                let plan = try await database.pool.read { db in
                    try Row.fetchAll(
                        db,
                        sql: "EXPLAIN QUERY PLAN " + range.sql,
                        arguments: ["b"] + range.arguments + [10]
                    )
                    .map { $0["detail"] as String }.joined(separator: "\n")
                }
                #expect(plan.contains("SEARCH s3_objects USING PRIMARY KEY (bucket=? AND key>"), "\(plan)")
                #expect(!plan.contains("SCAN"), "\(plan)")
                #expect(!plan.contains("TEMP B-TREE"), "\(plan)")
                #expect(!range.sql.contains("LIKE"))
            }
        }
    }

    @Test func prefixSuccessors() {
        #expect(KeyRange.successor(of: []) == nil)
        #expect(KeyRange.successor(of: [0x61]) == [0x62])
        #expect(KeyRange.successor(of: [0x61, 0xFF, 0xFF]) == [0x62])
        #expect(KeyRange.successor(of: [0xFF]) == nil)
        #expect(KeyRange.successor(of: Array("\u{10FFFF}".utf8)) == [0xF4, 0x8F, 0xBF, 0xC0])
        #expect(KeyRange(prefix: "a", startAfter: "b") == nil)
        #expect(KeyRange(prefix: "a", startAfter: "a")?.lowerExclusive == true)
        #expect(KeyRange(prefix: "b", startAfter: "a")?.lowerExclusive == false)
    }

    // MARK: Multipart uploads

    @Test func uploadsPartsCompleteAndAbort() async throws {
        try await self.withStore { store, _ in
            await #expect(throws: ObjectStoreError.noSuchBucket) {
                try await store.createUpload(StoredUpload(uploadID: "u0", bucket: "b", key: "k", initiatedMillis: 1))
            }
            try await store.createBucket(Self.bucket("b"))
            let upload = StoredUpload(
                uploadID: "u1",
                bucket: "b",
                key: "k",
                initiatedMillis: 2,
                metadata: ObjectMetadata(contentType: "application/zip"),
                checksumAlgorithm: "crc32",
                checksumType: "COMPOSITE",
                tags: [S3Tag(key: "t", value: "v")],
                storageClass: "STANDARD"
            )
            try await store.createUpload(upload)
            try await store.createUpload(StoredUpload(uploadID: "u2", bucket: "b", key: "k", initiatedMillis: 1))
            try await store.createUpload(StoredUpload(uploadID: "u3", bucket: "b", key: "a", initiatedMillis: 9))
            #expect(try await store.upload("u1") == upload)
            #expect(try await store.uploads(bucket: "b").map(\.uploadID) == ["u3", "u2", "u1"])

            func part(_ number: Int, _ blob: String, upload: String = "u1") -> StoredPart {
                StoredPart(
                    uploadID: upload,
                    partNumber: number,
                    blob: BlobSegment(blobID: blob, size: Int64(number)),
                    etag: "e\(number)",
                    lastModifiedMillis: 3,
                    checksum: StoredChecksum(algorithm: "crc32", value: "x")
                )
            }
            await #expect(throws: ObjectStoreError.noSuchUpload) {
                try await store.putPart(part(1, "x", upload: "nope"))
            }
            #expect(try await store.putPart(part(2, "p2")) == nil)
            #expect(try await store.putPart(part(1, "old1")) == nil)
            #expect(try await store.putPart(part(1, "p1")) == BlobSegment(blobID: "old1", size: 1))
            #expect(try await store.putPart(part(3, "p3")) == nil)
            #expect(try await store.parts(uploadID: "u1") == [part(1, "p1"), part(2, "p2"), part(3, "p3")])
            #expect(try await store.referencedBlobs() == ["p1", "p2", "p3"])

            // The object uses parts 1 and 2: part 3's blob comes back unused; the replaced object's segments too.
            _ = try await store.putObject(Self.object("k", blob: "before"), notifications: [])
            let object = StoredObject(
                bucket: "b",
                key: "k",
                segments: [part(1, "p1").blob, part(2, "p2").blob],
                size: 3,
                etag: "abc-2",
                lastModifiedMillis: 10
            )
            let result = try await store.completeUpload(
                "u1",
                object: object,
                notifications: [Self.notification("done")]
            )
            #expect(result.replaced == [BlobSegment(blobID: "before", size: 3)])
            #expect(result.unused == [BlobSegment(blobID: "p3", size: 3)])
            #expect(try await store.object(bucket: "b", key: "k") == object)
            #expect(try await store.upload("u1") == nil)
            #expect(try await store.parts(uploadID: "u1") == [])
            #expect(try await store.pendingNotifications(limit: 10).map(\.deliveryID) == ["done"])
            #expect(try await store.referencedBlobs() == ["p1", "p2"])
            await #expect(throws: ObjectStoreError.noSuchUpload) {
                try await store.completeUpload("u1", object: object, notifications: [Self.notification("again")])
            }
            #expect(try await store.pendingNotifications(limit: 10).count == 1)

            _ = try await store.putPart(part(1, "q1", upload: "u2"))
            #expect(try await store.abortUpload("u2") == [BlobSegment(blobID: "q1", size: 1)])
            await #expect(throws: ObjectStoreError.noSuchUpload) { try await store.abortUpload("u2") }
            #expect(try await store.uploads(bucket: "b").map(\.uploadID) == ["u3"])
        }
    }

    @Test func referencedBlobsCoverObjectsAndPartsAndSurviveAReopen() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-objects-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            let store = SQLiteObjectStore(database: try NimbusDatabase(path: "\(root)/nimbus.sqlite"))
            try await store.createBucket(Self.bucket("b"))
            var multi = Self.object("m")
            multi.segments = [BlobSegment(blobID: "s1", size: 1), BlobSegment(blobID: "s2", size: 2)]
            _ = try await store.putObject(multi, notifications: [Self.notification("n")])
            _ = try await store.putObject(Self.object("single", blob: "s3"), notifications: [])
            try await store.createUpload(StoredUpload(uploadID: "u", bucket: "b", key: "k", initiatedMillis: 1))
            _ = try await store.putPart(
                StoredPart(
                    uploadID: "u",
                    partNumber: 1,
                    blob: BlobSegment(blobID: "s4", size: 1),
                    etag: "e",
                    lastModifiedMillis: 1
                )
            )
        }
        let reopened = SQLiteObjectStore(database: try NimbusDatabase(path: "\(root)/nimbus.sqlite"))
        #expect(try await reopened.referencedBlobs() == ["s1", "s2", "s3", "s4"])
        #expect(try await reopened.object(bucket: "b", key: "m")?.segments.count == 2)
        #expect(try await reopened.pendingNotifications(limit: 5).map(\.deliveryID) == ["n"])
    }
}

extension String {
    fileprivate func hasPrefixBytes(_ prefix: String) -> Bool {
        Array(self.utf8).starts(with: Array(prefix.utf8))
    }
}
