import NIOCore
import Synchronization

/// One invocation as the runtime receives it from `/next`.
public struct RuntimeInvocation: Sendable {
    public var requestID: String
    public var payload: ByteBuffer
    /// Absolute deadline, Unix epoch milliseconds.
    public var deadlineMillis: Int64
    public var invokedFunctionARN: String
    public var traceID: String
    public var clientContext: String?
    public var cognitoIdentity: String?

    public init(
        requestID: String, payload: ByteBuffer, deadlineMillis: Int64, invokedFunctionARN: String,
        traceID: String, clientContext: String? = nil, cognitoIdentity: String? = nil
    ) {
        self.requestID = requestID
        self.payload = payload
        self.deadlineMillis = deadlineMillis
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
    }
}

/// How an invocation ended, as far as the Runtime API can tell.
public enum RuntimeResult: Sendable {
    /// `/response` was posted.
    case response(ByteBuffer, contentType: String?)
    /// `/error` was posted; the type is the `Lambda-Runtime-Function-Error-Type` header, if sent.
    case error(ByteBuffer, errorType: String?)
    /// `/response` exceeded the response limit.
    case responseTooLarge
    /// The invoker's deadline passed first.
    case timedOut
    /// The runtime process exited first; the text is Lambda's (`exit status 1`, `signal: killed`).
    case exited(String)
    /// The server is shutting down.
    case shutdown
}

/// How initialisation ended.
public enum RuntimeInitResult: Sendable {
    /// The runtime asked for its first event.
    case ready
    /// `/init/error` was posted.
    case initError(ByteBuffer, errorType: String?)
    case exited(String)
    case timedOut
    case shutdown
}

/// Delivers an invocation to a runtime parked in `/next`. Called outside any lock.
public struct NextResponder: Sendable {
    let deliver: @Sendable (RuntimeInvocation) -> Void
    let reject: @Sendable (RuntimeAPIStatus) -> Void

    public init(
        deliver: @escaping @Sendable (RuntimeInvocation) -> Void,
        reject: @escaping @Sendable (RuntimeAPIStatus) -> Void
    ) {
        self.deliver = deliver
        self.reject = reject
    }
}

/// A Runtime API status answer (code + Lambda's error body members).
public struct RuntimeAPIStatus: Sendable, Equatable {
    public var code: Int
    public var errorType: String?
    public var errorMessage: String?

    public static let accepted = RuntimeAPIStatus(code: 202, errorType: nil, errorMessage: nil)
    public static let invalidRequestID = RuntimeAPIStatus(
        code: 400, errorType: "InvalidRequestID", errorMessage: "Invalid request ID")
    public static let invalidStateTransition = RuntimeAPIStatus(
        code: 403, errorType: "InvalidStateTransition", errorMessage: "State transition from Ready to InvocationResponse failed for runtime.")
    public static let gone = RuntimeAPIStatus(
        code: 500, errorType: "Runtime.ExitError", errorMessage: "The execution environment is shutting down.")
    public static let tooLarge = RuntimeAPIStatus(
        code: 413, errorType: "RequestEntityTooLarge",
        errorMessage: "Exceeded maximum allowed payload size (6291556 bytes).")
}

/// The meeting point of one execution environment's runtime (through its Runtime API listener) and the invoker.
///
/// One invocation at a time. The invoker initialises (``waitForInit()``), then submits invocations
/// (``invoke(_:)``); the runtime calls `/next`, `/response`, `/error`, `/init/error`; the sandbox reports process
/// exit; timers report deadlines. All transitions happen under one lock; continuations and responders are called
/// after it is released.
public final class RuntimeMailbox: Sendable {
    enum Phase {
        /// Started; the runtime has not yet asked for an event.
        case initializing(waiter: CheckedContinuation<RuntimeInitResult, Never>?, early: RuntimeInitResult?)
        /// Between invocations. `parked` is the runtime's pending `/next`, if it is already waiting.
        case idle(parked: NextResponder?)
        /// An invocation is assigned. `delivered` once the runtime received it.
        case busy(Slot, delivered: Bool)
        /// The environment is finished; nothing more is delivered.
        case closed
    }

    struct Slot {
        var invocation: RuntimeInvocation
        var deadline: ContinuousClock.Instant
        var waiter: CheckedContinuation<RuntimeResult, Never>
    }

    let phase = Mutex<Phase>(.initializing(waiter: nil, early: nil))
    /// Called (outside the lock) when the runtime parks in `/next` with nothing to deliver: the environment is
    /// idle and may be frozen.
    ///
    /// Kept in a struct: a closure stored directly as a Mutex's value was re-wrapped in a new thunk on every
    /// `withLock { $0 }` and written back, growing a chain of contexts per invocation whose release overflowed
    /// the stack when the environment was destroyed.
    let parkedHook = Mutex<ParkedHook?>(nil)

    struct ParkedHook: Sendable {
        let call: @Sendable () -> Void
    }
    /// When initialisation must have finished.
    let initDeadline: ContinuousClock.Instant

    /// - Parameter initDeadline: when initialisation times out (checked by ``expire(now:)``).
    public init(initDeadline: ContinuousClock.Instant = .now + .seconds(3600)) {
        self.initDeadline = initDeadline
    }

    /// Sets the hook called when the runtime parks in `/next` while idle.
    public func onParked(_ hook: @escaping @Sendable () -> Void) {
        self.parkedHook.withLock { $0 = ParkedHook(call: hook) }
    }

    /// Whether the runtime is parked in `/next` with nothing to do.
    public var isParked: Bool {
        self.phase.withLock { if case .idle(.some) = $0 { true } else { false } }
    }

    /// Times out whatever is overdue at `now`: the init phase, or the running invocation. Called periodically by
    /// the invoker's deadline sweep (cheaper than a timer per invocation, which costs a cross-thread wake-up).
    public func expire(now: ContinuousClock.Instant) {
        enum Due {
            case initialisation
            case invocation(String)
            case nothing
        }
        let due = self.phase.withLock { phase -> Due in
            switch phase {
            case .initializing(_, nil) where now >= self.initDeadline: return .initialisation
            case .busy(let slot, _) where now >= slot.deadline: return .invocation(slot.invocation.requestID)
            default: return .nothing
            }
        }
        switch due {
        case .initialisation: self.initTimedOut()
        case .invocation(let id): self.timedOut(requestID: id)
        case .nothing: break
        }
    }

    // MARK: Invoker side

    /// Waits until the runtime first asks for an event, reports an init error, exits, or the init deadline passes
    /// (``initTimedOut()``).
    public func waitForInit() async -> RuntimeInitResult {
        await withCheckedContinuation { (c: CheckedContinuation<RuntimeInitResult, Never>) in
            let immediate = self.phase.withLock { phase -> RuntimeInitResult? in
                switch phase {
                case .initializing(_, let early?):
                    return early
                case .initializing(nil, nil):
                    phase = .initializing(waiter: c, early: nil)
                    return nil
                case .initializing(.some, nil):
                    preconditionFailure("waitForInit called twice")
                case .idle, .busy:
                    return .ready
                case .closed:
                    return .shutdown
                }
            }
            if let immediate { c.resume(returning: immediate) }
        }
    }

    /// Runs one invocation to its end; ``expire(now:)`` past `deadline` (or ``timedOut(requestID:)``) ends it.
    public func invoke(
        _ invocation: RuntimeInvocation, deadline: ContinuousClock.Instant = .now + .seconds(3600)
    ) async -> RuntimeResult {
        await withCheckedContinuation { (c: CheckedContinuation<RuntimeResult, Never>) in
            enum Action {
                case deliver(NextResponder)
                case wait
                case fail(RuntimeResult)
            }
            let action = self.phase.withLock { phase -> Action in
                switch phase {
                case .idle(let parked?):
                    phase = .busy(Slot(invocation: invocation, deadline: deadline, waiter: c), delivered: true)
                    return .deliver(parked)
                case .idle(nil):
                    phase = .busy(Slot(invocation: invocation, deadline: deadline, waiter: c), delivered: false)
                    return .wait
                case .closed:
                    return .fail(.exited("Runtime exited without providing a reason"))
                case .initializing, .busy:
                    preconditionFailure("invoke called while the environment is not idle")
                }
            }
            switch action {
            case .deliver(let responder): responder.deliver(invocation)
            case .wait: break
            case .fail(let result): c.resume(returning: result)
            }
        }
    }

    /// The invocation's deadline passed. The environment is closed: the invoker destroys it.
    public func timedOut(requestID: String) {
        self.finish(requestID: requestID, result: .timedOut, close: true)
    }

    /// The init deadline passed.
    public func initTimedOut() {
        let waiter = self.phase.withLock { phase -> CheckedContinuation<RuntimeInitResult, Never>? in
            guard case .initializing(let waiter, nil) = phase else { return nil }
            phase = waiter == nil ? .initializing(waiter: nil, early: .timedOut) : .closed
            return waiter
        }
        waiter?.resume(returning: .timedOut)
    }

    /// The bootstrap process exited.
    public func processExited(_ status: String) {
        self.close(initResult: .exited(status), invocationResult: .exited(status))
    }

    /// The server is shutting down.
    public func shutdown() {
        self.close(initResult: .shutdown, invocationResult: .shutdown)
    }

    func close(initResult: RuntimeInitResult, invocationResult: RuntimeResult) {
        enum Action {
            case resumeInit(CheckedContinuation<RuntimeInitResult, Never>)
            case resumeInvocation(CheckedContinuation<RuntimeResult, Never>)
            case reject(NextResponder)
            case none
        }
        let action = self.phase.withLock { phase -> Action in
            switch phase {
            case .initializing(let waiter?, _):
                phase = .closed
                return .resumeInit(waiter)
            case .initializing(nil, let early):
                // Nobody waits yet: remember the result for waitForInit.
                phase = .initializing(waiter: nil, early: early ?? initResult)
                return .none
            case .idle(let parked?):
                phase = .closed
                return .reject(parked)
            case .busy(let slot, _):
                phase = .closed
                return .resumeInvocation(slot.waiter)
            case .idle(nil), .closed:
                phase = .closed
                return .none
            }
        }
        switch action {
        case .resumeInit(let c): c.resume(returning: initResult)
        case .resumeInvocation(let c): c.resume(returning: invocationResult)
        case .reject(let responder): responder.reject(.gone)
        case .none: break
        }
    }

    func finish(requestID: String, result: RuntimeResult, close: Bool) {
        let waiter = self.phase.withLock { phase -> CheckedContinuation<RuntimeResult, Never>? in
            guard case .busy(let slot, _) = phase, slot.invocation.requestID == requestID else { return nil }
            phase = close ? .closed : .idle(parked: nil)
            return slot.waiter
        }
        waiter?.resume(returning: result)
    }

    // MARK: Runtime side

    /// `GET /runtime/invocation/next`.
    public func runtimeRequestedNext(_ responder: NextResponder) {
        enum Action {
            case resumeInit(CheckedContinuation<RuntimeInitResult, Never>)
            case deliver(RuntimeInvocation)
            case reject(RuntimeAPIStatus)
            case parked
            case none
        }
        let action = self.phase.withLock { phase -> Action in
            switch phase {
            case .initializing(let waiter, let early):
                // After a failed or timed-out init nothing more is delivered.
                if early != nil { return .reject(.gone) }
                phase = .idle(parked: responder)
                if let waiter { return .resumeInit(waiter) }
                return .none
            case .idle:
                // A newer /next replaces an older one (whose connection is most likely gone).
                phase = .idle(parked: responder)
                return .parked
            case .busy(let slot, false):
                phase = .busy(slot, delivered: true)
                return .deliver(slot.invocation)
            case .busy(_, true):
                return .reject(.invalidStateTransition)
            case .closed:
                return .reject(.gone)
            }
        }
        switch action {
        case .resumeInit(let c): c.resume(returning: .ready)
        case .deliver(let invocation): responder.deliver(invocation)
        case .reject(let status): responder.reject(status)
        case .parked: self.parkedHook.withLock { $0 }?.call()
        case .none: break
        }
    }

    /// `POST /runtime/invocation/{id}/response` (or a response over the size limit).
    public func runtimePostedResponse(requestID: String, result: RuntimeResult) -> RuntimeAPIStatus {
        let outcome = self.phase.withLock { phase -> (RuntimeAPIStatus, CheckedContinuation<RuntimeResult, Never>?) in
            switch phase {
            case .busy(let slot, true) where slot.invocation.requestID == requestID:
                phase = .idle(parked: nil)
                return (.accepted, slot.waiter)
            case .busy(let slot, _) where slot.invocation.requestID != requestID:
                return (.invalidRequestID, nil)
            case .idle, .closed:
                return (.invalidRequestID, nil)
            default:
                return (.invalidStateTransition, nil)
            }
        }
        outcome.1?.resume(returning: result)
        if case .responseTooLarge = result, outcome.0 == .accepted { return .tooLarge }
        return outcome.0
    }

    /// `POST /runtime/init/error`.
    public func runtimePostedInitError(_ body: ByteBuffer, errorType: String?) -> RuntimeAPIStatus {
        let outcome = self.phase.withLock { phase -> (RuntimeAPIStatus, CheckedContinuation<RuntimeInitResult, Never>?) in
            guard case .initializing(let waiter, nil) = phase else { return (.invalidStateTransition, nil) }
            let result = RuntimeInitResult.initError(body, errorType: errorType)
            phase = waiter == nil ? .initializing(waiter: nil, early: result) : .closed
            return (.accepted, waiter)
        }
        outcome.1?.resume(returning: .initError(body, errorType: errorType))
        return outcome.0
    }
}
