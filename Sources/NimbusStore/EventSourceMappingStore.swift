import NimbusCore

/// Where event source mappings persist, across every namespace (the pollers of all of them start with the server).
/// The embedded default is ``SQLiteEventSourceMappingStore``; a PostgreSQL store for scale-out implements the same
/// protocol.
public protocol EventSourceMappingStore: Sendable {
    /// Every mapping with its namespace, in creation order.
    func loadAll() async throws -> [(namespace: AccountContext, mapping: EventSourceMapping)]
    /// Inserts or replaces a mapping.
    func put(_ mapping: EventSourceMapping, namespace: AccountContext) async throws
    func delete(uuid: String) async throws
}
