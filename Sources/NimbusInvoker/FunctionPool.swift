import NIOCore
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
            guard reusable, self.isPinned || currentRevisionID == nil || currentRevisionID == environment.revisionID
            else { return false }
            s.idle.append(environment)
            return true
        }
    }

    /// Forgets a busy environment that is being destroyed.
    func discard(_ environment: ExecutionEnvironment) {
        _ = self.state.withLock { $0.busy.removeValue(forKey: environment.id) }
    }

    /// Removes idle environments unused since `cutoff`, or of another revision than `keepRevisionID`.
    func reap(idleSince cutoff: ContinuousClock.Instant, keepRevisionID: String?) -> [ExecutionEnvironment] {
        self.state.withLock { s in
            var expired: [ExecutionEnvironment] = []
            s.idle.removeAll { env in
                let old = env.state.withLock { $0.lastUsed } < cutoff
                let stale = keepRevisionID != nil && env.revisionID != keepRevisionID
                if old || stale { expired.append(env) }
                return old || stale
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

    /// Preserved `/tmp` areas nobody took since `cutoff`, or of another revision than `keepRevisionID`.
    func expirePreserved(olderThan cutoff: ContinuousClock.Instant, keepRevisionID: String?) -> [String] {
        self.state.withLock { s in
            var expired: [String] = []
            s.preserved.removeAll { p in
                let drop = p.since < cutoff || (keepRevisionID != nil && p.revisionID != keepRevisionID)
                if drop { expired.append(p.scratchID) }
                return drop
            }
            return expired
        }
    }

    func busyEnvironments() -> [ExecutionEnvironment] {
        self.state.withLock { Array($0.busy.values) }
    }

    var counts: (idle: Int, busy: Int) {
        self.state.withLock { ($0.idle.count, $0.busy.count) }
    }
}
