import GRDB
import NimbusCore

/// The embedded default ``EventBusStore``: tables `events_buses` and `events_rules` of `nimbus.sqlite` (migration
/// v11). Writes are the control plane's and the scheduler's, a few per second at most: each is its own transaction.
public struct SQLiteEventBusStore: EventBusStore {
    let database: NimbusDatabase

    public init(database: NimbusDatabase) {
        self.database = database
    }

    public func loadBuses() async throws -> [EventBusRecord] {
        try await self.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events_buses ORDER BY account, region, name").map { row in
                EventBusRecord(
                    namespace: AccountContext(region: row["region"], accountID: row["account"]),
                    name: row["name"],
                    document: row["document"],
                    createdMillis: row["created_at"]
                )
            }
        }
    }

    public func loadRules() async throws -> [EventRuleRecord] {
        try await self.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events_rules ORDER BY account, region, bus, name").map { row in
                EventRuleRecord(
                    namespace: AccountContext(region: row["region"], accountID: row["account"]),
                    bus: row["bus"],
                    name: row["name"],
                    document: row["document"],
                    createdMillis: row["created_at"],
                    nextFireMillis: row["next_fire_at"]
                )
            }
        }
    }

    public func putBus(_ bus: EventBusRecord) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO events_buses (account, region, name, document, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(account, region, name) DO UPDATE SET document = excluded.document
                    """,
                arguments: [bus.namespace.accountID, bus.namespace.region, bus.name, bus.document, bus.createdMillis]
            )
        }
    }

    public func deleteBus(namespace: AccountContext, name: String) async throws {
        try await self.database.pool.write { db in
            let arguments: StatementArguments = [namespace.accountID, namespace.region, name]
            try db.execute(
                sql: "DELETE FROM events_rules WHERE account = ? AND region = ? AND bus = ?",
                arguments: arguments
            )
            try db.execute(
                sql: "DELETE FROM events_buses WHERE account = ? AND region = ? AND name = ?",
                arguments: arguments
            )
        }
    }

    public func putRule(_ rule: EventRuleRecord) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO events_rules (account, region, bus, name, document, created_at, next_fire_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(account, region, bus, name)
                    DO UPDATE SET document = excluded.document, next_fire_at = excluded.next_fire_at
                    """,
                arguments: [
                    rule.namespace.accountID, rule.namespace.region, rule.bus, rule.name, rule.document,
                    rule.createdMillis, rule.nextFireMillis,
                ]
            )
        }
    }

    public func deleteRule(namespace: AccountContext, bus: String, name: String) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM events_rules WHERE account = ? AND region = ? AND bus = ? AND name = ?",
                arguments: [namespace.accountID, namespace.region, bus, name]
            )
        }
    }

    public func setNextFire(namespace: AccountContext, bus: String, name: String, nextFireMillis: Int64?) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql:
                    "UPDATE events_rules SET next_fire_at = ? WHERE account = ? AND region = ? AND bus = ? AND name = ?",
                arguments: [nextFireMillis, namespace.accountID, namespace.region, bus, name]
            )
        }
    }
}
