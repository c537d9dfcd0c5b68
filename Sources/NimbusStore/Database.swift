import Foundation
import GRDB
import NimbusCore

/// The embedded SQLite database (WAL mode) holding function metadata and logs.
public final class NimbusDatabase: Sendable {
    public let pool: DatabasePool

    /// Opens (creating if needed) `<dataDirectory>/nimbus.sqlite` and runs the migrations.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL + NORMAL: durable across a process crash; the async queue will ask for FULL on its own writes.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        configuration.busyMode = .timeout(5)
        self.pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(self.pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE functions (
                        name TEXT PRIMARY KEY NOT NULL,
                        config TEXT NOT NULL,
                        tags TEXT NOT NULL DEFAULT '{}',
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE log_events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        log_group TEXT NOT NULL,
                        log_stream TEXT NOT NULL,
                        timestamp INTEGER NOT NULL,
                        ingestion_time INTEGER NOT NULL,
                        message TEXT NOT NULL
                    );
                    CREATE INDEX log_events_group_time ON log_events(log_group, timestamp);
                    CREATE INDEX log_events_group_stream ON log_events(log_group, log_stream, id);
                    """)
        }
        return migrator
    }
}
