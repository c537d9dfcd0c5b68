import Foundation
import GRDB
import NimbusCore
import NimbusStore
import Synchronization

/// One accepted asynchronous invocation, as stored.
public struct QueuedEvent: Sendable, Equatable {
    public enum State: String, Sendable {
        case pending, leased, done, dead
    }

    /// The invocation id: the 202's request id, unchanged across retries.
    public var requestID: String
    /// The (account, region) of the function.
    public var namespace: AccountContext
    public var functionName: String
    /// The qualifier the caller invoked (version or alias), nil for `$LATEST`.
    public var qualifier: String?
    public var payload: [UInt8]
    public var enqueuedAtMillis: Int64
    /// How many times the function ran.
    public var attempts: Int
    /// How many throttle/platform-error backoffs the event had.
    public var backoffs: Int
    public var nextAttemptAtMillis: Int64
    public var state: State
    public var lastError: String?

    public init(
        requestID: String, namespace: AccountContext = AccountContext(), functionName: String, qualifier: String?,
        payload: [UInt8], enqueuedAtMillis: Int64 = Timestamp.nowMillis()
    ) {
        self.requestID = requestID
        self.namespace = namespace
        self.functionName = functionName
        self.qualifier = qualifier
        self.payload = payload
        self.enqueuedAtMillis = enqueuedAtMillis
        self.attempts = 0
        self.backoffs = 0
        self.nextAttemptAtMillis = enqueuedAtMillis
        self.state = .pending
        self.lastError = nil
    }

    init(row: Row) {
        self.requestID = row["request_id"]
        self.namespace = AccountContext(region: row["region"], accountID: row["account"])
        self.functionName = row["function_name"]
        self.qualifier = row["qualifier"]
        self.payload = Array((row["payload"] as Data?) ?? Data())
        self.enqueuedAtMillis = row["enqueued_at"]
        self.attempts = row["attempts"]
        self.backoffs = row["backoffs"]
        self.nextAttemptAtMillis = row["next_attempt_at"]
        self.state = State(rawValue: row["state"]) ?? .pending
        self.lastError = row["last_error"]
    }
}

/// Per-function figures for `GET /_nimbus/async`.
public struct QueueStatistics: Sendable, Equatable {
    public var pending: Int
    public var leased: Int
    public var oldestPendingMillis: Int64?
    /// Function runs beyond each event's first, over the events still stored.
    public var retries: Int
    public var deadLettered: Int
}

/// The durable asynchronous-invocation queue on SQLite (table `async_events`).
///
/// Durability: ``enqueue(_:)`` returns only after the row is committed with `PRAGMA synchronous = FULL`, so an
/// accepted event survives a crash of the process and of the machine. Concurrent enqueues arriving within
/// ``groupCommitWindow`` share one transaction (group commit).
///
/// Delivery is at-least-once: an event is leased (state `leased`) while it runs; after a crash, leases become
/// pending again at start (``recoverLeases()``), so an event that ran but whose outcome was not recorded runs again.
public final class EventQueue: Sendable {
    let database: NimbusDatabase
    let groupCommitWindow: Duration
    let batch = Mutex<Batch>(Batch())

    struct Batch {
        var events: [QueuedEvent] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var flushing = false
    }

    public init(database: NimbusDatabase, groupCommitWindow: Duration = .milliseconds(1)) {
        self.database = database
        self.groupCommitWindow = groupCommitWindow
    }

    // MARK: Enqueue (group commit)

    /// Stores an event durably; returns once it is committed.
    public func enqueue(_ event: QueuedEvent) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let startFlush = self.batch.withLock { b -> Bool in
                b.events.append(event)
                b.waiters.append(c)
                if b.flushing { return false }
                b.flushing = true
                return true
            }
            if startFlush {
                // Deliberately unstructured: the batch holds other callers' events, so its write must not inherit
                // the cancellation of whichever caller happened to start it (a client that hung up). It ends when
                // no event is waiting.
                Task { await self.flushLoop() }
            }
        }
    }

    func flushLoop() async {
        while true {
            try? await Task.sleep(for: self.groupCommitWindow)  // collect what arrives meanwhile
            let (events, waiters) = self.batch.withLock { b -> ([QueuedEvent], [CheckedContinuation<Void, any Error>]) in
                defer {
                    b.events.removeAll()
                    b.waiters.removeAll()
                }
                return (b.events, b.waiters)
            }
            var failure: (any Error)?
            do {
                try await self.insertDurably(events)
            } catch {
                failure = error
            }
            for w in waiters {
                if let failure { w.resume(throwing: failure) } else { w.resume() }
            }
            let done = self.batch.withLock { b -> Bool in
                if b.events.isEmpty {
                    b.flushing = false
                    return true
                }
                return false
            }
            if done { return }
        }
    }

    /// Inserts events in one transaction committed with `synchronous = FULL`.
    public func insertDurably(_ events: [QueuedEvent]) async throws {
        guard !events.isEmpty else { return }
        let now = Timestamp.nowMillis()
        try await self.database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            try db.inTransaction {
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT OR IGNORE INTO async_events
                            (request_id, account, region, function_name, qualifier, payload, enqueued_at, attempts,
                             backoffs, next_attempt_at, state, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                for e in events {
                    try statement.execute(arguments: [
                        e.requestID, e.namespace.accountID, e.namespace.region, e.functionName, e.qualifier, Data(e.payload), e.enqueuedAtMillis, e.attempts,
                        e.backoffs, e.nextAttemptAtMillis, e.state.rawValue, now,
                    ])
                }
                return .commit
            }
        }
    }

    // MARK: Dispatch

    /// Leased events become pending again, their schedule kept (server start, after a crash).
    @discardableResult
    public func recoverLeases() async throws -> Int {
        try await self.database.pool.write { db in
            try db.execute(
                sql: "UPDATE async_events SET state = 'pending', lease_expires_at = NULL WHERE state = 'leased'")
            return db.changesCount
        }
    }

    /// Leases up to `limit` due events (oldest schedule first) until `leaseMillis` from now.
    public func lease(limit: Int, nowMillis: Int64, leaseMillis: Int64) async throws -> [QueuedEvent] {
        guard limit > 0 else { return [] }
        return try await self.database.pool.write { db in
            // Leases of a live process that outlived their expiry (a hung dispatch) go back to pending.
            try db.execute(
                sql: "UPDATE async_events SET state = 'pending', lease_expires_at = NULL WHERE state = 'leased' AND lease_expires_at < ?",
                arguments: [nowMillis])
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM async_events WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                arguments: [nowMillis, limit])
            let events = rows.map(QueuedEvent.init(row:))
            let statement = try db.cachedStatement(
                sql: "UPDATE async_events SET state = 'leased', lease_expires_at = ?, updated_at = ? WHERE request_id = ?")
            for e in events {
                try statement.execute(arguments: [nowMillis + leaseMillis, nowMillis, e.requestID])
            }
            return events.map { var e = $0; e.state = .leased; return e }
        }
    }

    /// Records an event's new state after an attempt (`attempts`, `backoffs`, schedule, error).
    public func record(_ event: QueuedEvent) async throws {
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE async_events SET state = ?, attempts = ?, backoffs = ?, next_attempt_at = ?, last_error = ?,
                        lease_expires_at = NULL, updated_at = ?
                    WHERE request_id = ?
                    """,
                arguments: [
                    event.state.rawValue, event.attempts, event.backoffs, event.nextAttemptAtMillis, event.lastError,
                    Timestamp.nowMillis(), event.requestID,
                ])
        }
    }

    /// Deletes finished (`done`) events last updated before `millis`.
    public func purgeDone(before millis: Int64) async throws {
        try await self.database.pool.write { db in
            try db.execute(sql: "DELETE FROM async_events WHERE state = 'done' AND updated_at < ?", arguments: [millis])
        }
    }

    // MARK: Operations

    /// Events of a function (or every function) in the given states, oldest first.
    public func events(function: String?, states: [QueuedEvent.State], limit: Int = 1000) async throws -> [QueuedEvent] {
        try await self.database.pool.read { db in
            let placeholders = states.map { _ in "?" }.joined(separator: ",")
            var arguments: [any DatabaseValueConvertible] = states.map(\.rawValue)
            var sql = "SELECT * FROM async_events WHERE state IN (\(placeholders))"
            if let function {
                sql += " AND function_name = ?"
                arguments.append(function)
            }
            sql += " ORDER BY enqueued_at LIMIT ?"
            arguments.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(QueuedEvent.init(row:))
        }
    }

    /// Figures per function.
    public func statistics(nowMillis: Int64) async throws -> [String: QueueStatistics] {
        try await self.database.pool.read { db in
            var result: [String: QueueStatistics] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT function_name,
                        SUM(state = 'pending') AS pending, SUM(state = 'leased') AS leased,
                        MIN(CASE WHEN state IN ('pending', 'leased') THEN enqueued_at END) AS oldest,
                        SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END) AS retries,
                        SUM(state = 'dead') AS dead
                    FROM async_events GROUP BY function_name
                    """)
            {
                let oldest: Int64? = row["oldest"]
                result[row["function_name"]] = QueueStatistics(
                    pending: row["pending"] ?? 0, leased: row["leased"] ?? 0,
                    oldestPendingMillis: oldest.map { nowMillis - $0 }, retries: row["retries"] ?? 0,
                    deadLettered: row["dead"] ?? 0)
            }
            return result
        }
    }

    /// Dead-lettered events of a function go back to pending with a fresh history (a new age, no attempts).
    public func redrive(function: String, nowMillis: Int64) async throws -> Int {
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE async_events SET state = 'pending', attempts = 0, backoffs = 0, enqueued_at = ?,
                        next_attempt_at = ?, last_error = NULL, updated_at = ?
                    WHERE function_name = ? AND state = 'dead'
                    """,
                arguments: [nowMillis, nowMillis, nowMillis, function])
            return db.changesCount
        }
    }
}
