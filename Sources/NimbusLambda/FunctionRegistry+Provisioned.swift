import NimbusCore
import NimbusSandbox
import NimbusStore

/// Provisioned concurrency (`PutProvisionedConcurrencyConfig`): stored with the function, allocated by the invoker
/// (``Invoker/provision(_:qualifier:count:network:)``) on the version the qualifier resolves to.
extension FunctionRegistry {
    /// The configuration of the published version `qualifier` names (directly or through an alias).
    /// - Throws: AWS's errors: `$LATEST` (`latestMessage`), an unknown function, version or alias.
    nonisolated func provisionedTarget(
        _ function: StoredFunction?,
        name: String,
        qualifier: String,
        latestMessage: String
    ) throws -> FunctionConfiguration {
        if qualifier == "$LATEST" { throw NimbusError.invalidParameter(latestMessage) }
        let isVersion = qualifier.allSatisfy(\.isNumber)
        let aliasMissing = NimbusError(
            .resourceNotFound,
            "Cannot find alias arn: \(self.account.functionARN(name, qualifier: qualifier))"
        )
        guard let function else { throw isVersion ? self.account.notFound(name, qualifier: qualifier) : aliasMissing }
        if isVersion {
            guard let config = function.version(qualifier) else {
                throw self.account.notFound(name, qualifier: qualifier)
            }
            return config
        }
        guard let alias = function.alias(qualifier), let config = function.version(alias.functionVersion) else {
            throw aliasMissing
        }
        return config
    }

    static let unpublishedMessage =
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    static let notAliasOrVersionMessage = "The function resource provided must be an alias or a published version."

    /// `PutProvisionedConcurrencyConfig`.
    /// - Throws: `ResourceConflictException` when an alias and the version it points to would both be provisioned;
    ///   `InvalidParameterValueException` when the total exceeds the function's reservation or the account's
    ///   unreserved concurrency (AWS's messages).
    public func putProvisioned(
        function name: String,
        qualifier: String,
        requested: Int
    ) async throws
        -> ProvisionedConcurrencyConfig
    {
        guard self.catalog.get(name) != nil else {
            _ = try self.provisionedTarget(
                nil,
                name: name,
                qualifier: qualifier,
                latestMessage: Self.unpublishedMessage
            )
            throw self.account.notFound(name)
        }
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        let target = try self.provisionedTarget(
            function,
            name: name,
            qualifier: qualifier,
            latestMessage: Self.unpublishedMessage
        )
        let isVersion = qualifier.allSatisfy(\.isNumber)
        let others = function.provisioned.filter { $0.qualifier != qualifier }
        if isVersion {
            let provisionedAliases = Set(others.map(\.qualifier))
            if function.aliases.contains(where: {
                provisionedAliases.contains($0.name) && $0.functionVersion == qualifier
            }) {
                throw NimbusError(.resourceConflict, "Version is pointed by a Provisioned Concurrency alias")
            }
        } else if others.contains(where: { $0.qualifier == target.version }) {
            throw NimbusError(
                .resourceConflict,
                "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
            )
        }
        let total = others.reduce(requested) { $0 + $1.requested }
        if let reserved = function.reservedConcurrency {
            if total > reserved {
                throw NimbusError.invalidParameter(
                    "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
                )
            }
        } else {
            let unreserved = self.invoker.accountConcurrencyLimit - self.reservedConcurrencyTotal()
            if total > unreserved {
                throw NimbusError.invalidParameter(
                    "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [\(unreserved)]."
                )
            }
            if unreserved - total < self.minimumUnreservedConcurrency {
                throw NimbusError.invalidParameter(
                    "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [\(self.minimumUnreservedConcurrency)]."
                )
            }
        }
        let config = ProvisionedConcurrencyConfig(
            qualifier: qualifier,
            requested: requested,
            lastModifiedMillis: Timestamp.nowMillis()
        )
        try await self.store.putProvisioned(function: name, config)
        function.provisioned = (others + [config]).sorted { $0.qualifier < $1.qualifier }
        self.catalog.put(function)
        self.invoker.provision(target, qualifier: qualifier, count: requested, network: Self.network(of: function))
        self.logger.info(
            "Provisioned concurrency configured",
            metadata: [
                "function.name": "\(name)", "function.qualifier": "\(qualifier)",
                "concurrency.provisioned": "\(requested)",
            ]
        )
        return config
    }

    /// `DeleteProvisionedConcurrencyConfig`: nothing to delete succeeds, as on AWS.
    public func deleteProvisioned(function name: String, qualifier: String) async throws {
        guard self.catalog.get(name) != nil else {
            _ = try self.provisionedTarget(
                nil,
                name: name,
                qualifier: qualifier,
                latestMessage: Self.notAliasOrVersionMessage
            )
            throw self.account.notFound(name)
        }
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        _ = try self.provisionedTarget(
            function,
            name: name,
            qualifier: qualifier,
            latestMessage: Self.notAliasOrVersionMessage
        )
        try await self.removeProvisioned(&function, qualifier: qualifier)
    }

    /// Forgets a qualifier's configuration of a function whose change the caller has begun (also when its alias or
    /// version is deleted).
    func removeProvisioned(_ function: inout StoredFunction, qualifier: String) async throws {
        guard function.provisioned.contains(where: { $0.qualifier == qualifier }) else { return }
        try await self.store.deleteProvisioned(function: function.name, qualifier: qualifier)
        function.provisioned.removeAll { $0.qualifier == qualifier }
        self.catalog.put(function)
        self.invoker.deprovision(name: function.name, qualifier: qualifier)
        self.logger.info(
            "Provisioned concurrency removed",
            metadata: ["function.name": "\(function.name)", "function.qualifier": "\(qualifier)"]
        )
    }

    /// Hands stored configurations to the invoker (server start).
    func loadProvisioned() async throws {
        for (name, configs) in try await self.store.loadProvisioned() {
            guard var function = self.catalog.get(name) else { continue }
            function.provisioned = configs
            self.catalog.put(function)
            for config in configs {
                guard
                    let target = try? self.provisionedTarget(
                        function,
                        name: name,
                        qualifier: config.qualifier,
                        latestMessage: ""
                    )
                else { continue }
                self.invoker.provision(
                    target,
                    qualifier: config.qualifier,
                    count: config.requested,
                    network: Self.network(of: function)
                )
            }
        }
    }

    /// Re-targets an alias's configuration after the alias moved to another version.
    func aliasMoved(_ function: StoredFunction, alias: String) {
        guard let config = function.provisioned.first(where: { $0.qualifier == alias }),
            let target = try? self.provisionedTarget(function, name: function.name, qualifier: alias, latestMessage: "")
        else { return }
        self.invoker.provision(target, qualifier: alias, count: config.requested, network: Self.network(of: function))
    }

    /// The sum of a function's provisioned concurrency.
    nonisolated func provisionedTotal(_ function: StoredFunction) -> Int {
        function.provisioned.reduce(0) { $0 + $1.requested }
    }

    static func network(of function: StoredFunction) -> NetworkMode? {
        function.tags[Self.networkTag].flatMap(NetworkMode.init(rawValue:))
    }
}
