import Foundation
import GRDB
import Logging
import NimbusCore
import ServiceLifecycle
import Synchronization

/// Function logs, grouped CloudWatch-style into log groups and streams. Appends land in memory (the invocation
/// path never waits for disk) and a background loop writes them to SQLite in batches; queries flush first, so
/// they always see everything appended before them. Retention is bounded per log group.
public final class LogStore: LogSink, Service {
    public struct Configuration: Sendable {
        /// Newest events kept per log group.
        public var maximumEventsPerGroup: Int
        /// Events older than this are deleted.
        public var retentionDays: Int
        /// How often buffered events are written.
        public var flushInterval: Duration

        public init(maximumEventsPerGroup: Int = 200_000, retentionDays: Int = 7, flushInterval: Duration = .milliseconds(250)) {
            self.maximumEventsPerGroup = maximumEventsPerGroup
            self.retentionDays = retentionDays
            self.flushInterval = flushInterval
        }
    }

    let database: NimbusDatabase
    let configuration: Configuration
    let logger: Logger
    let buffer = Mutex<[FunctionLogEvent]>([])
    /// Serialises flushes so that events reach the table in append order.
    let flushLock = AsyncFlushLock()

    public init(database: NimbusDatabase, configuration: Configuration = .init(), logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    public func append(_ events: [FunctionLogEvent]) {
        guard !events.isEmpty else { return }
        self.buffer.withLock { $0.append(contentsOf: events) }
    }

    public func run() async throws {
        var flushes = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: self.configuration.flushInterval)  // cancellation ends the loop below
            await self.flush()
            flushes += 1
            if flushes % 240 == 0 { await self.applyRetention() }
        }
        await self.flush()
    }

    /// Writes every buffered event.
    public func flush() async {
        await self.flushLock.run {
            let events = self.buffer.withLock { buffer -> [FunctionLogEvent] in
                let taken = buffer
                buffer.removeAll(keepingCapacity: true)
                return taken
            }
            guard !events.isEmpty else { return }
            let now = Timestamp.nowMillis()
            do {
                try await self.database.pool.write { db in
                    let statement = try db.cachedStatement(
                        sql: """
                            INSERT INTO log_events (account, region, log_group, log_stream, timestamp, ingestion_time, message)
                            VALUES (?, ?, ?, ?, ?, ?, ?)
                            """
                    )
                    for e in events {
                        try statement.execute(arguments: [
                            e.namespace.accountID, e.namespace.region, e.group, e.stream, e.timestampMillis, now, e.message,
                        ])
                    }
                }
            } catch {
                self.logger.error("Could not write function logs", metadata: ["error": "\(error)", "count": "\(events.count)"])
            }
        }
    }

    func applyRetention() async {
        let cutoff = Timestamp.nowMillis() - Int64(self.configuration.retentionDays) * 86_400_000
        let keep = self.configuration.maximumEventsPerGroup
        do {
            try await self.database.pool.write { db in
                try db.execute(sql: "DELETE FROM log_events WHERE timestamp < ?", arguments: [cutoff])
                let groups = try Row.fetchAll(db, sql: "SELECT DISTINCT account, region, log_group FROM log_events")
                for row in groups {
                    let (account, region, group): (String, String, String) = (row[0], row[1], row[2])
                    try db.execute(
                        sql: """
                            DELETE FROM log_events WHERE account = ? AND region = ? AND log_group = ? AND id <= (
                                SELECT id FROM log_events WHERE account = ? AND region = ? AND log_group = ?
                                ORDER BY id DESC LIMIT 1 OFFSET ?)
                            """,
                        arguments: [account, region, group, account, region, group, keep])
                }
            }
        } catch {
            self.logger.error("Could not apply log retention", metadata: ["error": "\(error)"])
        }
    }

    /// A stored event with its identity.
    public struct StoredEvent: Sendable {
        public var id: Int64
        public var stream: String
        public var timestampMillis: Int64
        public var ingestionMillis: Int64
        public var message: String
    }

    /// A query in the shape of CloudWatch Logs' FilterLogEvents.
    public struct Filter: Sendable {
        public var namespace: AccountContext
        public var group: String
        public var streams: [String]?
        public var streamPrefix: String?
        public var startMillis: Int64?
        public var endMillis: Int64?
        /// Plain substring match (a subset of CloudWatch's filter syntax: terms must all appear).
        public var pattern: String?
        public var limit: Int
        /// Resume after this event id.
        public var afterID: Int64?

        public init(namespace: AccountContext, group: String, streams: [String]? = nil, streamPrefix: String? = nil, startMillis: Int64? = nil,
                    endMillis: Int64? = nil, pattern: String? = nil, limit: Int = 10_000, afterID: Int64? = nil) {
            self.namespace = namespace
            self.group = group
            self.streams = streams
            self.streamPrefix = streamPrefix
            self.startMillis = startMillis
            self.endMillis = endMillis
            self.pattern = pattern
            self.limit = limit
            self.afterID = afterID
        }
    }

    /// Events matching a filter in ingestion order, and whether more remain.
    public func filter(_ f: Filter) async throws -> (events: [StoredEvent], more: Bool) {
        await self.flush()
        var sql =
            "SELECT id, log_stream, timestamp, ingestion_time, message FROM log_events WHERE account = ? AND region = ? AND log_group = ?"
        var args: [any DatabaseValueConvertible] = [f.namespace.accountID, f.namespace.region, f.group]
        if let streams = f.streams, !streams.isEmpty {
            sql += " AND log_stream IN (\(Array(repeating: "?", count: streams.count).joined(separator: ",")))"
            args += streams as [any DatabaseValueConvertible]
        }
        if let prefix = f.streamPrefix {
            sql += " AND substr(log_stream, 1, ?) = ?"
            args += [prefix.count, prefix]
        }
        if let start = f.startMillis {
            sql += " AND timestamp >= ?"
            args.append(start)
        }
        if let end = f.endMillis {
            sql += " AND timestamp <= ?"
            args.append(end)
        }
        if let after = f.afterID {
            sql += " AND id > ?"
            args.append(after)
        }
        for term in (f.pattern ?? "").split(separator: " ").map({ $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }) where !term.isEmpty {
            sql += " AND instr(message, ?) > 0"
            args.append(term)
        }
        sql += " ORDER BY id LIMIT ?"
        args.append(f.limit + 1)
        let rows = try await self.database.pool.read { [sql, args] db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
        }
        let events = rows.prefix(f.limit).map { row in
            StoredEvent(id: row[0], stream: row[1], timestampMillis: row[2], ingestionMillis: row[3], message: row[4])
        }
        return (Array(events), rows.count > f.limit)
    }

    /// A log stream, as DescribeLogStreams reports it.
    public struct Stream: Sendable {
        public var name: String
        public var firstEventMillis: Int64
        public var lastEventMillis: Int64
        public var lastIngestionMillis: Int64
    }

    /// The streams of a group, newest last event first.
    public func streams(_ namespace: AccountContext, group: String, prefix: String?) async throws -> [Stream] {
        await self.flush()
        return try await self.database.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT log_stream, MIN(timestamp), MAX(timestamp), MAX(ingestion_time) FROM log_events
                    WHERE account = ? AND region = ? AND log_group = ? AND substr(log_stream, 1, ?) = ?
                    GROUP BY log_stream ORDER BY MAX(id) DESC
                    """,
                arguments: [namespace.accountID, namespace.region, group, (prefix ?? "").count, prefix ?? ""])
            return rows.map { Stream(name: $0[0], firstEventMillis: $0[1], lastEventMillis: $0[2], lastIngestionMillis: $0[3]) }
        }
    }

    /// Whether any event was ever stored for a group.
    public func groupExists(_ namespace: AccountContext, _ group: String) async throws -> Bool {
        await self.flush()
        return try await self.database.pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS(SELECT 1 FROM log_events WHERE account = ? AND region = ? AND log_group = ?)",
                arguments: [namespace.accountID, namespace.region, group])
                ?? false
        }
    }

    /// Names of every log group, sorted.
    public func groups(_ namespace: AccountContext, prefix: String?) async throws -> [String] {
        await self.flush()
        return try await self.database.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT log_group FROM log_events
                    WHERE account = ? AND region = ? AND substr(log_group, 1, ?) = ? ORDER BY log_group
                    """,
                arguments: [namespace.accountID, namespace.region, (prefix ?? "").count, prefix ?? ""])
        }
    }

    /// Deletes a group's events (DeleteLogGroup).
    public func deleteGroup(_ namespace: AccountContext, _ group: String) async throws {
        await self.flush()
        try await self.database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM log_events WHERE account = ? AND region = ? AND log_group = ?",
                arguments: [namespace.accountID, namespace.region, group])
        }
    }
}

/// A FIFO async lock: one flush at a time.
final class AsyncFlushLock: Sendable {
    let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func run(_ body: () async -> Void) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = self.state.withLock { s -> Bool in
                if s.busy {
                    s.waiters.append(c)
                    return false
                }
                s.busy = true
                return true
            }
            if resumeNow { c.resume() }
        }
        await body()
        let next = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.busy = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
