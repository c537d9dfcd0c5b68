import NimbusCore

/// Where one (account, region)'s functions persist: each function with its published versions, aliases, reserved
/// and provisioned concurrency and asynchronous-invocation settings. The registry is the only writer and serialises
/// writes per function; the invocation path never reads a store (it reads the in-memory catalog). The embedded
/// default is ``SQLiteFunctionStore``; a PostgreSQL store for scale-out implements the same protocol.
public protocol FunctionStore: Sendable {
    /// Every function with its versions and aliases, in creation order.
    func loadAll() async throws -> [StoredFunction]
    /// Inserts a new function (with any versions it already has); `ResourceConflictException` if the name exists.
    func insert(_ function: StoredFunction) async throws
    /// Replaces `$LATEST`'s configuration, the tags, the version counter and the reserved concurrency.
    func update(_ function: StoredFunction) async throws
    /// Records a new published version with the function row it changes, atomically.
    func publish(_ function: StoredFunction, version: PublishedVersion) async throws
    func deleteVersion(function name: String, number: Int) async throws
    /// Inserts or replaces an alias.
    func putAlias(function name: String, _ alias: AliasConfiguration) async throws
    func deleteAlias(function name: String, alias: String) async throws
    /// Deletes a function with everything that belongs to it.
    func delete(name: String) async throws

    /// Provisioned concurrency configurations per function, sorted by qualifier.
    func loadProvisioned() async throws -> [String: [ProvisionedConcurrencyConfig]]
    func putProvisioned(function name: String, _ config: ProvisionedConcurrencyConfig) async throws
    func deleteProvisioned(function name: String, qualifier: String) async throws

    /// Asynchronous-invocation settings per function and qualifier.
    func loadEventInvokeConfigs() async throws -> [String: [String: EventInvokeConfig]]
    func putEventInvokeConfig(function name: String, qualifier: String, _ config: EventInvokeConfig) async throws
    func deleteEventInvokeConfig(function name: String, qualifier: String) async throws

    /// Resource-based policies and function URLs per function and qualifier (`""` for the unqualified function).
    func loadPoliciesAndURLs() async throws -> (policies: [String: [String: ResourcePolicy]], urls: [String: [String: FunctionURLConfig]])
    /// Stores a qualifier's policy, or deletes it when nil (its last statement was removed).
    func putPolicy(function name: String, qualifier: String, _ policy: ResourcePolicy?) async throws
    /// Stores a function URL, or deletes it when nil.
    func putURL(function name: String, qualifier: String, _ config: FunctionURLConfig?) async throws
}
