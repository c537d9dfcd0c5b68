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
/// Pollers (the asynchronous dispatcher, queue mappings) ask ``available(function:)`` before they take work, so
/// that they take only what can run now, and register ``whenCapacityFrees(after:_:)`` to hear when a slot is given
/// back instead of polling: every change that can make room (a release, a reservation set or removed) advances
/// ``generation``.
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
        /// Advanced by every change that can make room.
        var generation: UInt64 = 0
        /// One-shot actions waiting for the next change that can make room.
        var capacityWaiters: [@Sendable () -> Void] = []

        /// Advances the generation and hands back the waiters to run (outside the lock).
        mutating func madeRoom() -> [@Sendable () -> Void] {
            self.generation &+= 1
            defer { self.capacityWaiters.removeAll() }
            return self.capacityWaiters
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
        self.state.withLock { s in
            if let reserved = s.reservations[function] { return max(0, reserved - s.inUse[function, default: 0]) }
            return max(0, s.accountLimit - s.reservedTotal - s.unreservedInUse)
        }
    }

    /// Advanced by every release and every reservation change: read it before ``available(function:)`` and pass it
    /// to ``whenCapacityFrees(after:_:)`` so that a slot given back in between is not missed.
    public var generation: UInt64 { self.state.withLock { $0.generation } }

    /// Runs `action` once, at the next release or reservation change after `generation` (at once if there has been
    /// one already). Cheap enough for the release path: the action runs outside the lock and should only signal.
    public func whenCapacityFrees(after generation: UInt64, _ action: @escaping @Sendable () -> Void) {
        let now = self.state.withLock { s -> Bool in
            if s.generation != generation { return true }
            s.capacityWaiters.append(action)
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
            return s.madeRoom()
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
            return s.madeRoom()
        }
        for waiter in waiters { waiter() }
    }

    /// Forgets a deleted function's reservation and throttle count.
    public func remove(function: String) {
        let waiters = self.state.withLock { s in
            s.reservedTotal -= s.reservations.removeValue(forKey: function) ?? 0
            s.throttles.removeValue(forKey: function)
            return s.madeRoom()
        }
        for waiter in waiters { waiter() }
    }

    /// One function's figures.
    public func usage(of function: String) -> Usage {
        self.state.withLock { s in
            Usage(
                reserved: s.reservations[function], inUse: s.inUse[function, default: 0],
                throttles: s.throttles[function, default: 0])
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
                            reserved: s.reservations[name], inUse: s.inUse[name, default: 0],
                            throttles: s.throttles[name, default: 0])
                    )
                })
        }
    }

    /// Invocations running from the unreserved pool.
    public var unreservedInUse: Int { self.state.withLock { $0.unreservedInUse } }
}
