import GRDB
import NimbusCore

/// Persistence of `FunctionEventInvokeConfig`, one row per function and qualifier (`$LATEST` for unqualified).
extension SQLiteFunctionStore {
    /// Every stored configuration: function name → qualifier → configuration.
    public func loadEventInvokeConfigs() async throws -> [String: [String: EventInvokeConfig]] {
        try await self.database.pool.read { db in
            var result: [String: [String: EventInvokeConfig]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT function_name, qualifier, config FROM event_invoke_configs WHERE account = ? AND region = ?",
                arguments: self.scope)
            {
                result[row["function_name"], default: [:]][row["qualifier"]] = try Self.decode(
                    EventInvokeConfig.self, row["config"])
            }
            return result
        }
    }

    public func putEventInvokeConfig(function name: String, qualifier: String, _ config: EventInvokeConfig) async throws {
        let text = try Self.encode(config)
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO event_invoke_configs (account, region, function_name, qualifier, config)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: self.scope + [name, qualifier, text])
        }
    }

    public func deleteEventInvokeConfig(function name: String, qualifier: String) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM event_invoke_configs WHERE account = ? AND region = ? AND function_name = ? AND qualifier = ?",
                arguments: self.scope + [name, qualifier])
        }
    }
}
