/// A function alias: a name that points at one published version (or `$LATEST`), optionally sending a share of
/// the traffic to a second version (`RoutingConfig.AdditionalVersionWeights`). Persisted as JSON by the store;
/// rendered in AWS's `AliasConfiguration` shape by ``wire(account:functionName:)``.
public struct AliasConfiguration: Codable, Sendable, Equatable {
    public var name: String
    /// The version the alias invokes: a version number or `$LATEST`.
    public var functionVersion: String
    public var description: String
    /// At most one entry: the additional version and the share (0…1) of invocations it receives.
    public var additionalVersionWeights: [String: Double]
    public var revisionID: String

    public init(
        name: String, functionVersion: String, description: String = "",
        additionalVersionWeights: [String: Double] = [:], revisionID: String
    ) {
        self.name = name
        self.functionVersion = functionVersion
        self.description = description
        self.additionalVersionWeights = additionalVersionWeights
        self.revisionID = revisionID
    }

    /// Every version the alias can route to: the primary one first.
    public var versions: [String] {
        [self.functionVersion] + self.additionalVersionWeights.keys.sorted()
    }

    /// Whether an invocation through the alias may run `version`.
    public func references(version: String) -> Bool {
        self.functionVersion == version || self.additionalVersionWeights[version] != nil
    }

    /// The version one invocation runs, given a uniform random number in `0..<1`: the additional version when the
    /// number falls below its weight, the primary version otherwise. With weight `w` the additional version gets a
    /// share `w` of the invocations and the primary one `1 - w`.
    public func version(forRandom random: Double) -> String {
        guard let (version, weight) = self.additionalVersionWeights.first, random < weight else {
            return self.functionVersion
        }
        return version
    }

    /// The AWS `AliasConfiguration` shape. `RoutingConfig` appears only when it has an entry, as on AWS.
    public func wire(account: AccountContext, functionName: String) -> JSONValue {
        var o: [String: JSONValue] = [
            "AliasArn": .string(account.functionARN(functionName, qualifier: self.name)),
            "Name": .string(self.name),
            "FunctionVersion": .string(self.functionVersion),
            "Description": .string(self.description),
            "RevisionId": .string(self.revisionID),
        ]
        if !self.additionalVersionWeights.isEmpty {
            o["RoutingConfig"] = .object([
                "AdditionalVersionWeights": .object(self.additionalVersionWeights.mapValues { .number($0) })
            ])
        }
        return .object(o)
    }
}
