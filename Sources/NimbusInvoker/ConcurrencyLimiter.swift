import Synchronization

/// Counts concurrent executions (busy environments) against the account limit and per-function reservations, the
/// way Lambda does:
///
/// - A function with reserved concurrency `N` runs at most `N` invocations at once, from its own pool; `0` throttles
///   every invocation.
/// - Functions without a reservation share the unreserved pool: the account limit minus all reservations.
///
/// A slot is taken in one step under the lock before an environment is acquired or started, and given back when the
/// invocation ends, so with a limit of `N` exactly `N` invocations run and every other one is throttled. Every
/// throttle is counted per function.
///
/// Pollers (the asynchronous dispatcher, queue mappings) ask ``available(function:)`` before they take work, so that
/// they take only what can run now, and register ``whenCapacityFrees(function:beyond:_:)`` to be woken when a slot
/// of that function's pool is given back (or a reservation changes) instead of polling.
public final class ConcurrencyLimiter: Sendable {
    /// A taken slot. Give it back with ``release(_:)`` exactly once.
    public struct Permit: Sendable {
        public let function: String
        /// Whether the slot came from the unreserved pool (the function had no reservation when it was taken).
        let unreserved: Bool
    }

    /// Why an invocation was throttled, with AWS's `Reason` values.
    public enum Rejection: Sendable, Equatable {
        /// The function's reserved concurrency is exhausted (or zero).
        case reservedLimit(Int)
        /// The unreserved pool of the account is exhausted.
        case accountLimit(Int)

        /// The `Reason` member of AWS's TooManyRequestsException.
        public var reason: String {
            switch self {
            case .reservedLimit: "ReservedFunctionConcurrentInvocationLimitExceeded"
            case .accountLimit: "ConcurrentInvocationLimitExceeded"
            }
        }

        /// The limit that was hit.
        public var limit: Int {
            switch self {
            case .reservedLimit(let limit), .accountLimit(let limit): limit
            }
        }
    }

    /// The outcome of ``acquire(function:)``.
    public enum Decision: Sendable {
        case admitted(Permit)
        case throttled(Rejection)
    }

    /// A function's figures, for metrics and tests.
    public struct Usage: Sendable, Equatable {
        public var reserved: Int?
        public var inUse: Int
        public var throttles: Int
    }

    struct State {
        var accountLimit: Int
        var reservations: [String: Int] = [:]
        var reservedTotal = 0
        /// Invocations running per function, whichever pool their slot came from.
        var inUse: [String: Int] = [:]
        /// Slots taken from the unreserved pool.
        var unreservedInUse = 0
        var throttles: [String: Int] = [:]
        /// One-shot actions per function, waiting for a slot of its pool to be given back.
        var capacityWaiters: [String: [@Sendable () -> Void]] = [:]

        /// The waiters to run (outside the lock) when a slot of `permit` is given back: the function's own, and,
        /// for a slot of the unreserved pool, those of every function without a reservation.
        mutating func waiters(freedBy permit: Permit) -> [@Sendable () -> Void] {
            guard !self.capacityWaiters.isEmpty else { return [] }
            var woken = self.capacityWaiters.removeValue(forKey: permit.function) ?? []
            if permit.unreserved {
                let sharing = self.capacityWaiters.keys.filter { self.reservations[$0] == nil }
                for function in sharing { woken += self.capacityWaiters.removeValue(forKey: function) ?? [] }
            }
            return woken
        }

        /// Every waiter (a reservation changed: any function's room may have).
        mutating func allWaiters() -> [@Sendable () -> Void] {
            defer { self.capacityWaiters.removeAll() }
            return self.capacityWaiters.values.flatMap { $0 }
        }
    }

    let state: Mutex<State>

    public init(accountLimit: Int) {
        self.state = Mutex(State(accountLimit: accountLimit))
    }

    /// The account's concurrency limit.
    public var accountLimit: Int { self.state.withLock { $0.accountLimit } }

    /// The account limit minus every reservation.
    public var unreservedLimit: Int { self.state.withLock { $0.accountLimit - $0.reservedTotal } }

    /// Takes a slot for one invocation of `function`, or says why it must be throttled (and counts the throttle).
    public func acquire(function: String) -> Decision {
        self.state.withLock { s in
            let running = s.inUse[function, default: 0]
            if let reserved = s.reservations[function] {
                guard running < reserved else {
                    s.throttles[function, default: 0] += 1
                    return .throttled(.reservedLimit(reserved))
                }
                s.inUse[function] = running + 1
                return .admitted(Permit(function: function, unreserved: false))
            }
            let pool = s.accountLimit - s.reservedTotal
            guard s.unreservedInUse < pool else {
                s.throttles[function, default: 0] += 1
                return .throttled(.accountLimit(pool))
            }
            s.unreservedInUse += 1
            s.inUse[function] = running + 1
            return .admitted(Permit(function: function, unreserved: true))
        }
    }

    /// How many more invocations of `function` would be admitted now: its reservation minus its running
    /// invocations when it has one (0 with a reservation of 0), else what is left of the unreserved pool. A snapshot:
    /// another caller may take a slot before the asker does, so the asker still handles a throttle.
    public func available(function: String) -> Int {
        self.state.withLock { Self.available(function, in: $0) }
    }

    static func available(_ function: String, in s: State) -> Int {
        if let reserved = s.reservations[function] { return max(0, reserved - s.inUse[function, default: 0]) }
        return max(0, s.accountLimit - s.reservedTotal - s.unreservedInUse)
    }

    /// Runs `action` once, when a slot of `function`'s pool is given back or a reservation changes, or at once if
    /// more than `available` slots are free already (checked under the lock, so a release between the caller's
    /// ``available(function:)`` and this call is not missed). For pollers that found no room: they are woken
    /// instead of polling. `action` runs on the releasing task and should only signal.
    public func whenCapacityFrees(function: String, beyond available: Int, _ action: @escaping @Sendable () -> Void) {
        let now = self.state.withLock { s -> Bool in
            if Self.available(function, in: s) > available { return true }
            s.capacityWaiters[function, default: []].append(action)
            return false
        }
        if now { action() }
    }

    /// Gives a slot back.
    public func release(_ permit: Permit) {
        let waiters = self.state.withLock { s in
            let running = s.inUse[permit.function, default: 0]
            precondition(running > 0, "ConcurrencyLimiter: release without a matching acquire for \(permit.function)")
            s.inUse[permit.function] = running == 1 ? nil : running - 1
            if permit.unreserved { s.unreservedInUse -= 1 }
            return s.waiters(freedBy: permit)
        }
        for waiter in waiters { waiter() }
    }

    /// Sets (or with nil removes) a function's reserved concurrency. Running invocations keep their slots; the new
    /// value applies to the next acquisitions.
    public func setReservation(_ reserved: Int?, for function: String) {
        let waiters = self.state.withLock { s in
            s.reservedTotal -= s.reservations[function] ?? 0
            s.reservations[function] = reserved
            s.reservedTotal += reserved ?? 0
            return s.allWaiters()
        }
        for waiter in waiters { waiter() }
    }

    /// Forgets a deleted function's reservation and throttle count.
    public func remove(function: String) {
        let waiters = self.state.withLock { s in
            s.reservedTotal -= s.reservations.removeValue(forKey: function) ?? 0
            s.throttles.removeValue(forKey: function)
            return s.allWaiters()
        }
        for waiter in waiters { waiter() }
    }

    /// One function's figures.
    public func usage(of function: String) -> Usage {
        self.state.withLock { s in
            Usage(
                reserved: s.reservations[function],
                inUse: s.inUse[function, default: 0],
                throttles: s.throttles[function, default: 0]
            )
        }
    }

    /// Every function that has a reservation, runs, or was throttled.
    public func usage() -> [String: Usage] {
        self.state.withLock { s in
            let names = Set(s.reservations.keys).union(s.inUse.keys).union(s.throttles.keys)
            return Dictionary(
                uniqueKeysWithValues: names.map { name in
                    (
                        name,
                        Usage(
                            reserved: s.reservations[name],
                            inUse: s.inUse[name, default: 0],
                            throttles: s.throttles[name, default: 0]
                        )
                    )
                }
            )
        }
    }

    /// Invocations running from the unreserved pool.
    public var unreservedInUse: Int { self.state.withLock { $0.unreservedInUse } }
}
