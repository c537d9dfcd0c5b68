import Logging
import NimbusCore
import ServiceLifecycle
import Synchronization

/// What one attempt of an event produced, as the dispatcher's handler reports it.
public struct AttemptResult: Sendable {
    public var outcome: AttemptOutcome
    /// The function's response or error JSON (empty for throttles and platform errors).
    public var payload: [UInt8]
    public var executedVersion: String
    /// `Unhandled` when the function failed.
    public var functionError: String?
    /// 200 when the function ran, 429 for a throttle, 500 for a platform error.
    public var statusCode: Int
    /// A short description for `last_error` and DLQ attributes.
    public var errorMessage: String?
    /// The function (or qualifier) no longer exists: the event is dropped (dead) without a destination.
    public var functionGone: Bool

    public init(
        outcome: AttemptOutcome,
        payload: [UInt8] = [],
        executedVersion: String = "$LATEST",
        functionError: String? = nil,
        statusCode: Int = 200,
        errorMessage: String? = nil,
        functionGone: Bool = false
    ) {
        self.outcome = outcome
        self.payload = payload
        self.executedVersion = executedVersion
        self.functionError = functionError
        self.statusCode = statusCode
        self.errorMessage = errorMessage
        self.functionGone = functionGone
    }
}

/// How an event ended.
public enum EventCompletion: Sendable, Equatable {
    case success
    case failure(FailureCondition)
}

/// Runs events and delivers their results: implemented by the Lambda service, which knows functions, their
/// concurrency and destinations.
public protocol AsyncEventHandler: Sendable {
    /// `MaximumRetryAttempts` and `MaximumEventAgeInSeconds` in force for the event's function and qualifier.
    func limits(for event: QueuedEvent) -> (maximumRetryAttempts: Int, maximumEventAgeSeconds: Int)
    /// Runs the event once.
    func run(_ event: QueuedEvent) async -> AttemptResult
    /// Runs the event once and calls `admitted` as soon as the invocation holds a concurrency slot (or was refused
    /// one): from then on the function's free concurrency counts it, and the dispatcher stops counting it as its
    /// own. Calling it late is safe (the dispatcher under-uses the function meanwhile); early is not.
    func run(_ event: QueuedEvent, admitted: @escaping @Sendable () -> Void) async -> AttemptResult
    /// Delivers the final outcome to destinations and the dead-letter queue (`result` is nil when the event
    /// expired before it could run again).
    func complete(_ event: QueuedEvent, result: AttemptResult?, completion: EventCompletion) async throws
    /// How many more invocations of the function would be admitted now (reservation or unreserved pool).
    func availableConcurrency(of function: EventFunction) -> Int
    /// Calls `wake` once when the function may have more than `available` free slots (at once if it has already).
    func whenConcurrencyFrees(of function: EventFunction, beyond available: Int, _ wake: @escaping @Sendable () -> Void)
    /// The shortest `MaximumEventAgeInSeconds` among the function's qualifiers: no event of it expires younger.
    func shortestMaximumEventAgeSeconds(of function: EventFunction) -> Int
}

extension AsyncEventHandler {
    /// Without a way to observe admission: `admitted` after the run, which under-uses the function but never
    /// takes more than its free concurrency.
    public func run(_ event: QueuedEvent, admitted: @escaping @Sendable () -> Void) async -> AttemptResult {
        let result = await self.run(event)
        admitted()
        return result
    }

    /// Without a concurrency limiter only the dispatcher's own bound applies.
    public func availableConcurrency(of function: EventFunction) -> Int { .max }

    /// Without a limiter there is nothing to wait for; the dispatcher's own events and scans wake it.
    public func whenConcurrencyFrees(
        of function: EventFunction,
        beyond available: Int,
        _ wake: @escaping @Sendable () -> Void
    ) {}

    /// Without configurations to look at: AWS's minimum, which makes the expiry scan exact but read more.
    public func shortestMaximumEventAgeSeconds(of function: EventFunction) -> Int {
        RetryPolicy.minimumMaximumEventAgeSeconds
    }
}

/// The dispatcher's picture of the queue and its leasing decisions, as plain values (no clock, no database), so
/// that the rules are tested on their own.
///
/// It knows, per function with pending events, the earliest schedule among them: a scan of the queue
/// (``EventQueue/pendingFunctions()``) replaces the picture, enqueues and the dispatcher's own leases and records
/// update it in between. ``plan(due:available:starting:freeDispatches:)`` decides how many events of each due
/// function to lease.
struct DispatchSchedule: Sendable {
    /// Per function, the earliest schedule among its pending events.
    private(set) var nextAttempt: [EventFunction: Int64] = [:]

    /// A scan's result replaces what was known.
    mutating func replace(with scan: [(function: EventFunction, nextAttemptAtMillis: Int64)]) {
        self.nextAttempt = Dictionary(scan.map { ($0.function, $0.nextAttemptAtMillis) }, uniquingKeysWith: min)
    }

    /// Events of `function` became pending with schedule `millis` (enqueued, or scheduled for another attempt).
    mutating func note(_ function: EventFunction, pendingFrom millis: Int64) {
        self.nextAttempt[function] = min(self.nextAttempt[function] ?? .max, millis)
    }

    /// After a lease: the function's earliest pending schedule now (nil: nothing pending).
    mutating func leased(_ function: EventFunction, nextAttemptAtMillis: Int64?) {
        self.nextAttempt[function] = nextAttemptAtMillis
    }

    /// Functions with events due at `nowMillis`, the longest waiting first.
    func due(nowMillis: Int64) -> [EventFunction] {
        self.nextAttempt.filter { $0.value <= nowMillis }
            .sorted { ($0.value, $0.key.description) < ($1.value, $1.key.description) }
            .map(\.key)
    }

    /// The earliest schedule after `nowMillis`, if any: when the dispatcher must look again by itself.
    func nextWake(after nowMillis: Int64) -> Int64? {
        self.nextAttempt.values.filter { $0 > nowMillis }.min()
    }

    struct Grant: Sendable, Equatable {
        var function: EventFunction
        var count: Int
    }

    struct Plan: Sendable, Equatable {
        /// How many events of each function to lease now, longest waiting first.
        var leases: [Grant] = []
        /// Due functions without free concurrency and with nothing of the dispatcher's own starting or running:
        /// it waits for one of their slots to be given back (``AsyncEventHandler/whenConcurrencyFrees(of:beyond:_:)``).
        /// A function with its own events under way is not listed: their admission or end wakes the dispatcher, and
        /// their workers hand freed slots on.
        var waiting: [EventFunction] = []
        /// Some due function had room the dispatcher's own bound left it no dispatch for: workers must not hand
        /// their slots on, so that the loop shares the bound out.
        var starved = false
    }

    /// How many events of each due function to lease: its free concurrency less what the dispatcher has leased and
    /// not yet seen admitted (so that it never leases a slot twice), within the dispatcher's own free dispatches
    /// (given to the longest waiting functions first). A function with no room is never leased from, whatever its
    /// backlog: its events wait without backoff, and other functions' events pass it.
    static func plan(
        due: [EventFunction],
        available: [EventFunction: Int],
        starting: [EventFunction: Int],
        running: [EventFunction: Int],
        freeDispatches: Int
    ) -> Plan {
        var plan = Plan()
        var free = max(0, freeDispatches)
        for function in due {
            let mine = starting[function, default: 0]
            let room = available[function, default: 0] - mine
            guard room > 0 else {
                if mine == 0 && running[function, default: 0] == 0 { plan.waiting.append(function) }
                continue
            }
            let count = min(room, free)
            if count < room { plan.starved = true }
            if count > 0 {
                plan.leases.append(Grant(function: function, count: count))
                free -= count
            }
        }
        return plan
    }
}

/// Runs an action at most once, from whichever task gets there first.
final class Once: Sendable {
    let action: @Sendable () -> Void
    let done = Atomic(false)

    init(_ action: @escaping @Sendable () -> Void) {
        self.action = action
    }

    func callAsFunction() {
        if !self.done.exchange(true, ordering: .acquiringAndReleasing) { self.action() }
    }
}

/// The dispatcher: leases due events from the ``EventQueue`` as far as each function's free concurrency allows,
/// runs them through the handler, and applies ``RetryPolicy``'s decision. A ServiceGroup service started after the
/// invoker.
///
/// Per function it leases at most the function's free concurrency less its own events leased but not yet admitted
/// by the limiter, so a backlog runs at the function's full concurrency and is not throttled by Nimbus's own
/// limiter; a function without room is skipped (its events wait, without backoff) and never holds back another
/// function's events. It sleeps until something can change that: an enqueue, one of its events admitted or
/// finished, a slot of a waiting function given back, the next scheduled attempt, or at the latest
/// ``Configuration/pollInterval``, when it also scans the whole queue.
public final class AsyncDispatcher: Service {
    public struct Configuration: Sendable {
        /// Events running at once, across functions (each function also gets no more than its free concurrency).
        public var maximumConcurrentDispatches: Int
        /// The wait before the first retry after a function error (AWS: about 1 min; doubled for the second).
        public var retryBase: Duration
        /// The first throttle/platform-error backoff, doubled (with jitter) up to ``throttleMax``. Throttles come
        /// only from other callers taking the slot the dispatcher saw free, so it starts small.
        public var throttleBase: Duration
        public var throttleMax: Duration
        /// The longest the dispatcher sleeps without scanning the queue (enqueues, finished invocations and the
        /// next scheduled attempt wake it earlier); also how often the events of functions without free
        /// concurrency are checked for their maximum age.
        public var pollInterval: Duration
        /// How long a lease lasts before a live server hands the event out again (longer than any function timeout).
        public var lease: Duration
        /// How long finished events are kept.
        public var keepDone: Duration

        public init(
            maximumConcurrentDispatches: Int = 64,
            retryBase: Duration = .seconds(60),
            throttleBase: Duration = .milliseconds(100),
            throttleMax: Duration = .seconds(300),
            pollInterval: Duration = .seconds(1),
            lease: Duration = .seconds(1200),
            keepDone: Duration = .seconds(600)
        ) {
            self.maximumConcurrentDispatches = maximumConcurrentDispatches
            self.retryBase = retryBase
            self.throttleBase = throttleBase
            self.throttleMax = throttleMax
            self.pollInterval = pollInterval
            self.lease = lease
            self.keepDone = keepDone
        }
    }

    /// What the leasing loop and the dispatch tasks share.
    struct Shared {
        /// Dispatches running (leased and not yet recorded).
        var inFlight = 0
        /// Per function, events leased and not yet admitted (or refused) by its concurrency limiter.
        var starting: [EventFunction: Int] = [:]
        /// Per function, workers whose events take its concurrency (leased and not yet recorded).
        var running: [EventFunction: Int] = [:]
        /// The last plan left a function with room but no dispatch (``DispatchSchedule/Plan/starved``).
        var starved = false
        /// Functions whose events became pending since the loop last looked, with the earliest schedule.
        var hints: [EventFunction: Int64] = [:]
        /// Pending events appeared that the hints cannot name: scan the queue.
        var rescan = false
        /// Functions with a wake-up registered for a freed slot (one at a time each).
        var armed: Set<EventFunction> = []
    }

    let queue: EventQueue
    let handler: any AsyncEventHandler
    let configuration: Configuration
    let logger: Logger
    let random: @Sendable () -> Double
    let shared = Mutex(Shared())
    /// Wakes the leasing loop.
    let doorbell = Doorbell()
    /// Rung when the last in-flight event is recorded (shutdown waits for it).
    let idle = Doorbell()

    /// - Parameter random: uniform numbers in 0..<1 for the throttle backoff's jitter.
    public init(
        queue: EventQueue,
        handler: any AsyncEventHandler,
        configuration: Configuration,
        logger: Logger,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.queue = queue
        self.handler = handler
        self.configuration = configuration
        self.logger = logger
        self.random = random
        queue.observe { [weak self] change in self?.queueChanged(change) }
    }

    var inFlight: Int { self.shared.withLock { $0.inFlight } }

    static func millis(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    func queueChanged(_ change: EventQueueChange) {
        self.shared.withLock { s in
            switch change {
            case .enqueued(let functions):
                for (function, millis) in functions { s.hints[function] = min(s.hints[function] ?? .max, millis) }
            case .rescheduled:
                s.rescan = true
            }
        }
        self.doorbell.ring()
    }

    public func run() async throws {
        let recovered = try await self.queue.recoverLeases()
        if recovered > 0 {
            self.logger.notice(
                "Asynchronous events recovered after an unclean stop",
                metadata: ["event.count": "\(recovered)"]
            )
        }
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
        // In-flight events finish if they can, for at most 5 s; whatever is still leased is pending again at the next
        // start. Waited for on a task of its own: this one may be cancelled, which would end any wait at once.
        await Task.detached {
            let deadline = ContinuousClock.now + .seconds(5)
            while self.inFlight > 0 && ContinuousClock.now < deadline {
                await self.idle.wait(timeout: deadline - .now)
            }
        }.value
    }

    // MARK: Leasing

    func loop() async {
        var schedule = DispatchSchedule()
        var lastScan: ContinuousClock.Instant?
        var lastExpiryCheck = ContinuousClock.now
        var lastPurge = ContinuousClock.now
        let leaseMillis = Self.millis(self.configuration.lease)
        while !Task.isCancelled {
            let (hints, rescan) = self.shared.withLock { s in
                defer {
                    s.hints.removeAll()
                    s.rescan = false
                }
                return (s.hints, s.rescan)
            }
            if rescan || lastScan.map({ ContinuousClock.now - $0 >= self.configuration.pollInterval }) ?? true {
                lastScan = .now
                do {
                    try await self.queue.reclaimStaleLeases(nowMillis: Timestamp.nowMillis())
                    schedule.replace(with: try await self.queue.pendingFunctions())
                } catch is CancellationError {
                    break
                } catch {
                    self.logger.error("Could not scan the asynchronous event queue", metadata: ["error": "\(error)"])
                }
            }
            for (function, millis) in hints { schedule.note(function, pendingFrom: millis) }

            let now = Timestamp.nowMillis()
            let due = schedule.due(nowMillis: now)
            var available: [EventFunction: Int] = [:]
            for function in due { available[function] = self.handler.availableConcurrency(of: function) }
            let (starting, running, inFlight) = self.shared.withLock { ($0.starting, $0.running, $0.inFlight) }
            let plan = DispatchSchedule.plan(
                due: due,
                available: available,
                starting: starting,
                running: running,
                freeDispatches: self.configuration.maximumConcurrentDispatches - inFlight
            )
            self.shared.withLock { $0.starved = plan.starved }
            for grant in plan.leases {
                // Workers lease too (hand-offs), and the plan's figures are a snapshot: what it grants is reserved
                // again under the lock, against the function's room now.
                let reserved = self.reserve(grant.function, upTo: grant.count)
                do {
                    let lease = try await self.queue.lease(
                        grant.function,
                        limit: reserved,
                        nowMillis: now,
                        leaseMillis: leaseMillis
                    )
                    self.unreserve(grant.function, reserved - lease.events.count)
                    schedule.leased(grant.function, nextAttemptAtMillis: lease.nextAttemptAtMillis)
                    for event in lease.events { self.spawn(event, takesConcurrency: true) }
                } catch is CancellationError {
                    self.unreserve(grant.function, reserved)
                    return
                } catch {
                    self.unreserve(grant.function, reserved)
                    self.logger.error(
                        "Could not lease asynchronous events",
                        metadata: ["function.name": "\(grant.function.name)", "error": "\(error)"]
                    )
                }
            }
            for function in plan.waiting {
                self.wakeWhenConcurrencyFrees(function, available: available[function] ?? 0)
            }

            if ContinuousClock.now - lastExpiryCheck >= self.configuration.pollInterval {
                lastExpiryCheck = .now
                await self.expireWaiting(due.filter { available[$0] == 0 }, nowMillis: now)
            }
            if ContinuousClock.now - lastPurge > .seconds(30) {
                lastPurge = .now
                try? await self.queue.purgeDone(
                    before: Timestamp.nowMillis() - Self.millis(self.configuration.keepDone)
                )
            }

            var timeout = self.configuration.pollInterval - (ContinuousClock.now - (lastScan ?? .now))
            if let next = schedule.nextWake(after: now) {
                timeout = min(timeout, .milliseconds(max(0, next - Timestamp.nowMillis())))
            }
            await self.doorbell.wait(timeout: timeout)  // cancellation ends it, and the loop
        }
    }

    /// Registers (once per function until it fires) a wake-up for when one of the function's slots is given back.
    func wakeWhenConcurrencyFrees(_ function: EventFunction, available: Int) {
        let arm = self.shared.withLock { $0.armed.insert(function).inserted }
        guard arm else { return }
        self.handler.whenConcurrencyFrees(of: function, beyond: available) { [weak self] in
            guard let self else { return }
            _ = self.shared.withLock { $0.armed.remove(function) }
            self.doorbell.ring()
        }
    }

    /// Events of functions that have no free concurrency are not leased, yet must still end at their maximum age:
    /// those past it are leased and finished (`EventAgeExceeded`) without running.
    func expireWaiting(_ functions: [EventFunction], nowMillis: Int64) async {
        for function in functions {
            let shortest = Int64(self.handler.shortestMaximumEventAgeSeconds(of: function)) * 1000
            do {
                let expired = try await self.queue.leaseExpired(
                    function,
                    enqueuedAtOrBefore: nowMillis - shortest,
                    limit: 256,
                    nowMillis: nowMillis,
                    leaseMillis: Self.millis(self.configuration.lease)
                ) { [self] event in
                    self.policy(for: event).isExpired(enqueuedAtMillis: event.enqueuedAtMillis, nowMillis: nowMillis)
                }
                self.startExpiring(expired)
            } catch {
                self.logger.error(
                    "Could not expire asynchronous events",
                    metadata: ["function.name": "\(function.name)", "error": "\(error)"]
                )
            }
        }
    }

    /// Counts up to `count` events of `function` as in flight, starting and running, within its room and the
    /// dispatcher's own bound; returns how many.
    ///
    /// The room — the function's free concurrency less what is starting — is read under the lock that admissions
    /// (``started(_:)``) also take: a snapshot taken earlier could still count as free a slot that one of the
    /// dispatcher's own events has since been admitted to, and lease it twice. Under the lock an event being
    /// admitted meanwhile is at worst counted twice (starting and running), which leases less, never more.
    func reserve(_ function: EventFunction, upTo count: Int) -> Int {
        self.shared.withLock { s in
            let room = self.handler.availableConcurrency(of: function) - s.starting[function, default: 0]
            let free = self.configuration.maximumConcurrentDispatches - s.inFlight
            let reserved = max(0, min(count, room, free))
            guard reserved > 0 else { return 0 }
            s.inFlight += reserved
            s.starting[function, default: 0] += reserved
            s.running[function, default: 0] += reserved
            return reserved
        }
    }

    /// Gives back reservations a lease did not use.
    func unreserve(_ function: EventFunction, _ count: Int) {
        guard count > 0 else { return }
        self.shared.withLock { s in
            s.inFlight -= count
            s.starting[function] = s.starting[function].flatMap { $0 - count > 0 ? $0 - count : nil }
            s.running[function] = s.running[function].flatMap { $0 - count > 0 ? $0 - count : nil }
        }
    }

    /// Starts a worker per event leased to expire (it runs nothing: no concurrency is counted).
    func startExpiring(_ events: [QueuedEvent]) {
        for event in events {
            self.shared.withLock { $0.inFlight += 1 }
            self.spawn(event, takesConcurrency: false)
        }
    }

    /// Runs a worker for an event already counted in ``Shared``.
    func spawn(_ event: QueuedEvent, takesConcurrency: Bool) {
        // Unstructured on purpose: shutdown cancels the leasing loop, but an event that is running must still record
        // its outcome (run() waits for in-flight events, bounded, before it returns).
        Task { await self.work(event, takesConcurrency: takesConcurrency) }
    }

    /// Runs leased events of one function one after another. After each, the outcome is recorded and, in the same
    /// transaction, the function's next due events are leased as far as its room allows (``reserveHandOff(_:)``):
    /// the slot the invocation just gave back goes straight to the next event, without a second write or a trip
    /// through the leasing loop. The first leased event runs on this task; more (room freed by other callers) on
    /// new ones.
    func work(_ first: QueuedEvent, takesConcurrency: Bool) async {
        let function = first.function
        var next: QueuedEvent? = first
        while let event = next {
            next = nil
            let admitted = Once { [weak self] in if takesConcurrency { self?.started(function) } }
            let outcome = await self.attempt(event) { admitted() }
            admitted()
            let reserved = takesConcurrency ? self.reserveHandOff(function) : 0
            do {
                let lease = try await self.queue.record(
                    outcome,
                    thenLease: function,
                    limit: reserved,
                    nowMillis: Timestamp.nowMillis(),
                    leaseMillis: Self.millis(self.configuration.lease)
                )
                self.handedOff(function, reserved: reserved, leased: lease.events.count)
                self.shared.withLock { s in
                    for millis in [
                        outcome.state == .pending ? outcome.nextAttemptAtMillis : nil, lease.nextAttemptAtMillis,
                    ] {
                        if let millis { s.hints[function] = min(s.hints[function] ?? .max, millis) }
                    }
                }
                next = lease.events.first
                for extra in lease.events.dropFirst() { self.spawn(extra, takesConcurrency: true) }
            } catch {
                self.handedOff(function, reserved: reserved, leased: 0)
                self.logger.error(
                    "Could not record an asynchronous event's outcome",
                    metadata: [
                        "invocation.id": "\(outcome.requestID)", "function.name": "\(function.name)",
                        "error": "\(error)",
                    ]
                )
            }
        }
        let idle = self.shared.withLock { s -> Bool in
            s.inFlight -= 1
            if takesConcurrency {
                let left = s.running[function, default: 1] - 1
                s.running[function] = left > 0 ? left : nil
            }
            return s.inFlight == 0
        }
        self.doorbell.ring()
        if idle { self.idle.ring() }
    }

    /// Reserves the function's room for the events a finishing worker leases, as ``reserve(_:upTo:)`` does (under
    /// the same lock, so that the worker and the leasing loop never lease the same slot). The first reserved event
    /// runs on the finishing worker itself (already counted as in flight and running); more run on new workers.
    /// None while other functions wait for the dispatcher's own bound: the loop shares that out, longest waiting
    /// first.
    func reserveHandOff(_ function: EventFunction) -> Int {
        self.shared.withLock { s in
            guard !s.starved else { return 0 }
            let room = self.handler.availableConcurrency(of: function) - s.starting[function, default: 0]
            let extraWorkers = self.configuration.maximumConcurrentDispatches - s.inFlight
            let count = max(0, min(room, 1 + max(0, extraWorkers)))
            guard count > 0 else { return 0 }
            s.starting[function, default: 0] += count
            s.inFlight += count - 1
            s.running[function, default: 0] += count - 1
            return count
        }
    }

    /// Gives back what ``reserveHandOff(_:)`` reserved and the lease did not use.
    func handedOff(_ function: EventFunction, reserved: Int, leased: Int) {
        guard reserved > leased else { return }
        // The finishing worker's own share is the first reserved event: it is given back by the worker's end.
        let extras = max(0, reserved - 1) - max(0, leased - 1)
        self.unreserve(function, extras)
        if leased == 0 {
            self.shared.withLock { s in
                s.starting[function] = s.starting[function].flatMap { $0 - 1 > 0 ? $0 - 1 : nil }
            }
        }
    }

    /// One of the function's events was admitted or refused by its limiter: it no longer counts as starting. When
    /// none is left starting, the loop looks again (it may now wait for a freed slot, or lease more).
    func started(_ function: EventFunction) {
        let none = self.shared.withLock { s -> Bool in
            let left = s.starting[function, default: 1] - 1
            s.starting[function] = left > 0 ? left : nil
            return left <= 0
        }
        if none { self.doorbell.ring() }
    }

    // MARK: Running one event

    func policy(for event: QueuedEvent) -> RetryPolicy {
        let limits = self.handler.limits(for: event)
        return RetryPolicy(
            maximumRetryAttempts: limits.maximumRetryAttempts,
            maximumEventAgeMillis: Int64(limits.maximumEventAgeSeconds) * 1000,
            retryBaseMillis: Self.millis(self.configuration.retryBase),
            throttleBaseMillis: Self.millis(self.configuration.throttleBase),
            throttleMaxMillis: Self.millis(self.configuration.throttleMax)
        )
    }

    /// The message of a throttled attempt (TooManyRequestsException's, as AWS words it).
    static let throttleMessage = "Rate Exceeded."

    /// What the event's last attempt looked like, from its stored history; nil when it never ran.
    static func lastOutcome(of event: QueuedEvent) -> AttemptResult? {
        guard event.attempts > 0 || event.backoffs > 0 else { return nil }
        if event.attempts == 0 {
            let throttled = event.lastError == Self.throttleMessage
            return AttemptResult(
                outcome: throttled ? .throttled : .platformError,
                statusCode: throttled ? 429 : 500,
                errorMessage: event.lastError
            )
        }
        return AttemptResult(outcome: .functionError, functionError: "Unhandled", errorMessage: event.lastError)
    }

    /// What an event that expired before its attempt reports: its last attempt's outcome, or, when it never got
    /// one, a throttle: it waited for concurrency the function did not have (AWS reports the 429 of its poller).
    static func expiredOutcome(of event: QueuedEvent) -> AttemptResult {
        Self.lastOutcome(of: event)
            ?? AttemptResult(outcome: .throttled, statusCode: 429, errorMessage: Self.throttleMessage)
    }

    /// Runs one leased event (or finds it expired), delivers a final outcome to its destinations, and returns the
    /// event as it is to be recorded: done, dead, or pending again at its next schedule.
    func attempt(_ leased: QueuedEvent, admitted: @escaping @Sendable () -> Void) async -> QueuedEvent {
        var event = leased
        let policy = self.policy(for: event)
        if policy.isExpired(enqueuedAtMillis: event.enqueuedAtMillis, nowMillis: Timestamp.nowMillis()) {
            // Found too old before this attempt (it waited for concurrency, or was leased late on a busy host): the
            // record reports the last attempt's outcome, as when the age runs out right after an attempt.
            await self.finish(&event, result: Self.expiredOutcome(of: event), completion: .failure(.eventAgeExceeded))
            return event
        }
        let result = await self.handler.run(event, admitted: admitted)
        if result.functionGone {
            event.state = .dead
            event.lastError = result.errorMessage ?? "The function no longer exists."
            self.logger.notice(
                "Asynchronous event dropped: its function is gone",
                metadata: ["invocation.id": "\(event.requestID)", "function.name": "\(event.functionName)"]
            )
            return event
        }
        if result.outcome == .success || result.outcome == .functionError { event.attempts += 1 }
        let decision = policy.decide(
            result.outcome,
            invocations: event.attempts,
            backoffs: event.backoffs,
            enqueuedAtMillis: event.enqueuedAtMillis,
            nowMillis: Timestamp.nowMillis(),
            jitter: self.random()
        )
        switch decision {
        case .succeeded:
            await self.finish(&event, result: result, completion: .success)
        case .retry(let at, let countsAsRetry):
            if !countsAsRetry { event.backoffs += 1 }
            event.nextAttemptAtMillis = at
            event.state = .pending
            event.lastError = result.errorMessage
            self.logger.debug(
                "Asynchronous event scheduled for another attempt",
                metadata: [
                    "invocation.id": "\(event.requestID)", "function.name": "\(event.functionName)",
                    "event.attempts": "\(event.attempts)",
                ]
            )
        case .failed(let condition):
            event.lastError = result.errorMessage
            await self.finish(&event, result: result, completion: .failure(condition))
        }
        return event
    }

    /// Delivers the final outcome (a failure to deliver is logged: the event still ends) and marks the event.
    func finish(_ event: inout QueuedEvent, result: AttemptResult?, completion: EventCompletion) async {
        do {
            try await self.handler.complete(event, result: result, completion: completion)
        } catch {
            self.logger.error(
                "Could not deliver an asynchronous event's result",
                metadata: ["invocation.id": "\(event.requestID)", "error": "\(error)"]
            )
        }
        switch completion {
        case .success:
            event.state = .done
        case .failure(let condition):
            event.state = .dead
            if event.lastError == nil { event.lastError = condition.rawValue }
        }
    }
}
