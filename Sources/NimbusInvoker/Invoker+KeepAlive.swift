import Logging
import NimbusCore
import NimbusSandbox

/// The keep-alive policy applied by the reaper (``Configuration/keepAlivePolicy``): the fixed timeout, or the hybrid
/// histogram decided per pool from its idle times (``KeepAlivePolicy``). Under the hybrid policy, an environment is
/// released right after its invocation when the pool has a pre-warm window, one environment is started again when the
/// window ends (on-demand initialisation, outside any invocation), and environments go once the keep-alive window
/// that follows has passed.
extension Invoker {
    var keepAlivePolicy: KeepAlivePolicy {
        KeepAlivePolicy(
            kind: self.configuration.keepAlivePolicy,
            fixedSeconds: ExecutionEnvironment.millis(self.configuration.keepAlive) / 1000
        )
    }

    func keepAliveDecision(_ pool: FunctionPool) -> KeepAlivePolicy.Decision {
        let policy = self.keepAlivePolicy
        guard policy.kind == .hybridHistogram else {
            return .init(prewarmSeconds: 0, keepAliveSeconds: policy.fixedSeconds, fromHistogram: false)
        }
        return policy.decide(pool.arrivalHistogram())
    }

    /// Idle environments last used before this instant are stopped.
    func keepAliveCutoff(_ pool: FunctionPool) -> ContinuousClock.Instant {
        let decision = self.keepAliveDecision(pool)
        return ContinuousClock.now - .seconds(decision.prewarmSeconds + decision.keepAliveSeconds)
    }

    /// The hybrid policy's early release (nothing under the fixed policy or without a pre-warm window).
    func releaseEarly(_ pool: FunctionPool) -> [ExecutionEnvironment] {
        let decision = self.keepAliveDecision(pool)
        guard decision.prewarmSeconds > 0 else { return [] }
        let now = ContinuousClock.now
        return pool.releaseEarly(until: now + .seconds(decision.prewarmSeconds), now: now)
    }

    /// Starts one environment for each pool whose pre-warm window just ended.
    func prewarm(_ pools: [String: FunctionPool]) {
        guard self.configuration.keepAlivePolicy == .hybridHistogram else { return }
        let now = ContinuousClock.now
        for (key, pool) in pools {
            let decision = self.keepAliveDecision(pool)
            guard decision.prewarmSeconds > 0,
                let (config, network, start) = pool.prewarmCandidate(
                    prewarm: .seconds(decision.prewarmSeconds),
                    keepAlive: .seconds(decision.keepAliveSeconds),
                    now: now
                )
            else { continue }
            self.provisioning.prewarmContinuation.yield(
                Provisioning.Prewarm(poolKey: key, configuration: config, network: network, windowStart: start)
            )
        }
    }

    func startPrewarmed(_ job: Provisioning.Prewarm) async {
        guard let pool = self.pools.withLock({ $0[job.poolKey] }) else { return }
        let env: ExecutionEnvironment
        do {
            env = try await self.startEnvironment(
                job.configuration,
                scratchID: nil,
                eventLoop: self.group.next(),
                network: job.network
            )
        } catch {
            self.logger.warning(
                "Pre-warmed environment could not start",
                metadata: ["function.name": "\(job.configuration.name)", "error": "\(error)"]
            )
            return
        }
        guard await self.initializeAhead(env, in: pool) else { return }
        // Its keep-alive window runs from the end of the invocation it was started after.
        env.state.withLock { $0.lastUsed = job.windowStart }
        env.becameIdle(freeze: self.configuration.freezeIdle)
        let current = self.currentRevisions.withLock { $0[job.configuration.name] }
        if !pool.release(env, reusable: true, currentRevisionID: current) { env.destroy() }
        self.logger.debug(
            "Environment pre-warmed",
            metadata: ["function.name": "\(job.configuration.name)", "sandbox.id": "\(env.id)"]
        )
    }
}

extension Invoker {
    /// Initialises an environment started ahead of any invocation (pre-warm, provisioned concurrency) as a busy
    /// member of `pool`. On failure it is destroyed and forgotten, and false is returned.
    func initializeAhead(_ env: ExecutionEnvironment, in pool: FunctionPool) async -> Bool {
        pool.adopt(env)
        let (result, _) = await withTaskCancellationHandler {
            await env.initialize()
        } onCancel: {
            env.destroy()
        }
        guard case .ready = result else {
            env.drainOutput()
            env.destroy()
            pool.discard(env)
            return false
        }
        return true
    }
}
