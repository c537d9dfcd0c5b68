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
        requestID: String,
        namespace: AccountContext = AccountContext(),
        functionName: String,
        qualifier: String?,
        payload: [UInt8],
        enqueuedAtMillis: Int64 = Timestamp.nowMillis()
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

/// A function as the queue leases its events: concurrency is counted per function (all its versions and aliases)
/// within a namespace, so that is the unit of leasing too.
public struct EventFunction: Hashable, Sendable, CustomStringConvertible {
    public var namespace: AccountContext
    public var name: String

    public init(namespace: AccountContext, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(self.namespace.accountID)/\(self.namespace.region)/\(self.name)" }
}

extension QueuedEvent {
    /// The function whose concurrency this event takes.
    public var function: EventFunction { EventFunction(namespace: self.namespace, name: self.functionName) }
}

/// What changed in the queue besides the dispatcher's own leases and records, so that it looks again at once
/// instead of at its next scan.
public enum EventQueueChange: Sendable, Equatable {
    /// New events were committed: per function, the earliest schedule among them.
    case enqueued([EventFunction: Int64])
    /// Events of functions the change does not name became pending (a redrive): the dispatcher should scan.
    case rescheduled
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
///
/// Leasing is per function (``lease(_:limit:nowMillis:leaseMillis:)``), so that the dispatcher takes only as many
/// events of a function as its free concurrency allows and a saturated function never holds back another's events.
/// Two indexes keep that cheap however long the backlog: `(state, account, region, function_name,
/// next_attempt_at)` lists the functions with pending events by skipping from one function to the next
/// (``pendingFunctions()``: one seek per function, not one row per event) and leases a function's due events
/// oldest schedule first; `(state, account, region, function_name, enqueued_at)` finds the events of a function
/// without free concurrency that outlived their maximum age (``leaseExpired(_:enqueuedAtOrBefore:limit:nowMillis:
/// leaseMillis:isExpired:)``).
public final class EventQueue: Sendable {
    let database: NimbusDatabase
    let groupCommitWindow: Duration
    let batch = Mutex<Batch>(Batch())
    let observers = Mutex<[@Sendable (EventQueueChange) -> Void]>([])
    /// Whether the leasing indexes are known to exist in this process.

    struct Batch {
        var events: [QueuedEvent] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var flushing = false
    }

    public init(database: NimbusDatabase, groupCommitWindow: Duration = .milliseconds(1)) {
        self.database = database
        self.groupCommitWindow = groupCommitWindow
    }

    /// Calls `observer` after every commit that adds pending events the dispatcher did not schedule itself
    /// (enqueues, redrives). It runs on the committing task and should only signal.
    public func observe(_ observer: @escaping @Sendable (EventQueueChange) -> Void) {
        self.observers.withLock { $0.append(observer) }
    }

    func notify(_ change: EventQueueChange) {
        for observer in self.observers.withLock({ $0 }) { observer(change) }
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
            let (events, waiters) = self.batch.withLock {
                b -> ([QueuedEvent], [CheckedContinuation<Void, any Error>]) in
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

    /// Inserts events in one transaction committed with `synchronous = FULL`, then tells the observers.
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
                        """
                )
                for e in events {
                    try statement.execute(arguments: [
                        e.requestID, e.namespace.accountID, e.namespace.region, e.functionName, e.qualifier,
                        Data(e.payload), e.enqueuedAtMillis, e.attempts,
                        e.backoffs, e.nextAttemptAtMillis, e.state.rawValue, now,
                    ])
                }
                return .commit
            }
        }
        var earliest: [EventFunction: Int64] = [:]
        for e in events where e.state == .pending {
            earliest[e.function] = min(earliest[e.function] ?? .max, e.nextAttemptAtMillis)
        }
        if !earliest.isEmpty { self.notify(.enqueued(earliest)) }
    }

    // MARK: Dispatch

    /// Leased events become pending again, their schedule kept (server start, after a crash).
    @discardableResult
    public func recoverLeases() async throws -> Int {
        return try await self.database.pool.write { db in
            try db.execute(
                sql: "UPDATE async_events SET state = 'pending', lease_expires_at = NULL WHERE state = 'leased'"
            )
            return db.changesCount
        }
    }

    /// Leases of this process that outlived their expiry (a hung dispatch) become pending again.
    @discardableResult
    public func reclaimStaleLeases(nowMillis: Int64) async throws -> Int {
        try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE async_events SET state = 'pending', lease_expires_at = NULL
                    WHERE state = 'leased' AND lease_expires_at < ?
                    """,
                arguments: [nowMillis]
            )
            return db.changesCount
        }
    }

    /// Every function with pending events and the earliest schedule among them, in index order.
    public func pendingFunctions() async throws -> [(function: EventFunction, nextAttemptAtMillis: Int64)] {
        return try await self.database.pool.read { db in
            try Row.fetchAll(db, sql: Self.pendingFunctionsSQL).map { row in
                (
                    EventFunction(
                        namespace: AccountContext(region: row["region"], accountID: row["account"]),
                        name: row["function_name"]
                    ),
                    row["next_attempt_at"]
                )
            }
        }
    }

    /// A loose index scan: from one function's first pending row, the next function's first row is one seek (the
    /// same account and region with a greater name, else a greater region, else a greater account; `COALESCE`
    /// evaluates only until one exists), so the cost grows with the number of functions, not of events. (A row
    /// value comparison `(account, region, function_name) > (…)` would be simpler, but SQLite then seeks on the
    /// account alone and reads every event.)
    static let pendingFunctionsSQL = """
        WITH RECURSIVE heads(id) AS (
            SELECT (SELECT rowid FROM async_events WHERE state = 'pending'
                    ORDER BY account, region, function_name, next_attempt_at LIMIT 1)
            UNION ALL
            SELECT COALESCE(
                (SELECT rowid FROM async_events
                    WHERE state = 'pending' AND account = h.account AND region = h.region
                        AND function_name > h.function_name
                    ORDER BY function_name, next_attempt_at LIMIT 1),
                (SELECT rowid FROM async_events
                    WHERE state = 'pending' AND account = h.account AND region > h.region
                    ORDER BY region, function_name, next_attempt_at LIMIT 1),
                (SELECT rowid FROM async_events
                    WHERE state = 'pending' AND account > h.account
                    ORDER BY account, region, function_name, next_attempt_at LIMIT 1))
            FROM heads JOIN async_events h ON h.rowid = heads.id
        )
        SELECT e.account, e.region, e.function_name, e.next_attempt_at
        FROM heads JOIN async_events e ON e.rowid = heads.id
        """

    /// A function's due events, oldest schedule first (arguments: account, region, name, now, limit).
    static let dueEventsSQL = """
        SELECT * FROM async_events
        WHERE state = 'pending' AND account = ? AND region = ? AND function_name = ? AND next_attempt_at <= ?
        ORDER BY next_attempt_at LIMIT ?
        """

    /// A function's earliest pending schedule (arguments: account, region, name).
    static let nextScheduleSQL = """
        SELECT next_attempt_at FROM async_events
        WHERE state = 'pending' AND account = ? AND region = ? AND function_name = ?
        ORDER BY next_attempt_at LIMIT 1
        """

    /// A function's pending events enqueued at or before a time, oldest first (arguments: account, region, name,
    /// time).
    static let agedEventsSQL = """
        SELECT * FROM async_events
        WHERE state = 'pending' AND account = ? AND region = ? AND function_name = ? AND enqueued_at <= ?
        ORDER BY enqueued_at
        """

    /// What ``lease(_:limit:nowMillis:leaseMillis:)`` took, and when the function's next pending event is due.
    public struct Lease: Sendable {
        public var events: [QueuedEvent]
        /// The earliest schedule among the function's events still pending (nil: none), so that the dispatcher
        /// knows when to look at the function again without a scan.
        public var nextAttemptAtMillis: Int64?
    }

    /// Leases up to `limit` due events of one function, oldest schedule first, until `leaseMillis` from now.
    public func lease(_ function: EventFunction, limit: Int, nowMillis: Int64, leaseMillis: Int64) async throws -> Lease
    {
        return try await self.database.pool.write { db in
            try Self.lease(function, limit: limit, db: db, nowMillis: nowMillis, leaseMillis: leaseMillis)
        }
    }

    static func lease(
        _ function: EventFunction,
        limit: Int,
        db: Database,
        nowMillis: Int64,
        leaseMillis: Int64
    ) throws
        -> Lease
    {
        let key: StatementArguments = [function.namespace.accountID, function.namespace.region, function.name]
        var events: [QueuedEvent] = []
        // Cached statements: this runs between one invocation and the next, and preparing these queries (the
        // planner weighs four indexes) costs more than running them.
        if limit > 0 {
            events = try Row.fetchAll(db.cachedStatement(sql: Self.dueEventsSQL), arguments: key + [nowMillis, limit])
                .map(QueuedEvent.init(row:))
            try Self.markLeased(&events, db: db, nowMillis: nowMillis, leaseMillis: leaseMillis)
        }
        let next = try Int64.fetchOne(db.cachedStatement(sql: Self.nextScheduleSQL), arguments: key)
        return Lease(events: events, nextAttemptAtMillis: next)
    }

    /// Leases up to `limit` pending events of one function, due or not, enqueued at or before `cutoffMillis` and
    /// for which `isExpired` holds: a function without free concurrency leases nothing else, yet its events must
    /// still end at their maximum age. The dispatcher passes now minus the shortest maximum age among the
    /// function's qualifiers as the cutoff, so that with one maximum age every candidate read is expired; with
    /// several, younger candidates of the longer ones are read and left.
    public func leaseExpired(
        _ function: EventFunction,
        enqueuedAtOrBefore cutoffMillis: Int64,
        limit: Int,
        nowMillis: Int64,
        leaseMillis: Int64,
        isExpired: @escaping @Sendable (QueuedEvent) -> Bool
    ) async throws -> [QueuedEvent] {
        guard limit > 0 else { return [] }
        return try await self.database.pool.write { db in
            var expired: [QueuedEvent] = []
            let candidates = try Row.fetchCursor(
                db,
                sql: Self.agedEventsSQL,
                arguments: [function.namespace.accountID, function.namespace.region, function.name, cutoffMillis]
            )
            while expired.count < limit, let row = try candidates.next() {
                let event = QueuedEvent(row: row)
                if isExpired(event) { expired.append(event) }
            }
            try Self.markLeased(&expired, db: db, nowMillis: nowMillis, leaseMillis: leaseMillis)
            return expired
        }
    }

    /// Marks events leased (in the caller's transaction); `events` become `.leased` copies.
    static func markLeased(_ events: inout [QueuedEvent], db: Database, nowMillis: Int64, leaseMillis: Int64) throws {
        let statement = try db.cachedStatement(
            sql: "UPDATE async_events SET state = 'leased', lease_expires_at = ?, updated_at = ? WHERE request_id = ?"
        )
        for i in events.indices {
            try statement.execute(arguments: [nowMillis + leaseMillis, nowMillis, events[i].requestID])
            events[i].state = .leased
        }
    }

    /// Records an event's new state after an attempt (`attempts`, `backoffs`, schedule, error).
    public func record(_ event: QueuedEvent) async throws {
        try await self.database.pool.write { db in try Self.record(event, db: db) }
    }

    /// Records an event's new state and, in the same transaction, leases up to `limit` due events of `function`:
    /// the dispatcher hands the slot its event just gave back straight to the function's next event, with one
    /// write instead of two.
    public func record(
        _ event: QueuedEvent,
        thenLease function: EventFunction,
        limit: Int,
        nowMillis: Int64,
        leaseMillis: Int64
    ) async throws -> Lease {
        return try await self.database.pool.write { db in
            try Self.record(event, db: db)
            return try Self.lease(function, limit: limit, db: db, nowMillis: nowMillis, leaseMillis: leaseMillis)
        }
    }

    static func record(_ event: QueuedEvent, db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                UPDATE async_events SET state = ?, attempts = ?, backoffs = ?, next_attempt_at = ?, last_error = ?,
                    lease_expires_at = NULL, updated_at = ?
                WHERE request_id = ?
                """
        )
        try statement.execute(arguments: [
            event.state.rawValue, event.attempts, event.backoffs, event.nextAttemptAtMillis, event.lastError,
            Timestamp.nowMillis(), event.requestID,
        ])
    }

    /// Deletes finished (`done`) events last updated before `millis`.
    public func purgeDone(before millis: Int64) async throws {
        try await self.database.pool.write { db in
            try db.execute(sql: "DELETE FROM async_events WHERE state = 'done' AND updated_at < ?", arguments: [millis])
        }
    }

    // MARK: Operations

    /// Events of a function (or every function) in the given states, oldest first.
    public func events(function: String?, states: [QueuedEvent.State], limit: Int = 1000) async throws -> [QueuedEvent]
    {
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

    /// Whether any event of the function is pending or running: one index seek, for polling (benchmarks, tests).
    public func hasUnfinishedEvents(of function: EventFunction) async throws -> Bool {
        return try await self.database.pool.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM async_events
                        WHERE state IN ('pending', 'leased') AND account = ? AND region = ? AND function_name = ?)
                    """,
                arguments: [function.namespace.accountID, function.namespace.region, function.name]
            ) ?? false
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
                    """
            ) {
                let oldest: Int64? = row["oldest"]
                result[row["function_name"]] = QueueStatistics(
                    pending: row["pending"] ?? 0,
                    leased: row["leased"] ?? 0,
                    oldestPendingMillis: oldest.map { nowMillis - $0 },
                    retries: row["retries"] ?? 0,
                    deadLettered: row["dead"] ?? 0
                )
            }
            return result
        }
    }

    /// Dead-lettered events of a function go back to pending with a fresh history (a new age, no attempts).
    public func redrive(function: String, nowMillis: Int64) async throws -> Int {
        let count = try await self.database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE async_events SET state = 'pending', attempts = 0, backoffs = 0, enqueued_at = ?,
                        next_attempt_at = ?, last_error = NULL, updated_at = ?
                    WHERE function_name = ? AND state = 'dead'
                    """,
                arguments: [nowMillis, nowMillis, nowMillis, function]
            )
            return db.changesCount
        }
        if count > 0 { self.notify(.rescheduled) }
        return count
    }
}
