import NIOCore
import NimbusCore
import NimbusEdge
import NimbusProtocols
import NimbusStore

/// Buckets: create (with S3's location-constraint rules), delete, head, list, location, tagging.
extension S3Service {
    func listBuckets(_ request: ServiceRequest) async throws -> ServiceResponse {
        let buckets = try await self.store.buckets(account: request.namespace.accountID)
        let owner = Self.owner(request.namespace.accountID)
        return Self.xml(
            XML.Element(
                "ListAllMyBucketsResult",
                children: [
                    XML.Element(
                        "Buckets",
                        children: buckets.map { bucket in
                            XML.Element(
                                "Bucket",
                                children: [
                                    XML.Element("Name", text: bucket.name),
                                    XML.Element("CreationDate", text: S3Time.iso(bucket.createdAtMillis)),
                                    XML.Element("BucketRegion", text: bucket.namespace.region),
                                ])
                        }),
                    owner,
                ]))
    }

    /// S3's `<Owner>`: the account id stands for the canonical user id.
    static func owner(_ account: String, name: String = "Owner") -> XML.Element {
        XML.Element(name, children: [XML.Element("ID", text: account), XML.Element("DisplayName", text: account)])
    }

    func createBucket(_ request: ServiceRequest) async throws -> ServiceResponse {
        let name = request.label("Bucket")
        try BucketName.validate(name)
        let region = request.namespace.region
        var constraint: String?
        if request.body.readableBytes > 0 {
            let document = try Self.document(request)
            guard document.name == "CreateBucketConfiguration" else { throw S3Error.malformedXML }
            constraint = document.first("LocationConstraint")?.text
        }
        // S3's rules: us-east-1 takes no constraint (naming it is invalid); every other region must be named, and
        // must be the endpoint's own.
        switch (region, constraint) {
        case ("us-east-1", nil), ("us-east-1", ""):
            break
        case ("us-east-1", let named?):
            throw S3Error(
                "InvalidLocationConstraint", status: 400, "The specified location-constraint is not valid",
                fields: [("LocationConstraint", named)])
        case (_, nil), (_, ""):
            throw S3Error(
                "IllegalLocationConstraintException", status: 400,
                "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
        case (let own, let named?) where named != own:
            throw S3Error(
                "IllegalLocationConstraintException", status: 400,
                "The \(named) location constraint is incompatible for the region specific endpoint this request was sent to.")
        default:
            break
        }
        var tags: [S3Tag]?
        if let header = request.header("x-amz-tagging") { tags = try Self.parseTaggingHeader(header) }
        do {
            try await self.store.createBucket(
                StoredBucket(name: name, namespace: request.namespace, createdAtMillis: Timestamp.nowMillis(), tags: tags))
        } catch ObjectStoreError.bucketExists(let existing) {
            guard existing.namespace.accountID == request.namespace.accountID else { throw S3Error.bucketAlreadyExists(name) }
            // For legacy compatibility, us-east-1 answers a re-creation by the owner with 200 (AWS's CreateBucket docs).
            guard existing.namespace.region == "us-east-1", region == "us-east-1" else {
                throw S3Error.bucketAlreadyOwnedByYou(name)
            }
        }
        return ServiceResponse(status: 200, headers: [("Location", "/\(name)")])
    }

    func deleteBucket(_ request: ServiceRequest) async throws -> ServiceResponse {
        _ = try await self.ownedBucket(request)
        do {
            let stranded = try await self.store.deleteBucket(request.label("Bucket"))
            self.blobs.removeLater(stranded)
        } catch ObjectStoreError.bucketNotEmpty {
            throw S3Error.bucketNotEmpty(request.label("Bucket"))
        } catch ObjectStoreError.noSuchBucket {
            throw S3Error.noSuchBucket(request.label("Bucket"))
        }
        return ServiceResponse(status: 204)
    }

    func headBucket(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        return ServiceResponse(
            status: 200,
            headers: [
                ("x-amz-bucket-region", bucket.namespace.region), ("x-amz-access-point-alias", "false"),
            ])
    }

    func getBucketLocation(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        // us-east-1 is the empty constraint.
        let region = bucket.namespace.region == "us-east-1" ? "" : bucket.namespace.region
        return Self.xml(XML.Element("LocationConstraint", text: region))
    }

    // MARK: Bucket tagging

    func putBucketTagging(_ request: ServiceRequest) async throws -> ServiceResponse {
        _ = try await self.ownedBucket(request)
        let tags = try Self.parseTagSet(try Self.document(request), maximum: 50)
        try await self.store.updateBucket(request.label("Bucket")) { $0.tags = tags }
        return ServiceResponse(status: 204)
    }

    func getBucketTagging(_ request: ServiceRequest) async throws -> ServiceResponse {
        let bucket = try await self.ownedBucket(request)
        guard let tags = bucket.tags, !tags.isEmpty else { throw S3Error.noSuchTagSet(bucket: bucket.name) }
        return Self.xml(Self.tagging(tags))
    }

    func deleteBucketTagging(_ request: ServiceRequest) async throws -> ServiceResponse {
        _ = try await self.ownedBucket(request)
        try await self.store.updateBucket(request.label("Bucket")) { $0.tags = nil }
        return ServiceResponse(status: 204)
    }
}
