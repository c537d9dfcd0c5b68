import Logging
import NimbusCore
import NimbusSandbox
import Synchronization

/// What `GetProvisionedConcurrencyConfig` reports for one qualifier.
public struct ProvisionedConcurrencyStatus: Sendable, Equatable {
    public var requested: Int
    /// Initialised environments kept for the configuration (busy or idle).
    public var allocated: Int
    public var available: Int
    /// `IN_PROGRESS`, `READY` or `FAILED`.
    public var status: String
    /// `StatusReason` of a failed allocation (`FUNCTION_ERROR_INIT_FAILURE`).
    public var reason: String?

    public init(requested: Int, allocated: Int, available: Int, status: String, reason: String?) {
        self.requested = requested
        self.allocated = allocated
        self.available = available
        self.status = status
        self.reason = reason
    }
}

/// The provisioned concurrency configurations the invoker keeps environments for, keyed by
/// ``Invoker/provisionedKey(name:qualifier:)``, and the queue of configurations to (re)fill.
final class Provisioning: Sendable {
    struct Entry {
        /// The configuration of the version the qualifier resolves to.
        var configuration: FunctionConfiguration
        var network: NetworkMode?
        var requested: Int
        /// Environments being started for this entry.
        var starting = 0
        /// Why allocation stopped (an init failure); nothing is started again until the configuration is put again.
        var failure: String?

        var poolKey: String { Invoker.poolKey(name: self.configuration.name, version: self.configuration.version) }
    }

    /// An environment the hybrid keep-alive policy starts ahead of an expected invocation.
    struct Prewarm: Sendable {
        var poolKey: String
        var configuration: FunctionConfiguration
        var network: NetworkMode?
        var windowStart: ContinuousClock.Instant
    }

    let entries = Mutex<[String: Entry]>([:])
    let work: AsyncStream<String>
    let continuation: AsyncStream<String>.Continuation
    let prewarms: AsyncStream<Prewarm>
    let prewarmContinuation: AsyncStream<Prewarm>.Continuation

    init() {
        (self.work, self.continuation) = AsyncStream.makeStream(of: String.self)
        (self.prewarms, self.prewarmContinuation) = AsyncStream.makeStream(of: Prewarm.self)
    }
}

/// Provisioned concurrency: environments started ahead of time with `AWS_LAMBDA_INITIALIZATION_TYPE`
/// `provisioned-concurrency`, kept in the version's pool, never reaped for idleness, handed out before on-demand
/// ones. Their first invocation is warm (its REPORT carries no Init Duration). A provisioned environment that dies
/// (timeout, crash) is replaced by the refill tick; an init failure marks the configuration `FAILED`.
extension Invoker {
    static let initializationTypeProvisioned = "provisioned-concurrency"
    /// How often configurations are checked for missing environments.
    static let provisionedRefillInterval = Duration.seconds(1)

    static func provisionedKey(name: String, qualifier: String) -> String { "\(name)@\(qualifier)" }

    /// Sets (or replaces) the configuration for `qualifier`: `count` environments of `configuration` (the version
    /// the qualifier resolves to). Allocation runs in the background; see ``provisionedStatus(name:qualifier:)``.
    public func provision(_ configuration: FunctionConfiguration, qualifier: String, count: Int, network: NetworkMode?)
    {
        let key = Self.provisionedKey(name: configuration.name, qualifier: qualifier)
        let previous = self.provisioning.entries.withLock { entries -> Provisioning.Entry? in
            let previous = entries[key]
            var entry = Provisioning.Entry(configuration: configuration, network: network, requested: count)
            if let previous, previous.poolKey == entry.poolKey { entry.starting = previous.starting }
            entries[key] = entry
            return previous
        }
        if let previous {
            let pool = self.pools.withLock { $0[previous.poolKey] }
            if previous.poolKey != Self.poolKey(name: configuration.name, version: configuration.version) {
                pool?.unmarkProvisioned(key: key)
            } else if let pool, pool.provisionedCount(key: key) > count {
                pool.unmarkProvisioned(key: key, count: pool.provisionedCount(key: key) - count)
            }
        }
        self.provisioning.continuation.yield(key)
    }

    /// Removes the configuration for `qualifier`: its environments become on-demand ones (reaped after keep-alive).
    public func deprovision(name: String, qualifier: String) {
        let key = Self.provisionedKey(name: name, qualifier: qualifier)
        guard let entry = self.provisioning.entries.withLock({ $0.removeValue(forKey: key) }) else { return }
        self.pools.withLock { $0[entry.poolKey] }?.unmarkProvisioned(key: key)
    }

    /// Removes every configuration of a function (deletion).
    func deprovisionAll(name: String) {
        let prefix = "\(name)@"
        let removed = self.provisioning.entries.withLock { entries -> [(String, Provisioning.Entry)] in
            let keys = entries.keys.filter { $0.hasPrefix(prefix) }
            return keys.compactMap { key in entries.removeValue(forKey: key).map { (key, $0) } }
        }
        for (key, entry) in removed { self.pools.withLock { $0[entry.poolKey] }?.unmarkProvisioned(key: key) }
    }

    /// The allocation status of a configuration; nil when there is none.
    public func provisionedStatus(name: String, qualifier: String) -> ProvisionedConcurrencyStatus? {
        let key = Self.provisionedKey(name: name, qualifier: qualifier)
        guard let entry = self.provisioning.entries.withLock({ $0[key] }) else { return nil }
        let allocated = min(self.pools.withLock { $0[entry.poolKey] }?.provisionedCount(key: key) ?? 0, entry.requested)
        let status = entry.failure != nil ? "FAILED" : allocated >= entry.requested ? "READY" : "IN_PROGRESS"
        return ProvisionedConcurrencyStatus(
            requested: entry.requested,
            allocated: allocated,
            available: allocated,
            status: status,
            reason: entry.failure
        )
    }

    /// Fills configurations as they are put, refills them every ``provisionedRefillInterval``, and starts the
    /// keep-alive policy's pre-warmed environments.
    func provisionLoop() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.provisionedRefillInterval)  // cancellation ends the loop
                    for key in self.provisioning.entries.withLock({ Array($0.keys) }) {
                        self.provisioning.continuation.yield(key)
                    }
                }
            }
            group.addTask {
                await withDiscardingTaskGroup { prewarms in
                    for await job in self.provisioning.prewarms {
                        prewarms.addTask { await self.startPrewarmed(job) }
                    }
                }
            }
            for await key in self.provisioning.work {
                group.addTask { await self.fillProvisioned(key) }
            }
            group.cancelAll()
        }
    }

    /// Starts the environments a configuration misses.
    func fillProvisioned(_ key: String) async {
        let claim = self.provisioning.entries.withLock { entries -> (Provisioning.Entry, Int)? in
            guard var entry = entries[key], entry.failure == nil else { return nil }
            let allocated = self.pools.withLock { $0[entry.poolKey] }?.provisionedCount(key: key) ?? 0
            let missing = entry.requested - allocated - entry.starting
            guard missing > 0 else { return nil }
            entry.starting += missing
            entries[key] = entry
            return (entry, missing)
        }
        guard let (entry, missing) = claim else { return }
        await withDiscardingTaskGroup { group in
            for _ in 0..<missing {
                group.addTask { await self.startProvisioned(key, entry) }
            }
        }
    }

    func startProvisioned(_ key: String, _ entry: Provisioning.Entry) async {
        let config = entry.configuration
        defer {
            self.provisioning.entries.withLock { entries in
                if entries[key]?.poolKey == entry.poolKey { entries[key]?.starting -= 1 }
            }
        }
        let pool = self.pools.withLock { pools in
            if let pool = pools[entry.poolKey] { return pool }
            let pool = FunctionPool(isPinned: config.version != "$LATEST")
            pools[entry.poolKey] = pool
            return pool
        }
        let env: ExecutionEnvironment
        do {
            env = try await self.startEnvironment(
                config,
                scratchID: nil,
                eventLoop: self.group.next(),
                network: entry.network,
                initializationType: Self.initializationTypeProvisioned
            )
        } catch {
            self.logger.warning(
                "Provisioned environment could not start",
                metadata: ["function.name": "\(config.name)", "provisioned.key": "\(key)", "error": "\(error)"]
            )
            return
        }
        guard await self.initializeAhead(env, in: pool) else {
            self.provisioning.entries.withLock { entries in
                if entries[key]?.poolKey == entry.poolKey { entries[key]?.failure = "FUNCTION_ERROR_INIT_FAILURE" }
            }
            self.logger.warning(
                "Provisioned environment failed its init",
                metadata: ["function.name": "\(config.name)", "provisioned.key": "\(key)", "sandbox.id": "\(env.id)"]
            )
            return
        }
        // Marked under the entries lock, so that a concurrent ``deprovision(name:qualifier:)`` unmarks it.
        let kept = self.provisioning.entries.withLock { entries -> Bool in
            guard let current = entries[key], current.configuration.revisionID == config.revisionID else {
                return false
            }
            pool.markProvisioned(env, key: key)
            return true
        }
        env.becameIdle(freeze: self.configuration.freezeIdle)
        if !pool.release(env, reusable: true, currentRevisionID: nil) { env.destroy() }
        if kept {
            self.logger.debug(
                "Provisioned environment ready",
                metadata: ["function.name": "\(config.name)", "provisioned.key": "\(key)", "sandbox.id": "\(env.id)"]
            )
        }
    }
}
