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

    /// Gives a slot back.
    public func release(_ permit: Permit) {
        self.state.withLock { s in
            let running = s.inUse[permit.function, default: 0]
            precondition(running > 0, "ConcurrencyLimiter: release without a matching acquire for \(permit.function)")
            s.inUse[permit.function] = running == 1 ? nil : running - 1
            if permit.unreserved { s.unreservedInUse -= 1 }
        }
    }

    /// Sets (or with nil removes) a function's reserved concurrency. Running invocations keep their slots; the new
    /// value applies to the next acquisitions.
    public func setReservation(_ reserved: Int?, for function: String) {
        self.state.withLock { s in
            s.reservedTotal -= s.reservations[function] ?? 0
            s.reservations[function] = reserved
            s.reservedTotal += reserved ?? 0
        }
    }

    /// Forgets a deleted function's reservation and throttle count.
    public func remove(function: String) {
        self.state.withLock { s in
            s.reservedTotal -= s.reservations.removeValue(forKey: function) ?? 0
            s.throttles.removeValue(forKey: function)
        }
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
