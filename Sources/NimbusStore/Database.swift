import Foundation
import GRDB
import NimbusCore

/// The embedded SQLite database (WAL mode) holding function metadata and logs.
public final class NimbusDatabase: Sendable {
    public let pool: DatabasePool

    /// Opens (creating if needed) `<dataDirectory>/nimbus.sqlite` and runs the migrations.
    /// - Parameter defaultNamespace: the (account, region) that data from before namespaces existed moves into.
    public init(path: String, defaultNamespace: AccountContext = AccountContext()) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL + NORMAL: durable across a process crash; the async queue will ask for FULL on its own writes.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        configuration.busyMode = .timeout(5)
        self.pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator(defaultNamespace: defaultNamespace).migrate(self.pool)
    }

    /// The (account, region) pairs that have functions.
    public func namespaces() async throws -> [AccountContext] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT DISTINCT account, region FROM functions ORDER BY account, region").map {
                AccountContext(region: $0["region"], accountID: $0["account"])
            }
        }
    }

    static func migrator(defaultNamespace: AccountContext) -> DatabaseMigrator {
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
        migrator.registerMigration("v2") { db in
            // Published versions and aliases (issue #4). Versions are immutable snapshots of $LATEST; `last_version`
            // keeps numbers from being reused after a version is deleted; `source_revision` is the $LATEST revision a
            // version was published from, so that publishing an unchanged $LATEST returns that version.
            try db.execute(
                sql: """
                    ALTER TABLE functions ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE functions ADD COLUMN reserved_concurrency INTEGER;
                    CREATE TABLE function_versions (
                        function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
                        version INTEGER NOT NULL,
                        config TEXT NOT NULL,
                        source_revision TEXT NOT NULL,
                        PRIMARY KEY (function_name, version)
                    );
                    CREATE TABLE function_aliases (
                        function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        config TEXT NOT NULL,
                        PRIMARY KEY (function_name, name)
                    );
                    """)
        }
        migrator.registerMigration("v3") { db in
            // Provisioned concurrency (issue #4): one row per function qualifier (a published version or an alias).
            try db.execute(
                sql: """
                    CREATE TABLE provisioned_concurrency (
                        function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
                        qualifier TEXT NOT NULL,
                        requested INTEGER NOT NULL,
                        last_modified INTEGER NOT NULL,
                        PRIMARY KEY (function_name, qualifier)
                    );
                    """)
        }
        migrator.registerMigration("v4") { db in
            // The durable asynchronous-invocation queue (issue #5): one row per accepted Event invocation, kept
            // across retries (same request id); Nimbus-native destination queues; FunctionEventInvokeConfig per
            // qualifier.
            try db.execute(
                sql: """
                    CREATE TABLE async_events (
                        request_id TEXT PRIMARY KEY NOT NULL,
                        function_name TEXT NOT NULL,
                        qualifier TEXT,
                        payload BLOB NOT NULL,
                        enqueued_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        backoffs INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        lease_expires_at INTEGER,
                        last_error TEXT,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX async_events_due ON async_events(state, next_attempt_at);
                    CREATE INDEX async_events_function ON async_events(function_name, state);
                    CREATE TABLE queue_messages (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        queue TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        body TEXT NOT NULL,
                        attributes TEXT NOT NULL DEFAULT '{}',
                        sent_at INTEGER NOT NULL
                    );
                    CREATE INDEX queue_messages_queue ON queue_messages(queue, id);
                    CREATE TABLE event_invoke_configs (
                        function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
                        qualifier TEXT NOT NULL,
                        config TEXT NOT NULL,
                        PRIMARY KEY (function_name, qualifier)
                    );
                    """)
        }
        migrator.registerMigration("v5") { db in
            // Regions and accounts (issue #11): every resource lives in an (account, region) namespace. The
            // function tables are rebuilt with the namespace in their keys; what existed moves into the server's
            // default namespace.
            let account = Self.literal(defaultNamespace.accountID)
            let region = Self.literal(defaultNamespace.region)
            try db.execute(
                sql: """
                    CREATE TABLE functions_v5 (
                        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
                        config TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL,
                        last_version INTEGER NOT NULL DEFAULT 0, reserved_concurrency INTEGER,
                        PRIMARY KEY (account, region, name)
                    );
                    INSERT INTO functions_v5 SELECT \(account), \(region), name, config, tags, created_at, last_version,
                        reserved_concurrency FROM functions;
                    CREATE TABLE function_versions_v5 (
                        account TEXT NOT NULL, region TEXT NOT NULL, function_name TEXT NOT NULL,
                        version INTEGER NOT NULL, config TEXT NOT NULL, source_revision TEXT NOT NULL,
                        PRIMARY KEY (account, region, function_name, version),
                        FOREIGN KEY (account, region, function_name) REFERENCES functions(account, region, name)
                            ON DELETE CASCADE
                    );
                    INSERT INTO function_versions_v5 SELECT \(account), \(region), function_name, version, config,
                        source_revision FROM function_versions;
                    CREATE TABLE function_aliases_v5 (
                        account TEXT NOT NULL, region TEXT NOT NULL, function_name TEXT NOT NULL,
                        name TEXT NOT NULL, config TEXT NOT NULL,
                        PRIMARY KEY (account, region, function_name, name),
                        FOREIGN KEY (account, region, function_name) REFERENCES functions(account, region, name)
                            ON DELETE CASCADE
                    );
                    INSERT INTO function_aliases_v5 SELECT \(account), \(region), function_name, name, config
                        FROM function_aliases;
                    CREATE TABLE provisioned_concurrency_v5 (
                        account TEXT NOT NULL, region TEXT NOT NULL, function_name TEXT NOT NULL,
                        qualifier TEXT NOT NULL, requested INTEGER NOT NULL, last_modified INTEGER NOT NULL,
                        PRIMARY KEY (account, region, function_name, qualifier),
                        FOREIGN KEY (account, region, function_name) REFERENCES functions(account, region, name)
                            ON DELETE CASCADE
                    );
                    INSERT INTO provisioned_concurrency_v5 SELECT \(account), \(region), function_name, qualifier,
                        requested, last_modified FROM provisioned_concurrency;
                    CREATE TABLE event_invoke_configs_v5 (
                        account TEXT NOT NULL, region TEXT NOT NULL, function_name TEXT NOT NULL,
                        qualifier TEXT NOT NULL, config TEXT NOT NULL,
                        PRIMARY KEY (account, region, function_name, qualifier),
                        FOREIGN KEY (account, region, function_name) REFERENCES functions(account, region, name)
                            ON DELETE CASCADE
                    );
                    INSERT INTO event_invoke_configs_v5 SELECT \(account), \(region), function_name, qualifier, config
                        FROM event_invoke_configs;
                    DROP TABLE event_invoke_configs;
                    DROP TABLE provisioned_concurrency;
                    DROP TABLE function_aliases;
                    DROP TABLE function_versions;
                    DROP TABLE functions;
                    ALTER TABLE functions_v5 RENAME TO functions;
                    ALTER TABLE function_versions_v5 RENAME TO function_versions;
                    ALTER TABLE function_aliases_v5 RENAME TO function_aliases;
                    ALTER TABLE provisioned_concurrency_v5 RENAME TO provisioned_concurrency;
                    ALTER TABLE event_invoke_configs_v5 RENAME TO event_invoke_configs;
                    ALTER TABLE async_events ADD COLUMN account TEXT NOT NULL DEFAULT \(account);
                    ALTER TABLE async_events ADD COLUMN region TEXT NOT NULL DEFAULT \(region);
                    ALTER TABLE log_events ADD COLUMN account TEXT NOT NULL DEFAULT \(account);
                    ALTER TABLE log_events ADD COLUMN region TEXT NOT NULL DEFAULT \(region);
                    DROP INDEX log_events_group_time;
                    DROP INDEX log_events_group_stream;
                    CREATE INDEX log_events_group_time ON log_events(account, region, log_group, timestamp);
                    CREATE INDEX log_events_group_stream ON log_events(account, region, log_group, log_stream, id);
                    """)
        }
        migrator.registerMigration("v6") { db in
            // HTTP triggers (issue #12): resource-based policies per function qualifier ('' = the unqualified
            // function), function URLs (the URL id routes a request: unique across namespaces), and API Gateway HTTP
            // APIs (one row per API; its integrations, routes, stages and deployments as child documents).
            try db.execute(
                sql: """
                    CREATE TABLE function_policies (
                        account TEXT NOT NULL, region TEXT NOT NULL, function_name TEXT NOT NULL,
                        qualifier TEXT NOT NULL, document TEXT NOT NULL, revision_id TEXT NOT NULL,
                        PRIMARY KEY (account, region, function_name, qualifier),
                        FOREIGN KEY (account, region, function_name) REFERENCES functions(account, region, name)
                            ON DELETE CASCADE
                    );
                    CREATE TABLE function_urls (
                        url_id TEXT PRIMARY KEY NOT NULL,
                        account TEXT NOT NULL, region TEXT NOT NULL, function_name TEXT NOT NULL,
                        qualifier TEXT NOT NULL, config TEXT NOT NULL,
                        UNIQUE (account, region, function_name, qualifier),
                        FOREIGN KEY (account, region, function_name) REFERENCES functions(account, region, name)
                            ON DELETE CASCADE
                    );
                    CREATE TABLE apigateway_apis (
                        api_id TEXT PRIMARY KEY NOT NULL,
                        account TEXT NOT NULL, region TEXT NOT NULL,
                        document TEXT NOT NULL, created_at INTEGER NOT NULL
                    );
                    CREATE INDEX apigateway_apis_namespace ON apigateway_apis(account, region, created_at);
                    CREATE TABLE apigateway_children (
                        api_id TEXT NOT NULL REFERENCES apigateway_apis(api_id) ON DELETE CASCADE,
                        kind TEXT NOT NULL, id TEXT NOT NULL, document TEXT NOT NULL, created_at INTEGER NOT NULL,
                        PRIMARY KEY (api_id, kind, id)
                    );
                    """)
        }
        migrator.registerMigration("v7") { db in
            // Amazon SQS (issue #13): queues (the id is never reused, so a deleted queue's receipt handles stay
            // dead), messages with their visibility deadline (receive reads `(queue_id, visible_at)`; retention
            // `(queue_id, sent_at)`; FIFO groups `(queue_id, group_id, seq)`), one row per FIFO message group with
            // the time its head becomes receivable, FIFO deduplication records, and the receipt-handle key.
            try db.execute(
                sql: """
                    CREATE TABLE sqs_queues (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
                        attributes TEXT NOT NULL, tags TEXT NOT NULL,
                        created_at INTEGER NOT NULL, modified_at INTEGER NOT NULL,
                        UNIQUE (account, region, name)
                    );
                    CREATE TABLE sqs_messages (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        queue_id INTEGER NOT NULL,
                        message_id TEXT NOT NULL,
                        body TEXT NOT NULL,
                        attributes BLOB,
                        md5_body TEXT NOT NULL,
                        md5_attributes TEXT,
                        system_attributes TEXT NOT NULL,
                        sent_at INTEGER NOT NULL,
                        visible_at INTEGER NOT NULL,
                        receive_count INTEGER NOT NULL DEFAULT 0,
                        first_received_at INTEGER,
                        received_at INTEGER,
                        group_id TEXT,
                        dedup_id TEXT,
                        dead_letter_source TEXT
                    );
                    CREATE INDEX sqs_messages_visible ON sqs_messages(queue_id, visible_at);
                    CREATE INDEX sqs_messages_sent ON sqs_messages(queue_id, sent_at);
                    CREATE INDEX sqs_messages_group ON sqs_messages(queue_id, group_id, seq) WHERE group_id IS NOT NULL;
                    CREATE TABLE sqs_groups (
                        queue_id INTEGER NOT NULL, group_id TEXT NOT NULL, available_at INTEGER NOT NULL,
                        PRIMARY KEY (queue_id, group_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX sqs_groups_available ON sqs_groups(queue_id, available_at);
                    CREATE TABLE sqs_deduplication (
                        queue_id INTEGER NOT NULL, scope TEXT NOT NULL, dedup_id TEXT NOT NULL,
                        message_id TEXT NOT NULL, seq INTEGER NOT NULL, sent_at INTEGER NOT NULL,
                        PRIMARY KEY (queue_id, scope, dedup_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE sqs_keys (name TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);
                    """)
        }
        migrator.registerMigration("v8") { db in
            // Event source mappings (issue #13): one row per mapping, across namespaces (pollers of every namespace
            // start with the server).
            try db.execute(
                sql: """
                    CREATE TABLE event_source_mappings (
                        uuid TEXT PRIMARY KEY NOT NULL,
                        account TEXT NOT NULL, region TEXT NOT NULL, function_name TEXT NOT NULL,
                        event_source_arn TEXT NOT NULL, config TEXT NOT NULL, created_at INTEGER NOT NULL
                    );
                    CREATE INDEX event_source_mappings_function ON event_source_mappings(account, region, function_name);
                    """)
        }
        migrator.registerMigration("v9") { db in
            // Capacity-aware leasing of asynchronous events (issue #13): due and oldest pending events per function.
            try db.execute(
                sql: """
                    CREATE INDEX IF NOT EXISTS async_events_function_due
                        ON async_events(state, account, region, function_name, next_attempt_at);
                    CREATE INDEX IF NOT EXISTS async_events_function_age
                        ON async_events(state, account, region, function_name, enqueued_at);
                    """)
        }
        migrator.registerMigration("v10") { db in
            // Amazon S3 (issue #14): buckets (names are global, like S3's), objects keyed by (bucket, key) with the key
            // as a BLOB of its UTF-8 bytes (byte order is S3's listing order, and a key holding U+0000 stays whole),
            // the blobs holding their bytes as JSON segments, multipart uploads and their parts (removed with their
            // bucket), and the outbox of bucket notifications, written in the transaction of the change they report.
            try db.execute(
                sql: """
                    CREATE TABLE s3_buckets (
                        name TEXT PRIMARY KEY NOT NULL,
                        account TEXT NOT NULL, region TEXT NOT NULL, created_at INTEGER NOT NULL,
                        tags TEXT, notification TEXT
                    ) WITHOUT ROWID;
                    CREATE INDEX s3_buckets_account ON s3_buckets(account, name);
                    CREATE TABLE s3_objects (
                        bucket TEXT NOT NULL REFERENCES s3_buckets(name),
                        key BLOB NOT NULL,
                        size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified INTEGER NOT NULL,
                        segments TEXT NOT NULL, metadata TEXT NOT NULL, checksum TEXT, tags TEXT NOT NULL,
                        storage_class TEXT NOT NULL,
                        PRIMARY KEY (bucket, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE s3_uploads (
                        upload_id TEXT PRIMARY KEY NOT NULL,
                        bucket TEXT NOT NULL REFERENCES s3_buckets(name) ON DELETE CASCADE,
                        key BLOB NOT NULL, initiated_at INTEGER NOT NULL, metadata TEXT NOT NULL,
                        checksum_algorithm TEXT, checksum_type TEXT, tags TEXT NOT NULL, storage_class TEXT NOT NULL
                    );
                    CREATE INDEX s3_uploads_bucket ON s3_uploads(bucket, key, initiated_at);
                    CREATE TABLE s3_parts (
                        upload_id TEXT NOT NULL REFERENCES s3_uploads(upload_id) ON DELETE CASCADE,
                        part_number INTEGER NOT NULL,
                        blob_id TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
                        last_modified INTEGER NOT NULL, checksum TEXT,
                        PRIMARY KEY (upload_id, part_number)
                    ) WITHOUT ROWID;
                    CREATE TABLE s3_outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        delivery_id TEXT NOT NULL,
                        account TEXT NOT NULL, region TEXT NOT NULL, bucket TEXT NOT NULL,
                        destination TEXT NOT NULL, target_arn TEXT NOT NULL,
                        body BLOB NOT NULL, created_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v11") { db in
            // Amazon EventBridge (issue #15): event buses and rules per namespace. A rule's definition, targets and
            // tags are one JSON document; `next_fire_at` is the next firing of a scheduled rule not yet delivered,
            // so that a restart neither repeats a firing nor skips the next one.
            try db.execute(
                sql: """
                    CREATE TABLE events_buses (
                        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
                        document TEXT NOT NULL, created_at INTEGER NOT NULL,
                        PRIMARY KEY (account, region, name)
                    ) WITHOUT ROWID;
                    CREATE TABLE events_rules (
                        account TEXT NOT NULL, region TEXT NOT NULL, bus TEXT NOT NULL, name TEXT NOT NULL,
                        document TEXT NOT NULL, created_at INTEGER NOT NULL, next_fire_at INTEGER,
                        PRIMARY KEY (account, region, bus, name)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v12") { db in
            // EventBridge Scheduler (issue #15): schedule groups and schedules per namespace, each a JSON document the
            // scheduler owns, and beside each schedule its firing state (the occurrence it waits for, when that is due
            // with its flexible delay or retry, attempts, the last occurrence fired), indexed by due time.
            try db.execute(
                sql: """
                    CREATE TABLE scheduler_groups (
                        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
                        document TEXT NOT NULL, created_at INTEGER NOT NULL,
                        PRIMARY KEY (account, region, name)
                    );
                    CREATE TABLE scheduler_schedules (
                        account TEXT NOT NULL, region TEXT NOT NULL, group_name TEXT NOT NULL, name TEXT NOT NULL,
                        document TEXT NOT NULL, created_at INTEGER NOT NULL,
                        scheduled_at INTEGER, due_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0,
                        last_fired_at INTEGER,
                        PRIMARY KEY (account, region, group_name, name)
                    );
                    CREATE INDEX scheduler_schedules_due ON scheduler_schedules(due_at) WHERE due_at IS NOT NULL;
                    """)
        }
        return migrator
    }

    /// A SQL string literal (the default namespace is the operator's configuration, but quote it properly anyway).
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
