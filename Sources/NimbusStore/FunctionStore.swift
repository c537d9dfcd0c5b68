import Foundation
import GRDB
import NimbusCore

/// A function as persisted: its `$LATEST` configuration and its tags.
public struct StoredFunction: Sendable, Equatable {
    public var configuration: FunctionConfiguration
    public var tags: [String: String]

    public init(configuration: FunctionConfiguration, tags: [String: String]) {
        self.configuration = configuration
        self.tags = tags
    }
}

/// Persistence of function metadata. Callers serialise writes per function; reads on the invocation path go to
/// the in-memory catalog, never here.
public struct FunctionStore: Sendable {
    let database: NimbusDatabase

    public init(database: NimbusDatabase) {
        self.database = database
    }

    /// Every function, in creation order.
    public func loadAll() async throws -> [StoredFunction] {
        try await self.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT config, tags FROM functions ORDER BY created_at, name").map { row in
                try Self.decode(config: row["config"], tags: row["tags"])
            }
        }
    }

    /// Inserts a new function; fails with `ResourceConflictException` if the name exists.
    public func insert(_ function: StoredFunction) async throws {
        let config = try Self.encode(function.configuration)
        let tags = try Self.encode(function.tags)
        let name = function.configuration.name
        let inserted = try await self.database.pool.write { db -> Bool in
            try db.execute(
                sql: "INSERT OR IGNORE INTO functions (name, config, tags, created_at) VALUES (?, ?, ?, ?)",
                arguments: [name, config, tags, Timestamp.nowMillis()])
            return db.changesCount == 1
        }
        if !inserted { throw NimbusError(.resourceConflict, "Function already exist: \(name)") }
    }

    /// Replaces a function's configuration and tags.
    public func update(_ function: StoredFunction) async throws {
        let config = try Self.encode(function.configuration)
        let tags = try Self.encode(function.tags)
        let name = function.configuration.name
        try await self.database.pool.write { db in
            try db.execute(
                sql: "UPDATE functions SET config = ?, tags = ? WHERE name = ?", arguments: [config, tags, name])
        }
    }

    public func delete(name: String) async throws {
        try await self.database.pool.write { db in
            try db.execute(sql: "DELETE FROM functions WHERE name = ?", arguments: [name])
        }
    }

    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode(config: String, tags: String) throws -> StoredFunction {
        let decoder = JSONDecoder()
        return StoredFunction(
            configuration: try decoder.decode(FunctionConfiguration.self, from: Data(config.utf8)),
            tags: try decoder.decode([String: String].self, from: Data(tags.utf8)))
    }
}
