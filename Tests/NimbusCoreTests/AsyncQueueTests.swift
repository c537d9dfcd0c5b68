import Foundation
import Logging
import NimbusCore
import NimbusStore
import Synchronization
import Testing

@testable import NimbusQueue

/// The asynchronous-invocation retry rules (``RetryPolicy``) and the durable queue's lease/record/recover cycle.
@Suite struct AsyncQueueTests {
    let policy = RetryPolicy(
        maximumRetryAttempts: 2,
        maximumEventAgeMillis: 21_600_000,
        retryBaseMillis: 60_000,
        throttleBaseMillis: 1_000,
        throttleMaxMillis: 300_000
    )

    @Test func successIsFinal() {
        #expect(
            self.policy.decide(.success, invocations: 1, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 10) == .succeeded
        )
    }

    @Test func functionErrorsRetryAfterOneThenTwoMinutesThenGiveUp() {
        #expect(
            self.policy.decide(.functionError, invocations: 1, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 1_000)
                == .retry(atMillis: 61_000, countsAsRetry: true)
        )
        #expect(
            self.policy.decide(.functionError, invocations: 2, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 62_000)
                == .retry(atMillis: 182_000, countsAsRetry: true)
        )
        #expect(
            self.policy.decide(.functionError, invocations: 3, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 183_000)
                == .failed(.retriesExhausted)
        )
    }

    @Test func maximumRetryAttemptsZeroAndOne() {
        var p = self.policy
        p.maximumRetryAttempts = 0
        #expect(
            p.decide(.functionError, invocations: 1, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 5)
                == .failed(.retriesExhausted)
        )
        p.maximumRetryAttempts = 1
        #expect(
            p.decide(.functionError, invocations: 1, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 5)
                == .retry(atMillis: 60_005, countsAsRetry: true)
        )
        #expect(
            p.decide(.functionError, invocations: 2, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 60_010)
                == .failed(.retriesExhausted)
        )
    }

    @Test func aRetryPastTheMaximumAgeIsEventAgeExceeded() {
        var p = self.policy
        p.maximumEventAgeMillis = 60_000
        // AWS (recorded test_maxeventage): age 60 s and a 60 s retry wait → EventAgeExceeded after one invocation.
        #expect(
            p.decide(.functionError, invocations: 1, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 500)
                == .failed(.eventAgeExceeded)
        )
        #expect(p.isExpired(enqueuedAtMillis: 0, nowMillis: 60_001))
        #expect(!p.isExpired(enqueuedAtMillis: 0, nowMillis: 60_000))
    }

    @Test func throttlesBackOffExponentiallyWithoutConsumingRetries() {
        let decisions = (0..<12).map {
            self.policy.decide(.throttled, invocations: 0, backoffs: $0, enqueuedAtMillis: 0, nowMillis: 0)
        }
        let delays = decisions.map { decision -> Int64 in
            guard case .retry(let at, let counts) = decision, !counts else { return -1 }
            return at
        }
        #expect(
            delays == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000]
        )
        #expect(
            self.policy.decide(.platformError, invocations: 2, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 0)
                == .retry(atMillis: 1_000, countsAsRetry: false)
        )
    }

    @Test func throttlesEndWhenTheEventIsTooOld() {
        var p = self.policy
        p.maximumEventAgeMillis = 60_000
        #expect(
            p.decide(.throttled, invocations: 0, backoffs: 5, enqueuedAtMillis: 0, nowMillis: 30_000)
                == .failed(.eventAgeExceeded)
        )
        #expect(
            p.decide(.throttled, invocations: 0, backoffs: 4, enqueuedAtMillis: 0, nowMillis: 30_000)
                == .retry(atMillis: 46_000, countsAsRetry: false)
        )
    }

    @Test func throttleBackoffHasEqualJitterAndStartsAtAHundredMillisecondsByDefault() {
        let p = RetryPolicy()
        let first = { (jitter: Double) in
            p.decide(.throttled, invocations: 0, backoffs: 0, enqueuedAtMillis: 0, nowMillis: 1_000, jitter: jitter)
        }
        #expect(first(0) == .retry(atMillis: 1_050, countsAsRetry: false))
        #expect(first(0.5) == .retry(atMillis: 1_075, countsAsRetry: false))
        #expect(first(1) == .retry(atMillis: 1_100, countsAsRetry: false))
        // Growing only while throttles repeat: the fourth in a row waits 400-800 ms.
        #expect(
            p.decide(.throttled, invocations: 0, backoffs: 3, enqueuedAtMillis: 0, nowMillis: 0, jitter: 0)
                == .retry(atMillis: 400, countsAsRetry: false)
        )
    }

    @Test func queueLeasesRecordsAndRecoversAfterACrash() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-queue-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try NimbusDatabase(path: "\(directory)/nimbus.sqlite")
        let queue = EventQueue(database: database)
        // Concurrent enqueues share group commits; every one is stored once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask {
                    try await queue.enqueue(
                        QueuedEvent(
                            requestID: "r\(i)",
                            functionName: "fn",
                            qualifier: nil,
                            payload: Array("{}".utf8),
                            enqueuedAtMillis: 1_000
                        )
                    )
                }
            }
            try await group.waitForAll()
        }
        let fn = EventFunction(namespace: AccountContext(), name: "fn")
        let leased = try await queue.lease(fn, limit: 10, nowMillis: 2_000, leaseMillis: 60_000).events
        #expect(leased.count == 10)
        #expect(try await queue.lease(fn, limit: 100, nowMillis: 2_000, leaseMillis: 60_000).events.count == 40)
        #expect(try await queue.lease(fn, limit: 100, nowMillis: 2_000, leaseMillis: 60_000).events.isEmpty)
        var done = leased[0]
        done.state = .done
        done.attempts = 1
        try await queue.record(done)
        var retry = leased[1]
        retry.state = .pending
        retry.attempts = 1
        retry.nextAttemptAtMillis = 100_000
        try await queue.record(retry)
        // A restart: leases become pending again, schedules kept.
        let reopened = EventQueue(database: try NimbusDatabase(path: "\(directory)/nimbus.sqlite"))
        #expect(try await reopened.recoverLeases() == 48)
        let afterRestart = try await reopened.lease(fn, limit: 100, nowMillis: 2_000, leaseMillis: 1_000_000)
        #expect(afterRestart.events.count == 48)
        #expect(afterRestart.nextAttemptAtMillis == 100_000)  // the retry is still pending, due later
        let again = try await reopened.lease(fn, limit: 100, nowMillis: 100_000, leaseMillis: 60_000)
        #expect(again.events.map(\.requestID) == ["r1"])
        #expect(again.events.first?.attempts == 1)
        #expect(again.nextAttemptAtMillis == nil)
        let stats = try await reopened.statistics(nowMillis: 3_000)
        #expect(stats["fn"]?.leased == 49)
        #expect(stats["fn"]?.pending == 0)
    }
}

/// A handler that throttles a few times, then fails the function every time; completions arrive on a stream.
final class ScriptedHandler: AsyncEventHandler {
    let throttles: Int
    let state = Mutex<(runs: Int, completions: [(QueuedEvent, EventCompletion)])>((0, []))
    let completed: AsyncStream<Void>
    let completion: AsyncStream<Void>.Continuation

    init(throttles: Int) {
        self.throttles = throttles
        (self.completed, self.completion) = AsyncStream.makeStream()
    }

    func limits(for event: QueuedEvent) -> (maximumRetryAttempts: Int, maximumEventAgeSeconds: Int) { (1, 21_600) }

    func run(_ event: QueuedEvent) async -> AttemptResult {
        let run = self.state.withLock {
            $0.runs += 1
            return $0.runs
        }
        if run <= self.throttles { return AttemptResult(outcome: .throttled, statusCode: 429) }
        return AttemptResult(
            outcome: .functionError,
            payload: Array(#"{"errorMessage":"no"}"#.utf8),
            functionError: "Unhandled"
        )
    }

    func complete(_ event: QueuedEvent, result: AttemptResult?, completion: EventCompletion) async throws {
        self.state.withLock { $0.completions.append((event, completion)) }
        self.completion.yield()
    }
}

@Suite(.timeLimit(.minutes(1))) struct AsyncDispatcherTests {
    @Test func throttlesDoNotConsumeRetriesAndFailuresEndAfterMaximumRetryAttempts() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-dispatch-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queue = EventQueue(database: try NimbusDatabase(path: "\(directory)/nimbus.sqlite"))
        let handler = ScriptedHandler(throttles: 3)
        let dispatcher = AsyncDispatcher(
            queue: queue,
            handler: handler,
            configuration: .init(
                maximumConcurrentDispatches: 4,
                retryBase: .milliseconds(20),
                throttleBase: .milliseconds(5),
                throttleMax: .milliseconds(10)
            ),
            logger: Logger(label: "test")
        )
        try await queue.enqueue(
            QueuedEvent(requestID: "e1", functionName: "fn", qualifier: nil, payload: Array("{}".utf8))
        )
        let task = Task { try await dispatcher.run() }
        var completions = handler.completed.makeAsyncIterator()
        await completions.next()
        task.cancel()
        _ = try? await task.value
        let (runs, completed) = handler.state.withLock { ($0.runs, $0.completions) }
        #expect(runs == 5)  // 3 throttles + the first attempt + 1 retry
        #expect(completed.count == 1)
        #expect(completed.first?.1 == .failure(.retriesExhausted))
        #expect(completed.first?.0.attempts == 2)
        #expect(completed.first?.0.backoffs == 3)
        let dead = try await queue.events(function: "fn", states: [.dead])
        #expect(dead.map(\.requestID) == ["e1"])
    }
}

@Suite struct AsyncLastOutcomeTests {
    @Test func anEventFoundTooOldReportsItsLastAttempt() {
        var event = QueuedEvent(
            requestID: "r",
            functionName: "fn",
            qualifier: nil,
            payload: [],
            enqueuedAtMillis: 0
        )
        #expect(AsyncDispatcher.lastOutcome(of: event) == nil)
        event.backoffs = 3
        event.lastError = AsyncDispatcher.throttleMessage
        #expect(AsyncDispatcher.lastOutcome(of: event)?.statusCode == 429)
        event.lastError = "the sandbox could not start"
        #expect(AsyncDispatcher.lastOutcome(of: event)?.statusCode == 500)
        event.attempts = 1
        #expect(AsyncDispatcher.lastOutcome(of: event)?.functionError == "Unhandled")
    }

    @Test func anEventThatNeverRanExpiresAsThrottled() {
        let event = QueuedEvent(requestID: "r", functionName: "fn", qualifier: nil, payload: [], enqueuedAtMillis: 0)
        let outcome = AsyncDispatcher.expiredOutcome(of: event)
        #expect(outcome.outcome == .throttled)
        #expect(outcome.statusCode == 429)
        #expect(outcome.errorMessage == AsyncDispatcher.throttleMessage)
    }
}
