import GRDB
import NimbusCore

/// Persistence of resource-based policies and function URLs, one row per function and qualifier (`""` for the
/// unqualified function).
extension SQLiteFunctionStore {
    public func loadPoliciesAndURLs() async throws -> (
        policies: [String: [String: ResourcePolicy]], urls: [String: [String: FunctionURLConfig]]
    ) {
        try await self.database.pool.read { db in
            var policies: [String: [String: ResourcePolicy]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT function_name, qualifier, document FROM function_policies WHERE account = ? AND region = ?",
                arguments: self.scope)
            {
                policies[row["function_name"], default: [:]][row["qualifier"]] = try Self.decode(
                    ResourcePolicy.self, row["document"])
            }
            var urls: [String: [String: FunctionURLConfig]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT function_name, qualifier, config FROM function_urls WHERE account = ? AND region = ?",
                arguments: self.scope)
            {
                urls[row["function_name"], default: [:]][row["qualifier"]] = try Self.decode(
                    FunctionURLConfig.self, row["config"])
            }
            return (policies, urls)
        }
    }

    public func putPolicy(function name: String, qualifier: String, _ policy: ResourcePolicy?) async throws {
        let text = try policy.map { try Self.encode($0) }
        try await self.database.pool.write { db in
            if let text, let policy {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO function_policies (account, region, function_name, qualifier, document, revision_id)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: self.scope + [name, qualifier, text, policy.revisionID])
            } else {
                try db.execute(
                    sql: "DELETE FROM function_policies WHERE account = ? AND region = ? AND function_name = ? AND qualifier = ?",
                    arguments: self.scope + [name, qualifier])
            }
        }
    }

    public func putURL(function name: String, qualifier: String, _ config: FunctionURLConfig?) async throws {
        let text = try config.map { try Self.encode($0) }
        try await self.database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM function_urls WHERE account = ? AND region = ? AND function_name = ? AND qualifier = ?",
                arguments: self.scope + [name, qualifier])
            if let text, let config {
                try db.execute(
                    sql: """
                        INSERT INTO function_urls (url_id, account, region, function_name, qualifier, config)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [config.urlID] + self.scope + [name, qualifier, text])
            }
        }
    }
}
