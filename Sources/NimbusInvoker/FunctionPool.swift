import NIOCore
import NimbusCore
import NimbusSandbox
import Synchronization

/// The execution environments of one function version: idle ones (most recently used last, so reuse keeps the
/// warmest ones hot) and the number busy. Environments of an older revision are never handed out again.
final class FunctionPool: Sendable {
    struct State {
        var idle: [ExecutionEnvironment] = []
        var busy: [String: ExecutionEnvironment] = [:]
        /// `/tmp` areas of environments that were reset, waiting for the environment that replaces them.
        var preserved: [PreservedScratch] = []
        /// Provisioned environments (idle or busy): environment id → the provisioned configuration's key. They are
        /// never reaped for idleness and are handed out before on-demand ones.
        var provisioned: [String: String] = [:]
        /// Arrival history for the adaptive keep-alive (see Invoker+KeepAlive.swift).
        var arrivals = ArrivalHistory()
    }

    /// When the pool's last invocation ended and the idle times seen so far.
    struct ArrivalHistory {
        var histogram = KeepAlivePolicy(kind: .hybridHistogram, fixedSeconds: 0).emptyHistogram()
        /// When the last invocation ended, while no invocation has arrived since.
        var lastEnd: ContinuousClock.Instant?
        /// The end of the last invocation, kept after arrivals (pre-warm and keep-alive windows start there).
        var windowStart: ContinuousClock.Instant?
        var configuration: FunctionConfiguration?
        var network: NetworkMode?
        /// The `windowStart` a pre-warmed environment was started for.
        var prewarmedFor: ContinuousClock.Instant?

        mutating func arrived(now: ContinuousClock.Instant) {
            guard let lastEnd else { return }
            self.histogram.add(ExecutionEnvironment.millis(now - lastEnd) / 1000)
            self.lastEnd = nil
        }
    }

    struct PreservedScratch {
        var scratchID: String
        var revisionID: String
        var since: ContinuousClock.Instant
    }

    let state = Mutex<State>(State())
    /// A published version's pool: its configuration never changes, so released environments are never retired
    /// for being of an older revision than the function's (`$LATEST`'s) current one.
    let isPinned: Bool

    init(isPinned: Bool = false) {
        self.isPinned = isPinned
    }

    /// Takes an idle environment of `revisionID`, if any. Idle environments of other revisions are returned for
    /// destruction.
    /// With `eventLoop`, the most recently used idle environment on that loop is preferred.
    func acquire(
        revisionID: String, eventLoop: (any EventLoop)? = nil, network: NetworkMode? = nil
    ) -> (ExecutionEnvironment?, stale: [ExecutionEnvironment]) {
        self.state.withLock { s in
            var stale: [ExecutionEnvironment] = []
            if s.busy.isEmpty { s.arrivals.arrived(now: .now) }
            if !s.provisioned.isEmpty,
                let index = s.idle.lastIndex(where: {
                    s.provisioned[$0.id] != nil && $0.revisionID == revisionID && $0.network == network
                })
            {
                let candidate = s.idle.remove(at: index)
                s.busy[candidate.id] = candidate
                return (candidate, stale)
            }
            if let eventLoop,
                let index = s.idle.lastIndex(where: {
                    $0.eventLoop === eventLoop && $0.revisionID == revisionID && $0.network == network
                })
            {
                let candidate = s.idle.remove(at: index)
                s.busy[candidate.id] = candidate
                return (candidate, stale)
            }
            while let candidate = s.idle.popLast() {
                if candidate.revisionID == revisionID && candidate.network == network {
                    s.busy[candidate.id] = candidate
                    return (candidate, stale)
                }
                stale.append(candidate)
            }
            return (nil, stale)
        }
    }

    /// Registers a new environment as busy.
    func adopt(_ environment: ExecutionEnvironment) {
        self.state.withLock { $0.busy[environment.id] = environment }
    }

    /// Returns an environment after an invocation. Returns false when it must be destroyed instead (it failed, or
    /// a newer revision of the function exists).
    func release(_ environment: ExecutionEnvironment, reusable: Bool, currentRevisionID: String?) -> Bool {
        self.state.withLock { s in
            s.busy.removeValue(forKey: environment.id)
            if environment.state.withLock({ $0.invocations }) > 0 {
                let now = ContinuousClock.now
                s.arrivals.lastEnd = now
                s.arrivals.windowStart = now
                s.arrivals.configuration = environment.configuration
                s.arrivals.network = environment.network
            }
            guard reusable, self.isPinned || currentRevisionID == nil || currentRevisionID == environment.revisionID
            else {
                s.provisioned.removeValue(forKey: environment.id)
                return false
            }
            s.idle.append(environment)
            return true
        }
    }

    /// Forgets a busy environment that is being destroyed.
    func discard(_ environment: ExecutionEnvironment) {
        self.state.withLock {
            $0.busy.removeValue(forKey: environment.id)
            $0.provisioned.removeValue(forKey: environment.id)
        }
    }

    /// Removes idle environments unused since `cutoff` (nil: whatever their age), or of another revision than
    /// `keepRevisionID`.
    /// - Parameter startedBefore: idle environments started before this are removed too, provisioned or not (their
    ///   credentials are due for rotation; provisioned ones are started again by the provisioning loop).
    func reap(
        idleSince cutoff: ContinuousClock.Instant?, startedBefore: ContinuousClock.Instant? = nil, keepRevisionID: String?
    ) -> [ExecutionEnvironment] {
        self.state.withLock { s in
            var expired: [ExecutionEnvironment] = []
            s.idle.removeAll { env in
                let old =
                    cutoff.map { cutoff in s.provisioned[env.id] == nil && env.state.withLock { $0.lastUsed } < cutoff }
                    ?? false
                let aged = startedBefore.map { env.startedAt < $0 } ?? false
                let stale = keepRevisionID != nil && env.revisionID != keepRevisionID
                if aged { s.provisioned[env.id] = nil }
                if old || aged || stale { expired.append(env) }
                return old || aged || stale
            }
            return expired
        }
    }

    /// Removes every environment (shutdown or function deletion).
    func removeAll() -> [ExecutionEnvironment] {
        self.state.withLock { s in
            let all = s.idle + Array(s.busy.values)
            s.idle.removeAll()
            s.busy.removeAll()
            s.provisioned.removeAll()
            return all
        }
    }

    /// Keeps a reset environment's `/tmp` for its replacement.
    func preserve(scratchID: String, revisionID: String) {
        self.state.withLock {
            $0.preserved.append(PreservedScratch(scratchID: scratchID, revisionID: revisionID, since: .now))
        }
    }

    /// A preserved `/tmp` of this revision, if any.
    func takePreserved(revisionID: String) -> String? {
        self.state.withLock { s in
            guard let index = s.preserved.lastIndex(where: { $0.revisionID == revisionID }) else { return nil }
            return s.preserved.remove(at: index).scratchID
        }
    }

    /// Preserved `/tmp` areas nobody took since `cutoff` (nil: whatever their age), or of another revision than
    /// `keepRevisionID`.
    func expirePreserved(olderThan cutoff: ContinuousClock.Instant?, keepRevisionID: String?) -> [String] {
        self.state.withLock { s in
            var expired: [String] = []
            s.preserved.removeAll { p in
                let drop =
                    cutoff.map { p.since < $0 } ?? false || (keepRevisionID != nil && p.revisionID != keepRevisionID)
                if drop { expired.append(p.scratchID) }
                return drop
            }
            return expired
        }
    }

    /// Removes every preserved `/tmp` area (shutdown or function deletion).
    func removeAllPreserved() -> [String] {
        self.state.withLock { s in
            defer { s.preserved.removeAll() }
            return s.preserved.map(\.scratchID)
        }
    }

    /// Marks an environment as provisioned for the configuration `key`.
    func markProvisioned(_ environment: ExecutionEnvironment, key: String) {
        self.state.withLock { $0.provisioned[environment.id] = key }
    }

    /// How many live environments are provisioned for `key`.
    func provisionedCount(key: String) -> Int {
        self.state.withLock { s in s.provisioned.values.reduce(0) { $0 + ($1 == key ? 1 : 0) } }
    }

    /// Makes up to `count` (all, when nil) environments provisioned for `key` ordinary on-demand ones again (idle
    /// ones first), so that keep-alive reaps them.
    func unmarkProvisioned(key: String, count: Int? = nil) {
        self.state.withLock { s in
            var remaining = count ?? Int.max
            let idleIDs = Set(s.idle.map(\.id))
            let ids = s.provisioned.filter { $0.value == key }.map(\.key)
                .sorted { idleIDs.contains($0) && !idleIDs.contains($1) }
            for id in ids where remaining > 0 {
                s.provisioned.removeValue(forKey: id)
                remaining -= 1
            }
        }
    }

    /// The idle times seen so far.
    func arrivalHistogram() -> KeepAlivePolicy.Histogram {
        self.state.withLock { $0.arrivals.histogram }
    }

    /// The hybrid policy's early release: idle on-demand environments that served an invocation, while the pool is
    /// in its pre-warm window (`until`: the window's end).
    func releaseEarly(until: ContinuousClock.Instant, now: ContinuousClock.Instant) -> [ExecutionEnvironment] {
        self.state.withLock { s in
            guard let start = s.arrivals.windowStart, now < until, start <= now else { return [] }
            var released: [ExecutionEnvironment] = []
            s.idle.removeAll { env in
                let early = s.provisioned[env.id] == nil && env.state.withLock { $0.invocations } > 0
                if early { released.append(env) }
                return early
            }
            return released
        }
    }

    /// What to pre-warm when the pool is empty and `now` is in the keep-alive window that follows the pre-warm one;
    /// at most once per window.
    func prewarmCandidate(
        prewarm: Duration,
        keepAlive: Duration,
        now: ContinuousClock.Instant
    ) -> (FunctionConfiguration, NetworkMode?, ContinuousClock.Instant)? {
        self.state.withLock { s in
            guard s.idle.isEmpty, s.busy.isEmpty, let start = s.arrivals.windowStart,
                let config = s.arrivals.configuration, s.arrivals.prewarmedFor != start,
                now >= start + prewarm, now < start + prewarm + keepAlive
            else { return nil }
            s.arrivals.prewarmedFor = start
            return (config, s.arrivals.network, start)
        }
    }

    func busyEnvironments() -> [ExecutionEnvironment] {
        self.state.withLock { Array($0.busy.values) }
    }

    var counts: (idle: Int, busy: Int) {
        self.state.withLock { ($0.idle.count, $0.busy.count) }
    }
}
