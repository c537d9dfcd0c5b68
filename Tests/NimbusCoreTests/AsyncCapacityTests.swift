import Foundation
import GRDB
import Logging
import NimbusCore
import NimbusStore
import Synchronization
import Testing

@testable import NimbusInvoker
@testable import NimbusQueue

/// Capacity-aware dispatch of asynchronous events (issue #13, item 4): the limiter's free concurrency and wake-ups,
/// the dispatcher's leasing rules, per-function leasing in the queue (and its query plans), and the dispatcher
/// draining backlogs behind a real ``ConcurrencyLimiter`` without throttling itself.
@Suite struct ConcurrencyAvailabilityTests {
    @Test func availableIsTheReservationLessRunningElseWhatTheUnreservedPoolHasLeft() {
        let limiter = ConcurrencyLimiter(accountLimit: 10)
        limiter.setReservation(3, for: "reserved")
        limiter.setReservation(0, for: "paused")
        #expect(limiter.available(function: "reserved") == 3)
        #expect(limiter.available(function: "paused") == 0)
        #expect(limiter.available(function: "other") == 7)
        guard case .admitted(let a) = limiter.acquire(function: "reserved"),
            case .admitted(let b) = limiter.acquire(function: "other")
        else {
            Issue.record("expected admissions")
            return
        }
        #expect(limiter.available(function: "reserved") == 2)
        #expect(limiter.available(function: "other") == 6)
        #expect(limiter.available(function: "another") == 6)  // the unreserved pool is shared
        limiter.release(a)
        limiter.release(b)
        #expect(limiter.available(function: "reserved") == 3)
        #expect(limiter.available(function: "other") == 7)
    }

    @Test func aWaiterWakesAtOnceIfThereIsRoomAlready() {
        let limiter = ConcurrencyLimiter(accountLimit: 10)
        let woken = Mutex(0)
        limiter.whenCapacityFrees(function: "fn", beyond: 0) { woken.withLock { $0 += 1 } }
        #expect(woken.withLock { $0 } == 1)
    }

    @Test func aWaiterWakesOnceWhenASlotOfItsPoolIsGivenBack() {
        let limiter = ConcurrencyLimiter(accountLimit: 10)
        limiter.setReservation(1, for: "fn")
        limiter.setReservation(1, for: "neighbour")
        guard case .admitted(let mine) = limiter.acquire(function: "fn"),
            case .admitted(let theirs) = limiter.acquire(function: "neighbour")
        else {
            Issue.record("expected admissions")
            return
        }
        let woken = Mutex(0)
        limiter.whenCapacityFrees(function: "fn", beyond: 0) { woken.withLock { $0 += 1 } }
        limiter.release(theirs)  // another function's reservation: no room for fn
        #expect(woken.withLock { $0 } == 0)
        limiter.release(mine)
        #expect(woken.withLock { $0 } == 1)
        guard case .admitted(let again) = limiter.acquire(function: "fn") else {
            Issue.record("expected an admission")
            return
        }
        limiter.release(again)
        #expect(woken.withLock { $0 } == 1)  // one-shot
    }

    @Test func unreservedWaitersWakeWhenAnyUnreservedSlotIsGivenBackOrAReservationChanges() {
        let limiter = ConcurrencyLimiter(accountLimit: 2)
        guard case .admitted(let a) = limiter.acquire(function: "a"), case .admitted = limiter.acquire(function: "b")
        else {
            Issue.record("expected admissions")
            return
        }
        let woken = Mutex<[String]>([])
        limiter.whenCapacityFrees(function: "c", beyond: 0) { woken.withLock { $0.append("c") } }
        limiter.release(a)
        #expect(woken.withLock { $0 } == ["c"])
        limiter.setReservation(0, for: "paused")
        limiter.whenCapacityFrees(function: "paused", beyond: 0) { woken.withLock { $0.append("paused") } }
        #expect(woken.withLock { $0 } == ["c"])
        limiter.setReservation(nil, for: "paused")
        #expect(woken.withLock { $0 } == ["c", "paused"])
    }
}

@Suite struct DispatchScheduleTests {
    let fn = EventFunction(namespace: AccountContext(), name: "fn")
    let other = EventFunction(namespace: AccountContext(), name: "other")
    let elsewhere = EventFunction(namespace: AccountContext(region: "eu-west-1", accountID: "111111111111"), name: "fn")

    @Test func leasesNoMoreThanTheFreeConcurrencyLessWhatIsStillStarting() {
        let plan = { (available: Int, starting: Int, running: Int) in
            DispatchSchedule.plan(
                due: [self.fn],
                available: [self.fn: available],
                starting: starting > 0 ? [self.fn: starting] : [:],
                running: running > 0 ? [self.fn: running] : [:],
                freeDispatches: 64
            )
        }
        #expect(plan(4, 0, 0).leases == [.init(function: self.fn, count: 4)])
        #expect(plan(4, 3, 3).leases == [.init(function: self.fn, count: 1)])
        // Nothing free: wait for a slot, unless own events are still starting (their admission wakes the loop) or
        // running (their workers hand freed slots on).
        #expect(plan(4, 4, 4) == .init())
        #expect(plan(0, 0, 0) == .init(waiting: [self.fn]))
        #expect(plan(1, 2, 2) == .init())
        #expect(plan(0, 0, 4) == .init())
    }

    @Test func aFunctionWithoutRoomDoesNotHoldBackOthersAndTheDispatchersBoundGoesToTheLongestWaiting() {
        let plan = DispatchSchedule.plan(
            due: [self.fn, self.other, self.elsewhere],
            available: [self.fn: 0, self.other: 900, self.elsewhere: 5],
            starting: [:],
            running: [:],
            freeDispatches: 8
        )
        #expect(plan.leases == [.init(function: self.other, count: 8)])
        #expect(plan.waiting == [self.fn])
        #expect(plan.starved)  // workers then hand no slot on: the loop shares the bound out
        let rest = DispatchSchedule.plan(
            due: [self.elsewhere, self.other],
            available: [self.other: 900, self.elsewhere: 5],
            starting: [:],
            running: [:],
            freeDispatches: 8
        )
        #expect(rest.leases == [.init(function: self.elsewhere, count: 5), .init(function: self.other, count: 3)])
        let roomy = DispatchSchedule.plan(
            due: [self.elsewhere],
            available: [self.elsewhere: 5],
            starting: [:],
            running: [:],
            freeDispatches: 8
        )
        #expect(!roomy.starved)
    }

    @Test func knowsWhichFunctionsAreDueAndWhenToLookAgain() {
        var schedule = DispatchSchedule()
        schedule.replace(with: [(self.fn, 2_000), (self.other, 1_000), (self.elsewhere, 9_000)])
        #expect(schedule.due(nowMillis: 2_000) == [self.other, self.fn])
        #expect(schedule.nextWake(after: 2_000) == 9_000)
        schedule.note(self.elsewhere, pendingFrom: 1_500)  // enqueued meanwhile
        #expect(schedule.due(nowMillis: 2_000) == [self.other, self.elsewhere, self.fn])
        schedule.leased(self.other, nextAttemptAtMillis: nil)
        schedule.leased(self.fn, nextAttemptAtMillis: 5_000)
        #expect(schedule.due(nowMillis: 2_000) == [self.elsewhere])
        #expect(schedule.nextWake(after: 2_000) == 5_000)
    }
}

/// A fresh database in a temporary directory, removed with the value.
final class TemporaryQueue: Sendable {
    let directory: String
    let database: NimbusDatabase
    let queue: EventQueue

    init() throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-capacity-\(UUID())").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        self.database = try NimbusDatabase(path: "\(self.directory)/nimbus.sqlite")
        self.queue = EventQueue(database: self.database)
    }

    deinit { try? FileManager.default.removeItem(atPath: self.directory) }

    /// Enqueues events with request ids `<name>-<n>` (prefixed with the account outside the default namespace).
    func enqueue(_ count: Int, _ function: EventFunction, from first: Int = 0, enqueuedAt: Int64) async throws {
        let prefix =
            function.namespace == AccountContext() ? function.name : "\(function.namespace.accountID)-\(function.name)"
        try await self.queue.insertDurably(
            (first..<first + count).map {
                QueuedEvent(
                    requestID: "\(prefix)-\($0)",
                    namespace: function.namespace,
                    functionName: function.name,
                    qualifier: nil,
                    payload: Array("{}".utf8),
                    enqueuedAtMillis: enqueuedAt + Int64($0)
                )
            }
        )
    }
}

@Suite struct EventQueueLeasingTests {
    let fn = EventFunction(namespace: AccountContext(), name: "fn")
    let other = EventFunction(namespace: AccountContext(), name: "other")
    let elsewhere = EventFunction(namespace: AccountContext(region: "eu-west-1", accountID: "111111111111"), name: "fn")

    @Test func pendingFunctionsListsEachFunctionOnceWithItsEarliestSchedule() async throws {
        let t = try TemporaryQueue()
        #expect(try await t.queue.pendingFunctions().isEmpty)
        try await t.enqueue(30, self.fn, enqueuedAt: 5_000)
        try await t.enqueue(3, self.other, enqueuedAt: 1_000)
        try await t.enqueue(2, self.elsewhere, enqueuedAt: 7_000)
        // Leased events are not pending: fn's earliest pending schedule moves on.
        _ = try await t.queue.lease(self.fn, limit: 10, nowMillis: 10_000, leaseMillis: 60_000)
        let pending = try await t.queue.pendingFunctions()
        #expect(pending.map(\.function) == [self.fn, self.other, self.elsewhere])
        #expect(pending.map(\.nextAttemptAtMillis) == [5_010, 1_000, 7_000])
    }

    @Test func leasesOnlyTheFunctionsDueEventsOldestFirst() async throws {
        let t = try TemporaryQueue()
        try await t.enqueue(5, self.fn, enqueuedAt: 1_000)
        try await t.enqueue(5, self.other, enqueuedAt: 0)
        try await t.enqueue(5, self.fn, from: 5, enqueuedAt: 10_000)  // due at 10,005 and later
        let lease = try await t.queue.lease(self.fn, limit: 3, nowMillis: 2_000, leaseMillis: 60_000)
        #expect(lease.events.map(\.requestID) == ["fn-0", "fn-1", "fn-2"])
        #expect(lease.events.allSatisfy { $0.state == .leased })
        #expect(lease.nextAttemptAtMillis == 1_003)
        let rest = try await t.queue.lease(self.fn, limit: 10, nowMillis: 2_000, leaseMillis: 60_000)
        #expect(rest.events.map(\.requestID) == ["fn-3", "fn-4"])
        #expect(rest.nextAttemptAtMillis == 10_005)
        #expect(
            try await t.queue.lease(self.fn, limit: 0, nowMillis: 2_000, leaseMillis: 1).nextAttemptAtMillis == 10_005
        )
        let stats = try await t.queue.statistics(nowMillis: 2_000)
        #expect(stats["fn"]?.leased == 5)
        #expect(stats["other"]?.pending == 5)
        #expect(try await t.queue.hasUnfinishedEvents(of: self.fn))
        #expect(try await !t.queue.hasUnfinishedEvents(of: self.elsewhere))
    }

    @Test func leaseExpiredTakesOnlyExpiredEventsDueOrNot() async throws {
        let t = try TemporaryQueue()
        try await t.enqueue(6, self.fn, enqueuedAt: 0)
        // Two of them are scheduled later (a throttle backoff): still expired by age.
        try await t.database.pool.write { db in
            try db.execute(sql: "UPDATE async_events SET next_attempt_at = 999999 WHERE request_id IN ('fn-0', 'fn-5')")
        }
        let expired = try await t.queue.leaseExpired(
            self.fn,
            enqueuedAtOrBefore: 4,
            limit: 10,
            nowMillis: 100,
            leaseMillis: 60_000
        ) { $0.requestID != "fn-2" }  // a qualifier with a longer maximum age
        #expect(expired.map(\.requestID) == ["fn-0", "fn-1", "fn-3", "fn-4"])
        let left = try await t.queue.events(function: "fn", states: [.pending]).map(\.requestID)
        #expect(left == ["fn-2", "fn-5"])
        let one = try await t.queue.leaseExpired(
            self.fn,
            enqueuedAtOrBefore: 10,
            limit: 1,
            nowMillis: 100,
            leaseMillis: 1
        ) { _ in true }
        #expect(one.map(\.requestID) == ["fn-2"])
    }

    @Test func enqueuesAndRedrivesAreObserved() async throws {
        let t = try TemporaryQueue()
        let changes = Mutex<[EventQueueChange]>([])
        t.queue.observe { change in changes.withLock { $0.append(change) } }
        try await t.enqueue(3, self.fn, enqueuedAt: 2_000)
        try await t.queue.enqueue(
            QueuedEvent(requestID: "x", functionName: "other", qualifier: nil, payload: [], enqueuedAtMillis: 7)
        )
        #expect(changes.withLock { $0 } == [.enqueued([self.fn: 2_000]), .enqueued([self.other: 7])])
        #expect(try await t.queue.redrive(function: "fn", nowMillis: 1) == 0)  // nothing dead: nothing to say
        #expect(changes.withLock { $0.count } == 2)
        try await t.database.pool.write { db in try db.execute(sql: "UPDATE async_events SET state = 'dead'") }
        #expect(try await t.queue.redrive(function: "fn", nowMillis: 1) == 3)
        #expect(changes.withLock { $0.last } == .rescheduled)
    }

    /// With a long backlog, leasing must not read it all: every query the dispatcher runs is an index search
    /// (SQLite's plan has no full `SCAN` of `async_events`), whatever the backlog (20,000 events here, with ANALYZE's
    /// statistics, so that the planner sees a long table).
    @Test func everyLeasingQueryIsAnIndexSearch() async throws {
        let t = try TemporaryQueue()
        try await t.queue.recoverLeases()  // creates the leasing indexes
        try await t.database.pool.write { db in
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)
                    INSERT INTO async_events (request_id, account, region, function_name, payload, enqueued_at,
                        next_attempt_at, state, updated_at)
                    SELECT 'e' || i, '000000000000', 'us-east-1', CASE WHEN i < 18000 THEN 'big' ELSE 'f' || (i % 50) END,
                        x'7b7d', i, i, 'pending', i FROM n
                    """
            )
            try db.execute(sql: "ANALYZE")
        }
        let plans: [(String, StatementArguments)] = [
            (EventQueue.pendingFunctionsSQL, []),
            (EventQueue.dueEventsSQL, ["000000000000", "us-east-1", "big", 10_000, 4]),
            (EventQueue.nextScheduleSQL, ["000000000000", "us-east-1", "big"]),
            (EventQueue.agedEventsSQL, ["000000000000", "us-east-1", "big", 10]),
        ]
        for (sql, arguments) in plans {
            let details = try await t.database.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map {
                    $0["detail"] as String
                }
            }
            let fullScans = details.filter { detail in
                let words = detail.split(separator: " ")
                return words.first == "SCAN" && ["async_events", "e", "h"].contains(words.dropFirst().first)
            }
            #expect(fullScans.isEmpty, "\(details)")
            #expect(
                details.contains { $0.contains("USING") && $0.contains("INDEX async_events_function_") },
                "\(details)"
            )
        }
        let pending = try await t.queue.pendingFunctions()
        let lease = try await t.queue.lease(
            EventFunction(namespace: AccountContext(), name: "big"),
            limit: 4,
            nowMillis: 200_000,
            leaseMillis: 60_000
        )
        #expect(pending.count == 51)
        #expect(lease.events.map(\.requestID) == ["e0", "e1", "e2", "e3"])
    }
}

/// Functions behind a real ``ConcurrencyLimiter``: each run takes a slot (or is throttled), yields so that runs
/// overlap, and gives it back. Completions arrive on a stream, so tests wait for them without sleeping.
final class LimitedFunctions: AsyncEventHandler {
    struct State {
        var runs: [String: Int] = [:]
        var running: [String: Int] = [:]
        var peak: [String: Int] = [:]
        var completions: [(event: QueuedEvent, result: AttemptResult?, completion: EventCompletion)] = []
    }

    let limiter = ConcurrencyLimiter(accountLimit: 1000)
    let maximumEventAgeSeconds: Int
    let state = Mutex(State())
    let completed: AsyncStream<Void>
    let completion: AsyncStream<Void>.Continuation

    init(maximumEventAgeSeconds: Int = 21_600) {
        self.maximumEventAgeSeconds = maximumEventAgeSeconds
        (self.completed, self.completion) = AsyncStream.makeStream()
    }

    func limits(for event: QueuedEvent) -> (maximumRetryAttempts: Int, maximumEventAgeSeconds: Int) {
        (2, self.maximumEventAgeSeconds)
    }

    func run(_ event: QueuedEvent) async -> AttemptResult {
        await self.run(event, admitted: {})
    }

    func run(_ event: QueuedEvent, admitted: @escaping @Sendable () -> Void) async -> AttemptResult {
        let decision = self.limiter.acquire(function: event.functionName)
        admitted()
        guard case .admitted(let permit) = decision else {
            return AttemptResult(outcome: .throttled, statusCode: 429, errorMessage: AsyncDispatcher.throttleMessage)
        }
        self.state.withLock { s in
            s.running[event.functionName, default: 0] += 1
            s.peak[event.functionName] = max(s.peak[event.functionName] ?? 0, s.running[event.functionName] ?? 0)
        }
        for _ in 0..<5 { await Task.yield() }
        self.state.withLock { s in
            s.running[event.functionName, default: 0] -= 1
            s.runs[event.functionName, default: 0] += 1
        }
        self.limiter.release(permit)
        return AttemptResult(outcome: .success, payload: Array("{}".utf8))
    }

    func complete(_ event: QueuedEvent, result: AttemptResult?, completion: EventCompletion) async throws {
        self.state.withLock { $0.completions.append((event, result, completion)) }
        self.completion.yield()
    }

    func availableConcurrency(of function: EventFunction) -> Int {
        self.limiter.available(function: function.name)
    }

    func whenConcurrencyFrees(of function: EventFunction, beyond available: Int, _ wake: @escaping @Sendable () -> Void)
    {
        self.limiter.whenCapacityFrees(function: function.name, beyond: available, wake)
    }

    func shortestMaximumEventAgeSeconds(of function: EventFunction) -> Int { self.maximumEventAgeSeconds }

    /// Waits for `count` more completions.
    func waitForCompletions(_ count: Int, _ iterator: inout AsyncStream<Void>.Iterator) async {
        for _ in 0..<count { await iterator.next() }
    }
}

@Suite(.timeLimit(.minutes(1))) struct CapacityAwareDispatchTests {
    let fn = EventFunction(namespace: AccountContext(), name: "fn")

    func dispatcher(
        _ t: TemporaryQueue,
        _ handler: LimitedFunctions,
        pollInterval: Duration = .seconds(3600)
    )
        -> AsyncDispatcher
    {
        AsyncDispatcher(
            queue: t.queue,
            handler: handler,
            configuration: .init(maximumConcurrentDispatches: 64, pollInterval: pollInterval),
            logger: Logger(label: "test")
        )
    }

    /// The issue's case: a backlog at reserved concurrency 3 drains at that concurrency, never throttled by the
    /// limiter, no event backed off. The poll interval is an hour: only enqueues and freed slots wake the dispatcher.
    @Test func aBacklogDrainsAtTheReservedConcurrencyWithoutThrottles() async throws {
        let t = try TemporaryQueue()
        let handler = LimitedFunctions()
        handler.limiter.setReservation(3, for: "fn")
        try await t.enqueue(120, self.fn, enqueuedAt: Timestamp.nowMillis())
        let task = Task { try await self.dispatcher(t, handler).run() }
        var completions = handler.completed.makeAsyncIterator()
        await handler.waitForCompletions(120, &completions)
        task.cancel()
        _ = try? await task.value
        let state = handler.state.withLock { $0 }
        #expect(state.runs["fn"] == 120)
        #expect((state.peak["fn"] ?? 0) <= 3)
        #expect(handler.limiter.usage(of: "fn").throttles == 0)
        #expect(state.completions.allSatisfy { $0.completion == .success && $0.event.backoffs == 0 })
        let done = try await t.queue.events(function: "fn", states: [.done])
        #expect(done.count == 120)
        #expect(done.allSatisfy { $0.backoffs == 0 && $0.attempts == 1 && $0.lastError == nil })
    }

    /// A paused function (reserved concurrency 0) is not leased from and does not hold back another function's
    /// events; its own wait without backoff and run as soon as it gets concurrency (the limiter wakes the
    /// dispatcher: the poll interval is an hour).
    @Test func aPausedFunctionWaitsWithoutBackoffAndHoldsBackNobody() async throws {
        let t = try TemporaryQueue()
        let handler = LimitedFunctions()
        let paused = EventFunction(namespace: AccountContext(), name: "paused")
        handler.limiter.setReservation(0, for: "paused")
        handler.limiter.setReservation(2, for: "fn")
        let now = Timestamp.nowMillis()
        try await t.enqueue(40, paused, enqueuedAt: now - 1_000)  // older: first in line
        try await t.enqueue(40, self.fn, enqueuedAt: now)
        let task = Task { try await self.dispatcher(t, handler).run() }
        var completions = handler.completed.makeAsyncIterator()
        await handler.waitForCompletions(40, &completions)
        #expect(handler.state.withLock { $0.runs["paused"] } == nil)
        let waiting = try await t.queue.events(function: "paused", states: [.pending, .leased])
        #expect(waiting.count == 40)
        #expect(waiting.allSatisfy { $0.state == .pending && $0.backoffs == 0 && $0.attempts == 0 })
        handler.limiter.setReservation(4, for: "paused")
        await handler.waitForCompletions(40, &completions)
        task.cancel()
        _ = try? await task.value
        #expect(handler.state.withLock { $0.runs } == ["fn": 40, "paused": 40])
        #expect(handler.limiter.usage(of: "paused").throttles == 0)
        #expect(handler.limiter.usage(of: "fn").throttles == 0)
    }

    /// Events of a function that never gets concurrency still end at their maximum age, without running, with a
    /// throttle as their last outcome (statusCode 429 in the invocation record).
    @Test func eventsWaitingForConcurrencyExpireAtTheirMaximumAge() async throws {
        let t = try TemporaryQueue()
        let handler = LimitedFunctions(maximumEventAgeSeconds: 60)
        handler.limiter.setReservation(0, for: "fn")
        let now = Timestamp.nowMillis()
        try await t.enqueue(3, self.fn, enqueuedAt: now - 61_000)
        try await t.enqueue(2, self.fn, from: 3, enqueuedAt: now)
        let task = Task { try await self.dispatcher(t, handler, pollInterval: .milliseconds(5)).run() }
        var completions = handler.completed.makeAsyncIterator()
        await handler.waitForCompletions(3, &completions)
        task.cancel()
        _ = try? await task.value
        let state = handler.state.withLock { $0 }
        #expect(state.runs.isEmpty)
        #expect(state.completions.map(\.event.requestID).sorted() == ["fn-0", "fn-1", "fn-2"])
        #expect(
            state.completions.allSatisfy {
                $0.completion == .failure(.eventAgeExceeded) && $0.result?.statusCode == 429
            }
        )
        #expect(try await t.queue.events(function: "fn", states: [.pending]).map(\.requestID) == ["fn-3", "fn-4"])
    }
}
