import NimbusCore

/// A function as persisted: its `$LATEST` configuration, tags, published versions, aliases and reserved concurrency.
public struct StoredFunction: Sendable, Equatable {
    /// The `$LATEST` configuration.
    public var configuration: FunctionConfiguration
    public var tags: [String: String]
    /// Published versions, ascending by number. They never change once published.
    public var versions: [PublishedVersion]
    /// Aliases, sorted by name.
    public var aliases: [AliasConfiguration]
    /// `PutFunctionConcurrency`'s value, or nil when the function uses the unreserved pool.
    public var reservedConcurrency: Int?
    /// The highest version number ever published (numbers are never reused, even after a version is deleted).
    public var lastVersionNumber: Int
    /// Provisioned concurrency configurations, one per qualifier (a published version or an alias).
    public var provisioned: [ProvisionedConcurrencyConfig] = []
    /// Resource-based policies by qualifier (`""` for the unqualified function, a version number or an alias).
    public var policies: [String: ResourcePolicy] = [:]
    /// Function URLs by qualifier (`""` for the unqualified function, or an alias).
    public var urls: [String: FunctionURLConfig] = [:]

    public init(
        configuration: FunctionConfiguration, tags: [String: String], versions: [PublishedVersion] = [],
        aliases: [AliasConfiguration] = [], reservedConcurrency: Int? = nil, lastVersionNumber: Int = 0
    ) {
        self.configuration = configuration
        self.tags = tags
        self.versions = versions
        self.aliases = aliases
        self.reservedConcurrency = reservedConcurrency
        self.lastVersionNumber = lastVersionNumber
    }

    public var name: String { self.configuration.name }

    /// The configuration of `$LATEST` or of a published version; nil when no such version exists.
    public func version(_ version: String) -> FunctionConfiguration? {
        if version == "$LATEST" { return self.configuration }
        return self.versions.first { $0.configuration.version == version }?.configuration
    }

    public func alias(_ name: String) -> AliasConfiguration? {
        self.aliases.first { $0.name == name }
    }

    /// Every code package the function refers to (`$LATEST` and every published version).
    public var codeDigests: Set<String> {
        Set([self.configuration.code.digestHex] + self.versions.map(\.configuration.code.digestHex))
    }

    /// Inserts or replaces an alias, keeping the list sorted by name.
    public mutating func put(_ alias: AliasConfiguration) {
        self.aliases.removeAll { $0.name == alias.name }
        self.aliases.append(alias)
        self.aliases.sort { $0.name < $1.name }
    }
}

/// A published version: an immutable snapshot of `$LATEST`.
public struct PublishedVersion: Sendable, Equatable {
    /// The snapshot; `version` is the number as a string.
    public var configuration: FunctionConfiguration
    /// The `$LATEST` RevisionId this version was published from. While `$LATEST` keeps that revision, publishing
    /// again returns this version instead of making a new one.
    public var sourceRevisionID: String

    public init(configuration: FunctionConfiguration, sourceRevisionID: String) {
        self.configuration = configuration
        self.sourceRevisionID = sourceRevisionID
    }

    /// The version number.
    public var number: Int { Int(self.configuration.version) ?? 0 }
}
