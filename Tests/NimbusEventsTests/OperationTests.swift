import NimbusCore
import NimbusEdge
import Testing

@testable import NimbusEvents

/// The control plane's operations and their errors, in AWS's words (as recorded against EventBridge).
@Suite struct RuleOperationTests {
    @Test func putDescribeListDeleteOnTheDefaultBus() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let pattern = #"{"source":["app.orders"]}"#
        let put = try await h.call(
            "PutRule",
            ["Name": "orders", "EventPattern": .string(pattern), "Description": "all orders"]
        )
        #expect(put["RuleArn"] == "arn:aws:events:us-east-1:123456789012:rule/orders")

        let described = try await h.call("DescribeRule", ["Name": "orders"])
        #expect(described["Name"] == "orders")
        #expect(described["Arn"] == "arn:aws:events:us-east-1:123456789012:rule/orders")
        #expect(described["EventPattern"] == .string(pattern))
        #expect(described["State"] == "ENABLED")
        #expect(described["Description"] == "all orders")
        #expect(described["EventBusName"] == "default")
        #expect(described["CreatedBy"] == "123456789012")
        #expect(described["ScheduleExpression"] == nil)

        let listed = try await h.call("ListRules", [:])
        #expect(listed["Rules"]?.arrayValue?.count == 1)
        #expect(listed["Rules"]?.arrayValue?.first?["CreatedBy"] == nil)

        try await h.call("DeleteRule", ["Name": "orders"])
        #expect(try await h.call("ListRules", [:])["Rules"] == [])
        // Deleting again succeeds, as on AWS.
        try await h.call("DeleteRule", ["Name": "orders"])
    }

    @Test func customBusRulesHaveTheBusInTheirArn() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.call("CreateEventBus", ["Name": "shop"])
        let put = try await h.call(
            "PutRule",
            ["Name": "r", "EventPattern": #"{"source":["a"]}"#, "EventBusName": "shop"]
        )
        #expect(put["RuleArn"] == "arn:aws:events:us-east-1:123456789012:rule/shop/r")
        // By ARN as well.
        let byARN = try await h.call(
            "DescribeRule",
            ["Name": "r", "EventBusName": "arn:aws:events:us-east-1:123456789012:event-bus/shop"]
        )
        #expect(byARN["EventBusName"] == "shop")
        // Not on the default bus.
        #expect(
            await h.failure("DescribeRule", ["Name": "r"])
                == ServiceError(
                    code: "ResourceNotFoundException",
                    message: "Rule r does not exist on EventBus default."
                )
        )
        #expect(
            await h.failure("DescribeRule", ["Name": "x", "EventBusName": "shop"])
                == ServiceError(code: "ResourceNotFoundException", message: "Rule x does not exist on EventBus shop.")
        )
    }

    @Test func putRuleRefusals() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        #expect(
            await h.failure("PutRule", ["Name": "r"])
                == ServiceError(
                    code: "ValidationException",
                    message: "Parameter(s) EventPattern or ScheduleExpression must be specified."
                )
        )
        for bad in [
            "cron(INVALID)", "cron(0 dummy ? * MON-FRI *)", "cron(7 20 * * NOT *)", "cron(71 8 1 * ? *)",
            "cron(0 1 * * * *)", "rate(1 minutes)", "at(2026-01-01T00:00:00)", "every day",
        ] {
            #expect(
                await h.failure("PutRule", ["Name": "r", "ScheduleExpression": .string(bad)])
                    == ServiceError(code: "ValidationException", message: "Parameter ScheduleExpression is not valid."),
                "\(bad)"
            )
        }
        try await h.call("CreateEventBus", ["Name": "shop"])
        #expect(
            await h.failure("PutRule", ["Name": "r", "ScheduleExpression": "rate(5 minutes)", "EventBusName": "shop"])
                == ServiceError(
                    code: "ValidationException",
                    message: "ScheduleExpression is supported only on the default event bus."
                )
        )
        let invalid = await h.failure(
            "PutRule",
            ["Name": "r", "EventPattern": "[\"not\", \"a\", \"dict\", \"but valid json\"]"]
        )
        #expect(invalid?.code == "InvalidEventPatternException")
        #expect(invalid?.message.hasPrefix("Event pattern is not valid. Reason: Filter is not an object") == true)
        #expect(
            await h.failure("PutRule", ["Name": "r", "EventPattern": #"{"source":["a"]}"#, "EventBusName": "nope"])
                == ServiceError(code: "ResourceNotFoundException", message: "Event bus nope does not exist.")
        )
        let constraints = await h.failure(
            "PutRule",
            [
                "Name": "This should fail with two errors 123467890123412341234123412341234",
                "EventPattern": #"{"source":["a"]}"#, "State": "SOMETIMES",
            ]
        )
        #expect(
            constraints?.message
                == "3 validation errors detected: Value 'This should fail with two errors 123467890123412341234123412341234' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+; Value 'This should fail with two errors 123467890123412341234123412341234' at 'name' failed to satisfy constraint: Member must have length less than or equal to 64; Value 'SOMETIMES' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"
        )
    }

    @Test func schedulesOfAWSsExamplesAreAccepted() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let schedules = [
            "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
            "cron(0 10 * * ? *)", "cron(15 12 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
            "cron(0/15 * * * ? *)", "cron(0/10 * ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 2 ? * SAT *)",
            "cron(0 2 ? * SAT#3 *)", "cron(15 10 ? * 6L 2002-2005)", "cron(5,35 14 * * ? *)",
            "cron(0/5 5 ? JAN 1-5 2022)", "cron(0 0 L * ? *)", "cron(0 9 1W * ? *)",
        ]
        for (index, schedule) in schedules.enumerated() {
            let arn = try await h.call(
                "PutRule",
                ["Name": .string("s\(index)"), "ScheduleExpression": .string(schedule)]
            )
            #expect(arn["RuleArn"] == .string("arn:aws:events:us-east-1:123456789012:rule/s\(index)"), "\(schedule)")
        }
        // A schedule whose years are over never fires.
        #expect(h.service.catalog.rule(h.namespace, bus: "default", "s15")?.nextFireMillis == nil)
        #expect(h.service.catalog.rule(h.namespace, bus: "default", "s0")?.nextFireMillis == h.clock.read() + 60_000)
    }

    @Test func enableDisableAndUpdate() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.call("PutRule", ["Name": "r", "EventPattern": #"{"source":["a"]}"#, "State": "DISABLED"])
        #expect(try await h.call("DescribeRule", ["Name": "r"])["State"] == "DISABLED")
        try await h.call("EnableRule", ["Name": "r"])
        #expect(try await h.call("DescribeRule", ["Name": "r"])["State"] == "ENABLED")
        try await h.call("DisableRule", ["Name": "r"])
        #expect(try await h.call("DescribeRule", ["Name": "r"])["State"] == "DISABLED")
        #expect(
            await h.failure("EnableRule", ["Name": "missing"])
                == ServiceError(
                    code: "ResourceNotFoundException",
                    message: "Rule missing does not exist on EventBus default."
                )
        )
        // PutRule replaces the definition (the description goes) and keeps the targets.
        try await h.call("PutRule", ["Name": "r", "EventPattern": #"{"source":["a"]}"#, "Description": "d"])
        try await h.call("PutTargets", ["Rule": "r", "Targets": [["Id": "t", "Arn": .string(Harness.function)]]])
        try await h.call("PutRule", ["Name": "r", "ScheduleExpression": "rate(1 hour)"])
        let described = try await h.call("DescribeRule", ["Name": "r"])
        #expect(described["Description"] == nil)
        #expect(described["EventPattern"] == nil)
        #expect(described["ScheduleExpression"] == "rate(1 hour)")
        #expect(try await h.call("ListTargetsByRule", ["Rule": "r"])["Targets"]?.arrayValue?.count == 1)
    }

    @Test func listRulesByPrefixAndPages() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        for i in 0..<6 {
            try await h.call("PutRule", ["Name": .string("rule-\(i)"), "EventPattern": #"{"source":["a"]}"#])
        }
        try await h.call("PutRule", ["Name": "other", "EventPattern": #"{"source":["a"]}"#])
        let first = try await h.call("ListRules", ["NamePrefix": "rule-", "Limit": 3])
        #expect(first["Rules"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } == ["rule-0", "rule-1", "rule-2"])
        let token = try #require(first["NextToken"])
        let second = try await h.call("ListRules", ["NamePrefix": "rule-", "Limit": 3, "NextToken": token])
        #expect(second["Rules"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } == ["rule-3", "rule-4", "rule-5"])
        #expect(second["NextToken"] == nil)
        #expect(try await h.call("ListRules", [:])["Rules"]?.arrayValue?.count == 7)
        #expect(await h.failure("ListRules", ["Limit": 101])?.code == "ValidationException")
    }

    @Test func deleteIsRefusedWhileTargetsRemain() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.patternRule("r", pattern: #"{"source":["a"]}"#)
        #expect(
            await h.failure("DeleteRule", ["Name": "r"])
                == ServiceError(code: "ValidationException", message: "Rule can't be deleted since it has targets.")
        )
        let removed = try await h.call("RemoveTargets", ["Rule": "r", "Ids": ["fn"]])
        #expect(removed["FailedEntryCount"] == 0)
        try await h.call("DeleteRule", ["Name": "r"])
    }
}

@Suite struct TargetOperationTests {
    @Test func putListAndReplaceTargets() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.call("PutRule", ["Name": "r", "EventPattern": #"{"source":["a"]}"#])
        let result = try await h.call(
            "PutTargets",
            [
                "Rule": "r",
                "Targets": [
                    [
                        "Id": "fn", "Arn": .string(Harness.function), "Input": #"{"a":1}"#,
                        "RetryPolicy": ["MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600],
                        "DeadLetterConfig": ["Arn": .string(Harness.deadLetters)],
                    ],
                    [
                        "Id": "q", "Arn": .string(Harness.queue),
                        "InputTransformer": ["InputPathsMap": ["s": "$.source"], "InputTemplate": "\"<s>\""],
                    ],
                ],
            ]
        )
        #expect(result == ["FailedEntryCount": 0, "FailedEntries": []])
        let listed = try await h.call("ListTargetsByRule", ["Rule": "r"])
        let targets = try #require(listed["Targets"]?.arrayValue)
        #expect(targets.count == 2)
        #expect(
            targets[0]
                == [
                    "Id": "fn", "Arn": .string(Harness.function), "Input": #"{"a":1}"#,
                    "RetryPolicy": ["MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600],
                    "DeadLetterConfig": ["Arn": .string(Harness.deadLetters)],
                ]
        )
        #expect(targets[1]["InputTransformer"] == ["InputPathsMap": ["s": "$.source"], "InputTemplate": "\"<s>\""])
        // The same id replaces the target.
        try await h.call("PutTargets", ["Rule": "r", "Targets": [["Id": "fn", "Arn": .string(Harness.queue)]]])
        let again = try await h.call("ListTargetsByRule", ["Rule": "r"])["Targets"]?.arrayValue
        #expect(again?.count == 2)
        #expect(again?.first?["Arn"] == .string(Harness.queue))
        let names = try await h.call("ListRuleNamesByTarget", ["TargetArn": .string(Harness.queue)])
        #expect(names["RuleNames"] == ["r"])
    }

    @Test func targetRefusals() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        try await h.call("PutRule", ["Name": "r", "EventPattern": #"{"source":["a"]}"#])
        #expect(
            await h.failure(
                "PutTargets",
                ["Rule": "missing", "Targets": [["Id": "t", "Arn": .string(Harness.function)]]]
            )
                == ServiceError(
                    code: "ResourceNotFoundException",
                    message: "Rule missing does not exist on EventBus default."
                )
        )
        #expect(
            await h.failure(
                "PutTargets",
                ["Rule": "r", "Targets": [["Id": "!@#$@!#$", "Arn": .string(Harness.function)]]]
            )
                == ServiceError(
                    code: "ValidationException",
                    message:
                        "1 validation error detected: Value '!@#$@!#$' at 'targets.1.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
                )
        )
        let long = String(repeating: "x", count: 65)
        #expect(
            await h.failure(
                "PutTargets",
                ["Rule": "r", "Targets": [["Id": .string(long), "Arn": .string(Harness.function)]]]
            )
                == ServiceError(
                    code: "ValidationException",
                    message:
                        "1 validation error detected: Value '\(long)' at 'targets.1.member.id' failed to satisfy constraint: Member must have length less than or equal to 64"
                )
        )
        #expect(
            await h.failure(
                "PutTargets",
                [
                    "Rule": "r",
                    "Targets": [
                        [
                            "Id": "t", "Arn": .string(Harness.function), "InputPath": "$.detail",
                            "InputTransformer": ["InputTemplate": "\"x\""],
                        ]
                    ],
                ]
            )
                == ServiceError(
                    code: "ValidationException",
                    message: "Only one of Input, InputPath, or InputTransformer must be provided for target t."
                )
        )
        #expect(
            await h.failure(
                "PutTargets",
                [
                    "Rule": "r",
                    "Targets": [
                        [
                            "Id": "t", "Arn": .string(Harness.function),
                            "InputTransformer": [
                                "InputPathsMap": ["detail-type": "$.detail-type"],
                                "InputTemplate": "\"<detail-type> <notdefinedkey>\"",
                            ],
                        ]
                    ],
                ]
            )
                == ServiceError(
                    code: "ValidationException",
                    message: "InputTemplate for target t contains invalid placeholder notdefinedkey."
                )
        )
        // Five targets per rule.
        let six: [JSONValue] = (0..<6).map { ["Id": .string("t\($0)"), "Arn": .string(Harness.function)] }
        #expect(
            await h.failure("PutTargets", ["Rule": "r", "Targets": .array(six)])
                == ServiceError(
                    code: "LimitExceededException",
                    message: "The requested resource exceeds the maximum number allowed."
                )
        )
        // Targets Nimbus cannot deliver to are failed entries.
        let sns = try await h.call(
            "PutTargets",
            ["Rule": "r", "Targets": [["Id": "sns", "Arn": "arn:aws:sns:us-east-1:123456789012:topic"]]]
        )
        #expect(sns["FailedEntryCount"] == 1)
        #expect(sns["FailedEntries"]?.arrayValue?.first?["TargetId"] == "sns")
    }
}

@Suite struct BusAndTagOperationTests {
    @Test func busLifecycle() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let created = try await h.call("CreateEventBus", ["Name": "shop", "Description": "test bus"])
        #expect(
            created == [
                "EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/shop", "Description": "test bus",
            ]
        )
        #expect(
            await h.failure("CreateEventBus", ["Name": "shop"])
                == ServiceError(code: "ResourceAlreadyExistsException", message: "Event bus shop already exists.")
        )
        #expect(await h.failure("CreateEventBus", ["Name": "default"])?.code == "ResourceAlreadyExistsException")
        let described = try await h.call("DescribeEventBus", ["Name": "shop"])
        #expect(described["Name"] == "shop")
        #expect(described["Description"] == "test bus")
        #expect(described["CreationTime"]?.numberValue != nil)
        #expect(try await h.call("DescribeEventBus", [:])["Name"] == "default")
        let listed = try await h.call("ListEventBuses", [:])
        #expect(listed["EventBuses"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } == ["default", "shop"])
        #expect(try await h.call("ListEventBuses", ["NamePrefix": "sh"])["EventBuses"]?.arrayValue?.count == 1)

        #expect(
            await h.failure("DeleteEventBus", ["Name": "default"])
                == ServiceError(code: "ValidationException", message: "Cannot delete event bus default.")
        )
        try await h.call("PutRule", ["Name": "r", "EventPattern": #"{"source":["a"]}"#, "EventBusName": "shop"])
        try await h.call("DeleteEventBus", ["Name": "shop"])
        #expect(
            await h.failure("DescribeEventBus", ["Name": "shop"])
                == ServiceError(code: "ResourceNotFoundException", message: "Event bus shop does not exist.")
        )
        // Its rules went with it, and a bus of the same name starts empty.
        try await h.call("CreateEventBus", ["Name": "shop"])
        #expect(try await h.call("ListRules", ["EventBusName": "shop"])["Rules"] == [])
        // Deleting a bus that does not exist succeeds.
        try await h.call("DeleteEventBus", ["Name": "never"])
    }

    @Test func tagsOfRulesAndBuses() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let rule = try await h.call(
            "PutRule",
            [
                "Name": "r", "EventPattern": #"{"source":["a"]}"#,
                "Tags": [["Key": "tag1", "Value": "value1"], ["Key": "tag2", "Value": "value2"]],
            ]
        )["RuleArn"]
        let tags = try await h.call("ListTagsForResource", ["ResourceARN": rule ?? .null])
        #expect(tags == ["Tags": [["Key": "tag1", "Value": "value1"], ["Key": "tag2", "Value": "value2"]]])
        // Tags given to PutRule on an update are ignored (PutRule's documentation).
        try await h.call(
            "PutRule",
            ["Name": "r", "EventPattern": #"{"source":["a"]}"#, "Tags": [["Key": "tag3", "Value": "value3"]]]
        )
        #expect(try await h.call("ListTagsForResource", ["ResourceARN": rule ?? .null]) == tags)
        try await h.call("UntagResource", ["ResourceARN": rule ?? .null, "TagKeys": ["tag2", "missing"]])
        #expect(
            try await h.call("ListTagsForResource", ["ResourceARN": rule ?? .null])
                == ["Tags": [["Key": "tag1", "Value": "value1"]]]
        )

        let bus = "arn:aws:events:us-east-1:123456789012:event-bus/default"
        try await h.call("TagResource", ["ResourceARN": .string(bus), "Tags": [["Key": "k", "Value": "v"]]])
        #expect(
            try await h.call("ListTagsForResource", ["ResourceARN": .string(bus)]) == [
                "Tags": [["Key": "k", "Value": "v"]]
            ]
        )
        // Tags on the default bus survive a restart.
        let restarted = try await h.restarted()
        #expect(
            try await h.call("ListTagsForResource", ["ResourceARN": .string(bus)], on: restarted)
                == ["Tags": [["Key": "k", "Value": "v"]]]
        )

        #expect(
            await h.failure(
                "TagResource",
                [
                    "ResourceARN": "arn:aws:events:us-east-1:123456789012:rule/nope",
                    "Tags": [["Key": "k", "Value": "v"]],
                ]
            )
                == ServiceError(
                    code: "ResourceNotFoundException",
                    message: "Rule nope does not exist on EventBus default."
                )
        )
        #expect(
            await h.failure(
                "ListTagsForResource",
                ["ResourceARN": "arn:aws:events:us-east-1:123456789012:event-bus/nope"]
            )
                == ServiceError(code: "ResourceNotFoundException", message: "Event bus nope does not exist.")
        )
    }

    @Test func testEventPattern() async throws {
        let h = try await Harness()
        defer { h.cleanup() }
        let event = #"""
            {"id":"1","account":"123456789012","source":"com.mycompany.myapp","time":"2026-01-01T00:00:00Z",
             "region":"us-east-1","resources":[],"detail-type":"myDetailType","detail":{"n":5}}
            """#
        #expect(
            try await h.call(
                "TestEventPattern",
                ["Event": .string(event), "EventPattern": #"{"source":["com.mycompany.myapp"]}"#]
            )
                == ["Result": true]
        )
        #expect(
            try await h.call(
                "TestEventPattern",
                ["Event": .string(event), "EventPattern": #"{"detail":{"n":[{"numeric":[">",5]}]}}"#]
            )
                == ["Result": false]
        )
        for bad in ["plain string", #"["plain string"]"#, #"{"testEvent":"value"}"#] {
            #expect(
                await h.failure("TestEventPattern", ["Event": .string(bad), "EventPattern": #"{"source":["a"]}"#])
                    == ServiceError(code: "ValidationException", message: "Parameter Event is not valid.")
            )
        }
        let invalid = await h.failure(
            "TestEventPattern",
            ["Event": .string(event), "EventPattern": "{'bad': 'quotation'}"]
        )
        #expect(invalid?.code == "InvalidEventPatternException")
    }
}
