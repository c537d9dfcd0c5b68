import GRDB
import NimbusCore

/// Persistence of provisioned concurrency configurations (table `provisioned_concurrency`, migration v3).
extension SQLiteFunctionStore {
    /// Every configuration, per function name, sorted by qualifier.
    public func loadProvisioned() async throws -> [String: [ProvisionedConcurrencyConfig]] {
        try await self.database.pool.read { db in
            var result: [String: [ProvisionedConcurrencyConfig]] = [:]
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT function_name, qualifier, requested, last_modified FROM provisioned_concurrency WHERE account = ? AND region = ? ORDER BY qualifier",
                arguments: self.scope
            ) {
                result[row["function_name"], default: []].append(
                    ProvisionedConcurrencyConfig(
                        qualifier: row["qualifier"],
                        requested: row["requested"],
                        lastModifiedMillis: row["last_modified"]
                    )
                )
            }
            return result
        }
    }

    /// Inserts or replaces a function's configuration for one qualifier.
    public func putProvisioned(function name: String, _ config: ProvisionedConcurrencyConfig) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO provisioned_concurrency (account, region, function_name, qualifier, requested, last_modified)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: self.scope + [name, config.qualifier, config.requested, config.lastModifiedMillis]
            )
        }
    }

    /// Removes a function's configuration for one qualifier (nothing when there is none).
    public func deleteProvisioned(function name: String, qualifier: String) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM provisioned_concurrency WHERE account = ? AND region = ? AND function_name = ? AND qualifier = ?",
                arguments: self.scope + [name, qualifier]
            )
        }
    }
}
