import Crypto
import Foundation
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusProtocols
import NimbusSigV4
import NimbusStore

/// Objects: PutObject (streamed to a file), GetObject and HeadObject (streamed from it, with ranges, conditions and
/// `response-*` overrides), DeleteObject, DeleteObjects and CopyObject.
extension S3Service {
    func putOrCopyObject(_ request: ServiceRequest) async throws -> ServiceResponse {
        if request.header("x-amz-copy-source") != nil { return try await self.copyObject(request) }
        let bucket = try await self.ownedBucket(request)
        let key = try Self.key(request)
        let metadata = try Self.metadata(request)
        let tags = try request.header("x-amz-tagging").map(Self.parseTaggingHeader) ?? []
        let received = try await self.receive(request, algorithm: nil)
        let object = StoredObject(
            bucket: bucket.name, key: key, segments: [received.segment], size: received.segment.size,
            etag: received.md5Hex, lastModifiedMillis: Timestamp.nowMillis(), metadata: metadata,
            checksum: received.checksum, tags: tags, storageClass: Self.storageClass(request))
        try await self.commit(object, in: bucket, event: "ObjectCreated:Put", request: request)
        var headers: [(String, String)] = [("ETag", "\"\(object.etag)\"")]
        if let checksum = received.checksum {
            headers.append(("x-amz-checksum-\(checksum.algorithm)", checksum.value))
            headers.append(("x-amz-checksum-type", checksum.type))
        }
        return ServiceResponse(status: 200, headers: headers)
    }

    /// Makes an object visible with its notifications, deletes the files of the object it replaced (in the
    /// background), and wakes the relay. If the commit fails, the new object's files are deleted.
    func commit(_ object: StoredObject, in bucket: StoredBucket, event: String, request: ServiceRequest) async throws {
        let outbox = self.notifications.outbox(for: bucket, event: event, object: object, request: request)
        let replaced: [BlobSegment]
        do {
            replaced = try await self.store.putObject(object, notifications: outbox)
        } catch {
            await self.blobs.remove(object.segments)
            if case ObjectStoreError.noSuchBucket = error { throw S3Error.noSuchBucket(bucket.name) }
            throw error
        }
        // The replaced files are unreachable once the commit returned: unlink them after the answer.
        self.blobs.removeLater(replaced)
        if !outbox.isEmpty { self.notifications.relay.wake() }
    }

    /// What a streamed body became: its file, its MD5 and the flexible checksum it was sent with.
    struct Received {
        var segment: BlobSegment
        var md5Hex: String
        var checksum: StoredChecksum?
    }

    /// Streams the request's body into a new file, checking `Content-MD5` and any flexible checksum (header or
    /// trailer) as S3 does. The file is synced and in place on return, not yet visible; on any failure it is gone.
    /// The writer writes each full buffer while the next chunks are received and hashed (``BlobWriter``), so the
    /// network, the hashes and the disk overlap.
    /// - Parameter algorithm: the checksum a multipart upload's parts must carry, if it named one.
    func receive(_ request: ServiceRequest, algorithm required: String?) async throws -> Received {
        guard let stream = request.bodyStream else {
            throw S3Error("InternalError", status: 500, "The request body was not streamed.")
        }
        if let declared = request.header("content-length").flatMap(Int64.init), declared > Self.maximumPutBytes {
            throw S3Error.entityTooLarge(size: declared, maximum: Self.maximumPutBytes)
        }
        let contentMD5 = try request.header("content-md5").map(Self.decodeContentMD5)
        let requested = try Self.requestedChecksum(request, required: required)
        let writer = try await self.blobs.makeWriter()
        do {
            var md5 = Insecure.MD5()
            var checksum = requested.map { IncrementalChecksum($0.algorithm) }
            while let chunk = try await stream.next() {
                chunk.withUnsafeReadableBytes { bytes in
                    md5.update(bufferPointer: bytes)
                    checksum?.update(bytes)
                }
                try await writer.write(chunk)
            }
            let digest = Array(md5.finalize())
            if let contentMD5, contentMD5 != digest {
                throw S3Error.badDigest(expected: Data(contentMD5).base64EncodedString(), calculated: Data(digest).base64EncodedString())
            }
            var stored: StoredChecksum?
            if let requested, var checksum {
                let computed = Data(checksum.finalize()).base64EncodedString()
                let given =
                    requested.value
                    ?? stream.trailers.first { $0.0.lowercased() == requested.algorithm.headerName }?.1
                if let given, given != computed { throw S3Error.checksumMismatch(requested.algorithm.rawValue) }
                stored = StoredChecksum(algorithm: requested.algorithm.rawValue, value: computed)
            }
            let segment = try await writer.seal()
            return Received(segment: segment, md5Hex: Self.hex(digest), checksum: stored)
        } catch {
            writer.discard()
            throw error
        }
    }

    /// The flexible checksum a request asks for: a `x-amz-checksum-<algorithm>` header with its value, or an
    /// algorithm whose value comes in a trailer (`x-amz-trailer`) or that the object only records
    /// (`x-amz-sdk-checksum-algorithm`).
    static func requestedChecksum(_ request: ServiceRequest, required: String?) throws -> (
        algorithm: ChecksumAlgorithm, value: String?
    )? {
        for (name, value) in request.headers where name.hasPrefix("x-amz-checksum-") {
            if name == "x-amz-checksum-type" || name == "x-amz-checksum-algorithm" || name == "x-amz-checksum-mode" { continue }
            guard let algorithm = ChecksumAlgorithm(headerName: name) else {
                throw S3Error.invalidRequest("The algorithm type you specified in \(name) header is invalid.")
            }
            guard let digest = Data(base64Encoded: value), digest.count == algorithm.digestSize else {
                throw S3Error.invalidRequest("Value for \(name) header is invalid.")
            }
            return (algorithm, value)
        }
        if let trailer = request.header("x-amz-trailer"), let algorithm = ChecksumAlgorithm(headerName: trailer) {
            return (algorithm, nil)
        }
        let named = request.header("x-amz-sdk-checksum-algorithm") ?? required
        if let named {
            guard let algorithm = ChecksumAlgorithm(rawValue: named.lowercased()) else {
                throw S3Error.unsupportedChecksumAlgorithm
            }
            return (algorithm, nil)
        }
        return nil
    }

    static func decodeContentMD5(_ value: String) throws -> [UInt8] {
        guard let digest = Data(base64Encoded: value), digest.count == 16 else { throw S3Error.invalidDigest }
        return Array(digest)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The representation headers and `x-amz-meta-*` of a PUT, a copy with `REPLACE`, or CreateMultipartUpload.
    static func metadata(_ request: ServiceRequest) throws -> ObjectMetadata {
        var metadata = ObjectMetadata(
            contentType: request.header("content-type"), contentEncoding: request.header("content-encoding"),
            contentDisposition: request.header("content-disposition"), contentLanguage: request.header("content-language"),
            cacheControl: request.header("cache-control"), expires: request.header("expires"))
        // aws-chunked is the transfer's encoding, not the object's.
        if let encoding = metadata.contentEncoding {
            let kept = encoding.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                $0.lowercased() != "aws-chunked"
            }
            metadata.contentEncoding = kept.isEmpty ? nil : kept.joined(separator: ",")
        }
        var size = 0
        for (name, value) in request.headers where name.hasPrefix("x-amz-meta-") {
            let key = String(name.dropFirst("x-amz-meta-".count))
            size += key.utf8.count + value.utf8.count
            metadata.user.append(S3Tag(key: key, value: value))
        }
        guard size <= 2048 else {
            throw S3Error(
                "MetadataTooLarge", status: 400, "Your metadata headers exceed the maximum allowed metadata size",
                fields: [("Size", String(size)), ("MaxSizeAllowed", "2048")])
        }
        return metadata
    }

    static func storageClass(_ request: ServiceRequest) -> String {
        request.header("x-amz-storage-class") ?? "STANDARD"
    }

    // MARK: GetObject, HeadObject

    func getObject(_ request: ServiceRequest, head: Bool) async throws -> ServiceResponse {
        _ = try await self.ownedBucket(request)
        let key = try Self.key(request)
        // A reader keeps its file even if a later PUT or DELETE replaces the object meanwhile; a file deleted between
        // the lookup and the open means the object changed: look again.
        for _ in 0..<3 {
            guard let object = try await self.store.object(bucket: request.label("Bucket"), key: key) else {
                throw S3Error.noSuchKey(key)
            }
            if let notModified = try Self.checkConditions(request, object: object) { return notModified }
            let selection = try Self.selection(request, object: object)
            var headers = Self.objectHeaders(object, request: request)
            if let partCount = selection.partCount { headers.append(("x-amz-mp-parts-count", String(partCount))) }
            if let range = selection.contentRange { headers.append(("Content-Range", range)) }
            let status = selection.isPartial ? 206 : 200
            let contentType = Self.override(request, "response-content-type") ?? object.metadata.contentType ?? "binary/octet-stream"
            if head {
                headers.append(("Content-Length", String(selection.length)))
                return ServiceResponse(status: status, headers: headers, body: .bytes(ByteBuffer(), contentType: contentType))
            }
            let readers: [(BlobReader, offset: Int64, count: Int64)]
            do {
                readers = try await self.openReaders(
                    object.segments, range: selection.offset..<(selection.offset + selection.length))
            } catch BlobStoreError.missing {
                continue
            }
            return ServiceResponse(
                status: status, headers: headers,
                body: .stream(
                    length: selection.length, contentType: contentType,
                    StreamedBody { writer in
                        defer { for reader in readers { reader.0.close() } }
                        for (reader, offset, count) in readers {
                            try await reader.read(offset: offset, count: count) { try await writer.write($0) }
                        }
                    }))
        }
        throw S3Error("InternalError", status: 500, "The object changed while it was being read; try again.")
    }

    /// Opens the files covering `range` of an object made of `segments`, each with the run to read from it, on the
    /// blob store's pool (an open searches a directory).
    func openReaders(_ segments: [BlobSegment], range: Range<Int64>) async throws -> [(BlobReader, offset: Int64, count: Int64)] {
        var opened: [(BlobReader, offset: Int64, count: Int64)] = []
        do {
            for run in Self.runs(of: segments, in: range) {
                opened.append((try await self.blobs.makeReader(run.blobID), run.offset, run.count))
            }
        } catch {
            for reader in opened { reader.0.close() }
            throw error
        }
        return opened
    }

    /// The blobs covering `range` of an object made of `segments`, each with the run of it that lies in `range`.
    static func runs(of segments: [BlobSegment], in range: Range<Int64>) -> [(blobID: String, offset: Int64, count: Int64)] {
        var runs: [(blobID: String, offset: Int64, count: Int64)] = []
        var start: Int64 = 0
        for segment in segments {
            let end = start + segment.size
            defer { start = end }
            let lower = max(range.lowerBound, start)
            let upper = min(range.upperBound, end)
            guard lower < upper else { continue }
            runs.append((segment.blobID, lower - start, upper - lower))
        }
        return runs
    }

    /// The headers that describe a stored object (GetObject, HeadObject), with `response-*` overrides applied.
    static func objectHeaders(_ object: StoredObject, request: ServiceRequest) -> [(String, String)] {
        var headers: [(String, String)] = [
            ("Last-Modified", S3Time.http(object.lastModifiedMillis)), ("ETag", "\"\(object.etag)\""),
            ("Accept-Ranges", "bytes"),
        ]
        let m = object.metadata
        let representation: [(String, String?, String)] = [
            ("Content-Encoding", m.contentEncoding, "response-content-encoding"),
            ("Content-Disposition", m.contentDisposition, "response-content-disposition"),
            ("Content-Language", m.contentLanguage, "response-content-language"),
            ("Cache-Control", m.cacheControl, "response-cache-control"),
            ("Expires", m.expires, "response-expires"),
        ]
        for (name, stored, override) in representation {
            if let value = Self.override(request, override) ?? stored { headers.append((name, value)) }
        }
        for meta in m.user { headers.append(("x-amz-meta-\(meta.key)", meta.value)) }
        if !object.tags.isEmpty { headers.append(("x-amz-tagging-count", String(object.tags.count))) }
        if object.storageClass != "STANDARD" { headers.append(("x-amz-storage-class", object.storageClass)) }
        if let checksum = object.checksum, request.header("x-amz-checksum-mode")?.uppercased() == "ENABLED",
            request.header("range") == nil
        {
            headers.append(("x-amz-checksum-\(checksum.algorithm)", checksum.value))
            headers.append(("x-amz-checksum-type", checksum.type))
        }
        return headers
    }

    static func override(_ request: ServiceRequest, _ name: String) -> String? {
        request.queryValue(name)
    }

    /// S3's conditional GET: `If-Match` and `If-Unmodified-Since` fail with 412, `If-None-Match` and
    /// `If-Modified-Since` answer 304; when If-Match holds, If-Unmodified-Since is not checked, and when If-None-Match
    /// fails, If-Modified-Since is not.
    static func checkConditions(_ request: ServiceRequest, object: StoredObject) throws -> ServiceResponse? {
        let etag = "\"\(object.etag)\""
        let modifiedSeconds = object.lastModifiedMillis / 1000
        let ifMatch = request.header("if-match")
        if let ifMatch, !Self.etagMatches(ifMatch, etag) { throw S3Error.preconditionFailed("If-Match") }
        if ifMatch == nil, let since = request.header("if-unmodified-since").flatMap(S3Time.parseHTTP),
            modifiedSeconds > since / 1000
        {
            throw S3Error.preconditionFailed("If-Unmodified-Since")
        }
        let notModified = ServiceResponse(
            status: 304, headers: [("ETag", etag), ("Last-Modified", S3Time.http(object.lastModifiedMillis))])
        if let ifNoneMatch = request.header("if-none-match") {
            if Self.etagMatches(ifNoneMatch, etag) { return notModified }
        } else if let since = request.header("if-modified-since").flatMap(S3Time.parseHTTP), modifiedSeconds <= since / 1000 {
            return notModified
        }
        return nil
    }

    static func etagMatches(_ condition: String, _ etag: String) -> Bool {
        condition.split(separator: ",").contains { candidate in
            let trimmed = candidate.trimmingCharacters(in: .whitespaces)
            return trimmed == "*" || trimmed == etag || "\"\(trimmed)\"" == etag
        }
    }

    /// Which bytes a GET returns: all, a `Range`, or a part (`partNumber`).
    struct Selection {
        var offset: Int64
        var length: Int64
        var isPartial: Bool
        var contentRange: String?
        var partCount: Int?
    }

    static func selection(_ request: ServiceRequest, object: StoredObject) throws -> Selection {
        let size = object.size
        if let part = request.queryValue("partNumber") {
            guard let number = Int(part), number >= 1, number <= 10_000 else {
                throw S3Error.invalidArgument(
                    "Part number must be an integer between 1 and 10000, inclusive", name: "partNumber", value: part)
            }
            guard number <= object.segments.count else { throw S3Error.invalidRange(requested: "partNumber=\(part)", size: size) }
            let offset = object.segments.prefix(number - 1).reduce(Int64(0)) { $0 + $1.size }
            let length = object.segments[number - 1].size
            let isMultipart = object.etag.contains("-")
            return Selection(
                offset: offset, length: length, isPartial: isMultipart,
                contentRange: isMultipart ? "bytes \(offset)-\(offset + length - 1)/\(size)" : nil,
                partCount: isMultipart ? object.segments.count : nil)
        }
        guard let header = request.header("range"), let range = ByteRange(header) else {
            return Selection(offset: 0, length: size, isPartial: false)
        }
        guard let (first, last) = range.resolve(size: size) else {
            throw S3Error.invalidRange(requested: header, size: size)
        }
        return Selection(
            offset: first, length: last - first + 1, isPartial: true, contentRange: "bytes \(first)-\(last)/\(size)")
    }

    // MARK: DeleteObject, DeleteObjects

    func deleteObject(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let key = try Self.key(request)
        try await self.remove(key, from: bucket, request: request)
        return ServiceResponse(status: 204)
    }

    /// Deletes an object (nothing when there is none, as S3 answers) with its `ObjectRemoved:Delete` events.
    func remove(_ key: String, from bucket: StoredBucket, request: ServiceRequest) async throws {
        let notifications = self.notifications
        let removed: StoredObject?
        do {
            removed = try await self.store.deleteObject(bucket: bucket.name, key: key) { object in
                notifications.outbox(for: bucket, event: "ObjectRemoved:Delete", object: object, request: request)
            }
        } catch ObjectStoreError.noSuchBucket {
            throw S3Error.noSuchBucket(bucket.name)
        }
        if let removed {
            self.blobs.removeLater(removed.segments)
            self.notifications.relay.wake()
        }
    }

    func deleteObjects(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let document = try Self.document(request)
        guard document.name == "Delete" else { throw S3Error.malformedXML }
        let quiet = document.first("Quiet")?.text.lowercased() == "true"
        let keys = try document.all("Object").map { object in
            guard let key = object.first("Key")?.text else { throw S3Error.malformedXML }
            return key
        }
        guard !keys.isEmpty, keys.count <= 1000 else { throw S3Error.malformedXML }
        var results: [XML.Element] = []
        for key in keys {
            guard !key.isEmpty, key.utf8.count <= 1024 else {
                results.append(
                    XML.Element(
                        "Error",
                        children: [
                            XML.Element("Key", text: key), XML.Element("Code", text: "KeyTooLongError"),
                            XML.Element("Message", text: "Your key is too long"),
                        ]))
                continue
            }
            try await self.remove(key, from: bucket, request: request)
            if !quiet { results.append(XML.Element("Deleted", children: [XML.Element("Key", text: key)])) }
        }
        return Self.xml(XML.Element("DeleteResult", children: results))
    }

    // MARK: CopyObject

    /// `x-amz-copy-source`: `/<bucket>/<key>` or `<bucket>/<key>`, URL-encoded, optionally `?versionId=`.
    func copySource(_ request: ServiceRequest) async throws -> StoredObject {
        let header = request.header("x-amz-copy-source") ?? ""
        var source = header.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        source = source.removingPercentEncoding ?? source
        if source.hasPrefix("/") { source.removeFirst() }
        guard let slash = source.firstIndex(of: "/") else {
            throw S3Error.invalidArgument("Invalid copy source object key", name: "x-amz-copy-source", value: header)
        }
        let bucketName = String(source[..<slash])
        let key = String(source[source.index(after: slash)...])
        guard !key.isEmpty else {
            throw S3Error.invalidArgument("Invalid copy source object key", name: "x-amz-copy-source", value: header)
        }
        guard let bucket = try await self.store.bucket(bucketName) else { throw S3Error.noSuchBucket(bucketName) }
        guard bucket.namespace.accountID == request.namespace.accountID else { throw S3Error.accessDenied }
        guard let object = try await self.store.object(bucket: bucketName, key: key) else { throw S3Error.noSuchKey(key) }
        try Self.checkCopyConditions(request, source: object)
        return object
    }

    static func checkCopyConditions(_ request: ServiceRequest, source: StoredObject) throws {
        let etag = "\"\(source.etag)\""
        let modified = source.lastModifiedMillis / 1000
        if let match = request.header("x-amz-copy-source-if-match"), !Self.etagMatches(match, etag) {
            throw S3Error.preconditionFailed("x-amz-copy-source-If-Match")
        }
        if let noneMatch = request.header("x-amz-copy-source-if-none-match"), Self.etagMatches(noneMatch, etag) {
            throw S3Error.preconditionFailed("x-amz-copy-source-If-None-Match")
        }
        if let since = request.header("x-amz-copy-source-if-unmodified-since").flatMap(S3Time.parseHTTP), modified > since / 1000 {
            throw S3Error.preconditionFailed("x-amz-copy-source-If-Unmodified-Since")
        }
        if let since = request.header("x-amz-copy-source-if-modified-since").flatMap(S3Time.parseHTTP), modified <= since / 1000 {
            throw S3Error.preconditionFailed("x-amz-copy-source-If-Modified-Since")
        }
    }

    func copyObject(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let key = try Self.key(request)
        let source = try await self.copySource(request)
        let replaceMetadata = request.header("x-amz-metadata-directive")?.uppercased() == "REPLACE"
        let replaceTags = request.header("x-amz-tagging-directive")?.uppercased() == "REPLACE"
        if let directive = request.header("x-amz-metadata-directive"), !["COPY", "REPLACE"].contains(directive.uppercased()) {
            throw S3Error.invalidArgument("Unknown metadata directive.", name: "x-amz-metadata-directive", value: directive)
        }
        let storageClass = request.header("x-amz-storage-class")
        if source.bucket == bucket.name, source.key == key, !replaceMetadata, storageClass == nil {
            throw S3Error.invalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
        }
        // Blobs are immutable, so a copy is a second name for each of the source's files: no byte is read.
        var segments: [BlobSegment] = []
        do {
            for segment in source.segments {
                segments.append(BlobSegment(blobID: try self.blobs.link(segment.blobID), size: segment.size))
            }
        } catch {
            self.blobs.removeLater(segments)
            if case BlobStoreError.missing = error { throw S3Error.noSuchKey(source.key) }
            throw error
        }
        let object = StoredObject(
            bucket: bucket.name, key: key, segments: segments, size: source.size, etag: source.etag,
            lastModifiedMillis: Timestamp.nowMillis(),
            metadata: replaceMetadata ? try Self.metadata(request) : source.metadata, checksum: source.checksum,
            tags: replaceTags ? try request.header("x-amz-tagging").map(Self.parseTaggingHeader) ?? [] : source.tags,
            storageClass: storageClass ?? source.storageClass)
        try await self.commit(object, in: bucket, event: "ObjectCreated:Copy", request: request)
        var result = [
            XML.Element("ETag", text: "\"\(object.etag)\""),
            XML.Element("LastModified", text: S3Time.iso(object.lastModifiedMillis)),
        ]
        if let checksum = object.checksum, checksum.type == "FULL_OBJECT" {
            result.append(XML.Element("Checksum\(checksum.algorithm.uppercased())", text: checksum.value))
        }
        return Self.xml(XML.Element("CopyObjectResult", children: result))
    }
}

/// An HTTP `Range: bytes=…` with one range (S3 serves a single range; it ignores what it cannot read).
struct ByteRange: Equatable {
    enum Form: Equatable {
        case from(Int64, through: Int64?)
        case suffix(Int64)
    }

    var form: Form

    init?(_ header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("bytes="), !trimmed.contains(",") else { return nil }
        let spec = trimmed.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let count = Int64(parts[1]) else { return nil }
            self.form = .suffix(count)
        } else {
            guard let first = Int64(parts[0]) else { return nil }
            if parts[1].isEmpty {
                self.form = .from(first, through: nil)
            } else {
                guard let last = Int64(parts[1]), last >= first else { return nil }
                self.form = .from(first, through: last)
            }
        }
    }

    /// The first and last byte for an object of `size`; nil when the range is not satisfiable.
    func resolve(size: Int64) -> (Int64, Int64)? {
        switch self.form {
        case .from(let first, let last):
            guard first < size else { return nil }
            return (first, min(last ?? size - 1, size - 1))
        case .suffix(let count):
            guard count > 0, size > 0 else { return nil }
            return (max(size - count, 0), size - 1)
        }
    }
}
