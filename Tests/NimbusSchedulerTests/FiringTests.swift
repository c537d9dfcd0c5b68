import Foundation
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusStore
import Testing

@testable import NimbusScheduler

/// The runner, driven with an injected clock: 2030-01-01T00:00:00Z is ``Harness/start``.
@Suite struct FiringTests {
    static let onceARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/once"

    @Test func aOneTimeScheduleFiresOnceAndIsDeletedWhenAsked() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create("once", Harness.schedule("at(2030-01-01T00:05:00)", ["ActionAfterCompletion": "DELETE"]))
        #expect(await h.service.fireDue(at: Harness.start) == Harness.at(300))
        await h.run(at: Harness.at(299))
        #expect(h.functions.invocations.isEmpty)
        await h.run(at: Harness.at(300))
        let invocation = try #require(h.functions.invocations.first)
        #expect(h.functions.invocations.count == 1)
        #expect(invocation.function == Harness.function)
        #expect(String(buffer: invocation.payload) == #"{"job":"report"}"#)
        #expect(invocation.principal == "scheduler.amazonaws.com")
        #expect(invocation.sourceARN == Self.onceARN)
        #expect(invocation.sourceAccount == "123456789012")
        #expect(invocation.namespace == h.namespace)
        // Deleted after its only firing, in memory and in the store.
        #expect(await h.failure("GetSchedule", labels: ["Name": "once"])?.message == "Schedule once does not exist.")
        #expect(try await h.store.loadSchedules().isEmpty)
        await h.run(at: Harness.at(900))
        #expect(h.functions.invocations.count == 1)
    }

    @Test func aOneTimeScheduleWithoutDeleteStaysAndDoesNotFireAgain() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create("once", Harness.schedule("at(2030-01-01T00:05:00)", input: nil))
        await h.run(at: Harness.at(301))
        #expect(h.functions.payloads == ["{}"])
        #expect(try await h.get("once")["State"] == "ENABLED")
        await h.run(at: Harness.at(600))
        let restarted = try await Harness(restarting: h)
        await restarted.run(at: Harness.at(700))
        #expect(h.functions.invocations.count == 1)
        // An update does not bring back an occurrence that fired.
        try await restarted.call(
            "UpdateSchedule",
            labels: ["Name": "once"],
            body: Harness.schedule("at(2030-01-01T00:05:00)", input: nil)
        )
        await restarted.run(at: Harness.at(710))
        #expect(h.functions.invocations.count == 1)
    }

    @Test func aRateScheduleFiresAtCreationThenEveryPeriod() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create("every5", Harness.schedule("rate(5 minutes)"))
        await h.run(at: Harness.start)
        #expect(h.functions.invocations.count == 1)
        await h.run(at: Harness.at(299))
        #expect(h.functions.invocations.count == 1)
        await h.run(at: Harness.at(300))
        await h.run(at: Harness.at(600))
        #expect(h.functions.invocations.count == 3)
        #expect(Set(h.functions.invocations.map(\.requestID)).count == 3)
    }

    @Test func aRateScheduleStartsAtItsStartDate() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create(
            "later",
            Harness.schedule("rate(5 minutes)", ["StartDate": .number(Double(Harness.at(3600)) / 1000)])
        )
        await h.run(at: Harness.at(3599))
        #expect(h.functions.invocations.isEmpty)
        await h.run(at: Harness.at(3600))
        await h.run(at: Harness.at(3900))
        #expect(h.functions.invocations.count == 2)
    }

    @Test func aCronScheduleFiresAtLocalTimesOfItsTimeZone() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create(
            "morning",
            Harness.schedule("cron(0 9 * * ? *)", ["ScheduleExpressionTimezone": "America/New_York"])
        )
        // 09:00 EST is 14:00 UTC.
        #expect(await h.service.fireDue(at: Harness.start) == Harness.at(14 * 3600))
        await h.run(at: Harness.at(14 * 3600 - 1))
        #expect(h.functions.invocations.isEmpty)
        await h.run(at: Harness.at(14 * 3600))
        await h.run(at: Harness.at(38 * 3600))
        #expect(h.functions.invocations.count == 2)
    }

    @Test func theTimeZoneArithmeticIsTheCalculators() throws {
        // After the US spring-forward (2030-03-10), 09:00 New York is 13:00 UTC: the timeline hands time zones to
        // NimbusSchedules unchanged.
        let definition = try ScheduleInput.parse(
            RequestBody(
                members: Harness.schedule("cron(0 9 * * ? *)", ["ScheduleExpressionTimezone": "America/New_York"])
                    .objectValue ?? [:]
            ),
            name: "dst",
            now: Harness.start
        )
        let timeline = try #require(ScheduleTimeline(definition))
        let march10 = Harness.start + Int64(68) * 86_400_000
        #expect(timeline.first(atOrAfter: march10) == march10 + 13 * 3_600_000)
        #expect(timeline.first(atOrAfter: march10 - 86_400_000) == march10 - 86_400_000 + 14 * 3_600_000)
    }

    @Test func anEndDateCompletesTheSchedule() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let end: JSONValue = .number(Double(Harness.at(900)) / 1000)
        try await h.create(
            "deleted",
            Harness.schedule("rate(10 minutes)", ["EndDate": end, "ActionAfterCompletion": "DELETE"])
        )
        try await h.create("kept", Harness.schedule("rate(10 minutes)", ["EndDate": end]))
        await h.run(at: Harness.start)
        await h.run(at: Harness.at(600))
        await h.run(at: Harness.at(1200))
        #expect(h.functions.invocations.count == 4)
        #expect(await h.failure("GetSchedule", labels: ["Name": "deleted"]) != nil)
        #expect(try await h.get("kept")["Name"] == "kept")
    }

    @Test func aDisabledScheduleDoesNotFireUntilEnabled() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create("paused", Harness.schedule("cron(*/10 * * * ? *)", ["State": "DISABLED"]))
        #expect(await h.service.fireDue(at: Harness.start) == nil)
        await h.run(at: Harness.at(600))
        #expect(h.functions.invocations.isEmpty)
        try await h.call("UpdateSchedule", labels: ["Name": "paused"], body: Harness.schedule("cron(*/10 * * * ? *)"))
        await h.run(at: Harness.at(1200))
        #expect(h.functions.invocations.count == 1)
    }

    @Test func aFlexibleWindowDelaysByADrawMadeOnceAndStored() async throws {
        let h = try Harness(delay: 90_000)
        defer { h.cleanUp() }
        try await h.create(
            "flex",
            Harness.schedule(
                "at(2030-01-01T01:00:00)",
                ["FlexibleTimeWindow": ["Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15]]
            )
        )
        await h.run(at: Harness.at(3600))
        #expect(h.functions.invocations.isEmpty)
        #expect(try await h.store.loadSchedules().first?.firing.dueMillis == Harness.at(3690))
        // A restart keeps the drawn delay; the occurrence keeps its scheduled time.
        let restarted = try await Harness(restarting: h)
        await restarted.run(at: Harness.at(3689))
        #expect(h.functions.invocations.isEmpty)
        await restarted.run(at: Harness.at(3690))
        #expect(h.functions.invocations.count == 1)
    }

    @Test func aFiringDueDuringAShortRestartFiresOnce() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create("once", Harness.schedule("at(2030-01-01T00:05:00)"))
        try await h.create("every5", Harness.schedule("rate(5 minutes)"))
        await h.run(at: Harness.start)
        #expect(h.functions.invocations.count == 1)
        // Down from 00:04:50 to 00:05:40: both 00:05 firings happen once, after the restart.
        let restarted = try await Harness(restarting: h)
        await restarted.run(at: Harness.at(340))
        #expect(h.functions.invocations.count == 3)
        let again = try await Harness(restarting: restarted)
        await again.run(at: Harness.at(350))
        #expect(h.functions.invocations.count == 3)
    }

    @Test func aFiringRepeatedAfterACrashIsQueuedOnce() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create("once", Harness.schedule("at(2030-01-01T00:05:00)"))
        let before = try #require(try await h.store.loadSchedules().first?.firing)
        await h.run(at: Harness.at(300))
        #expect(h.functions.invocations.count == 1)
        // The crash came after the enqueue and before the record: the store still waits for 00:05.
        try await h.store.recordFiring(namespace: h.namespace, group: "default", name: "once", firing: before)
        let restarted = try await Harness(restarting: h)
        await restarted.run(at: Harness.at(310))
        // Enqueued again under the same request id, which Lambda's queue takes once.
        #expect(h.functions.enqueues == 2)
        #expect(h.functions.invocations.count == 1)
    }

    @Test func firingsMissedDuringALongOutageAreNotReplayed() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create("every5", Harness.schedule("rate(5 minutes)"))
        await h.run(at: Harness.start)
        let restarted = try await Harness(restarting: h)
        await restarted.run(at: Harness.at(23 * 60))
        #expect(h.functions.invocations.count == 1)
        await restarted.run(at: Harness.at(25 * 60))
        #expect(h.functions.invocations.count == 2)
    }

    @Test func aRefusedFiringGoesToTheDeadLetterQueue() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create(
            "once",
            Harness.schedule(
                "at(2030-01-01T00:05:00)",
                target: ["DeadLetterConfig": ["Arn": .string(Harness.deadLetters)]]
            )
        )
        h.functions.fail(NimbusError(.resourceNotFound, "Function not found: \(Harness.function)"))
        await h.run(at: Harness.at(300))
        #expect(h.functions.invocations.isEmpty)
        let message = try #require(h.queues.sent.first)
        #expect(h.queues.sent.count == 1)
        #expect(message.queueARN == Harness.deadLetters)
        #expect(message.body == #"{"job":"report"}"#)
        #expect(message.attributes["ERROR_CODE"] == "ResourceNotFoundException")
        #expect(message.attributes["ERROR_MESSAGE"] == "Function not found: \(Harness.function)")
        #expect(message.attributes["RETRY_ATTEMPTS"] == "0")
        #expect(message.attributes["EXHAUSTED_RETRY_CONDITION"] == nil)
        #expect(message.attributes["IS_PAYLOAD_TRUNCATED"] == "false")
        #expect(message.attributes["SCHEDULED_TIME"] == "2030-01-01T00:05:00Z")
        #expect(message.attributes["SCHEDULE_ARN"] == Self.onceARN)
        #expect(message.attributes["TARGET_ARN"] == Harness.function)
        let executionID = try #require(message.attributes["EXECUTION_ID"])
        #expect(executionID.count == 36)
        #expect(executionID.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
        await h.run(at: Harness.at(400))
        #expect(h.queues.sent.count == 1)
    }

    @Test func transientFailuresAreRetriedWithBackoff() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create(
            "once",
            Harness.schedule("at(2030-01-01T00:05:00)", input: #"{"attempt":"<aws.scheduler.attempt-number>"}"#)
        )
        h.functions.fail(NimbusError(.service, "The database is busy."))
        await h.run(at: Harness.at(300))
        #expect(h.functions.invocations.isEmpty)
        #expect(try await h.store.loadSchedules().first?.firing.attempts == 1)
        await h.run(at: Harness.at(301))
        #expect(h.functions.payloads == [#"{"attempt":"2"}"#])
        #expect(h.queues.sent.isEmpty)
    }

    @Test func retriesRunOutIntoTheDeadLetterQueue() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create(
            "once",
            Harness.schedule(
                "at(2030-01-01T00:05:00)",
                target: [
                    "RetryPolicy": ["MaximumRetryAttempts": 2],
                    "DeadLetterConfig": ["Arn": .string(Harness.deadLetters)],
                ]
            )
        )
        let busy = NimbusError(.service, "The database is busy.")
        h.functions.fail(busy, busy, busy)
        await h.run(at: Harness.at(300))
        await h.run(at: Harness.at(301))
        #expect(h.queues.sent.isEmpty)
        await h.run(at: Harness.at(303))
        let message = try #require(h.queues.sent.first)
        #expect(message.attributes["ERROR_CODE"] == "ServiceException")
        #expect(message.attributes["RETRY_ATTEMPTS"] == "2")
        #expect(message.attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts")
        #expect(h.functions.enqueues == 3)
        await h.run(at: Harness.at(400))
        #expect(h.functions.enqueues == 3)
    }

    @Test func contextAttributesAreFilledIn() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let input =
            #"{"arn":"<aws.scheduler.schedule-arn>","time":"<aws.scheduler.scheduled-time>","id":"<aws.scheduler.execution-id>","attempt":"<aws.scheduler.attempt-number>"}"#
        try await h.create("once", Harness.schedule("at(2030-01-01T00:05:00)", input: input))
        await h.run(at: Harness.at(300))
        let invocation = try #require(h.functions.invocations.first)
        let payload = try #require(JSONValue.parse(invocation.payload.readableBytesView))
        #expect(payload["arn"] == .string(Self.onceARN))
        #expect(payload["time"] == "2030-01-01T00:05:00Z")
        #expect(payload["id"] == .string(invocation.requestID))
        #expect(payload["attempt"] == "1")
    }

    @Test func queueAndEventBusTargets() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let queue = "arn:aws:sqs:us-east-1:123456789012:jobs.fifo"
        try await h.create(
            "to-queue",
            Harness.schedule(
                "at(2030-01-01T00:05:00)",
                target: ["Arn": .string(queue), "SqsParameters": ["MessageGroupId": "g"]]
            )
        )
        let bus = "arn:aws:events:us-east-1:123456789012:event-bus/default"
        try await h.create(
            "to-bus",
            Harness.schedule(
                "at(2030-01-01T00:05:00)",
                target: ["Arn": .string(bus), "EventBridgeParameters": ["DetailType": "Tick", "Source": "my.app"]]
            )
        )
        let fifo = await h.failure(
            "CreateSchedule",
            labels: ["Name": "x"],
            body: Harness.schedule("rate(1 hour)", target: ["Arn": .string(queue)])
        )
        #expect(fifo?.code == "ValidationException")
        await h.run(at: Harness.at(300))
        let message = try #require(h.queues.sent.first)
        #expect(message.queueARN == queue)
        #expect(message.body == #"{"job":"report"}"#)
        #expect(message.groupID == "g")
        #expect(message.deduplicationID != nil)
        let (event, busARN) = try #require(h.events.events.withLock { $0.first })
        #expect(busARN == bus)
        #expect(
            event
                == PublishedEvent(
                    source: "my.app",
                    detailType: "Tick",
                    detail: #"{"job":"report"}"#,
                    resources: [
                        "arn:aws:scheduler:us-east-1:123456789012:schedule/default/to-bus"
                    ]
                )
        )
        #expect(h.functions.invocations.isEmpty)
    }

    @Test func theRunLoopWakesOnAChange() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let fired = AsyncStream<Void>.makeStream()
        h.functions.onEnqueue { fired.continuation.yield() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await h.service.run() }
            // A rate schedule fires at its creation: the change rings the runner awake, which finds it due.
            try await h.create("now", Harness.schedule("rate(1 hour)"))
            var iterator = fired.stream.makeAsyncIterator()
            await iterator.next()
            group.cancelAll()
        }
        #expect(h.functions.invocations.count == 1)
    }
}
