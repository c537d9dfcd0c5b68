import NIOCore
import Synchronization
import Testing

@testable import NimbusRuntimeAPI

/// The mailbox's transitions, driven directly (no sockets, no processes).
@Suite struct RuntimeMailboxTests {
    final class Recorder: Sendable {
        let delivered = Mutex<[String]>([])
        let rejected = Mutex<[Int]>([])

        var responder: NextResponder {
            NextResponder(
                deliver: { invocation in self.delivered.withLock { $0.append(invocation.requestID) } },
                reject: { status in self.rejected.withLock { $0.append(status.code) } })
        }
    }

    static func invocation(_ id: String) -> RuntimeInvocation {
        RuntimeInvocation(
            requestID: id, payload: ByteBuffer(string: "{}"), deadlineMillis: 0, invokedFunctionARN: "arn", traceID: "t")
    }

    @Test func initThenInvokeThenRespond() async {
        let mailbox = RuntimeMailbox()
        let runtime = Recorder()
        mailbox.runtimeRequestedNext(runtime.responder)
        guard case .ready = await mailbox.waitForInit() else {
            Issue.record("init did not complete")
            return
        }
        async let result = mailbox.invoke(Self.invocation("a"))
        // The runtime was parked, so the event is delivered at once; it answers.
        while runtime.delivered.withLock({ $0 }).isEmpty { await Task.yield() }
        #expect(mailbox.runtimePostedResponse(requestID: "b", result: .response(ByteBuffer(), contentType: nil)) == .invalidRequestID)
        #expect(
            mailbox.runtimePostedResponse(requestID: "a", result: .response(ByteBuffer(string: "ok"), contentType: nil))
                == .accepted)
        guard case .response(let body, _) = await result else {
            Issue.record("expected a response")
            return
        }
        #expect(String(buffer: body) == "ok")
        // A second answer for the same id is refused.
        #expect(mailbox.runtimePostedResponse(requestID: "a", result: .response(ByteBuffer(), contentType: nil)) == .invalidRequestID)
    }

    @Test func invocationWaitsForTheRuntimesNext() async {
        let mailbox = RuntimeMailbox()
        let runtime = Recorder()
        mailbox.runtimeRequestedNext(runtime.responder)
        _ = await mailbox.waitForInit()
        async let first = mailbox.invoke(Self.invocation("1"))
        while runtime.delivered.withLock({ $0 }).isEmpty { await Task.yield() }
        _ = mailbox.runtimePostedResponse(requestID: "1", result: .response(ByteBuffer(), contentType: nil))
        _ = await first
        // The runtime has not come back to /next yet: the next invocation is held until it does.
        async let second = mailbox.invoke(Self.invocation("2"))
        await Task.yield()
        #expect(runtime.delivered.withLock { $0 } == ["1"])
        mailbox.runtimeRequestedNext(runtime.responder)
        while runtime.delivered.withLock({ $0 }).count < 2 { await Task.yield() }
        mailbox.timedOut(requestID: "2")
        guard case .timedOut = await second else {
            Issue.record("expected a timeout")
            return
        }
        // After a timeout the environment is closed: a new /next is refused.
        mailbox.runtimeRequestedNext(runtime.responder)
        #expect(runtime.rejected.withLock { $0 } == [500])
    }

    @Test func initErrorAndExitBeforeAnyoneWaits() async {
        let mailbox = RuntimeMailbox()
        #expect(mailbox.runtimePostedInitError(ByteBuffer(string: "{}"), errorType: "Runtime.ImportModuleError") == .accepted)
        mailbox.processExited("exit status 1")
        guard case .initError(_, let type) = await mailbox.waitForInit() else {
            Issue.record("expected the init error")
            return
        }
        #expect(type == "Runtime.ImportModuleError")
    }

    @Test func exitDuringInvocation() async {
        let mailbox = RuntimeMailbox()
        let runtime = Recorder()
        mailbox.runtimeRequestedNext(runtime.responder)
        _ = await mailbox.waitForInit()
        async let result = mailbox.invoke(Self.invocation("x"))
        while runtime.delivered.withLock({ $0 }).isEmpty { await Task.yield() }
        mailbox.processExited("exit status 3")
        guard case .exited(let status) = await result else {
            Issue.record("expected an exit")
            return
        }
        #expect(status == "exit status 3")
    }

    @Test func initTimeout() async {
        let mailbox = RuntimeMailbox()
        async let result = mailbox.waitForInit()
        mailbox.initTimedOut()
        guard case .timedOut = await result else {
            Issue.record("expected a timeout")
            return
        }
    }

    @Test func expireTimesOutOnlyWhatIsOverdue() async {
        let start = ContinuousClock.now
        let mailbox = RuntimeMailbox(initDeadline: start + .seconds(10))
        mailbox.expire(now: start + .seconds(9))
        let runtime = Recorder()
        mailbox.runtimeRequestedNext(runtime.responder)
        guard case .ready = await mailbox.waitForInit() else {
            Issue.record("init should not have expired")
            return
        }
        async let result = mailbox.invoke(Self.invocation("x"), deadline: start + .seconds(3))
        while runtime.delivered.withLock({ $0 }).isEmpty { await Task.yield() }
        mailbox.expire(now: start + .seconds(2))
        mailbox.expire(now: start + .seconds(3))
        guard case .timedOut = await result else {
            Issue.record("expected a timeout")
            return
        }
        let slow = RuntimeMailbox(initDeadline: start + .seconds(1))
        slow.expire(now: start + .seconds(2))
        guard case .timedOut = await slow.waitForInit() else {
            Issue.record("expected an init timeout")
            return
        }
    }

    /// Regression: the parked hook used to be re-wrapped on every call, so a long-lived environment built a chain
    /// of closure contexts whose release overflowed the stack (the server crashed when such an environment was
    /// destroyed). 200,000 parks must leave nothing to unwind.
    @Test func parkedHookDoesNotAccumulate() async {
        let calls = Mutex(0)
        do {
            let mailbox = RuntimeMailbox()
            mailbox.onParked { calls.withLock { $0 += 1 } }
            let runtime = Recorder()
            mailbox.runtimeRequestedNext(runtime.responder)
            _ = await mailbox.waitForInit()
            for _ in 0..<200_000 { mailbox.runtimeRequestedNext(runtime.responder) }
        }
        #expect(calls.withLock { $0 } == 200_000)
    }

    @Test func secondNextWhileBusyIsRefused() async {
        let mailbox = RuntimeMailbox()
        let runtime = Recorder()
        mailbox.runtimeRequestedNext(runtime.responder)
        _ = await mailbox.waitForInit()
        async let result = mailbox.invoke(Self.invocation("x"))
        while runtime.delivered.withLock({ $0 }).isEmpty { await Task.yield() }
        mailbox.runtimeRequestedNext(runtime.responder)
        #expect(runtime.rejected.withLock { $0 } == [403])
        mailbox.shutdown()
        guard case .shutdown = await result else {
            Issue.record("expected shutdown")
            return
        }
    }
}
