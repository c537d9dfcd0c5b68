import NimbusCore
import NimbusStore
import Synchronization

/// The in-memory view of every `FunctionEventInvokeConfig` (function name → qualifier → configuration), read by the
/// asynchronous dispatcher without touching the database.
public final class EventInvokeConfigCatalog: Sendable {
    let configs = Mutex<[String: [String: EventInvokeConfig]]>([:])

    public init() {}

    public func get(_ name: String, qualifier: String) -> EventInvokeConfig? {
        self.configs.withLock { $0[name]?[qualifier] }
    }

    /// A function's configurations sorted by qualifier.
    public func all(of name: String) -> [(qualifier: String, config: EventInvokeConfig)] {
        self.configs.withLock { ($0[name] ?? [:]).map { ($0.key, $0.value) } }.sorted { $0.qualifier < $1.qualifier }
    }

    func set(_ name: String, qualifier: String, _ config: EventInvokeConfig?) {
        self.configs.withLock { $0[name, default: [:]][qualifier] = config }
    }

    func removeAll(of name: String) {
        _ = self.configs.withLock { $0.removeValue(forKey: name) }
    }

    func replaceAll(_ all: [String: [String: EventInvokeConfig]]) {
        self.configs.withLock { $0 = all }
    }
}

/// `Put/Update/DeleteFunctionEventInvokeConfig`: stored per function and qualifier (`$LATEST` when unqualified).
extension FunctionRegistry {
    /// Loads every configuration into ``eventInvokeConfigs`` (server start).
    public func loadEventInvokeConfigs() async throws {
        self.eventInvokeConfigs.replaceAll(try await self.store.loadEventInvokeConfigs())
    }

    public func putEventInvokeConfig(function name: String, qualifier: String, _ config: EventInvokeConfig) async throws {
        _ = try self.existing(name)
        try await self.store.putEventInvokeConfig(function: name, qualifier: qualifier, config)
        self.eventInvokeConfigs.set(name, qualifier: qualifier, config)
        self.logger.info(
            "Function event invoke configuration stored", metadata: ["function.name": "\(name)", "function.qualifier": "\(qualifier)"])
    }

    public func deleteEventInvokeConfig(function name: String, qualifier: String) async throws {
        try await self.store.deleteEventInvokeConfig(function: name, qualifier: qualifier)
        self.eventInvokeConfigs.set(name, qualifier: qualifier, nil)
    }
}
