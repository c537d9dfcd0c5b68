import NimbusCore
import NimbusSchedules
import NimbusStore
import Testing

@testable import NimbusEvents

/// Scheduled rules: firing on time with an injected clock, the Scheduled Event, persistence across restarts and the
/// policy for firings missed while the server was down.
@Suite struct ScheduleTests {
    static let minute: Int64 = 60_000
    static let ruleARN = "arn:aws:events:us-east-1:123456789012:rule/every-minute"

    /// A `rate(1 minute)` rule with a function target, created at the harness's start time.
    func everyMinute(_ h: Harness) async throws -> Int64 {
        let start = h.clock.read()
        try await h.call("PutRule", ["Name": "every-minute", "ScheduleExpression": "rate(1 minute)"])
        try await h.call(
            "PutTargets",
            ["Rule": "every-minute", "Targets": [["Id": "fn", "Arn": .string(Harness.function)]]]
        )
        return start
    }

    @Test func firesAtItsTimeWithTheScheduledEvent() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let start = try await everyMinute(h)
        h.clock.advance(seconds: 30)
        #expect(await h.service.fireDue() == start + Self.minute)
        #expect(h.functions.invocations.isEmpty)

        h.clock.set(start + Self.minute)
        #expect(await h.service.fireDue() == start + 2 * Self.minute)
        let invocation = try #require(h.functions.invocations.first)
        #expect(invocation.principal == "events.amazonaws.com")
        #expect(invocation.sourceARN == Self.ruleARN)
        let event = try #require(JSONValue.parse(invocation.payload.readableBytesView))
        #expect(event["detail-type"] == "Scheduled Event")
        #expect(event["source"] == "aws.events")
        #expect(event["time"] == .string(Event.time(start + Self.minute)))
        #expect(event["resources"] == [.string(Self.ruleARN)])
        #expect(event["detail"] == [:])

        // Nothing more until the next minute.
        h.clock.advance(seconds: 59)
        await h.service.fireDue()
        #expect(h.functions.invocations.count == 1)
        h.clock.advance(seconds: 1)
        await h.service.fireDue()
        #expect(h.functions.invocations.count == 2)
    }

    @Test func cronRulesFireAtTheirUTCTime() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        // 2026-01-01T00:00:00Z; noon every day.
        try await h.call("PutRule", ["Name": "noon", "ScheduleExpression": "cron(0 12 * * ? *)"])
        try await h.call("PutTargets", ["Rule": "noon", "Targets": [["Id": "fn", "Arn": .string(Harness.function)]]])
        let noon = h.clock.read() + 12 * 60 * Self.minute
        #expect(await h.service.fireDue() == noon)
        h.clock.set(noon)
        #expect(await h.service.fireDue() == noon + 24 * 60 * Self.minute)
        #expect(h.functions.payloads.first?["time"] == "2026-01-01T12:00:00Z")
    }

    @Test func disabledRulesDoNotFireAndEnablingRestartsTheRate() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let start = try await everyMinute(h)
        try await h.call("DisableRule", ["Name": "every-minute"])
        h.clock.set(start + 5 * Self.minute)
        #expect(await h.service.fireDue() == nil)
        #expect(h.functions.invocations.isEmpty)
        let enabledAt = start + 5 * Self.minute + 10_000
        h.clock.set(enabledAt)
        try await h.call("EnableRule", ["Name": "every-minute"])
        #expect(await h.service.fireDue() == enabledAt + Self.minute)
    }

    @Test func aRestartNeitherRepeatsNorSkipsAFiring() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let start = try await everyMinute(h)
        h.clock.set(start + Self.minute)
        await h.service.fireDue()
        #expect(h.functions.invocations.count == 1)

        // A new instance on the same store: the fired minute is not fired again, the next one is.
        let restarted = try await h.restarted()
        #expect(await restarted.fireDue() == start + 2 * Self.minute)
        #expect(h.functions.invocations.count == 1)
        h.clock.set(start + 2 * Self.minute)
        await restarted.fireDue()
        #expect(h.functions.invocations.count == 2)
    }

    @Test func aCrashBeforeTheNextFiringIsRecordedInvokesOnce() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let start = try await everyMinute(h)
        h.clock.set(start + Self.minute)
        await h.service.fireDue()
        // As if the process died after the deliveries and before recording the next firing.
        let store = SQLiteEventBusStore(database: try NimbusDatabase(path: "\(h.root)/nimbus.sqlite"))
        try await store.setNextFire(
            namespace: h.namespace,
            bus: "default",
            name: "every-minute",
            nextFireMillis: start + Self.minute
        )
        let restarted = try await h.restarted()
        await restarted.fireDue()
        // The same firing was delivered again with the same request id: Lambda's queue keeps one.
        #expect(h.functions.invocations.count == 1)
        #expect(await restarted.fireDue() == start + 2 * Self.minute)
    }

    @Test func aFiringDueDuringARestartFiresOnceLate() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let start = try await everyMinute(h)
        // Down from +50 s to +70 s: the +60 s firing is delivered once when the server is back.
        h.clock.set(start + 70_000)
        let restarted = try await h.restarted()
        #expect(await restarted.fireDue() == start + 2 * Self.minute)
        #expect(h.functions.payloads.map { $0["time"] } == [.string(Event.time(start + Self.minute))])
        await restarted.fireDue()
        #expect(h.functions.invocations.count == 1)
    }

    @Test func firingsMissedLongAgoAreNotReplayed() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let start = try await everyMinute(h)
        // Down for ten minutes: only the most recent firing within the grace (5 minutes) is delivered.
        h.clock.set(start + 10 * Self.minute + 30_000)
        let restarted = try await h.restarted()
        #expect(await restarted.fireDue() == start + 11 * Self.minute)
        #expect(h.functions.payloads.map { $0["time"] } == [.string(Event.time(start + 10 * Self.minute))])

        // Without a grace (AWS's own policy), nothing missed is delivered.
        let strict = try await Harness(grace: 0)
        defer { strict.cleanup() }
        let strictStart = try await everyMinute(strict)
        strict.clock.set(strictStart + 10 * Self.minute + 30_000)
        let back = try await strict.restarted(grace: 0)
        #expect(await back.fireDue() == strictStart + 11 * Self.minute)
        #expect(strict.functions.invocations.isEmpty)
    }

    @Test func aFailedDeliveryIsRetriedWithTheSameIDs() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let start = try await everyMinute(h)
        h.functions.failing.withLock { $0 = true }
        h.clock.set(start + Self.minute)
        #expect(await h.service.fireDue() == start + Self.minute + ScheduledRules.retryDelay)
        #expect(h.functions.invocations.isEmpty)
        h.functions.failing.withLock { $0 = false }
        h.clock.advance(seconds: 1)
        #expect(await h.service.fireDue() == start + 2 * Self.minute)
        #expect(h.functions.payloads.map { $0["time"] } == [.string(Event.time(start + Self.minute))])
    }

    @Test func planOverMissedFirings() throws {
        let schedule = try ScheduleExpression(parsing: "rate(1 minute)")
        let anchor: Int64 = 0
        let grace: Int64 = 300_000
        // On time.
        #expect(
            ScheduledRules.plan(schedule, due: 60_000, now: 60_005, anchor: anchor, grace: grace)
                == .init(fire: 60_000, next: 120_000, skipped: 0)
        )
        // Three minutes late: the latest due firing only.
        #expect(
            ScheduledRules.plan(schedule, due: 60_000, now: 240_000, anchor: anchor, grace: grace)
                == .init(fire: 240_000, next: 300_000, skipped: 3)
        )
        // A day late: a long walk is not taken.
        let day: Int64 = 86_400_000
        let plan = ScheduledRules.plan(schedule, due: 60_000, now: day + 30_000, anchor: anchor, grace: grace)
        #expect(plan.fire == day)
        #expect(plan.next == day + 60_000)
    }
}
