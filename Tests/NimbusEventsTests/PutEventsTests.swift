import NimbusCore
import NimbusEdge
import Testing

@testable import NimbusEvents

/// PutEvents: entries, the event envelope, pattern matching and delivery to targets.
@Suite struct PutEventsTests {
    @Test func deliversTheEventToMatchingRulesTargets() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.patternRule(
            "orders",
            pattern: #"{"source":["app.orders"],"detail":{"amount":[{"numeric":[">",100]}]}}"#
        )
        try await h.patternRule("others", pattern: #"{"source":["app.other"]}"#)
        let big = try await h.put(detail: #"{ "amount": 250, "items": [ "a", "b" ] }"#)
        try await h.put(detail: #"{"amount": 50}"#)
        try await h.put(source: "app.nothing", detail: #"{"amount": 500}"#)

        let invocations = h.functions.invocations
        try #require(invocations.count == 1)
        let invocation = invocations[0]
        #expect(invocation.function == Harness.function)
        #expect(invocation.principal == "events.amazonaws.com")
        #expect(invocation.sourceARN == "arn:aws:events:us-east-1:123456789012:rule/orders")
        #expect(invocation.sourceAccount == "123456789012")
        let eventID = try #require(big["EventId"]?.stringValue)
        #expect(
            invocation.requestID
                == DerivedID.delivery(
                    eventID: eventID,
                    ruleARN: "arn:aws:events:us-east-1:123456789012:rule/orders",
                    targetID: "fn"
                )
        )
        // AWS's envelope, in AWS's key order, the detail as sent (minified).
        #expect(
            String(buffer: invocation.payload)
                == #"{"version":"0","id":"\#(eventID)","detail-type":"OrderPlaced","source":"app.orders","account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"amount":250,"items":["a","b"]}}"#
        )
    }

    @Test func theSameEventThroughTwoRulesReachesATargetTwice() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.patternRule("a", pattern: #"{"source":["app.orders"]}"#)
        try await h.patternRule("b", pattern: #"{"detail-type":["OrderPlaced"]}"#)
        try await h.put(detail: "{}")
        #expect(h.functions.invocations.count == 2)
        #expect(Set(h.functions.invocations.map(\.sourceARN)).count == 2)
    }

    @Test func busesAreSeparateAndDisabledRulesDeliverNothing() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.call("CreateEventBus", ["Name": "shop"])
        try await h.patternRule("on-shop", pattern: #"{"source":["app.orders"]}"#, bus: "shop")
        try await h.put(detail: "{}")
        #expect(h.functions.invocations.isEmpty)
        try await h.put(detail: "{}", bus: "shop")
        #expect(h.functions.invocations.count == 1)
        try await h.put(detail: "{}", bus: "arn:aws:events:us-east-1:123456789012:event-bus/shop")
        #expect(h.functions.invocations.count == 2)
        try await h.call("DisableRule", ["Name": "on-shop", "EventBusName": "shop"])
        try await h.put(detail: "{}", bus: "shop")
        #expect(h.functions.invocations.count == 2)
        // An event for a bus that does not exist is accepted and goes nowhere (recorded AWS behaviour).
        let lost = try await h.put(detail: "{}", bus: "nowhere")
        #expect(lost["EventId"]?.stringValue != nil)
    }

    @Test func entryErrorsAndRequestLimits() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let result = try await h.call(
            "PutEvents",
            [
                "Entries": [
                    ["DetailType": "t", "Detail": "{}"],
                    ["Source": "s", "Detail": "{}"],
                    ["Source": "s", "DetailType": "t"],
                    ["Source": "s", "DetailType": "t", "Detail": "\"a string\""],
                    ["Source": "s", "DetailType": "t", "Detail": "{not json"],
                    ["Source": "s", "DetailType": "t", "Detail": "{}"],
                ]
            ]
        )
        #expect(result["FailedEntryCount"] == 5)
        let entries = try #require(result["Entries"]?.arrayValue)
        #expect(
            entries[0]
                == [
                    "ErrorCode": "InvalidArgument",
                    "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument.",
                ]
        )
        #expect(
            entries[1]["ErrorMessage"]
                == "Parameter DetailType is not valid. Reason: DetailType is a required argument."
        )
        #expect(entries[2]["ErrorMessage"] == "Parameter Detail is not valid. Reason: Detail is a required argument.")
        #expect(entries[3] == ["ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."])
        #expect(entries[4] == ["ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."])
        #expect(entries[5]["EventId"]?.stringValue?.count == 36)

        let eleven: [JSONValue] = (0..<11).map { _ in ["Source": "s", "DetailType": "t", "Detail": "{}"] }
        let tooMany = await h.failure("PutEvents", ["Entries": .array(eleven)])
        #expect(tooMany?.code == "ValidationException")
        #expect(
            tooMany?.message.hasPrefix("1 validation error detected: Value '[PutEventsRequestEntry(time=null, source=s")
                == true
        )
        #expect(
            tooMany?.message.hasSuffix(
                "at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10"
            )
                == true
        )
        let huge = "{\"a\":\"" + String(repeating: "x", count: 262_144) + "\"}"
        #expect(
            await h.failure("PutEvents", ["Entries": [["Source": "s", "DetailType": "t", "Detail": .string(huge)]]])
                == ServiceError(
                    code: "ValidationException",
                    message: "Total size of the entries in the request is over the limit."
                )
        )
    }

    @Test func refusedDeliveriesGoToTheDeadLetterQueue() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.patternRule(
            "r",
            pattern: #"{"source":["app.orders"]}"#,
            target: [
                "Id": "fn", "Arn": .string(Harness.function), "DeadLetterConfig": ["Arn": .string(Harness.deadLetters)],
            ]
        )
        h.functions.refuse(Harness.function, NimbusError(.accessDenied, "The resource policy does not allow it."))
        let entry = try await h.put(detail: #"{"n":1}"#)
        // The refusal is the target's business: the entry is accepted.
        #expect(entry["EventId"] != nil)
        let dead = try #require(h.queues.sent.first)
        #expect(dead.queueARN == Harness.deadLetters)
        #expect(JSONValue.parse(Array(dead.body.utf8))?["detail"] == ["n": 1])
        #expect(
            dead.attributes
                == [
                    "RULE_ARN": "arn:aws:events:us-east-1:123456789012:rule/r", "TARGET_ARN": Harness.function,
                    "ERROR_CODE": "NO_PERMISSIONS", "ERROR_MESSAGE": "The resource policy does not allow it.",
                    "RETRY_ATTEMPTS": "0",
                ]
        )
    }

    @Test func aTargetWithoutDeadLetterQueueDropsRefusedEvents() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.patternRule("r", pattern: #"{"source":["app.orders"]}"#)
        h.functions.refuse(Harness.function, NimbusError(.resourceNotFound, "Function not found"))
        let entry = try await h.put(detail: "{}")
        #expect(entry["EventId"] != nil)
        #expect(h.queues.sent.isEmpty)
    }

    @Test func aDeliveryThatMayPassLaterFailsTheEntry() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.patternRule("r", pattern: #"{"source":["app.orders"]}"#)
        h.functions.failing.withLock { $0 = true }
        let entry = try await h.put(detail: "{}")
        #expect(entry["ErrorCode"] == "InternalFailure")
        #expect(entry["EventId"] == nil)
    }

    @Test func queueTargetsGetTheInputAsTheBody() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.patternRule(
            "r",
            pattern: #"{"source":["app.orders"]}"#,
            target: ["Id": "q", "Arn": .string(Harness.queue), "InputPath": "$.detail"]
        )
        try await h.put(detail: #"{"b":2,"a":1}"#)
        #expect(h.queues.sent.map(\.body) == [#"{"b":2,"a":1}"#])
    }

    @Test func inProcessPutEventsAndPublish() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.patternRule("results", pattern: #"{"source":["lambda"]}"#)
        let results = try await h.service.putEvents(
            [EventEntry(source: "lambda", detailType: "Lambda Function Invocation Result - Success", detail: "{}")],
            namespace: h.namespace
        )
        #expect(results.count == 1)
        #expect(results[0].eventID != nil)
        try await h.service.publish(
            PublishedEvent(
                source: "lambda",
                detailType: "Lambda Function Invocation Result - Failure",
                detail: #"{"x":1}"#,
                resources: []
            ),
            busARN: "arn:aws:events:us-east-1:123456789012:event-bus/default",
            namespace: h.namespace
        )
        #expect(h.functions.invocations.count == 2)
        await #expect(throws: EventsError.busNotFound("missing")) {
            try await h.service.publish(
                PublishedEvent(source: "lambda", detailType: "t", detail: "{}", resources: []),
                busARN: "arn:aws:events:us-east-1:123456789012:event-bus/missing",
                namespace: h.namespace
            )
        }
    }
}
