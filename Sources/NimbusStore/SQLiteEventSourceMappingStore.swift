import Foundation
import GRDB
import NimbusCore

/// The embedded default ``EventSourceMappingStore``: table `event_source_mappings` of `nimbus.sqlite`.
public struct SQLiteEventSourceMappingStore: EventSourceMappingStore {
    let database: NimbusDatabase

    public init(database: NimbusDatabase) {
        self.database = database
    }

    public func loadAll() async throws -> [(namespace: AccountContext, mapping: EventSourceMapping)] {
        try await self.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT account, region, config FROM event_source_mappings ORDER BY created_at, uuid")
                .map { row in
                    let mapping = try JSONDecoder().decode(EventSourceMapping.self, from: Data((row["config"] as String).utf8))
                    return (AccountContext(region: row["region"], accountID: row["account"]), mapping)
                }
        }
    }

    public func put(_ mapping: EventSourceMapping, namespace: AccountContext) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let config = String(decoding: try encoder.encode(mapping), as: UTF8.self)
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO event_source_mappings (uuid, account, region, function_name, event_source_arn, config, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(uuid) DO UPDATE SET function_name = excluded.function_name, config = excluded.config
                    """,
                arguments: [
                    mapping.uuid, namespace.accountID, namespace.region, mapping.functionName, mapping.eventSourceARN,
                    config, Timestamp.nowMillis(),
                ])
        }
    }

    public func delete(uuid: String) async throws {
        try await self.database.pool.write { db in
            try db.execute(sql: "DELETE FROM event_source_mappings WHERE uuid = ?", arguments: [uuid])
        }
    }
}
