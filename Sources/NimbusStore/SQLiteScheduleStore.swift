import GRDB
import NimbusCore

/// The embedded default ``ScheduleStore``: `scheduler_groups` and `scheduler_schedules` (migration `v12`) in
/// `nimbus.sqlite`, keyed by namespace and name(s). A schedule's firing state lives in its own columns, indexed by
/// due time.
public struct SQLiteScheduleStore: ScheduleStore {
    let database: NimbusDatabase

    public init(database: NimbusDatabase) {
        self.database = database
    }

    public func loadGroups() async throws -> [ScheduleGroupRecord] {
        try await self.database.pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT account, region, name, document, created_at FROM scheduler_groups ORDER BY created_at, rowid"
            ).map { row in
                ScheduleGroupRecord(
                    namespace: AccountContext(region: row["region"], accountID: row["account"]),
                    name: row["name"],
                    document: row["document"],
                    createdMillis: row["created_at"]
                )
            }
        }
    }

    public func loadSchedules() async throws -> [ScheduleRecord] {
        try await self.database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT account, region, group_name, name, document, created_at,
                        scheduled_at, due_at, attempts, last_fired_at
                    FROM scheduler_schedules ORDER BY created_at, rowid
                    """
            ).map { row in
                ScheduleRecord(
                    namespace: AccountContext(region: row["region"], accountID: row["account"]),
                    group: row["group_name"],
                    name: row["name"],
                    document: row["document"],
                    createdMillis: row["created_at"],
                    firing: ScheduleFiring(
                        scheduledMillis: row["scheduled_at"],
                        dueMillis: row["due_at"],
                        attempts: row["attempts"],
                        lastFiredMillis: row["last_fired_at"]
                    )
                )
            }
        }
    }

    public func insertGroup(_ record: ScheduleGroupRecord) async throws {
        let inserted = try await self.database.pool.write { db -> Bool in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO scheduler_groups (account, region, name, document, created_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.namespace.accountID, record.namespace.region, record.name, record.document,
                    record.createdMillis,
                ]
            )
            return db.changesCount == 1
        }
        if !inserted { throw ScheduleStoreError.exists(record.name) }
    }

    public func updateGroup(_ record: ScheduleGroupRecord) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: "UPDATE scheduler_groups SET document = ? WHERE account = ? AND region = ? AND name = ?",
                arguments: [record.document, record.namespace.accountID, record.namespace.region, record.name]
            )
        }
    }

    public func deleteGroup(namespace: AccountContext, name: String) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM scheduler_schedules WHERE account = ? AND region = ? AND group_name = ?",
                arguments: [namespace.accountID, namespace.region, name]
            )
            try db.execute(
                sql: "DELETE FROM scheduler_groups WHERE account = ? AND region = ? AND name = ?",
                arguments: [namespace.accountID, namespace.region, name]
            )
        }
    }

    public func insertSchedule(_ record: ScheduleRecord) async throws {
        let inserted = try await self.database.pool.write { db -> Bool in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO scheduler_schedules
                        (account, region, group_name, name, document, created_at,
                         scheduled_at, due_at, attempts, last_fired_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.namespace.accountID, record.namespace.region, record.group, record.name, record.document,
                    record.createdMillis, record.firing.scheduledMillis, record.firing.dueMillis,
                    record.firing.attempts, record.firing.lastFiredMillis,
                ]
            )
            return db.changesCount == 1
        }
        if !inserted { throw ScheduleStoreError.exists(record.name) }
    }

    public func replaceSchedule(_ record: ScheduleRecord) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE scheduler_schedules
                    SET document = ?, scheduled_at = ?, due_at = ?, attempts = ?, last_fired_at = ?
                    WHERE account = ? AND region = ? AND group_name = ? AND name = ?
                    """,
                arguments: [
                    record.document, record.firing.scheduledMillis, record.firing.dueMillis, record.firing.attempts,
                    record.firing.lastFiredMillis, record.namespace.accountID, record.namespace.region, record.group,
                    record.name,
                ]
            )
        }
    }

    public func deleteSchedule(namespace: AccountContext, group: String, name: String) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM scheduler_schedules WHERE account = ? AND region = ? AND group_name = ? AND name = ?",
                arguments: [namespace.accountID, namespace.region, group, name]
            )
        }
    }

    public func recordFiring(
        namespace: AccountContext,
        group: String,
        name: String,
        firing: ScheduleFiring
    )
        async throws
    {
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE scheduler_schedules SET scheduled_at = ?, due_at = ?, attempts = ?, last_fired_at = ?
                    WHERE account = ? AND region = ? AND group_name = ? AND name = ?
                    """,
                arguments: [
                    firing.scheduledMillis, firing.dueMillis, firing.attempts, firing.lastFiredMillis,
                    namespace.accountID, namespace.region, group, name,
                ]
            )
        }
    }
}
