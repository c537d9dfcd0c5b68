import NimbusCore

/// Where API Gateway HTTP APIs persist: one document per API and one per child (integration, route, stage,
/// deployment), as JSON text the API Gateway service owns the schema of. The service keeps every API in memory and
/// writes here before it acknowledges a change; the invoke path never reads a store. API ids are unique across
/// namespaces (the invoke host names no region), so the API id alone addresses an API's rows. The embedded default
/// is ``SQLiteAPIGatewayStore``; a PostgreSQL store for scale-out implements the same protocol.
public protocol APIGatewayStore: Sendable {
    /// Every API of every namespace with its children, APIs and children in creation order.
    func loadAll() async throws -> [APIGatewayRecord]
    /// Inserts a new API with the children it starts with (quick create), atomically.
    /// - Throws: ``APIGatewayStoreError/apiExists`` when the id is taken.
    func insert(_ record: APIGatewayRecord) async throws
    /// Changes one API atomically: replaces its document when one is given, inserts or replaces `put` children
    /// (a replaced child keeps its creation time) and deletes `delete`.
    func update(
        apiID: String, document: String?, put: [APIGatewayChildRecord], delete: [APIGatewayChildKey]
    ) async throws
    /// Deletes an API with all its children.
    func delete(apiID: String) async throws
}

/// One stored API: its namespace, its document and its children.
public struct APIGatewayRecord: Sendable, Equatable {
    public var apiID: String
    public var namespace: AccountContext
    public var document: String
    public var createdMillis: Int64
    public var children: [APIGatewayChildRecord]

    public init(
        apiID: String, namespace: AccountContext, document: String, createdMillis: Int64,
        children: [APIGatewayChildRecord] = []
    ) {
        self.apiID = apiID
        self.namespace = namespace
        self.document = document
        self.createdMillis = createdMillis
        self.children = children
    }
}

/// One child of an API: its kind (`integration`, `route`, `stage`, `deployment`), its id within the kind and API
/// (a stage's id is its name) and its document.
public struct APIGatewayChildRecord: Sendable, Equatable {
    public var kind: String
    public var id: String
    public var document: String
    public var createdMillis: Int64

    public init(kind: String, id: String, document: String, createdMillis: Int64) {
        self.kind = kind
        self.id = id
        self.document = document
        self.createdMillis = createdMillis
    }

    public var key: APIGatewayChildKey { APIGatewayChildKey(kind: self.kind, id: self.id) }
}

public struct APIGatewayChildKey: Sendable, Hashable {
    public var kind: String
    public var id: String

    public init(kind: String, id: String) {
        self.kind = kind
        self.id = id
    }
}

public enum APIGatewayStoreError: Error, Sendable, Equatable {
    /// An API with this id exists already (in any namespace).
    case apiExists(String)
}
