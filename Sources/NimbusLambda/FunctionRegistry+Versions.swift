import Foundation
import NimbusCore
import NimbusStore

/// Published versions: immutable snapshots of `$LATEST`, numbered from 1 and never reused.
extension FunctionRegistry {
    /// `PublishVersion`: snapshots `$LATEST` as the next version. When `$LATEST` has not changed since the newest
    /// version was published, that version is returned instead (AWS: publishing is idempotent).
    /// - Parameters:
    ///   - codeSha256: precondition on `$LATEST`'s `CodeSha256`.
    ///   - description: the version's description (default: `$LATEST`'s).
    ///   - revisionID: precondition on `$LATEST`'s `RevisionId`.
    public func publishVersion(
        name: String, codeSha256: String?, description: String?, revisionID: String?
    ) async throws -> FunctionConfiguration {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        try self.checkRevision(function, revisionID)
        return try await self.publish(&function, codeSha256: codeSha256, description: description)
    }

    /// Publishes `$LATEST` of a function whose change the caller has begun (``beginChange(_:notFound:)``).
    func publish(
        _ function: inout StoredFunction, codeSha256: String?, description: String?
    ) async throws -> FunctionConfiguration {
        let name = function.name
        let latest = function.configuration
        if let codeSha256, codeSha256 != latest.code.sha256Base64 {
            throw NimbusError.invalidParameter(
                "CodeSHA256 (\(codeSha256)) is different from current CodeSHA256 in $LATEST (\(latest.code.sha256Base64)). Please try again with the CodeSHA256 in $LATEST."
            )
        }
        if let newest = function.versions.last, newest.sourceRevisionID == latest.revisionID {
            return newest.configuration
        }
        // As on AWS, publishing gives $LATEST a new RevisionId; the version remembers it, so that publishing again
        // without a change in between returns this version.
        function.configuration.revisionID = UUID().uuidString.lowercased()
        let number = function.lastVersionNumber + 1
        let version = Self.snapshot(of: function.configuration, number: number, description: description)
        function.versions.append(version)
        function.lastVersionNumber = number
        try await self.store.publish(function, version: version)
        self.catalog.put(function)
        self.invoker.functionChanged(name: name, revisionID: function.configuration.revisionID)
        self.logger.info("Function version published", metadata: ["function.name": "\(name)", "function.version": "\(number)"])
        return version.configuration
    }

    /// `DeleteFunction` with a version qualifier. Deleting a version that does not exist succeeds, as on AWS.
    /// - Throws: `ResourceConflictException` when an alias routes to the version.
    public func deleteVersion(name: String, version: String) async throws {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        guard let index = function.versions.firstIndex(where: { $0.configuration.version == version }) else { return }
        let referencing = function.aliases.filter { $0.references(version: version) }.map(\.name)
        if !referencing.isEmpty {
            throw NimbusError(
                .resourceConflict,
                "Unable to delete version because the following aliases reference it: [\(referencing.joined(separator: ", "))]"
            )
        }
        try await self.removeProvisioned(&function, qualifier: version)
        try await self.removePolicy(&function, qualifier: version)
        let removed = function.versions.remove(at: index)
        try await self.store.deleteVersion(function: name, number: removed.number)
        self.catalog.put(function)
        self.invoker.versionDeleted(name: name, version: version)
        self.collectGarbage(removed.configuration.code.digestHex)
        self.logger.info("Function version deleted", metadata: ["function.name": "\(name)", "function.version": "\(version)"])
    }

    /// A version made from `$LATEST`: the same code and configuration, its own number and RevisionId.
    static func snapshot(of latest: FunctionConfiguration, number: Int, description: String?) -> PublishedVersion {
        var config = latest
        config.version = String(number)
        config.revisionID = UUID().uuidString.lowercased()
        config.lastModifiedMillis = Timestamp.nowMillis()
        if let description { config.description = description }
        return PublishedVersion(configuration: config, sourceRevisionID: latest.revisionID)
    }
}
