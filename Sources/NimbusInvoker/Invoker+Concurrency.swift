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

    /// The pool of a function version: `$LATEST` under the bare name (so ``functionChanged(name:revisionID:)`` and
    /// the revision bookkeeping keep working on it), a published version under `name:version`.
    static func poolKey(name: String, version: String) -> String {
        version == "$LATEST" ? name : "\(name):\(version)"
    }

    /// Takes a concurrency slot for one invocation.
    /// - Throws: `TooManyRequestsException` (429, `Reason`, `Retry-After`) when the function's reservation or the
    ///   account's unreserved pool is exhausted. The throttle is counted and logged; never silently dropped.
    func takeConcurrencySlot(_ request: InvokeRequest) throws(NimbusError) -> ConcurrencyLimiter.Permit {
        switch self.concurrency.acquire(function: request.configuration.name) {
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
                ])
            throw NimbusError(
                .tooManyRequests, "Rate Exceeded.", extra: ["Reason": rejection.reason, "Retry-After": "1"])
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
