import NimbusCore

/// An EventBridge event bus as stored: its name in its namespace and a JSON document the events service owns
/// (description, tags, …). The store does not read the document.
public struct EventBusRecord: Sendable, Equatable {
    public var namespace: AccountContext
    public var name: String
    public var document: String
    public var createdMillis: Int64

    public init(namespace: AccountContext, name: String, document: String, createdMillis: Int64) {
        self.namespace = namespace
        self.name = name
        self.document = document
        self.createdMillis = createdMillis
    }
}

/// An EventBridge rule as stored: its definition, targets and tags as one JSON document the events service owns, and
/// beside it the one piece of state the scheduler changes on its own: the next firing of a scheduled rule that has not
/// been delivered yet (nil for pattern rules and disabled rules).
public struct EventRuleRecord: Sendable, Equatable {
    public var namespace: AccountContext
    public var bus: String
    public var name: String
    public var document: String
    public var createdMillis: Int64
    /// Milliseconds since the epoch.
    public var nextFireMillis: Int64?

    public init(
        namespace: AccountContext,
        bus: String,
        name: String,
        document: String,
        createdMillis: Int64,
        nextFireMillis: Int64?
    ) {
        self.namespace = namespace
        self.bus = bus
        self.name = name
        self.document = document
        self.createdMillis = createdMillis
        self.nextFireMillis = nextFireMillis
    }
}

/// Where EventBridge's buses and rules persist, across every namespace (scheduled rules of all of them fire from one
/// runner). The embedded default is ``SQLiteEventBusStore``; a PostgreSQL store for scale-out implements the same
/// protocol. Every write is durable when it returns; the service keeps the working state in memory and reads the store
/// only at start.
public protocol EventBusStore: Sendable {
    func loadBuses() async throws -> [EventBusRecord]
    func loadRules() async throws -> [EventRuleRecord]
    /// Inserts or replaces a bus.
    func putBus(_ bus: EventBusRecord) async throws
    /// Deletes a bus and every rule on it.
    func deleteBus(namespace: AccountContext, name: String) async throws
    /// Inserts or replaces a rule (its document and its next firing).
    func putRule(_ rule: EventRuleRecord) async throws
    func deleteRule(namespace: AccountContext, bus: String, name: String) async throws
    /// Records a scheduled rule's next firing once the previous one was delivered (or skipped).
    func setNextFire(namespace: AccountContext, bus: String, name: String, nextFireMillis: Int64?) async throws
}
