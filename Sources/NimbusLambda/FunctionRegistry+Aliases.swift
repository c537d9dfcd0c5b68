import Foundation
import NimbusCore
import NimbusStore

/// Aliases: named pointers to a version, optionally splitting traffic with a second one. Constraint validation
/// (patterns, ranges) happens at the edge; the semantic checks, which need the function's versions, happen here.
extension FunctionRegistry {
    /// `CreateAlias`.
    /// - Parameter weights: `RoutingConfig.AdditionalVersionWeights`, already constraint-checked.
    public func createAlias(
        function name: String, alias aliasName: String, functionVersion: String, description: String?,
        weights: [String: Double]?
    ) async throws -> AliasConfiguration {
        let routing = weights ?? [:]
        try AliasRules.checkRouting(primary: functionVersion, weights: routing)
        var function = try self.beginChange(name, notFound: self.account.notFound(name, qualifier: functionVersion))
        defer { self.endChange(name) }
        try self.checkTargets(function, primary: functionVersion, weights: routing)
        if function.alias(aliasName) != nil {
            throw NimbusError(
                .resourceConflict, "Alias already exists: \(self.account.functionARN(name, qualifier: aliasName))")
        }
        let alias = AliasConfiguration(
            name: aliasName, functionVersion: functionVersion, description: description ?? "",
            additionalVersionWeights: routing, revisionID: UUID().uuidString.lowercased())
        function.put(alias)
        try await self.store.putAlias(function: name, alias)
        self.catalog.put(function)
        self.logger.info("Alias created", metadata: ["function.name": "\(name)", "alias.name": "\(aliasName)"])
        return alias
    }

    /// `UpdateAlias`: members left out keep their values; an empty `AdditionalVersionWeights` removes the routing.
    /// Every update makes a new RevisionId, as on AWS.
    public func updateAlias(
        function name: String, alias aliasName: String, functionVersion: String?, description: String?,
        weights: [String: Double]?, revisionID: String?
    ) async throws -> AliasConfiguration {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        guard var alias = function.alias(aliasName) else {
            throw NimbusError(.resourceNotFound, "Alias not found: \(self.account.functionARN(name, qualifier: aliasName))")
        }
        if let revisionID, revisionID != alias.revisionID { throw Self.revisionMismatch }
        let primary = functionVersion ?? alias.functionVersion
        let routing = weights ?? alias.additionalVersionWeights
        try AliasRules.checkRouting(primary: primary, weights: routing)
        try self.checkTargets(function, primary: primary, weights: routing)
        alias.functionVersion = primary
        alias.additionalVersionWeights = routing
        if let description { alias.description = description }
        alias.revisionID = UUID().uuidString.lowercased()
        function.put(alias)
        try await self.store.putAlias(function: name, alias)
        self.catalog.put(function)
        self.aliasMoved(function, alias: aliasName)
        self.logger.info("Alias updated", metadata: ["function.name": "\(name)", "alias.name": "\(aliasName)"])
        return alias
    }

    /// `DeleteAlias`. Deleting an alias that does not exist succeeds, as on AWS.
    public func deleteAlias(function name: String, alias aliasName: String) async throws {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        guard function.alias(aliasName) != nil else { return }
        try await self.removeProvisioned(&function, qualifier: aliasName)
        // The alias's policy goes with it; its URL stays (and answers 403 until the alias exists again), as on AWS.
        try await self.removePolicy(&function, qualifier: aliasName)
        function.aliases.removeAll { $0.name == aliasName }
        try await self.store.deleteAlias(function: name, alias: aliasName)
        self.catalog.put(function)
        self.logger.info("Alias deleted", metadata: ["function.name": "\(name)", "alias.name": "\(aliasName)"])
    }

    /// Every version an alias would route to must exist.
    func checkTargets(_ function: StoredFunction, primary: String, weights: [String: Double]) throws {
        for version in [primary] + weights.keys.sorted() where function.version(version) == nil {
            throw self.account.notFound(function.name, qualifier: version)
        }
    }

    static var revisionMismatch: NimbusError {
        NimbusError(
            .preconditionFailed,
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
        )
    }
}
