import Foundation
import NimbusCore
import NimbusEdge
import NimbusStore

/// CreateAlias, GetAlias, UpdateAlias, DeleteAlias and ListAliases.
extension LambdaAPI {
    static let aliasMembers: Set<String> = ["Name", "FunctionVersion", "Description", "RoutingConfig"]

    /// `POST /2015-03-31/functions/{Fn}/aliases` → 201 with the alias.
    func createAlias(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        let (body, _) = try Self.jsonBody(p, operation: "CreateAlias")
        let r = try RequestReader(body, operation: "CreateAlias", known: Self.aliasMembers)
        let aliasName = try r.string("Name")
        let version = try r.string("FunctionVersion")
        var violations: [String] = []
        if let aliasName {
            violations += AliasRules.nameViolations(aliasName)
        } else {
            violations.append("Value null at 'name' failed to satisfy constraint: Member must not be null")
        }
        if let version {
            violations += AliasRules.versionViolations(version)
        } else {
            violations.append("Value null at 'functionVersion' failed to satisfy constraint: Member must not be null")
        }
        let (description, weights) = try Self.aliasMembers(r, violations: violations)
        guard let aliasName, let version else { preconditionFailure("CreateAlias: null members are reported above") }
        let alias = try await self.registry.createAlias(
            function: fn, alias: aliasName, functionVersion: version, description: description, weights: weights)
        return ServiceResponse.document(201, alias.wire(account: self.account, functionName: fn))
    }

    /// `GET /2015-03-31/functions/{Fn}/aliases/{Name}`.
    func getAlias(_ p: ServiceRequest, name: String, alias aliasName: String) throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        try Self.checkAliasName(aliasName)
        guard let alias = self.catalog.get(fn)?.alias(aliasName) else {
            throw NimbusError(
                .resourceNotFound, "Cannot find alias arn: \(self.account.functionARN(fn, qualifier: aliasName))")
        }
        return ServiceResponse.document(200, alias.wire(account: self.account, functionName: fn))
    }

    /// `PUT /2015-03-31/functions/{Fn}/aliases/{Name}`.
    func updateAlias(_ p: ServiceRequest, name: String, alias aliasName: String) async throws
        -> ServiceResponse
    {
        let fn = try self.unqualifiedName(name)
        let (body, _) = try Self.jsonBody(p, operation: "UpdateAlias")
        let r = try RequestReader(
            body, operation: "UpdateAlias", known: ["FunctionVersion", "Description", "RoutingConfig", "RevisionId"])
        let version = try r.string("FunctionVersion")
        let violations = AliasRules.nameViolations(aliasName) + (version.map { AliasRules.versionViolations($0) } ?? [])
        let (description, weights) = try Self.aliasMembers(r, violations: violations)
        let alias = try await self.registry.updateAlias(
            function: fn, alias: aliasName, functionVersion: version, description: description, weights: weights,
            revisionID: try r.string("RevisionId"))
        return ServiceResponse.document(200, alias.wire(account: self.account, functionName: fn))
    }

    /// `DELETE /2015-03-31/functions/{Fn}/aliases/{Name}` → 204 (also when the alias does not exist, as on AWS).
    func deleteAlias(_ p: ServiceRequest, name: String, alias aliasName: String) async throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        try Self.checkAliasName(aliasName)
        try await self.registry.deleteAlias(function: fn, alias: aliasName)
        return ServiceResponse.empty(204)
    }

    /// `GET /2015-03-31/functions/{Fn}/aliases`: by name, optionally only those whose primary version is
    /// `FunctionVersion`, paginated with `Marker`/`MaxItems` (at most 50 per page).
    func listAliases(_ p: ServiceRequest, name: String) throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        let version = p.queryValue("FunctionVersion")
        if let version {
            let violations = AliasRules.versionViolations(version)
            if !violations.isEmpty { throw NimbusError.validation(violations) }
        }
        let maxItems = try Self.maxItems(p, upper: 10_000)
        guard let function = self.catalog.get(fn) else { throw self.account.notFound(fn) }
        let pageSize = min(maxItems ?? Limits.versionPageSize, Limits.versionPageSize)
        var aliases = function.aliases.filter { version == nil || $0.functionVersion == version }
        if let marker = p.queryValue("Marker"), !marker.isEmpty {
            guard let after = Self.decodeMarker(marker) else {
                throw NimbusError.invalidParameter("Invalid pagination marker: \(marker)")
            }
            aliases = aliases.filter { $0.name > after }
        }
        let page = Array(aliases.prefix(pageSize))
        var body: [String: JSONValue] = [
            "Aliases": .array(page.map { $0.wire(account: self.account, functionName: fn) })
        ]
        if aliases.count > page.count, let last = page.last {
            body["NextMarker"] = .string(Self.encodeMarker(last.name))
        }
        return ServiceResponse.document(200, .object(body))
    }

    static func checkAliasName(_ name: String) throws {
        let violations = AliasRules.nameViolations(name)
        if !violations.isEmpty { throw NimbusError.validation(violations) }
    }

    /// Reads `Description` and `RoutingConfig`, adding their constraint violations to `violations` and throwing
    /// them all together as one `ValidationException`, as AWS reports them.
    static func aliasMembers(_ r: RequestReader, violations: [String]) throws -> (String?, [String: Double]?) {
        var violations = violations
        let description = try r.string("Description")
        if let description, description.count > Limits.maximumDescriptionLength {
            violations.append(
                "Value '\(description)' at 'description' failed to satisfy constraint: Member must have length less than or equal to \(Limits.maximumDescriptionLength)"
            )
        }
        let routing = try AliasRules.parseRoutingWeights(try r.object("RoutingConfig"))
        violations += routing.violations
        if !violations.isEmpty { throw NimbusError.validation(violations) }
        return (description, routing.weights)
    }
}
