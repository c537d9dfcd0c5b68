import NimbusCore
import NimbusStore
import Testing

@testable import NimbusScheduler

/// The runner's decisions as a pure value: no clock, no store.
@Suite struct FiringPolicyTests {
    static let t0 = Harness.start

    static func policy(
        _ expression: String,
        window: Int? = nil,
        age: Int = 86_400,
        retries: Int = 185,
        delete: Bool = false,
        draw: Int64 = 0
    ) throws -> FiringPolicy {
        var members: [String: JSONValue] = ["ActionAfterCompletion": .string(delete ? "DELETE" : "NONE")]
        if let window {
            members["FlexibleTimeWindow"] = ["Mode": "FLEXIBLE", "MaximumWindowInMinutes": .number(Double(window))]
        }
        let body = Harness.schedule(
            expression,
            members,
            target: [
                "RetryPolicy": [
                    "MaximumEventAgeInSeconds": .number(Double(age)), "MaximumRetryAttempts": .number(Double(retries)),
                ]
            ]
        )
        let definition = try ScheduleInput.parse(
            RequestBody(members: body.objectValue ?? [:]),
            name: "p",
            now: Self.t0
        )
        return FiringPolicy(definition, random: { bound in min(draw, bound - 1) })
    }

    @Test func startsAtTheFirstOccurrence() throws {
        let rate = try Self.policy("rate(10 minutes)")
        #expect(
            rate.start(now: Self.t0, lastFired: nil) == ScheduleFiring(scheduledMillis: Self.t0, dueMillis: Self.t0)
        )
        let cron = try Self.policy("cron(15 * * * ? *)")
        let quarter = Self.t0 + 15 * 60_000
        #expect(
            cron.start(now: Self.t0 + 1, lastFired: nil) == ScheduleFiring(scheduledMillis: quarter, dueMillis: quarter)
        )
        // A one-time schedule whose time passed less than a minute ago still fires; one that fired does not.
        let once = try Self.policy("at(2030-01-01T00:00:00)")
        #expect(once.start(now: Self.t0 + 30_000, lastFired: nil).scheduledMillis == Self.t0)
        #expect(once.start(now: Self.t0 + 61_000, lastFired: nil).scheduledMillis == nil)
        #expect(once.start(now: Self.t0 + 30_000, lastFired: Self.t0).scheduledMillis == nil)
    }

    @Test func aFlexibleWindowDrawsADelayInsideIt() throws {
        let policy = try Self.policy("rate(1 hour)", window: 5, draw: 10_000_000)
        let firing = policy.start(now: Self.t0, lastFired: nil)
        #expect(firing.scheduledMillis == Self.t0)
        #expect(firing.dueMillis == Self.t0 + 5 * 60_000 - 1)
        // Late within the window is still on time.
        #expect(policy.step(firing, now: Self.t0 + 5 * 60_000) == .deliver(scheduled: Self.t0, attempt: 1))
    }

    @Test func lateOccurrencesAreDeliveredWithinAMinuteAndSkippedAfter() throws {
        let policy = try Self.policy("rate(10 minutes)")
        let firing = ScheduleFiring(scheduledMillis: Self.t0, dueMillis: Self.t0)
        #expect(policy.step(firing, now: Self.t0 - 1) == nil)
        #expect(policy.step(firing, now: Self.t0 + 60_000) == .deliver(scheduled: Self.t0, attempt: 1))
        #expect(policy.step(firing, now: Self.t0 + 60_001) == .skip(scheduled: Self.t0))
        // After a skip, the schedule goes to the first occurrence whose minute is still open.
        let next = policy.advance(from: Self.t0, now: Self.t0 + 20 * 60_000 + 30_000, lastFired: Self.t0)
        #expect(next?.scheduledMillis == Self.t0 + 20 * 60_000)
    }

    @Test func retriesBackOffWithinTheEventAge() throws {
        let policy = try Self.policy("at(2030-01-01T00:00:00)", age: 60, retries: 10)
        var now = Self.t0
        var resolution = policy.resolve(
            scheduled: Self.t0,
            attempt: 1,
            outcome: .failed(code: "X", message: "m"),
            now: now,
            lastFired: nil
        )
        #expect(resolution.firing == ScheduleFiring(scheduledMillis: Self.t0, dueMillis: now + 1000, attempts: 1))
        var attempt = 1
        while resolution.deadLetter == nil, let firing = resolution.firing {
            now = firing.dueMillis ?? now
            guard case .deliver(_, let next)? = policy.step(firing, now: now) else {
                Issue.record("not delivered")
                return
            }
            attempt = next
            resolution = policy.resolve(
                scheduled: Self.t0,
                attempt: attempt,
                outcome: .failed(code: "X", message: "m"),
                now: now,
                lastFired: nil
            )
        }
        // 1 + 2 + 4 + 8 + 16 = 31 s of waiting, the next 32 s wait would pass the 60 s age.
        #expect(attempt == 6)
        #expect(
            resolution.deadLetter
                == FiringPolicy.DeadLetter(
                    code: "X",
                    message: "m",
                    retryAttempts: 5,
                    exhaustedCondition: "MaximumEventAgeInSeconds"
                )
        )
        #expect(resolution.firing?.scheduledMillis == nil)
        // An occurrence still retrying after a long restart has expired.
        let retrying = ScheduleFiring(scheduledMillis: Self.t0, dueMillis: Self.t0 + 1000, attempts: 1)
        #expect(policy.step(retrying, now: Self.t0 + 61_000) == .expire(scheduled: Self.t0, attempts: 1))
    }

    @Test func zeroRetriesDeadLettersAtOnce() throws {
        let policy = try Self.policy("rate(1 hour)", retries: 0, delete: true)
        let resolution = policy.resolve(
            scheduled: Self.t0,
            attempt: 1,
            outcome: .failed(code: "X", message: "m"),
            now: Self.t0,
            lastFired: nil
        )
        #expect(resolution.deadLetter?.exhaustedCondition == "MaximumRetryAttempts")
        #expect(resolution.deadLetter?.retryAttempts == 0)
        #expect(resolution.firing?.scheduledMillis == Self.t0 + 3_600_000)
    }

    @Test func backoff() {
        #expect(
            (1...12).map { FiringPolicy.backoff(attempt: $0) / 1000 } == [
                1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300,
            ]
        )
    }
}
