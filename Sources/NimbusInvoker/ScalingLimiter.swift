import NimbusCore
import Synchronization

/// A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`. Pure; the caller passes the time.
public struct TokenBucket: Sendable, Equatable {
    public var capacity: Double
    public var refillPerSecond: Double
    var tokens: Double
    var last: ContinuousClock.Instant?

    public init(capacity: Double, refillPerSecond: Double) {
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
        self.tokens = capacity
    }

    /// Takes a token at `now`: nil when one was taken, otherwise how long until one is available.
    public mutating func take(now: ContinuousClock.Instant) -> Duration? {
        if let last, now > last {
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            self.tokens = min(self.capacity, self.tokens + seconds * self.refillPerSecond)
        }
        if self.last.map({ now > $0 }) ?? true { self.last = now }
        if self.tokens >= 1 {
            self.tokens -= 1
            return nil
        }
        guard self.refillPerSecond > 0 else { return .seconds(3600) }
        return .nanoseconds(Int64(((1 - self.tokens) / self.refillPerSecond * 1e9).rounded(.up)))
    }
}

/// The rate at which each function may start new environments, as on AWS: a burst of 1,000, refilled at 1,000 per
/// 10 seconds (continuously). Provisioned environments are started outside this limit.
public final class ScalingLimiter: Sendable {
    public struct Rate: Sendable, Equatable {
        /// Environments a function may start at once.
        public var burst: Int
        /// Environments per second the allowance grows back by.
        public var refillPerSecond: Double

        public init(burst: Int = 1000, refillPerSecond: Double = 100) {
            self.burst = burst
            self.refillPerSecond = refillPerSecond
        }
    }

    let buckets = Mutex<[String: TokenBucket]>([:])

    public init() {}

    /// Takes a token for a new environment of `function`: nil when taken, else how long until one is available.
    public func take(function: String, rate: Rate, now: ContinuousClock.Instant = .now) -> Duration? {
        self.buckets.withLock { buckets in
            var bucket =
                buckets[function] ?? TokenBucket(capacity: Double(rate.burst), refillPerSecond: rate.refillPerSecond)
            let wait = bucket.take(now: now)
            buckets[function] = bucket
            return wait
        }
    }

    public func remove(function: String) {
        _ = self.buckets.withLock { $0.removeValue(forKey: function) }
    }
}

extension Invoker {
    /// How often an invocation waiting for a scaling token looks for a freed environment.
    static let scalingPollInterval = Duration.milliseconds(5)

    /// Before an invocation starts a new environment: takes a scaling token, or waits, bounded by the function's
    /// timeout, for a token or for an environment of the pool to become idle (returned, already acquired).
    /// - Throws: `TooManyRequestsException` when neither came in time.
    func waitForScaling(_ request: InvokeRequest, pool: FunctionPool) async throws -> ExecutionEnvironment? {
        let config = request.configuration
        let rate = self.configuration.scalingRate
        guard var wait = self.scaling.take(function: config.name, rate: rate) else { return nil }
        let deadline = ContinuousClock.now + .seconds(config.timeoutSeconds)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: min(wait, Self.scalingPollInterval))
            let (idle, stale) = pool.acquire(
                revisionID: config.revisionID,
                eventLoop: request.eventLoop,
                network: request.network
            )
            for env in stale { env.destroy() }
            if let idle { return idle }
            guard let next = self.scaling.take(function: config.name, rate: rate) else { return nil }
            wait = next
        }
        self.logger.warning(
            "Invocation throttled",
            metadata: [
                "function.name": "\(config.name)", "invocation.id": "\(request.requestID)",
                "error.code": "ScalingRateExceeded",
            ]
        )
        throw NimbusError(
            .tooManyRequests,
            "Rate Exceeded.",
            extra: ["Reason": "ConcurrentInvocationLimitExceeded", "Retry-After": "1"]
        )
    }
}
