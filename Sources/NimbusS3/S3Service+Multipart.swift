import Crypto
import Foundation
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusProtocols
import NimbusSigV4
import NimbusStore

/// Multipart uploads: parts are files of their own; completing an upload makes the chosen parts the object's
/// segments (no byte is copied), its ETag the MD5 of the parts' MD5s with `-<count>`.
extension S3Service {
    func createMultipartUpload(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let key = try Self.key(request)
        var algorithm = request.header("x-amz-checksum-algorithm")?.lowercased()
        let type = request.header("x-amz-checksum-type")?.uppercased()
        if let algorithm, ChecksumAlgorithm(rawValue: algorithm) == nil {
            throw S3Error.unsupportedChecksumAlgorithm
        }
        if let type {
            guard ["COMPOSITE", "FULL_OBJECT"].contains(type) else {
                throw S3Error.invalidRequest("Value for x-amz-checksum-type header is invalid.")
            }
            // A full-object CRC64NVME is S3's default when only the type is named.
            if algorithm == nil { algorithm = "crc64nvme" }
        }
        let upload = StoredUpload(
            uploadID: Digest.random(from: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"), length: 64),
            bucket: bucket.name, key: key, initiatedMillis: Timestamp.nowMillis(), metadata: try Self.metadata(request),
            checksumAlgorithm: algorithm,
            // S3's defaults: CRC64NVME is full-object only; the other algorithms default to composite.
            checksumType: algorithm.map { type ?? ($0 == "crc64nvme" ? "FULL_OBJECT" : "COMPOSITE") },
            tags: try request.header("x-amz-tagging").map(Self.parseTaggingHeader) ?? [],
            storageClass: Self.storageClass(request))
        do {
            try await self.store.createUpload(upload)
        } catch ObjectStoreError.noSuchBucket {
            throw S3Error.noSuchBucket(bucket.name)
        }
        var headers: [(String, String)] = []
        if let algorithm = upload.checksumAlgorithm {
            headers.append(("x-amz-checksum-algorithm", algorithm.uppercased()))
            headers.append(("x-amz-checksum-type", upload.checksumType ?? "COMPOSITE"))
        }
        return Self.xml(
            XML.Element(
                "InitiateMultipartUploadResult",
                children: [
                    XML.Element("Bucket", text: bucket.name), XML.Element("Key", text: key),
                    XML.Element("UploadId", text: upload.uploadID),
                ]), headers: headers)
    }

    /// The upload a request names, which must be of the request's bucket and key.
    func upload(_ request: ServiceRequest) async throws -> StoredUpload {
        let id = request.queryValue("uploadId") ?? ""
        guard let upload = try await self.store.upload(id), upload.bucket == request.label("Bucket"),
            upload.key == request.label("Key")
        else { throw S3Error.noSuchUpload(id) }
        return upload
    }

    static func partNumber(_ request: ServiceRequest) throws -> Int {
        let given = request.queryValue("partNumber") ?? ""
        guard let number = Int(given), (1...10_000).contains(number) else {
            throw S3Error.invalidArgument(
                "Part number must be an integer between 1 and 10000, inclusive", name: "partNumber", value: given)
        }
        return number
    }

    func uploadPartOrCopy(_ request: ServiceRequest) async throws -> ServiceResponse {
        _ = try await self.ownedBucket(request)
        let number = try Self.partNumber(request)
        let upload = try await self.upload(request)
        if request.header("x-amz-copy-source") != nil { return try await self.uploadPartCopy(request, upload: upload, number: number) }
        let received = try await self.receive(request, algorithm: upload.checksumAlgorithm)
        let part = StoredPart(
            uploadID: upload.uploadID, partNumber: number, blob: received.segment, etag: received.md5Hex,
            lastModifiedMillis: Timestamp.nowMillis(), checksum: received.checksum)
        try await self.store(part)
        var headers: [(String, String)] = [("ETag", "\"\(part.etag)\"")]
        if let checksum = received.checksum { headers.append(("x-amz-checksum-\(checksum.algorithm)", checksum.value)) }
        return ServiceResponse(status: 200, headers: headers)
    }

    /// Records a part, deleting the file of the part it replaces (or its own file, when the upload is gone).
    func store(_ part: StoredPart) async throws {
        do {
            if let replaced = try await self.store.putPart(part) { self.blobs.removeLater([replaced]) }
        } catch {
            self.blobs.removeLater([part.blob])
            if case ObjectStoreError.noSuchUpload = error { throw S3Error.noSuchUpload(part.uploadID) }
            throw error
        }
    }

    /// UploadPartCopy: a range of an object (`x-amz-copy-source-range: bytes=first-last`) copied into a part.
    func uploadPartCopy(_ request: ServiceRequest, upload: StoredUpload, number: Int) async throws -> ServiceResponse {
        let source = try await self.copySource(request)
        var range: Range<Int64> = 0..<source.size
        if let header = request.header("x-amz-copy-source-range") {
            guard let parsed = ByteRange(header), case .from(let first, let last?) = parsed.form else {
                throw S3Error.invalidArgument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                    name: "x-amz-copy-source-range", value: header)
            }
            guard last < source.size else {
                throw S3Error.invalidArgument(
                    "Range specified is not valid for source object of size: \(source.size)", name: "x-amz-copy-source-range",
                    value: header)
            }
            range = first..<(last + 1)
        }
        let readers = try await self.openReaders(source.segments, range: range)
        defer { for reader in readers { reader.0.close() } }
        let writer = try await self.blobs.makeWriter()
        let segment: BlobSegment
        var md5 = Insecure.MD5()
        do {
            for (reader, offset, count) in readers {
                try await reader.read(offset: offset, count: count) { chunk in
                    chunk.withUnsafeReadableBytes { md5.update(bufferPointer: $0) }
                    try await writer.write(chunk)
                }
            }
            segment = try await writer.seal()
        } catch {
            writer.discard()
            throw error
        }
        let part = StoredPart(
            uploadID: upload.uploadID, partNumber: number, blob: segment, etag: Self.hex(md5.finalize()),
            lastModifiedMillis: Timestamp.nowMillis())
        try await self.store(part)
        return Self.xml(
            XML.Element(
                "CopyPartResult",
                children: [
                    XML.Element("ETag", text: "\"\(part.etag)\""),
                    XML.Element("LastModified", text: S3Time.iso(part.lastModifiedMillis)),
                ]))
    }

    func completeMultipartUpload(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let upload = try await self.upload(request)
        let document = try Self.document(request)
        guard document.name == "CompleteMultipartUpload" else { throw S3Error.malformedXML }
        let requested = try document.all("Part").map { part -> (Int, String) in
            guard let number = part.first("PartNumber").flatMap({ Int($0.text) }), let etag = part.first("ETag")?.text else {
                throw S3Error.malformedXML
            }
            return (number, etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
        guard !requested.isEmpty else {
            throw S3Error.malformedXML
        }
        let stored = Dictionary(uniqueKeysWithValues: try await self.store.parts(uploadID: upload.uploadID).map { ($0.partNumber, $0) })
        var chosen: [StoredPart] = []
        for (index, (number, etag)) in requested.enumerated() {
            if index > 0, number <= requested[index - 1].0 { throw S3Error.invalidPartOrder }
            guard let part = stored[number], part.etag == etag else {
                throw S3Error.invalidPart(uploadID: upload.uploadID, partNumber: number, etag: etag)
            }
            chosen.append(part)
        }
        for part in chosen.dropLast() where part.blob.size < Self.minimumPartBytes {
            throw S3Error.entityTooSmall(size: part.blob.size, minimum: Self.minimumPartBytes)
        }
        var md5s: [UInt8] = []
        for part in chosen { md5s += Self.bytes(hex: part.etag) }
        let etag = Self.hex(Insecure.MD5.hash(data: md5s)) + "-\(chosen.count)"
        let checksum = try await self.checksum(of: chosen, upload: upload)
        let object = StoredObject(
            bucket: bucket.name, key: upload.key, segments: chosen.map(\.blob),
            size: chosen.reduce(0) { $0 + $1.blob.size }, etag: etag, lastModifiedMillis: Timestamp.nowMillis(),
            metadata: upload.metadata, checksum: checksum, tags: upload.tags, storageClass: upload.storageClass)
        let outbox = self.notifications.outbox(
            for: bucket, event: "ObjectCreated:CompleteMultipartUpload", object: object, request: request)
        let (replaced, unused): ([BlobSegment], [BlobSegment])
        do {
            (replaced, unused) = try await self.store.completeUpload(upload.uploadID, object: object, notifications: outbox)
        } catch ObjectStoreError.noSuchUpload {
            throw S3Error.noSuchUpload(upload.uploadID)
        }
        self.blobs.removeLater(replaced + unused)
        if !outbox.isEmpty { self.notifications.relay.wake() }
        var result = [
            XML.Element("Location", text: "http://\(request.host)/\(bucket.name)/\(Self.urlEncoded(upload.key))"),
            XML.Element("Bucket", text: bucket.name), XML.Element("Key", text: upload.key),
            XML.Element("ETag", text: "\"\(etag)\""),
        ]
        if let checksum {
            result.append(XML.Element("Checksum\(checksum.algorithm.uppercased())", text: checksum.value))
            result.append(XML.Element("ChecksumType", text: checksum.type))
        }
        return Self.xml(XML.Element("CompleteMultipartUploadResult", children: result))
    }

    /// The object's checksum after a multipart upload: COMPOSITE is the checksum of the parts' checksums with
    /// `-<count>`; FULL_OBJECT is the checksum of all the bytes, read again from the parts' files.
    func checksum(of parts: [StoredPart], upload: StoredUpload) async throws -> StoredChecksum? {
        guard let name = upload.checksumAlgorithm, let algorithm = ChecksumAlgorithm(rawValue: name) else { return nil }
        if upload.checksumType == "FULL_OBJECT" {
            var checksum = IncrementalChecksum(algorithm)
            let total = parts.reduce(Int64(0)) { $0 + $1.blob.size }
            for (reader, offset, count) in try await self.openReaders(parts.map(\.blob), range: 0..<total) {
                defer { reader.close() }
                try await reader.read(offset: offset, count: count) { chunk in
                    chunk.withUnsafeReadableBytes { checksum.update($0) }
                }
            }
            return StoredChecksum(algorithm: name, value: Data(checksum.finalize()).base64EncodedString(), type: "FULL_OBJECT")
        }
        var digests: [UInt8] = []
        for part in parts {
            guard let value = part.checksum?.value, let digest = Data(base64Encoded: value) else { return nil }
            digests += digest
        }
        var checksum = IncrementalChecksum(algorithm)
        digests.withUnsafeBytes { checksum.update($0) }
        return StoredChecksum(
            algorithm: name, value: Data(checksum.finalize()).base64EncodedString() + "-\(parts.count)", type: "COMPOSITE")
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = Self.nibble(high), let l = Self.nibble(low) else { return [] }
            out.append(h << 4 | l)
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }

    func abortMultipartUpload(_ request: ServiceRequest) async throws -> ServiceResponse {
        _ = try await self.ownedBucket(request)
        let upload = try await self.upload(request)
        do {
            self.blobs.removeLater(try await self.store.abortUpload(upload.uploadID))
        } catch ObjectStoreError.noSuchUpload {
            throw S3Error.noSuchUpload(upload.uploadID)
        }
        return ServiceResponse(status: 204)
    }

    func listParts(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let upload = try await self.upload(request)
        let maxParts = try Self.maxKeys(request, name: "max-parts")
        let marker = Int(request.queryValue("part-number-marker") ?? "0") ?? 0
        let all = try await self.store.parts(uploadID: upload.uploadID).filter { $0.partNumber > marker }
        let page = all.prefix(maxParts)
        let truncated = all.count > page.count
        var children = [
            XML.Element("Bucket", text: bucket.name), XML.Element("Key", text: upload.key),
            XML.Element("UploadId", text: upload.uploadID),
            XML.Element("PartNumberMarker", text: String(marker)),
        ]
        if let last = page.last { children.append(XML.Element("NextPartNumberMarker", text: String(last.partNumber))) }
        children += [
            XML.Element("MaxParts", text: String(maxParts)),
            XML.Element("IsTruncated", text: truncated ? "true" : "false"),
        ]
        for part in page {
            var fields = [
                XML.Element("PartNumber", text: String(part.partNumber)),
                XML.Element("LastModified", text: S3Time.iso(part.lastModifiedMillis)),
                XML.Element("ETag", text: "\"\(part.etag)\""), XML.Element("Size", text: String(part.blob.size)),
            ]
            if let checksum = part.checksum {
                fields.append(XML.Element("Checksum\(checksum.algorithm.uppercased())", text: checksum.value))
            }
            children.append(XML.Element("Part", children: fields))
        }
        children += [
            Self.owner(bucket.namespace.accountID, name: "Initiator"), Self.owner(bucket.namespace.accountID),
            XML.Element("StorageClass", text: upload.storageClass),
        ]
        if let algorithm = upload.checksumAlgorithm {
            children.append(XML.Element("ChecksumAlgorithm", text: algorithm.uppercased()))
            children.append(XML.Element("ChecksumType", text: upload.checksumType ?? "COMPOSITE"))
        }
        return Self.xml(XML.Element("ListPartsResult", children: children))
    }

    func listMultipartUploads(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let prefix = request.queryValue("prefix") ?? ""
        let maxUploads = try Self.maxKeys(request, name: "max-uploads")
        let keyMarker = request.queryValue("key-marker") ?? ""
        let encode = try Self.encodingType(request)
        let all = try await self.store.uploads(bucket: bucket.name).filter {
            $0.key.hasPrefix(prefix) && (keyMarker.isEmpty || keyMarker.utf8.lexicographicallyPrecedes($0.key.utf8))
        }
        let page = all.prefix(maxUploads)
        let e = { (text: String) in encode ? Self.urlEncoded(text) : text }
        var children = [
            XML.Element("Bucket", text: bucket.name), XML.Element("KeyMarker", text: e(keyMarker)),
            XML.Element("UploadIdMarker", text: request.queryValue("upload-id-marker") ?? ""),
        ]
        if all.count > page.count, let last = page.last {
            children.append(XML.Element("NextKeyMarker", text: e(last.key)))
            children.append(XML.Element("NextUploadIdMarker", text: last.uploadID))
        }
        if !prefix.isEmpty { children.append(XML.Element("Prefix", text: e(prefix))) }
        children += [
            XML.Element("MaxUploads", text: String(maxUploads)),
            XML.Element("IsTruncated", text: all.count > page.count ? "true" : "false"),
        ]
        for upload in page {
            var fields = [
                XML.Element("Key", text: e(upload.key)), XML.Element("UploadId", text: upload.uploadID),
                Self.owner(bucket.namespace.accountID, name: "Initiator"), Self.owner(bucket.namespace.accountID),
                XML.Element("StorageClass", text: upload.storageClass),
                XML.Element("Initiated", text: S3Time.iso(upload.initiatedMillis)),
            ]
            if let algorithm = upload.checksumAlgorithm {
                fields.append(XML.Element("ChecksumAlgorithm", text: algorithm.uppercased()))
                fields.append(XML.Element("ChecksumType", text: upload.checksumType ?? "COMPOSITE"))
            }
            children.append(XML.Element("Upload", children: fields))
        }
        if encode { children.append(XML.Element("EncodingType", text: "url")) }
        return Self.xml(XML.Element("ListMultipartUploadsResult", children: children))
    }
}
