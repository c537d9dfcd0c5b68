import Foundation
import NimbusCore
import NimbusEdge
import NimbusProtocols
import NimbusStore

/// Object tags (at most 10) and the tag-set rules shared with bucket tagging (at most 50): keys 1–128 and values
/// 0–256 Unicode characters, keys unique, no `aws:` prefix.
extension S3Service {
    func putObjectTagging(_ request: ServiceRequest) async throws -> ServiceResponse {
        _ = try await self.ownedBucket(request)
        let key = try Self.key(request)
        let tags = try Self.parseTagSet(try Self.document(request), maximum: 10)
        guard try await self.store.setObjectTags(bucket: request.label("Bucket"), key: key, tags: tags) else {
            throw S3Error.noSuchKey(key)
        }
        return ServiceResponse(status: 200)
    }

    func getObjectTagging(_ request: ServiceRequest) async throws -> ServiceResponse {
        _ = try await self.ownedBucket(request)
        let key = try Self.key(request)
        guard let object = try await self.store.object(bucket: request.label("Bucket"), key: key) else {
            throw S3Error.noSuchKey(key)
        }
        return Self.xml(Self.tagging(object.tags))
    }

    func deleteObjectTagging(_ request: ServiceRequest) async throws -> ServiceResponse {
        _ = try await self.ownedBucket(request)
        let key = try Self.key(request)
        guard try await self.store.setObjectTags(bucket: request.label("Bucket"), key: key, tags: []) else {
            throw S3Error.noSuchKey(key)
        }
        return ServiceResponse(status: 204)
    }

    /// `<Tagging><TagSet><Tag><Key>…</Key><Value>…</Value></Tag>…</TagSet></Tagging>`.
    static func tagging(_ tags: [S3Tag]) -> XML.Element {
        XML.Element(
            "Tagging",
            children: [
                XML.Element(
                    "TagSet",
                    children: tags.map {
                        XML.Element("Tag", children: [XML.Element("Key", text: $0.key), XML.Element("Value", text: $0.value)])
                    })
            ])
    }

    static func parseTagSet(_ document: XML.Element, maximum: Int) throws -> [S3Tag] {
        guard document.name == "Tagging", let set = document.first("TagSet") else { throw S3Error.malformedXML }
        let tags = try set.all("Tag").map { tag in
            guard let key = tag.first("Key")?.text, let value = tag.first("Value")?.text else { throw S3Error.malformedXML }
            return S3Tag(key: key, value: value)
        }
        try Self.validate(tags, maximum: maximum)
        return tags
    }

    /// `x-amz-tagging: k1=v1&k2=v2`, form-encoded.
    static func parseTaggingHeader(_ header: String) throws -> [S3Tag] {
        guard !header.isEmpty else { return [] }
        let form: QueryForm
        do {
            form = try QueryForm(decoding: Array(header.utf8))
        } catch {
            throw S3Error.invalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.", name: "x-amz-tagging", value: header)
        }
        let tags = form.parameters.map { S3Tag(key: $0.name, value: $0.value) }
        try Self.validate(tags, maximum: 10)
        return tags
    }

    static func validate(_ tags: [S3Tag], maximum: Int) throws {
        guard tags.count <= maximum else {
            throw S3Error(
                maximum == 10 ? "BadRequest" : "InvalidTag", status: 400,
                maximum == 10 ? "Object tags cannot be greater than 10" : "Bucket tag count cannot be greater than 50")
        }
        var seen = Set<String>()
        for tag in tags {
            guard (1...128).contains(tag.key.count) else {
                throw S3Error.invalidTag("The TagKey you have provided is invalid")
            }
            guard tag.value.count <= 256 else { throw S3Error.invalidTag("The TagValue you have provided is invalid") }
            guard seen.insert(tag.key).inserted else {
                throw S3Error.invalidTag("Cannot provide multiple Tags with the same key")
            }
            if tag.key.lowercased().hasPrefix("aws:") {
                throw S3Error.invalidTag("Your TagKey cannot be prefixed with aws:")
            }
        }
    }
}
