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
        outcome: AttemptOutcome, payload: [UInt8] = [], executedVersion: String = "$LATEST",
        functionError: String? = nil, statusCode: Int = 200, errorMessage: String? = nil, functionGone: Bool = false
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

/// Runs events and delivers their results: implemented by the HTTP edge, which knows functions and destinations.
public protocol AsyncEventHandler: Sendable {
    /// `MaximumRetryAttempts` and `MaximumEventAgeInSeconds` in force for the event's function and qualifier.
    func limits(for event: QueuedEvent) -> (maximumRetryAttempts: Int, maximumEventAgeSeconds: Int)
    /// Runs the event once.
    func run(_ event: QueuedEvent) async -> AttemptResult
    /// Delivers the final outcome to destinations and the dead-letter queue (`result` is nil when the event
    /// expired before it could run again).
    func complete(_ event: QueuedEvent, result: AttemptResult?, completion: EventCompletion) async throws
}

/// The dispatcher: leases due events from the ``EventQueue``, runs them through the handler with bounded
/// concurrency, and applies ``RetryPolicy``'s decision. A ServiceGroup service started after the invoker.
public final class AsyncDispatcher: Service {
    public struct Configuration: Sendable {
        /// Events running at once.
        public var maximumConcurrentDispatches: Int
        /// The wait before the first retry after a function error (AWS: about 1 min; doubled for the second).
        public var retryBase: Duration
        /// The first throttle/platform-error backoff, doubled up to ``throttleMax``.
        public var throttleBase: Duration
        public var throttleMax: Duration
        /// How often due events are looked for when the queue is idle.
        public var pollInterval: Duration
        /// How long a lease lasts before a live server hands the event out again (longer than any function timeout).
        public var lease: Duration
        /// How long finished events are kept.
        public var keepDone: Duration

        public init(
            maximumConcurrentDispatches: Int = 64, retryBase: Duration = .seconds(60), throttleBase: Duration = .seconds(1),
            throttleMax: Duration = .seconds(300), pollInterval: Duration = .milliseconds(20),
            lease: Duration = .seconds(1200), keepDone: Duration = .seconds(600)
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

    let queue: EventQueue
    let handler: any AsyncEventHandler
    let configuration: Configuration
    let logger: Logger
    let inFlight = Mutex<Int>(0)

    public init(queue: EventQueue, handler: any AsyncEventHandler, configuration: Configuration, logger: Logger) {
        self.queue = queue
        self.handler = handler
        self.configuration = configuration
        self.logger = logger
    }

    static func millis(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    public func run() async throws {
        let recovered = try await self.queue.recoverLeases()
        if recovered > 0 {
            self.logger.notice("Asynchronous events recovered after an unclean stop", metadata: ["event.count": "\(recovered)"])
        }
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
        // In-flight events finish if they can; whatever is still leased is pending again at the next start.
        for _ in 0..<100 where self.inFlight.withLock({ $0 }) > 0 {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    func loop() async {
        var lastPurge = ContinuousClock.now
        while !Task.isCancelled {
            let free = self.configuration.maximumConcurrentDispatches - self.inFlight.withLock { $0 }
            var leased: [QueuedEvent] = []
            if free > 0 {
                do {
                    leased = try await self.queue.lease(
                        limit: free, nowMillis: Timestamp.nowMillis(), leaseMillis: Self.millis(self.configuration.lease))
                } catch is CancellationError {
                    break
                } catch {
                    self.logger.error("Could not lease asynchronous events", metadata: ["error": "\(error)"])
                }
            }
            for event in leased {
                self.inFlight.withLock { $0 += 1 }
                // Unstructured on purpose: shutdown cancels the leasing loop, but an event that is running must
                // still record its outcome (run() waits for in-flight events, bounded, before it returns).
                Task {
                    defer { self.inFlight.withLock { $0 -= 1 } }
                    await self.dispatch(event)
                }
            }
            if ContinuousClock.now - lastPurge > .seconds(30) {
                lastPurge = .now
                try? await self.queue.purgeDone(before: Timestamp.nowMillis() - Self.millis(self.configuration.keepDone))
            }
            if leased.isEmpty || leased.count == free {
                try? await Task.sleep(for: self.configuration.pollInterval)  // cancellation ends the loop
            }
        }
    }

    func policy(for event: QueuedEvent) -> RetryPolicy {
        let limits = self.handler.limits(for: event)
        return RetryPolicy(
            maximumRetryAttempts: limits.maximumRetryAttempts,
            maximumEventAgeMillis: Int64(limits.maximumEventAgeSeconds) * 1000,
            retryBaseMillis: Self.millis(self.configuration.retryBase),
            throttleBaseMillis: Self.millis(self.configuration.throttleBase),
            throttleMaxMillis: Self.millis(self.configuration.throttleMax))
    }

    /// The message of a throttled attempt (TooManyRequestsException's, as AWS words it).
    static let throttleMessage = "Rate Exceeded."

    /// What the event's last attempt looked like, from its stored history; nil when it never ran.
    static func lastOutcome(of event: QueuedEvent) -> AttemptResult? {
        guard event.attempts > 0 || event.backoffs > 0 else { return nil }
        if event.attempts == 0 {
            let throttled = event.lastError == Self.throttleMessage
            return AttemptResult(
                outcome: throttled ? .throttled : .platformError, statusCode: throttled ? 429 : 500,
                errorMessage: event.lastError)
        }
        return AttemptResult(outcome: .functionError, functionError: "Unhandled", errorMessage: event.lastError)
    }

    /// Runs one leased event and records what follows.
    func dispatch(_ leased: QueuedEvent) async {
        var event = leased
        let policy = self.policy(for: event)
        var metadata: Logger.Metadata = ["invocation.id": "\(event.requestID)", "function.name": "\(event.functionName)"]
        do {
            if policy.isExpired(enqueuedAtMillis: event.enqueuedAtMillis, nowMillis: Timestamp.nowMillis()) {
                // Found too old before this attempt (e.g. leased late on a busy host): the record reports the last
                // attempt's outcome, as when the age runs out right after an attempt.
                try await self.finish(&event, result: Self.lastOutcome(of: event), completion: .failure(.eventAgeExceeded))
                try await self.queue.record(event)
                return
            }
            let result = await self.handler.run(event)
            if result.functionGone {
                event.state = .dead
                event.lastError = result.errorMessage ?? "The function no longer exists."
                try await self.queue.record(event)
                self.logger.notice("Asynchronous event dropped: its function is gone", metadata: metadata)
                return
            }
            if result.outcome == .success || result.outcome == .functionError { event.attempts += 1 }
            let decision = policy.decide(
                result.outcome, invocations: event.attempts, backoffs: event.backoffs,
                enqueuedAtMillis: event.enqueuedAtMillis, nowMillis: Timestamp.nowMillis())
            switch decision {
            case .succeeded:
                try await self.finish(&event, result: result, completion: .success)
            case .retry(let at, let countsAsRetry):
                if !countsAsRetry { event.backoffs += 1 }
                event.nextAttemptAtMillis = at
                event.state = .pending
                event.lastError = result.errorMessage
                metadata["event.attempts"] = "\(event.attempts)"
                self.logger.debug("Asynchronous event scheduled for another attempt", metadata: metadata)
            case .failed(let condition):
                event.lastError = result.errorMessage
                try await self.finish(&event, result: result, completion: .failure(condition))
            }
            try await self.queue.record(event)
        } catch {
            metadata["error"] = "\(error)"
            self.logger.error("Could not record an asynchronous event's outcome", metadata: metadata)
        }
    }

    func finish(_ event: inout QueuedEvent, result: AttemptResult?, completion: EventCompletion) async throws {
        do {
            try await self.handler.complete(event, result: result, completion: completion)
        } catch {
            self.logger.error(
                "Could not deliver an asynchronous event's result",
                metadata: ["invocation.id": "\(event.requestID)", "error": "\(error)"])
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
