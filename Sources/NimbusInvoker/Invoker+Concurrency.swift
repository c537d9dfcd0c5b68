import Logging
import NimbusCore

/// Concurrency accounting and per-version pools.
///
/// Concurrency is the number of busy environments: ``invoke(_:)`` takes a slot from ``concurrency`` before it
/// acquires or starts an environment and gives it back when the invocation has ended, on every path. Pools are keyed
/// by function name and version (``poolKey(name:version:)``): a published version's environments are separate from
/// `$LATEST`'s and never retired by changes to `$LATEST`.
extension Invoker {
    /// The account's concurrency limit (``Configuration/accountConcurrency``).
    public var accountConcurrencyLimit: Int { self.concurrency.accountLimit }

    /// The account limit minus every function's reservation.
    public var unreservedConcurrencyLimit: Int { self.concurrency.unreservedLimit }

    /// Sets (or with nil removes) a function's reserved concurrency.
    public func setReservedConcurrency(_ reserved: Int?, function name: String) {
        self.concurrency.setReservation(reserved, for: name)
    }

    /// Reserved concurrency, running invocations and throttle count per function.
    public func concurrencyUsage() -> [String: ConcurrencyLimiter.Usage] {
        self.concurrency.usage()
    }

    /// How many invocations of `function` were throttled.
    public func throttleCount(function name: String) -> Int {
        self.concurrency.usage(of: name).throttles
    }

    // MARK: For pollers

    /// How many more invocations of `function` would be admitted now: its reservation minus its running invocations
    /// when it has one (0 with a reservation of 0), else the unreserved pool minus what unreserved functions run.
    /// One lock, no allocation: pollers (asynchronous events, queue mappings) ask before they take work, so that a
    /// backlog never takes more than can run and is not throttled by this invoker's own limiter.
    public func availableConcurrency(function name: String) -> Int {
        self.concurrency.available(function: name)
    }

    /// Runs `action` once when `function` may have more than `available` free slots: at once if it has already,
    /// else when an invocation using a slot of its pool ends or a reservation changes. For pollers that found no
    /// room (``availableConcurrency(function:)`` returned `available`): they are woken instead of polling.
    /// `action` runs on the releasing task and should only signal.
    public func whenConcurrencyFrees(
        function name: String,
        beyond available: Int,
        _ action: @escaping @Sendable () -> Void
    ) {
        self.concurrency.whenCapacityFrees(function: name, beyond: available, action)
    }

    /// Told, for invocations made by the current task, when the limiter has decided (`true`: a slot was taken,
    /// `false`: throttled). A poller that counts work it has taken but not yet started uses it to know the moment
    /// that work is counted by the limiter instead (``availableConcurrency(function:)``), so that it neither takes
    /// twice the same slot nor waits for the whole invocation to end.
    @TaskLocal public static var admissionObserver: AdmissionObserver?

    /// The pool of a function version: `$LATEST` under the bare name (so ``functionChanged(name:revisionID:)`` and
    /// the revision bookkeeping keep working on it), a published version under `name:version`.
    static func poolKey(name: String, version: String) -> String {
        version == "$LATEST" ? name : "\(name):\(version)"
    }

    /// Takes a concurrency slot for one invocation.
    /// - Throws: `TooManyRequestsException` (429, `Reason`, `Retry-After`) when the function's reservation or the
    ///   account's unreserved pool is exhausted. The throttle is counted and logged; never silently dropped.
    func takeConcurrencySlot(_ request: InvokeRequest) throws(NimbusError) -> ConcurrencyLimiter.Permit {
        let decision = self.concurrency.acquire(function: request.configuration.name)
        if let observer = Self.admissionObserver {
            if case .admitted = decision { observer.decided(true) } else { observer.decided(false) }
        }
        switch decision {
        case .admitted(let permit):
            return permit
        case .throttled(let rejection):
            self.logger.warning(
                "Invocation throttled",
                metadata: [
                    "function.name": "\(request.configuration.name)",
                    "function.version": "\(request.configuration.version)",
                    "invocation.id": "\(request.requestID)",
                    "error.code": "\(rejection.reason)",
                    "concurrency.limit": "\(rejection.limit)",
                ]
            )
            throw NimbusError(
                .tooManyRequests,
                "Rate Exceeded.",
                extra: ["Reason": rejection.reason, "Retry-After": "1"]
            )
        }
    }

    /// Destroys the environments of a deleted published version.
    public func versionDeleted(name: String, version: String) {
        let key = Self.poolKey(name: name, version: version)
        let pool = self.pools.withLock { $0.removeValue(forKey: key) }
        self.retire(pool)
    }

    /// Destroys every environment of a deleted function, `$LATEST` and published versions, and forgets its
    /// reservation.
    public func functionRemoved(name: String) {
        self.currentRevisions.withLock { $0[name] = "deleted" }
        let prefix = "\(name):"
        let pools = self.pools.withLock { pools -> [FunctionPool] in
            let keys = pools.keys.filter { $0 == name || $0.hasPrefix(prefix) }
            return keys.compactMap { pools.removeValue(forKey: $0) }
        }
        for pool in pools { self.retire(pool) }
        self.concurrency.remove(function: name)
        self.deprovisionAll(name: name)
    }

    func retire(_ pool: FunctionPool?) {
        guard let pool else { return }
        for env in pool.removeAll() { env.destroy() }
        for scratch in pool.removeAllPreserved() {
            self.driver.removeScratch(scratch)
        }
    }
}

/// See ``Invoker/admissionObserver``.
public struct AdmissionObserver: Sendable {
    /// Called once per invocation of the observing task, with whether a concurrency slot was taken.
    public let decided: @Sendable (_ admitted: Bool) -> Void

    public init(_ decided: @escaping @Sendable (_ admitted: Bool) -> Void) {
        self.decided = decided
    }
}
