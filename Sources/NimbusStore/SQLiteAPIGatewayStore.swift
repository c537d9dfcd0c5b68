import GRDB
import NimbusCore

/// The embedded default ``APIGatewayStore``: `apigateway_apis` (one row per API, keyed by its globally unique id)
/// and `apigateway_children` (one row per integration, route, stage and deployment; deleted with their API by the
/// foreign key's cascade) in `nimbus.sqlite`.
public struct SQLiteAPIGatewayStore: APIGatewayStore {
    let database: NimbusDatabase

    public init(database: NimbusDatabase) {
        self.database = database
    }

    public func loadAll() async throws -> [APIGatewayRecord] {
        try await self.database.pool.read { db in
            var children: [String: [APIGatewayChildRecord]] = [:]
            // rowid breaks ties between children created in the same millisecond (quick create makes four).
            for row in try Row.fetchAll(
                db,
                sql: "SELECT api_id, kind, id, document, created_at FROM apigateway_children ORDER BY created_at, rowid"
            ) {
                children[row["api_id"], default: []].append(
                    APIGatewayChildRecord(
                        kind: row["kind"], id: row["id"], document: row["document"], createdMillis: row["created_at"]))
            }
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT api_id, account, region, document, created_at FROM apigateway_apis ORDER BY created_at, rowid"
            ).map { row in
                let id: String = row["api_id"]
                return APIGatewayRecord(
                    apiID: id, namespace: AccountContext(region: row["region"], accountID: row["account"]),
                    document: row["document"], createdMillis: row["created_at"], children: children[id] ?? [])
            }
        }
    }

    public func insert(_ record: APIGatewayRecord) async throws {
        let inserted = try await self.database.pool.write { db -> Bool in
            try db.execute(
                sql:
                    "INSERT OR IGNORE INTO apigateway_apis (api_id, account, region, document, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    record.apiID, record.namespace.accountID, record.namespace.region, record.document,
                    record.createdMillis,
                ])
            guard db.changesCount == 1 else { return false }
            for child in record.children {
                try Self.put(child, apiID: record.apiID, db)
            }
            return true
        }
        if !inserted { throw APIGatewayStoreError.apiExists(record.apiID) }
    }

    public func update(
        apiID: String, document: String?, put: [APIGatewayChildRecord], delete: [APIGatewayChildKey]
    ) async throws {
        try await self.database.pool.write { db in
            if let document {
                try db.execute(
                    sql: "UPDATE apigateway_apis SET document = ? WHERE api_id = ?", arguments: [document, apiID])
            }
            for key in delete {
                try db.execute(
                    sql: "DELETE FROM apigateway_children WHERE api_id = ? AND kind = ? AND id = ?",
                    arguments: [apiID, key.kind, key.id])
            }
            for child in put {
                try Self.put(child, apiID: apiID, db)
            }
        }
    }

    public func delete(apiID: String) async throws {
        try await self.database.pool.write { db in
            // The children go with the API (ON DELETE CASCADE); deleting them first keeps this correct even on a
            // connection without foreign-key enforcement.
            try db.execute(sql: "DELETE FROM apigateway_children WHERE api_id = ?", arguments: [apiID])
            try db.execute(sql: "DELETE FROM apigateway_apis WHERE api_id = ?", arguments: [apiID])
        }
    }

    /// An upsert that keeps the row (and so its creation time and position) of a child that exists.
    static func put(_ child: APIGatewayChildRecord, apiID: String, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO apigateway_children (api_id, kind, id, document, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (api_id, kind, id) DO UPDATE SET document = excluded.document
                """,
            arguments: [apiID, child.kind, child.id, child.document, child.createdMillis])
    }
}
