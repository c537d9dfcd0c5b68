import Foundation
import NIOCore
import NimbusStore
import Testing

@testable import NimbusS3

/// Object bytes on disk: written under incoming/, sealed into blobs/, read back in ranges, linked, deleted and swept.
@Suite struct BlobStoreTests {
    func withStore(_ body: (BlobStore, String) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-blobs-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/data/s3"
        try await body(try BlobStore(directory: directory), directory)
    }

    /// Deterministic, position-dependent bytes, so a chunk read from the wrong offset shows.
    static func bytes(_ count: Int, seed: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 >> 8) ^ seed) }
    }

    static func write(_ store: BlobStore, _ bytes: [UInt8], chunk: Int = 1000) async throws -> BlobSegment {
        let writer = try store.create()
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            try await writer.write(ByteBuffer(bytes: bytes[start..<end]))
            start = end
        }
        #expect(writer.size == Int64(bytes.count))
        return try await writer.seal()
    }

    static func read(
        _ reader: BlobReader,
        offset: Int64,
        count: Int64,
        chunkSize: Int = 256 * 1024
    ) async throws
        -> (bytes: [UInt8], chunks: [Int])
    {
        var bytes: [UInt8] = []
        var chunks: [Int] = []
        try await reader.read(offset: offset, count: count, chunkSize: chunkSize) { buffer in
            chunks.append(buffer.readableBytes)
            bytes += buffer.readableBytesView
        }
        return (bytes, chunks)
    }

    static func files(in directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func writtenBytesAreSealedIntoTheBlobDirectoryAndReadBackInRanges() async throws {
        try await self.withStore { store, directory in
            // Small appends (gathered), one larger than the write size, and a tail.
            let content = Self.bytes(1_500_000)
            let writer = try store.create()
            let path = "\(directory)/incoming/\(writer.blobID)"
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(try Self.mode(path) == 0o600)
            try await writer.write(ByteBuffer(bytes: content[0..<10]))
            try await writer.write(ByteBuffer(bytes: content[10..<100_000]))
            try await writer.write(ByteBuffer(bytes: content[100_000..<1_200_000]))
            try await writer.write(ByteBuffer())
            try await writer.write(ByteBuffer(bytes: content[1_200_000...]))
            #expect(writer.size == 1_500_000)
            let segment = try await writer.seal()
            #expect(segment == BlobSegment(blobID: writer.blobID, size: 1_500_000))
            #expect(Self.files(in: "\(directory)/incoming").isEmpty)
            let blobPath = "\(directory)/blobs/\(segment.blobID.prefix(2))/\(segment.blobID)"
            #expect(FileManager.default.fileExists(atPath: blobPath))
            for sub in ["", "/incoming", "/blobs", "/blobs/\(segment.blobID.prefix(2))"] {
                #expect(try Self.mode(directory + sub) == 0o700)
            }
            await #expect(throws: BlobStoreError.closed) { try await writer.write(ByteBuffer(bytes: [1])) }
            writer.discard()  // after seal: nothing happens
            #expect(FileManager.default.fileExists(atPath: blobPath))

            let reader = try store.open(segment.blobID)
            defer { reader.close() }
            #expect(reader.size == 1_500_000)
            let whole = try await Self.read(reader, offset: 0, count: 1_500_000)
            #expect(whole.bytes == content)
            #expect(whole.chunks == [262_144, 262_144, 262_144, 262_144, 262_144, 189_280])
            let middle = try await Self.read(reader, offset: 99_995, count: 10_001, chunkSize: 4096)
            #expect(middle.bytes == Array(content[99_995..<109_996]))
            #expect(middle.chunks == [4096, 4096, 1809])
            #expect(try await Self.read(reader, offset: 1_499_999, count: 1).bytes == [content[1_499_999]])
            #expect(try await Self.read(reader, offset: 1_500_000, count: 0).chunks == [])
            for (offset, count) in [(Int64(-1), Int64(1)), (0, 1_500_001), (1_500_000, 1), (10, -1)] {
                await #expect(
                    throws: BlobStoreError.outOfRange(
                        blobID: segment.blobID,
                        offset: offset,
                        count: count,
                        size: 1_500_000
                    )
                ) {
                    try await reader.read(offset: offset, count: count) { _ in }
                }
            }
        }
    }

    @Test func anEmptyBlob() async throws {
        try await self.withStore { store, _ in
            let segment = try await Self.write(store, [])
            #expect(segment.size == 0)
            let reader = try store.open(segment.blobID)
            #expect(reader.size == 0)
            #expect(try await Self.read(reader, offset: 0, count: 0).bytes == [])
        }
    }

    @Test func aFailingConsumerStopsTheRead() async throws {
        struct Stop: Error {}
        try await self.withStore { store, _ in
            let segment = try await Self.write(store, Self.bytes(100_000), chunk: 100_000)
            let reader = try store.open(segment.blobID)
            var calls = 0
            await #expect(throws: Stop.self) {
                try await reader.read(offset: 0, count: 100_000, chunkSize: 1000) { _ in
                    calls += 1
                    if calls == 3 { throw Stop() }
                }
            }
            #expect(calls == 3)
            // The reader is still usable.
            #expect(try await Self.read(reader, offset: 0, count: 10).bytes == Self.bytes(10))
        }
    }

    @Test func discardRemovesTheUnsealedFile() async throws {
        try await self.withStore { store, directory in
            let writer = try store.create()
            try await writer.write(ByteBuffer(bytes: Self.bytes(10)))
            writer.discard()
            writer.discard()
            #expect(Self.files(in: "\(directory)/incoming").isEmpty)
            await #expect(throws: BlobStoreError.closed) { try await writer.seal() }
            #expect(throws: BlobStoreError.missing(writer.blobID)) { try store.open(writer.blobID) }

            // A writer dropped without seal or discard (a cancelled request) takes its file with it.
            do {
                let dropped = try store.create()
                try await dropped.write(ByteBuffer(bytes: Self.bytes(10)))
                #expect(Self.files(in: "\(directory)/incoming").count == 1)
            }
            #expect(Self.files(in: "\(directory)/incoming").isEmpty)
        }
    }

    /// The writer gathers small appends, writes a full buffer while the next fills, and hands large appends to the
    /// pool as they are: whatever the sizes, the bytes land in order.
    @Test func appendsOfEverySizeLandInOrder() async throws {
        try await self.withStore { store, _ in
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<2 {
                let sizes = (0..<10).map { _ in
                    [1, 100, 64 * 1024, 300 * 1024, 512 * 1024, 600 * 1024].randomElement(using: &generator)!
                }
                var expected: [UInt8] = []
                let writer = try await store.makeWriter()
                for (index, size) in sizes.enumerated() {
                    let chunk = Self.bytes(size, seed: index)
                    expected += chunk
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                let segment = try await writer.seal()
                #expect(segment.size == Int64(expected.count))
                let reader = try await store.makeReader(segment.blobID)
                defer { reader.close() }
                let (bytes, _) = try await Self.read(reader, offset: 0, count: segment.size)
                #expect(bytes == expected)
            }
        }
    }

    /// A discard while a large write is still running removes the file and leaves nothing behind.
    @Test func aDiscardDuringAWriteLeavesNothing() async throws {
        try await self.withStore { store, directory in
            let large = ByteBuffer(bytes: Self.bytes(1024 * 1024))
            for _ in 0..<4 {
                let writer = try await store.makeWriter()
                try await writer.write(large)
                writer.discard()
                #expect(Self.files(in: "\(directory)/incoming").isEmpty)
            }
            // Every descriptor the discards closed late is closed by now or soon; a new blob is still whole.
            let bytes = Self.bytes(300_000)
            let segment = try await Self.write(store, bytes, chunk: 70_000)
            let reader = try await store.makeReader(segment.blobID)
            defer { reader.close() }
            #expect(try await Self.read(reader, offset: 0, count: segment.size).bytes == bytes)
        }
    }

    @Test func aLinkIsAnIndependentNameForTheSameBytes() async throws {
        try await self.withStore { store, _ in
            let content = Self.bytes(5000, seed: 7)
            let original = try await Self.write(store, content)
            let copy = BlobSegment(blobID: try store.link(original.blobID), size: original.size)
            #expect(copy.blobID != original.blobID)
            #expect(try store.open(copy.blobID).size == original.size)
            store.delete([original])
            #expect(throws: BlobStoreError.missing(original.blobID)) { try store.open(original.blobID) }
            let reader = try store.open(copy.blobID)
            #expect(try await Self.read(reader, offset: 0, count: 5000).bytes == content)
            #expect(throws: BlobStoreError.missing(original.blobID)) { try store.link(original.blobID) }
        }
    }

    @Test func anOpenReaderOutlivesTheBlobsDeletion() async throws {
        try await self.withStore { store, _ in
            let content = Self.bytes(300_000)
            let segment = try await Self.write(store, content)
            let reader = try store.open(segment.blobID)
            store.delete([segment, segment, BlobSegment(blobID: "0123456789abcdef0123456789abcdef", size: 1)])
            #expect(try await Self.read(reader, offset: 0, count: 300_000).bytes == content)
            reader.close()
            reader.close()
            await #expect(throws: BlobStoreError.closed) { try await reader.read(offset: 0, count: 1) { _ in } }
        }
    }

    @Test func idsThatAreNotBlobIDsAreRefused() async throws {
        try await self.withStore { store, directory in
            let outside = directory + "/victim"
            FileManager.default.createFile(atPath: outside, contents: Data([1]))
            let valid = "0123456789abcdef0123456789abcdef"
            for id in [
                "", "../victim", "../../s3/victim", "0123456789ABCDEF0123456789ABCDEF", String(valid.dropLast()),
                valid + "0", "0123456789abcdef0123456789abcde/", "/etc/passwd", "0123456789abcdef0123456789abcdeg",
                "٠١٢٣٤٥٦٧٨٩abcdef0123456789abcdef",
            ] {
                #expect(throws: BlobStoreError.invalidID(id)) { try store.open(id) }
                #expect(throws: BlobStoreError.invalidID(id)) { try store.link(id) }
                store.delete([BlobSegment(blobID: id, size: 1)])
            }
            #expect(FileManager.default.fileExists(atPath: outside))
            #expect(throws: BlobStoreError.missing(valid)) { try store.open(valid) }
            #expect(BlobStore.isValid(valid))
        }
    }

    @Test func sweepRemovesIncomingFilesAndOrphansAndKeepsReferencedBlobs() async throws {
        try await self.withStore { store, directory in
            let kept = try await Self.write(store, Self.bytes(10))
            let orphan = try await Self.write(store, Self.bytes(20))
            let linked = BlobSegment(blobID: try store.link(kept.blobID), size: kept.size)
            // What a crash leaves: a half-written file in incoming/, and a stray name in a fan-out directory.
            let interrupted = try store.create()
            try await interrupted.write(ByteBuffer(bytes: Self.bytes(5)))
            FileManager.default.createFile(atPath: "\(directory)/blobs/ab/not-a-blob", contents: Data([1]))
            let misplaced = "cd" + String(kept.blobID.dropFirst(2))
            FileManager.default.createFile(atPath: "\(directory)/blobs/ab/\(misplaced)", contents: Data([1]))

            let removed = try store.sweep(keeping: [kept.blobID, linked.blobID, misplaced])
            #expect(removed.incoming == 1)
            #expect(removed.orphans == 3)  // the orphan, the stray name and the id outside its fan-out directory
            #expect(Self.files(in: "\(directory)/incoming").isEmpty)
            #expect(throws: BlobStoreError.missing(orphan.blobID)) { try store.open(orphan.blobID) }
            #expect(try store.open(kept.blobID).size == 10)
            #expect(try store.open(linked.blobID).size == 10)
            let again = try store.sweep(keeping: [kept.blobID, linked.blobID])
            #expect(again.incoming == 0 && again.orphans == 0)
            interrupted.discard()

            // A second store over the same directory (a restart) sees the same blobs.
            let restarted = try BlobStore(directory: directory)
            #expect(try restarted.open(kept.blobID).size == 10)
        }
    }
}
