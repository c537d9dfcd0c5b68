import Foundation
import NimbusCore
import NimbusEdge
import NimbusProtocols
import NimbusStore

/// ListObjectsV2 and ListObjects: keys in UTF-8 byte order under a prefix, rolled up into common prefixes at a
/// delimiter, paged by max-keys with a continuation token (V2) or a marker (V1), URL-encoded on request
/// (`encoding-type=url`, which botocore and the CLI always ask for).
extension S3Service {
    /// One page of a listing.
    struct ListingPage {
        enum Entry {
            case object(StoredObject)
            case commonPrefix(String)
        }

        var entries: [Entry] = []
        var isTruncated = false
        /// Where the next page starts: the last key, or a common prefix's end.
        var cursor: String?
    }

    /// Past every key that starts with `prefix`: U+10FFFF is the largest scalar, so its UTF-8 sorts after any
    /// continuation of `prefix` in S3's byte order but one that continues with U+10FFFF itself (deduplicated below).
    static func past(_ prefix: String) -> String { prefix + "\u{10FFFF}" }

    func listPage(bucket: String, prefix: String, delimiter: String, after start: String?, maxKeys: Int) async throws
        -> ListingPage
    {
        var page = ListingPage()
        var cursor = start
        var lastPrefix: String?
        guard maxKeys > 0 else { return page }
        scanning: while true {
            let batch = try await self.store.listObjects(
                bucket: bucket, prefix: prefix, startAfter: cursor, limit: max(maxKeys - page.entries.count + 1, 16))
            if batch.isEmpty { break }
            for object in batch {
                var rolledUp: String?
                if !delimiter.isEmpty {
                    let rest = object.key.utf8.dropFirst(prefix.utf8.count)
                    if let range = String(Substring(rest)).range(of: delimiter) {
                        rolledUp = prefix + String(Substring(rest))[..<range.upperBound]
                    }
                }
                if let rolledUp {
                    if rolledUp == lastPrefix {
                        cursor = object.key
                        continue
                    }
                    guard page.entries.count < maxKeys else {
                        page.isTruncated = true
                        break scanning
                    }
                    page.entries.append(.commonPrefix(rolledUp))
                    lastPrefix = rolledUp
                    cursor = Self.past(rolledUp)
                    page.cursor = cursor
                    continue scanning  // skip everything under the common prefix
                }
                guard page.entries.count < maxKeys else {
                    page.isTruncated = true
                    break scanning
                }
                page.entries.append(.object(object))
                cursor = object.key
                page.cursor = cursor
            }
        }
        return page
    }

    static func maxKeys(_ request: ServiceRequest, name: String = "max-keys") throws -> Int {
        guard let given = request.queryValue(name) else { return 1000 }
        guard let value = Int(given), value >= 0 else {
            throw S3Error.invalidArgument("Provided max-keys not an integer or within integer range", name: "max-keys", value: given)
        }
        return min(value, 1000)
    }

    static func encodingType(_ request: ServiceRequest) throws -> Bool {
        guard let type = request.queryValue("encoding-type") else { return false }
        guard type == "url" else {
            throw S3Error.invalidArgument("Invalid Encoding Method specified in Request", name: "encoding-type", value: type)
        }
        return true
    }

    /// S3's `encoding-type=url`: form-style percent-encoding that keeps `/` (as S3 writes keys in listings).
    static func urlEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-_.~/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func contents(_ object: StoredObject, encode: Bool, owner: String?) -> XML.Element {
        var children = [
            XML.Element("Key", text: encode ? Self.urlEncoded(object.key) : object.key),
            XML.Element("LastModified", text: S3Time.iso(object.lastModifiedMillis)),
            XML.Element("ETag", text: "\"\(object.etag)\""),
        ]
        if let checksum = object.checksum {
            children.append(XML.Element("ChecksumAlgorithm", text: checksum.algorithm.uppercased()))
            children.append(XML.Element("ChecksumType", text: checksum.type))
        }
        children.append(XML.Element("Size", text: String(object.size)))
        if let owner { children.append(Self.owner(owner)) }
        children.append(XML.Element("StorageClass", text: object.storageClass))
        return XML.Element("Contents", children: children)
    }

    func listObjectsV2(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let prefix = request.queryValue("prefix") ?? ""
        let delimiter = request.queryValue("delimiter") ?? ""
        let maxKeys = try Self.maxKeys(request)
        let encode = try Self.encodingType(request)
        let startAfter = request.queryValue("start-after")
        let token = request.queryValue("continuation-token")
        var cursor = startAfter
        if let token {
            guard let data = Data(base64Encoded: token), let decoded = String(data: data, encoding: .utf8) else {
                throw S3Error.invalidArgument(
                    "The continuation token provided is incorrect", name: "continuation-token", value: token)
            }
            cursor = decoded
        }
        let page = try await self.listPage(
            bucket: bucket.name, prefix: prefix, delimiter: delimiter, after: cursor, maxKeys: maxKeys)
        let fetchOwner = request.queryValue("fetch-owner") == "true"
        let e = { (text: String) in encode ? Self.urlEncoded(text) : text }
        var children = [XML.Element("Name", text: bucket.name), XML.Element("Prefix", text: e(prefix))]
        if page.isTruncated, let next = page.cursor {
            children.append(XML.Element("NextContinuationToken", text: Data(next.utf8).base64EncodedString()))
        }
        children.append(XML.Element("KeyCount", text: String(page.entries.count)))
        children.append(XML.Element("MaxKeys", text: String(maxKeys)))
        if !delimiter.isEmpty { children.append(XML.Element("Delimiter", text: e(delimiter))) }
        children.append(XML.Element("IsTruncated", text: page.isTruncated ? "true" : "false"))
        children += self.entries(page, encode: encode, owner: fetchOwner ? bucket.namespace.accountID : nil)
        if encode { children.append(XML.Element("EncodingType", text: "url")) }
        if let token { children.append(XML.Element("ContinuationToken", text: token)) }
        if let startAfter { children.append(XML.Element("StartAfter", text: e(startAfter))) }
        return Self.xml(XML.Element("ListBucketResult", children: children))
    }

    func listObjects(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        let prefix = request.queryValue("prefix") ?? ""
        let delimiter = request.queryValue("delimiter") ?? ""
        let maxKeys = try Self.maxKeys(request)
        let encode = try Self.encodingType(request)
        let marker = request.queryValue("marker") ?? ""
        // A marker that is a common prefix continues past it, as S3's NextMarker does.
        var cursor: String? = marker.isEmpty ? nil : marker
        if !delimiter.isEmpty, marker.hasSuffix(delimiter), marker.hasPrefix(prefix) { cursor = Self.past(marker) }
        let page = try await self.listPage(
            bucket: bucket.name, prefix: prefix, delimiter: delimiter, after: cursor, maxKeys: maxKeys)
        let e = { (text: String) in encode ? Self.urlEncoded(text) : text }
        var children = [
            XML.Element("Name", text: bucket.name), XML.Element("Prefix", text: e(prefix)),
            XML.Element("Marker", text: e(marker)),
        ]
        if page.isTruncated, !delimiter.isEmpty, let last = page.entries.last {
            switch last {
            case .object(let object): children.append(XML.Element("NextMarker", text: e(object.key)))
            case .commonPrefix(let rolled): children.append(XML.Element("NextMarker", text: e(rolled)))
            }
        }
        children.append(XML.Element("MaxKeys", text: String(maxKeys)))
        if !delimiter.isEmpty { children.append(XML.Element("Delimiter", text: e(delimiter))) }
        children.append(XML.Element("IsTruncated", text: page.isTruncated ? "true" : "false"))
        children += self.entries(page, encode: encode, owner: bucket.namespace.accountID)
        if encode { children.append(XML.Element("EncodingType", text: "url")) }
        return Self.xml(XML.Element("ListBucketResult", children: children))
    }

    func entries(_ page: ListingPage, encode: Bool, owner: String?) -> [XML.Element] {
        var contents: [XML.Element] = []
        var prefixes: [XML.Element] = []
        for entry in page.entries {
            switch entry {
            case .object(let object): contents.append(Self.contents(object, encode: encode, owner: owner))
            case .commonPrefix(let rolled):
                prefixes.append(
                    XML.Element("CommonPrefixes", children: [XML.Element("Prefix", text: encode ? Self.urlEncoded(rolled) : rolled)]))
            }
        }
        return contents + prefixes
    }
}
