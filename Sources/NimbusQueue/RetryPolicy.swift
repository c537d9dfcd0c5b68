/// What happened to one attempt of an asynchronous event.
public enum AttemptOutcome: Sendable, Equatable {
    /// The function returned a result.
    case success
    /// The function failed (error, timeout, crash, out of memory): consumes a retry.
    case functionError
    /// The invoker's concurrency limiter refused the invocation (429): does not consume a retry.
    case throttled
    /// Nimbus could not run the invocation (5xx): does not consume a retry.
    case platformError
}

/// Why an event was given up on (the invocation record's `requestContext.condition`).
public enum FailureCondition: String, Sendable, Equatable {
    case retriesExhausted = "RetriesExhausted"
    case eventAgeExceeded = "EventAgeExceeded"
}

/// What the dispatcher does with an event after an attempt.
public enum RetryDecision: Sendable, Equatable {
    case succeeded
    /// Back to pending until `atMillis`; `countsAsRetry` is false for throttles and platform errors.
    case retry(atMillis: Int64, countsAsRetry: Bool)
    case failed(FailureCondition)
}

/// The retry rules of asynchronous invocation (lambda-spec §7), as a pure function of the event's history.
///
/// - Function errors: up to ``maximumRetryAttempts`` more attempts, waiting `retryBase × 2^(n-1)` before the n-th
///   retry (AWS: about 1 and 2 minutes).
/// - Throttles and platform errors: back to the queue with exponential backoff from ``throttleBaseMillis`` up to
///   ``throttleMaxMillis``, not counted as retries. The dispatcher leases only what a function's free concurrency
///   allows, so a throttle means another caller took the slot in between: the backoff starts small (100 ms) and
///   grows only while throttles repeat, with equal jitter (half fixed, half random) so that events throttled
///   together do not come back together.
/// - Either way, an event whose next attempt would start after ``maximumEventAgeMillis`` is given up on with
///   `EventAgeExceeded`.
public struct RetryPolicy: Sendable, Equatable {
    public var maximumRetryAttempts: Int
    public var maximumEventAgeMillis: Int64
    public var retryBaseMillis: Int64
    public var throttleBaseMillis: Int64
    public var throttleMaxMillis: Int64

    public static let defaultMaximumRetryAttempts = 2
    public static let defaultMaximumEventAgeSeconds = 21_600
    /// The smallest `MaximumEventAgeInSeconds` AWS accepts: no event expires younger.
    public static let minimumMaximumEventAgeSeconds = 60

    public init(
        maximumRetryAttempts: Int = Self.defaultMaximumRetryAttempts,
        maximumEventAgeMillis: Int64 = Int64(Self.defaultMaximumEventAgeSeconds) * 1000,
        retryBaseMillis: Int64 = 60_000,
        throttleBaseMillis: Int64 = 100,
        throttleMaxMillis: Int64 = 300_000
    ) {
        self.maximumRetryAttempts = maximumRetryAttempts
        self.maximumEventAgeMillis = maximumEventAgeMillis
        self.retryBaseMillis = retryBaseMillis
        self.throttleBaseMillis = throttleBaseMillis
        self.throttleMaxMillis = throttleMaxMillis
    }

    /// Whether an event that is due now is already too old to run.
    public func isExpired(enqueuedAtMillis: Int64, nowMillis: Int64) -> Bool {
        nowMillis - enqueuedAtMillis > self.maximumEventAgeMillis
    }

    /// - Parameters:
    ///   - invocations: how many times the function ran, this attempt included.
    ///   - backoffs: how many throttle/platform backoffs the event had before this attempt.
    ///   - jitter: a uniform random number in 0...1 for the throttle backoff (1: the whole backoff, no jitter).
    public func decide(
        _ outcome: AttemptOutcome,
        invocations: Int,
        backoffs: Int,
        enqueuedAtMillis: Int64,
        nowMillis: Int64,
        jitter: Double = 1
    ) -> RetryDecision {
        let deadline = enqueuedAtMillis + self.maximumEventAgeMillis
        switch outcome {
        case .success:
            return .succeeded
        case .functionError:
            let retriesSoFar = invocations - 1
            if retriesSoFar >= self.maximumRetryAttempts { return .failed(.retriesExhausted) }
            let delay = self.retryBaseMillis << Int64(min(retriesSoFar, 20))
            let next = nowMillis + delay
            if next > deadline { return .failed(.eventAgeExceeded) }
            return .retry(atMillis: next, countsAsRetry: true)
        case .throttled, .platformError:
            let ceiling = min(self.throttleBaseMillis << Int64(min(backoffs, 30)), self.throttleMaxMillis)
            let delay = ceiling - Int64((Double(ceiling / 2) * (1 - min(max(jitter, 0), 1))).rounded(.down))
            let next = nowMillis + delay
            if next > deadline { return .failed(.eventAgeExceeded) }
            return .retry(atMillis: next, countsAsRetry: false)
        }
    }
}
