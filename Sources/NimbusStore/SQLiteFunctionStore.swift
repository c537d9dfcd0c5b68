import Foundation
import GRDB
import NimbusCore

/// The embedded default ``FunctionStore``: the function tables of `nimbus.sqlite`, confined to one (account, region).
/// Callers serialise writes per function; reads on the invocation path go to the in-memory catalog, never here.
public struct SQLiteFunctionStore: FunctionStore {
    let database: NimbusDatabase
    public let namespace: AccountContext

    public init(database: NimbusDatabase, namespace: AccountContext = AccountContext()) {
        self.database = database
        self.namespace = namespace
    }

    /// `account = ? AND region = ?` and its arguments: every statement is confined to the store's namespace.
    var scope: StatementArguments { [self.namespace.accountID, self.namespace.region] }

    /// Every function with its versions and aliases, in creation order.
    public func loadAll() async throws -> [StoredFunction] {
        try await self.database.pool.read { db in
            var versions: [String: [PublishedVersion]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT function_name, config, source_revision FROM function_versions WHERE account = ? AND region = ? ORDER BY version",
                arguments: self.scope)
            {
                let config = try Self.decode(FunctionConfiguration.self, row["config"])
                versions[row["function_name"], default: []].append(
                    PublishedVersion(configuration: config, sourceRevisionID: row["source_revision"]))
            }
            var aliases: [String: [AliasConfiguration]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT function_name, config FROM function_aliases WHERE account = ? AND region = ? ORDER BY name",
                arguments: self.scope)
            {
                aliases[row["function_name"], default: []].append(try Self.decode(AliasConfiguration.self, row["config"]))
            }
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT name, config, tags, last_version, reserved_concurrency FROM functions WHERE account = ? AND region = ? ORDER BY created_at, name",
                arguments: self.scope
            ).map { row in
                let name: String = row["name"]
                return StoredFunction(
                    configuration: try Self.decode(FunctionConfiguration.self, row["config"]),
                    tags: try Self.decode([String: String].self, row["tags"]),
                    versions: versions[name] ?? [], aliases: aliases[name] ?? [],
                    reservedConcurrency: row["reserved_concurrency"], lastVersionNumber: row["last_version"])
            }
        }
    }

    /// Inserts a new function with any versions and aliases it already has (CreateFunction with `Publish`).
    /// Fails with `ResourceConflictException` if the name exists.
    public func insert(_ function: StoredFunction) async throws {
        let config = try Self.encode(function.configuration)
        let tags = try Self.encode(function.tags)
        let name = function.configuration.name
        let (account, region) = (self.namespace.accountID, self.namespace.region)
        let versions = try function.versions.map { ($0.number, try Self.encode($0.configuration), $0.sourceRevisionID) }
        let inserted = try await self.database.pool.write { db -> Bool in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO functions
                        (account, region, name, config, tags, created_at, last_version, reserved_concurrency)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    account, region, name, config, tags, Timestamp.nowMillis(), function.lastVersionNumber,
                    function.reservedConcurrency,
                ])
            guard db.changesCount == 1 else { return false }
            for (number, versionConfig, source) in versions {
                try db.execute(
                    sql: """
                        INSERT INTO function_versions (account, region, function_name, version, config, source_revision)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [account, region, name, number, versionConfig, source])
            }
            return true
        }
        if !inserted { throw NimbusError(.resourceConflict, "Function already exist: \(name)") }
    }

    /// Replaces a function's `$LATEST` configuration, tags, version counter and reserved concurrency. Versions and
    /// aliases have their own writes.
    public func update(_ function: StoredFunction) async throws {
        let config = try Self.encode(function.configuration)
        let tags = try Self.encode(function.tags)
        try await self.database.pool.write { db in
            try self.updateRow(db, config: config, tags: tags, function: function)
        }
    }

    /// Records a new published version together with the function row it changes ($LATEST's revision and the
    /// version counter), in one transaction.
    public func publish(_ function: StoredFunction, version: PublishedVersion) async throws {
        let config = try Self.encode(function.configuration)
        let tags = try Self.encode(function.tags)
        let versionConfig = try Self.encode(version.configuration)
        let name = function.configuration.name
        try await self.database.pool.write { db in
            try self.updateRow(db, config: config, tags: tags, function: function)
            try db.execute(
                sql: """
                    INSERT INTO function_versions (account, region, function_name, version, config, source_revision)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: self.scope + [name, version.number, versionConfig, version.sourceRevisionID])
        }
    }

    public func deleteVersion(function name: String, number: Int) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM function_versions WHERE account = ? AND region = ? AND function_name = ? AND version = ?",
                arguments: self.scope + [name, number])
        }
    }

    /// Inserts or replaces an alias.
    public func putAlias(function name: String, _ alias: AliasConfiguration) async throws {
        let config = try Self.encode(alias)
        try await self.database.pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO function_aliases (account, region, function_name, name, config) VALUES (?, ?, ?, ?, ?)",
                arguments: self.scope + [name, alias.name, config])
        }
    }

    public func deleteAlias(function name: String, alias: String) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM function_aliases WHERE account = ? AND region = ? AND function_name = ? AND name = ?",
                arguments: self.scope + [name, alias])
        }
    }

    /// Deletes a function with all its versions, aliases and settings.
    public func delete(name: String) async throws {
        try await self.database.pool.write { db in
            for table in [
                "function_aliases", "function_versions", "provisioned_concurrency", "event_invoke_configs",
                "function_policies", "function_urls",
            ] {
                try db.execute(
                    sql: "DELETE FROM \(table) WHERE account = ? AND region = ? AND function_name = ?",
                    arguments: self.scope + [name])
            }
            try db.execute(
                sql: "DELETE FROM functions WHERE account = ? AND region = ? AND name = ?", arguments: self.scope + [name])
        }
    }

    func updateRow(_ db: Database, config: String, tags: String, function: StoredFunction) throws {
        try db.execute(
            sql: """
                UPDATE functions SET config = ?, tags = ?, last_version = ?, reserved_concurrency = ?
                WHERE account = ? AND region = ? AND name = ?
                """,
            arguments: [config, tags, function.lastVersionNumber, function.reservedConcurrency] + self.scope
                + [function.configuration.name])
    }

    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
