/// A `PutProvisionedConcurrencyConfig` request as stored: how many environments to keep initialised for a published
/// version or an alias.
public struct ProvisionedConcurrencyConfig: Sendable, Equatable {
    /// A version number or an alias name (never `$LATEST`).
    public var qualifier: String
    /// `RequestedProvisionedConcurrentExecutions`.
    public var requested: Int
    public var lastModifiedMillis: Int64

    public init(qualifier: String, requested: Int, lastModifiedMillis: Int64) {
        self.qualifier = qualifier
        self.requested = requested
        self.lastModifiedMillis = lastModifiedMillis
    }
}
