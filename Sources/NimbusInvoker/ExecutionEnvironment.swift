import Foundation
import Logging
import NIOCore
import NIOPosix
import NimbusCore
import NimbusRuntimeAPI
import NimbusSandbox
import Synchronization

/// One execution environment: a sandboxed runtime process, its Runtime API listener and mailbox, and its log
/// stream. Serves one invocation at a time; destroyed on timeout, crash, failed init, idle expiry or shutdown.
final class ExecutionEnvironment: Sendable {
    let id: String
    /// Names this environment's `/tmp`, which may be inherited from an environment it replaces after a reset.
    let scratchID: String
    let removeScratch: @Sendable (String) -> Void
    let configuration: FunctionConfiguration
    let mailbox: RuntimeMailbox
    let listener: RuntimeAPIListener
    let log: EnvironmentLog
    let eventLoop: any EventLoop
    /// The network mode asked for (nil: the server's default); environments are reused only for the same one.
    let network: NetworkMode?
    let startedAt: ContinuousClock.Instant
    /// Revokes the environment's credentials and closes its service endpoint.
    let detachServices: (@Sendable () -> Void)?
    let sandbox: Mutex<(any Sandbox)?>
    let state = Mutex<State>(State())

    struct State {
        var invocations = 0
        var initDurationMillis: Double?
        var lastUsed: ContinuousClock.Instant = .now
        var destroyed = false
        /// In the pool, waiting for an invocation.
        var idle = false
        var frozen = false
    }

    init(
        id: String, scratchID: String, removeScratch: @escaping @Sendable (String) -> Void,
        configuration: FunctionConfiguration, mailbox: RuntimeMailbox, listener: RuntimeAPIListener,
        log: EnvironmentLog, eventLoop: any EventLoop, network: NetworkMode? = nil,
        detachServices: (@Sendable () -> Void)? = nil
    ) {
        self.network = network
        self.detachServices = detachServices
        self.id = id
        self.scratchID = scratchID
        self.removeScratch = removeScratch
        self.configuration = configuration
        self.mailbox = mailbox
        self.listener = listener
        self.log = log
        self.eventLoop = eventLoop
        self.startedAt = .now
        self.sandbox = Mutex(nil)
    }

    var revisionID: String { self.configuration.revisionID }

    /// Waits for the runtime's first `/next`, bounded by the mailbox's init deadline.
    func initialize() async -> (RuntimeInitResult, Double) {
        let result = await self.mailbox.waitForInit()
        let elapsed = Self.millis(ContinuousClock.now - self.startedAt)
        if case .ready = result {
            self.state.withLock { $0.initDurationMillis = elapsed }
            self.sandbox.withLock { $0 }?.initializationFinished()
        }
        return (result, elapsed)
    }

    /// Runs one invocation, bounded by the function's timeout (enforced by the invoker's deadline sweep).
    func run(_ invocation: RuntimeInvocation, timeout: Duration) async -> (RuntimeResult, Double) {
        let start = ContinuousClock.now
        let result = await self.mailbox.invoke(invocation, deadline: start + timeout)
        let elapsed = Self.millis(ContinuousClock.now - start)
        self.state.withLock {
            $0.invocations += 1
            $0.lastUsed = .now
        }
        return (result, elapsed)
    }

    /// Back in the pool: freeze it once the runtime waits in `/next` (now, if it already does).
    func becameIdle(freeze: Bool) {
        guard freeze else { return }
        let parked = self.mailbox.isParked
        self.state.withLock { s in
            s.idle = true
            if parked && !s.frozen && !s.destroyed {
                self.sandbox.withLock { $0 }?.freeze()
                s.frozen = true
            }
        }
    }

    /// The runtime parked in `/next`: freeze if idle.
    func runtimeParked() {
        self.state.withLock { s in
            if s.idle && !s.frozen && !s.destroyed {
                self.sandbox.withLock { $0 }?.freeze()
                s.frozen = true
            }
        }
    }

    /// Taken from the pool for an invocation: thaw before the event is delivered.
    func becameBusy() {
        self.state.withLock { s in
            s.idle = false
            if s.frozen {
                self.sandbox.withLock { $0 }?.thaw()
                s.frozen = false
            }
        }
    }

    /// Whether the kernel killed the environment for exceeding its memory.
    func wasKilledForMemory() -> Bool {
        self.sandbox.withLock { $0 }?.wasKilledForMemory() ?? false
    }

    /// Delivers everything the environment wrote so far to its log.
    func drainOutput() {
        self.sandbox.withLock { $0 }?.drainOutput()
    }

    func maxMemoryUsedMB() -> Int {
        self.sandbox.withLock { $0 }?.maxMemoryUsedMB() ?? 0
    }

    /// Kills the process tree and closes the listener. Idempotent.
    /// - Parameter keepScratch: keep `/tmp` for the environment that replaces this one (a reset after a timeout,
    ///   crash or failed init keeps `/tmp` on Lambda).
    func destroy(keepScratch: Bool = false) {
        let first = self.state.withLock { s -> Bool in
            defer { s.destroyed = true }
            return !s.destroyed
        }
        guard first else { return }
        self.mailbox.shutdown()
        self.sandbox.withLock { $0 }?.terminate()
        self.listener.close()
        self.detachServices?()
        if !keepScratch { self.removeScratch(self.scratchID) }
    }

    static func millis(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
