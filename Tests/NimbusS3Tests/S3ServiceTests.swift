import Crypto
import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusEdge
@testable import NimbusInvoker
import NimbusStore
import Synchronization
import Testing

@testable import NimbusS3

/// The S3 service driven as the edge drives it: a real SQLite store and real files in a temporary directory.
@Suite struct S3ServiceTests {
    /// Records asynchronous invocations; allows every principal.
    final class Functions: FunctionInvoking {
        let queued = Mutex<[TriggeredInvocation]>([])

        func invoke(_ invocation: TriggeredInvocation) async throws -> InvokeResult {
            InvokeResult(payload: ByteBuffer(), executedVersion: "$LATEST", coldStart: false)
        }

        func enqueue(_ invocation: TriggeredInvocation) async throws {
            self.queued.withLock { $0.append(invocation) }
        }

        func authorize(_ invocation: TriggeredInvocation) async throws {
            guard invocation.function.hasSuffix(":allowed") else { throw NimbusError(.accessDenied, "denied") }
        }
    }

    struct Harness {
        let service: S3Service
        let store: SQLiteObjectStore
        let relay: NotificationRelay
        let functions: Functions
        let directory: String
        let namespace = AccountContext(region: "us-east-1", accountID: "111122223333")

        func call(
            _ operation: String, bucket: String, key: String? = nil, query: [(String, String)] = [],
            headers: [(String, String)] = [], body: [UInt8] = []
        ) async throws -> ServiceResponse {
            guard let op = self.service.definition.operations.first(where: { $0.name == operation }) else {
                throw S3Error("Test", "no operation \(operation)")
            }
            var labels = ["Bucket": bucket]
            if let key { labels["Key"] = key }
            var request = ServiceRequest(
                operation: operation, namespace: self.namespace,
                caller: Caller(kind: .operatorKey, accessKeyID: "AKIA", account: self.namespace.accountID),
                requestID: UUID().uuidString, labels: labels, query: query,
                headers: headers.map { ($0.0.lowercased(), $0.1) }, body: ByteBuffer(bytes: body))
            if op.streamsBody { request.bodyStream = RequestBodyStream(ByteBuffer(bytes: body)) }
            return try await op.handler(request)
        }

        func failure(
            _ operation: String, bucket: String, key: String? = nil, query: [(String, String)] = [],
            headers: [(String, String)] = [], body: [UInt8] = []
        ) async -> S3Error? {
            do {
                _ = try await self.call(operation, bucket: bucket, key: key, query: query, headers: headers, body: body)
                return nil
            } catch let error as S3Error {
                return error
            } catch {
                return S3Error("Unexpected", "\(error)")
            }
        }

        /// A streamed or in-memory body, read whole.
        func bytes(_ response: ServiceResponse) async throws -> [UInt8] {
            switch response.body {
            case .bytes(let buffer, _): return Array(buffer.readableBytesView)
            case .stream(_, _, let body):
                var collector: any BodyWriter = Collector()
                try await body.write(&collector)
                return (collector as! Collector).bytes
            case .empty, .document: return []
            }
        }

        func text(_ response: ServiceResponse) async throws -> String {
            String(decoding: try await self.bytes(response), as: UTF8.self)
        }

        /// Files under the blob directory (sealed and incoming).
        func files() -> [String] {
            let enumerator = FileManager.default.enumerator(atPath: self.directory)
            var found: [String] = []
            while let path = enumerator?.nextObject() as? String {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(self.directory)/\(path)", isDirectory: &isDirectory),
                    !isDirectory.boolValue
                {
                    found.append(path)
                }
            }
            return found
        }
    }

    struct Collector: BodyWriter {
        var bytes: [UInt8] = []
        mutating func write(_ buffer: ByteBuffer) async throws { self.bytes += buffer.readableBytesView }
    }

    func withService(_ body: (Harness) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-s3-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let database = try NimbusDatabase(path: "\(root)/nimbus.sqlite")
        let store = SQLiteObjectStore(database: database)
        let functions = Functions()
        var logger = Logger(label: "s3-test")
        logger.logLevel = .critical
        let relay = NotificationRelay(store: store, functions: functions, queues: nil, logger: logger)
        let service = S3Service(
            store: store, blobs: try BlobStore(directory: "\(root)/s3"), functions: functions, queues: nil, relay: relay,
            logger: logger)
        let harness = Harness(
            service: service, store: store, relay: relay, functions: functions, directory: "\(root)/s3")
        _ = try await harness.call("CreateBucket", bucket: "bkt")
        try await body(harness)
    }

    @Test func listingsRollUpCommonPrefixesAndPage() async throws {
        try await self.withService { s3 in
            for key in ["a/1", "a/2", "b", "c/x/y", "c/z", "d"] {
                _ = try await s3.call("PutObject", bucket: "bkt", key: key, body: Array(key.utf8))
            }
            var seen: [String] = []
            var token: String?
            for _ in 0..<10 {
                var query = [("list-type", "2"), ("delimiter", "/"), ("max-keys", "2")]
                if let token { query.append(("continuation-token", token)) }
                let page = try await s3.text(try await s3.call("ListObjectsV2", bucket: "bkt", query: query))
                seen += Self.values(of: "Key", in: page) + Self.values(of: "Prefix", in: page).filter { !$0.isEmpty }
                token = Self.values(of: "NextContinuationToken", in: page).first
                if token == nil { break }
            }
            #expect(seen.sorted() == ["a/", "b", "c/", "d"])
            let under = try await s3.text(
                try await s3.call("ListObjectsV2", bucket: "bkt", query: [("list-type", "2"), ("prefix", "c/"), ("delimiter", "/")]))
            #expect(Self.values(of: "Key", in: under) == ["c/z"])
            #expect(Self.values(of: "Prefix", in: under) == ["c/", "c/x/"])
        }
    }

    /// The text of every `<name>` element, in order (enough for these flat documents).
    static func values(of name: String, in xml: String) -> [String] {
        var values: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(name)>"), let close = rest.range(of: "</\(name)>", range: open.upperBound..<rest.endIndex) {
            values.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return values
    }

    @Test func rangesConditionsAndOverrides() async throws {
        try await self.withService { s3 in
            let body = Array("0123456789".utf8)
            _ = try await s3.call("PutObject", bucket: "bkt", key: "k", headers: [("Content-Type", "text/plain")], body: body)
            let partial = try await s3.call("GetObject", bucket: "bkt", key: "k", headers: [("Range", "bytes=2-4")])
            #expect(partial.status == 206)
            #expect(try await s3.bytes(partial) == Array("234".utf8))
            #expect(partial.headers.contains { $0 == ("Content-Range", "bytes 2-4/10") })
            #expect(try await s3.bytes(try await s3.call("GetObject", bucket: "bkt", key: "k", headers: [("Range", "bytes=-3")])) == Array("789".utf8))
            #expect(await s3.failure("GetObject", bucket: "bkt", key: "k", headers: [("Range", "bytes=10-")])?.code == "InvalidRange")
            let etag = "\"\(Self.hex(Insecure.MD5.hash(data: body)))\""
            #expect(try await s3.call("GetObject", bucket: "bkt", key: "k", headers: [("If-None-Match", etag)]).status == 304)
            #expect(await s3.failure("GetObject", bucket: "bkt", key: "k", headers: [("If-Match", "\"nope\"")])?.code == "PreconditionFailed")
            let overridden = try await s3.call(
                "GetObject", bucket: "bkt", key: "k", query: [("response-content-type", "application/x-test")])
            guard case .stream(_, let contentType, _) = overridden.body else { Issue.record("not streamed"); return }
            #expect(contentType == "application/x-test")
        }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func multipartChecksPartsAndComputesTheETag() async throws {
        try await self.withService { s3 in
            let initiated = try await s3.text(try await s3.call("CreateMultipartUpload", bucket: "bkt", key: "m", query: [("uploads", "")]))
            let upload = try #require(Self.values(of: "UploadId", in: initiated).first)
            let big = [UInt8](repeating: 7, count: 5 * 1024 * 1024)
            let small = Array("tail".utf8)
            for (number, bytes) in [(1, small), (2, big), (3, small)] {
                _ = try await s3.call(
                    "UploadPart", bucket: "bkt", key: "m", query: [("partNumber", "\(number)"), ("uploadId", upload)], body: bytes)
            }
            let md5 = { (bytes: [UInt8]) in Self.hex(Insecure.MD5.hash(data: bytes)) }
            let complete = { (parts: [(Int, String)]) in
                Array(
                    ("<CompleteMultipartUpload>"
                        + parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\"\($0.1)\"</ETag></Part>" }.joined()
                        + "</CompleteMultipartUpload>").utf8)
            }
            let query = [("uploadId", upload)]
            #expect(await s3.failure("CompleteMultipartUpload", bucket: "bkt", key: "m", query: query, body: complete([(1, md5(small)), (3, md5(small))]))?.code == "EntityTooSmall")
            #expect(await s3.failure("CompleteMultipartUpload", bucket: "bkt", key: "m", query: query, body: complete([(2, md5(small))]))?.code == "InvalidPart")
            #expect(await s3.failure("CompleteMultipartUpload", bucket: "bkt", key: "m", query: query, body: complete([(3, md5(small)), (2, md5(big))]))?.code == "InvalidPartOrder")
            let done = try await s3.text(
                try await s3.call("CompleteMultipartUpload", bucket: "bkt", key: "m", query: query, body: complete([(2, md5(big)), (3, md5(small))])))
            let expected = Self.hex(Insecure.MD5.hash(data: Self.bytes(hex: md5(big)) + Self.bytes(hex: md5(small)))) + "-2"
            #expect(Self.values(of: "ETag", in: done) == ["&quot;\(expected)&quot;"] || Self.values(of: "ETag", in: done) == ["\"\(expected)\""])
            #expect(try await s3.bytes(try await s3.call("GetObject", bucket: "bkt", key: "m")) == big + small)
            // The unused part's file is gone; the object's two are all that is left.
            #expect(s3.files().filter { !$0.hasPrefix("incoming") }.count == 2)
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test func aFailedPutLeavesNothingBehind() async throws {
        try await self.withService { s3 in
            let wrong = Data(Insecure.MD5.hash(data: Array("other".utf8))).base64EncodedString()
            let error = await s3.failure("PutObject", bucket: "bkt", key: "k", headers: [("Content-MD5", wrong)], body: Array("body".utf8))
            #expect(error?.code == "BadDigest")
            #expect(await s3.failure("GetObject", bucket: "bkt", key: "k")?.code == "NoSuchKey")
            #expect(s3.files().isEmpty)
            #expect(await s3.failure("PutObject", bucket: "bkt", key: String(repeating: "k", count: 1025))?.code == "KeyTooLongError")
        }
    }

    @Test func notificationsAreQueuedWithTheObjectAndRelayedOnce() async throws {
        try await self.withService { s3 in
            let denied = """
                <NotificationConfiguration><CloudFunctionConfiguration><CloudFunction>arn:aws:lambda:us-east-1:111122223333:function:denied</CloudFunction><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration></NotificationConfiguration>
                """
            #expect(await s3.failure("PutBucketNotificationConfiguration", bucket: "bkt", query: [("notification", "")], body: Array(denied.utf8))?.message == "Unable to validate the following destination configurations")
            let allowed = """
                <NotificationConfiguration><CloudFunctionConfiguration><Id>thumbs</Id><CloudFunction>arn:aws:lambda:us-east-1:111122223333:function:allowed</CloudFunction><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter></CloudFunctionConfiguration></NotificationConfiguration>
                """
            _ = try await s3.call("PutBucketNotificationConfiguration", bucket: "bkt", query: [("notification", "")], body: Array(allowed.utf8))
            _ = try await s3.call("PutObject", bucket: "bkt", key: "x.png", body: [1])
            _ = try await s3.call("PutObject", bucket: "bkt", key: "my photo.jpg", body: [1, 2])
            let pending = try await s3.store.pendingNotifications(limit: 10)
            #expect(pending.count == 1)
            #expect(try await s3.relay.deliverPending())
            let queued = s3.functions.queued.withLock { $0 }
            #expect(queued.count == 1)
            #expect(queued.first?.requestID == pending.first?.deliveryID)
            #expect(queued.first?.principal == "s3.amazonaws.com")
            #expect(queued.first?.sourceARN == "arn:aws:s3:::bkt")
            let record = String(buffer: queued.first?.payload ?? ByteBuffer())
            #expect(record.contains(#""key":"my+photo.jpg""#))
            #expect(record.contains(#""configurationId":"thumbs""#))
            #expect(try await s3.store.pendingNotifications(limit: 10).isEmpty)
        }
    }

    @Test func copiesShareFilesAndRefuseToCopyOntoThemselves() async throws {
        try await self.withService { s3 in
            _ = try await s3.call("PutObject", bucket: "bkt", key: "src", headers: [("x-amz-meta-a", "1")], body: Array("data".utf8))
            #expect(await s3.failure("PutObject", bucket: "bkt", key: "src", headers: [("x-amz-copy-source", "/bkt/src")])?.code == "InvalidRequest")
            _ = try await s3.call("PutObject", bucket: "bkt", key: "dst", headers: [("x-amz-copy-source", "bkt/src")])
            _ = try await s3.call("DeleteObject", bucket: "bkt", key: "src")
            let copy = try await s3.call("GetObject", bucket: "bkt", key: "dst")
            #expect(try await s3.bytes(copy) == Array("data".utf8))
            #expect(copy.headers.contains { $0 == ("x-amz-meta-a", "1") })
        }
    }

    @Test func httpDatesMatchFoundationsFormatter() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var generator = SystemRandomNumberGenerator()
        let samples: [Int64] = [0, 951_782_400_000, 1_255_369_800_000, 4_102_444_799_000]
            + (0..<200).map { _ in Int64.random(in: 0..<4_102_444_800_000, using: &generator) }
        for millis in samples {
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(millis / 1000)))
            #expect(S3Time.http(millis) == expected, "\(millis)")
        }
        #expect(S3Time.http(1_255_369_800_000) == "Mon, 12 Oct 2009 17:50:00 GMT")
    }

    @Test func byteRanges() {
        #expect(ByteRange("bytes=0-0")?.resolve(size: 5).map { [$0.0, $0.1] } == [0, 0])
        #expect(ByteRange("bytes=3-")?.resolve(size: 5).map { [$0.0, $0.1] } == [3, 4])
        #expect(ByteRange("bytes=2-100")?.resolve(size: 5).map { [$0.0, $0.1] } == [2, 4])
        #expect(ByteRange("bytes=-10")?.resolve(size: 5).map { [$0.0, $0.1] } == [0, 4])
        #expect(ByteRange("bytes=5-")?.resolve(size: 5) == nil)
        #expect(ByteRange("bytes=4-2") == nil)
        #expect(ByteRange("bytes=0-1,3-4") == nil)
        #expect(ByteRange("items=0-1") == nil)
    }
}
