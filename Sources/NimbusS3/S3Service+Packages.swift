import NimbusCore
import NimbusStore

/// Lambda's `Code.S3Bucket`/`S3Key`: the object read whole (a deployment package, at most 250 MB).
extension S3Service: PackageSource {
    public func package(bucket: String, key: String, version: String?, namespace: AccountContext, limit: Int) async throws
        -> [UInt8]
    {
        guard let stored = try await self.store.bucket(bucket) else {
            throw PackageSourceError(code: "NoSuchBucket", message: "The specified bucket does not exist")
        }
        guard stored.namespace.accountID == namespace.accountID else {
            throw PackageSourceError(code: "AccessDenied", message: "Access Denied")
        }
        // Buckets are not versioned: the only version is `null`.
        if let version, version != "null" {
            throw PackageSourceError(code: "NoSuchVersion", message: "The specified version does not exist.")
        }
        guard let object = try await self.store.object(bucket: bucket, key: key) else {
            throw PackageSourceError(code: "NoSuchKey", message: "The specified key does not exist.")
        }
        guard object.size <= Int64(limit) else {
            throw PackageSourceError(code: "EntityTooLarge", message: "The package is larger than \(limit) bytes.")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(object.size))
        for (reader, offset, count) in try await self.openReaders(object.segments, range: 0..<object.size) {
            defer { reader.close() }
            try await reader.read(offset: offset, count: count) { chunk in bytes += chunk.readableBytesView }
        }
        return bytes
    }
}
