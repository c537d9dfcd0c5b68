import Foundation
import NimbusCore
import NimbusEdge
import NimbusStore

/// A function reference resolved against the catalog: `$LATEST`, a published version or an alias.
struct ResolvedFunction {
    var function: StoredFunction
    /// The configuration the qualifier names (for an alias: its primary version's).
    var configuration: FunctionConfiguration
    /// The qualifier as the caller gave it, if any.
    var qualifier: String?
    var alias: AliasConfiguration?

    /// AWS names the function the way it was asked for: `…:fn:$LATEST` for an explicit `$LATEST`, `…:fn:alias`
    /// for an alias, `…:fn:N` for a version, unqualified otherwise.
    var arnStyle: FunctionConfiguration.ARNStyle {
        self.qualifier.map { .qualified($0) } ?? .natural
    }
}

/// PublishVersion and ListVersionsByFunction.
extension LambdaAPI {
    /// `POST /2015-03-31/functions/{Fn}/versions` → 201 with the version's configuration.
    func publishVersion(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        let (body, _) = try Self.jsonBody(p, operation: "PublishVersion")
        let r = try RequestReader(
            body, operation: "PublishVersion", known: ["CodeSha256", "Description", "RevisionId", "PublishTo"])
        let description = try r.string("Description")
        if let description, description.count > Limits.maximumDescriptionLength {
            throw NimbusError.validation([
                "Value '\(description)' at 'description' failed to satisfy constraint: Member must have length less than or equal to \(Limits.maximumDescriptionLength)"
            ])
        }
        let config = try await self.registry.publishVersion(
            name: fn, codeSha256: try r.string("CodeSha256"), description: description,
            revisionID: try r.string("RevisionId"))
        return ServiceResponse.document(201, config.wire(account: self.account))
    }

    /// `GET /2015-03-31/functions/{Fn}/versions`: `$LATEST` first, then the versions in order, paginated with
    /// `Marker`/`MaxItems` (at most 50 per page).
    func listVersions(_ p: ServiceRequest, name: String) throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        guard let function = self.catalog.get(fn) else { throw self.account.notFound(fn) }
        let maxItems = try Self.maxItems(p, upper: 10_000)
        let pageSize = min(maxItems ?? Limits.versionPageSize, Limits.versionPageSize)
        // Order key: 0 for $LATEST, the number for a version.
        var entries = [(0, function.configuration)] + function.versions.map { ($0.number, $0.configuration) }
        if let marker = p.queryValue("Marker"), !marker.isEmpty {
            guard let decoded = Self.decodeMarker(marker), let after = decoded == "$LATEST" ? 0 : Int(decoded) else {
                throw NimbusError.invalidParameter("Invalid pagination marker: \(marker)")
            }
            entries = entries.filter { $0.0 > after }
        }
        let page = Array(entries.prefix(pageSize))
        var body: [String: JSONValue] = [
            "Versions": .array(page.map { $0.1.wire(account: self.account, listing: true, arn: .versioned) })
        ]
        if entries.count > page.count, let last = page.last {
            body["NextMarker"] = .string(Self.encodeMarker(last.1.version))
        }
        return ServiceResponse.document(200, .object(body))
    }
}
