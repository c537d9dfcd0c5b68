import Foundation
import NimbusCore
import NimbusEdge
import Testing

@testable import NimbusScheduler

@Suite struct ScheduleOperationTests {
    @Test func createGetListDelete() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let created = try await h.create(
            "nightly",
            Harness.schedule(
                "cron(0 12 * * ? *)",
                [
                    "ScheduleExpressionTimezone": "Europe/London", "Description": "the report",
                    "ActionAfterCompletion": "DELETE", "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/abc-1",
                ],
                target: [
                    "RetryPolicy": ["MaximumRetryAttempts": 3],
                    "DeadLetterConfig": ["Arn": .string(Harness.deadLetters)],
                ]
            )
        )
        #expect(created == ["ScheduleArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly"])

        let got = try await h.get("nightly")
        #expect(got["Name"] == "nightly")
        #expect(got["GroupName"] == "default")
        #expect(got["Arn"] == "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly")
        #expect(got["ScheduleExpression"] == "cron(0 12 * * ? *)")
        #expect(got["ScheduleExpressionTimezone"] == "Europe/London")
        #expect(got["State"] == "ENABLED")
        #expect(got["ActionAfterCompletion"] == "DELETE")
        #expect(got["Description"] == "the report")
        #expect(got["KmsKeyArn"] == "arn:aws:kms:us-east-1:123456789012:key/abc-1")
        #expect(got["FlexibleTimeWindow"] == ["Mode": "OFF"])
        #expect(got["CreationDate"] == .number(Double(Harness.start) / 1000))
        #expect(got["LastModificationDate"] == .number(Double(Harness.start) / 1000))
        #expect(
            got["Target"]
                == [
                    "Arn": .string(Harness.function), "RoleArn": .string(Harness.role),
                    "Input": #"{"job":"report"}"#,
                    "RetryPolicy": ["MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 3],
                    "DeadLetterConfig": ["Arn": .string(Harness.deadLetters)],
                ]
        )
        #expect(got["StartDate"] == nil)

        let listed = try await h.call("ListSchedules").document
        #expect(
            listed
                == [
                    "Schedules": [
                        [
                            "Arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly",
                            "CreationDate": .number(Double(Harness.start) / 1000), "GroupName": "default",
                            "LastModificationDate": .number(Double(Harness.start) / 1000), "Name": "nightly",
                            "State": "ENABLED", "Target": ["Arn": .string(Harness.function)],
                        ]
                    ]
                ]
        )

        try await h.call("DeleteSchedule", labels: ["Name": "nightly"])
        let missing = await h.failure("GetSchedule", labels: ["Name": "nightly"])
        #expect(missing?.code == "ResourceNotFoundException")
        #expect(missing?.status == 404)
        #expect(missing?.message == "Schedule nightly does not exist.")
        #expect(missing?.messageMember == "Message")
        let again = await h.failure("DeleteSchedule", labels: ["Name": "nightly"])
        #expect(again?.message == "Schedule nightly does not exist.")
    }

    @Test func defaultsAreReported() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create("plain", Harness.schedule("rate(5 minutes)", input: nil))
        let got = try await h.get("plain")
        #expect(got["ScheduleExpressionTimezone"] == "UTC")
        #expect(got["ActionAfterCompletion"] == "NONE")
        #expect(got["State"] == "ENABLED")
        #expect(got["Description"] == nil)
        #expect(got["Target"]?["Input"] == nil)
        #expect(got["Target"]?["RetryPolicy"] == ["MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 185])
    }

    @Test func createRefusesAnExistingNameUnlessItIsTheSameRequestRetried() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let body = Harness.schedule("rate(1 hour)", ["ClientToken": "token-1"])
        try await h.create("hourly", body)
        // botocore's retry of the same call carries the same client token: it succeeds again.
        #expect(await h.failure("CreateSchedule", labels: ["Name": "hourly"], body: body) == nil)
        let conflict = await h.failure(
            "CreateSchedule",
            labels: ["Name": "hourly"],
            body: Harness.schedule("rate(1 hour)", ["ClientToken": "token-2"])
        )
        #expect(conflict?.code == "ConflictException")
        #expect(conflict?.status == 409)
        #expect(conflict?.message == "Schedule hourly already exists.")
        // The same name in another group is another schedule.
        try await h.call("CreateScheduleGroup", labels: ["Name": "reports"])
        try await h.create("hourly", Harness.schedule("rate(1 hour)", ["GroupName": "reports"]))
        #expect(try await h.get("hourly", group: "reports")["GroupName"] == "reports")
    }

    @Test func updateReplacesTheWholeDefinition() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.create(
            "job",
            Harness.schedule("rate(1 hour)", ["Description": "first", "ScheduleExpressionTimezone": "Asia/Tokyo"])
        )
        h.clock.advance(seconds: 90)
        let updated = try await h.call(
            "UpdateSchedule",
            labels: ["Name": "job"],
            body: Harness.schedule("cron(0 8 * * ? *)", ["State": "DISABLED"])
        ).document
        #expect(updated == ["ScheduleArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/job"])
        let got = try await h.get("job")
        #expect(got["ScheduleExpression"] == "cron(0 8 * * ? *)")
        #expect(got["State"] == "DISABLED")
        // Members left out are gone, as on AWS: UpdateSchedule is a full replacement.
        #expect(got["Description"] == nil)
        #expect(got["ScheduleExpressionTimezone"] == "UTC")
        #expect(got["CreationDate"] == .number(Double(Harness.start) / 1000))
        #expect(got["LastModificationDate"] == .number(Double(Harness.at(90)) / 1000))

        let missing = await h.failure(
            "UpdateSchedule",
            labels: ["Name": "nope"],
            body: Harness.schedule("rate(1 hour)")
        )
        #expect(missing?.code == "ResourceNotFoundException")
        #expect(missing?.message == "Schedule nope does not exist.")
    }

    @Test func validation() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        func refusal(_ body: JSONValue, name: String = "s") async -> String? {
            let error = await h.failure("CreateSchedule", labels: ["Name": name], body: body)
            #expect(error == nil || error?.code == "ValidationException")
            #expect(error == nil || error?.status == 400)
            return error?.message
        }
        #expect(await refusal(Harness.schedule("rate(1 minutes)")) == "Invalid Schedule Expression rate(1 minutes).")
        #expect(
            await refusal(Harness.schedule("cron(0 12 * * * *)")) == "Invalid Schedule Expression cron(0 12 * * * *)."
        )
        #expect(
            await refusal(Harness.schedule("rate(5 minutes)", ["ScheduleExpressionTimezone": "Mars/Olympus"]))
                == "Invalid Schedule Expression Timezone Mars/Olympus."
        )
        #expect(
            await refusal(Harness.schedule("rate(5 minutes)"), name: "bad name")
                == "1 validation error detected: Value 'bad name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$"
        )
        #expect(
            await refusal(Harness.schedule("rate(5 minutes)", target: ["RoleArn": "not-a-role"]))
                == #"1 validation error detected: Value 'not-a-role' at 'target.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@\/-]+$"#
        )
        #expect(
            await refusal(
                Harness.schedule(
                    "rate(5 minutes)",
                    ["FlexibleTimeWindow": ["Mode": "FLEXIBLE", "MaximumWindowInMinutes": 0]],
                    target: ["RetryPolicy": ["MaximumEventAgeInSeconds": 30]]
                )
            )
                == "2 validation errors detected: Value '0' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '30' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"
        )
        #expect(
            await refusal(.object(["ScheduleExpression": "rate(5 minutes)"]))
                == "2 validation errors detected: Value null at 'flexibleTimeWindow' failed to satisfy constraint: Member must not be null; Value null at 'target' failed to satisfy constraint: Member must not be null"
        )
        #expect(
            await refusal(Harness.schedule("rate(5 minutes)", ["FlexibleTimeWindow": ["Mode": "FLEXIBLE"]]))
                == "MaximumWindowInMinutes is required when the flexible time window's Mode is FLEXIBLE."
        )
        #expect(
            await refusal(Harness.schedule("rate(5 minutes)", ["StartDate": .number(Double(Harness.at(-301)) / 1000)]))
                == "The StartDate you specify cannot be earlier than 5 minutes ago."
        )
        #expect(
            await refusal(
                Harness.schedule(
                    "rate(5 minutes)",
                    [
                        "StartDate": .number(Double(Harness.at(3600)) / 1000),
                        "EndDate": .number(Double(Harness.at(60)) / 1000),
                    ]
                )
            )
                == "The EndDate you specify must be later than the StartDate."
        )
        #expect(
            await refusal(
                Harness.schedule("rate(5 minutes)", target: ["Arn": "arn:aws:sns:us-east-1:123456789012:topic"])
            )
                == "Nimbus delivers schedules to Lambda functions, SQS queues and EventBridge event buses; arn:aws:sns:us-east-1:123456789012:topic is none of these."
        )
        #expect(
            await refusal(Harness.schedule("rate(5 minutes)", ["State": "PAUSED"]))
                == "1 validation error detected: Value 'PAUSED' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"
        )
        let group = await h.failure(
            "CreateSchedule",
            labels: ["Name": "s"],
            body: Harness.schedule("rate(5 minutes)", ["GroupName": "nope"])
        )
        #expect(group?.code == "ResourceNotFoundException")
        #expect(group?.message == "Schedule group nope does not exist.")
        // Start dates a little in the past are accepted, as on AWS (up to five minutes).
        #expect(
            await refusal(Harness.schedule("rate(5 minutes)", ["StartDate": .number(Double(Harness.at(-60)) / 1000)]))
                == nil
        )
    }

    @Test func listFiltersAndPages() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.call("CreateScheduleGroup", labels: ["Name": "team"])
        for name in ["a1", "a2", "a3", "b1"] {
            try await h.create(name, Harness.schedule("rate(1 hour)", ["State": name == "a2" ? "DISABLED" : "ENABLED"]))
        }
        try await h.create("a4", Harness.schedule("rate(1 hour)", ["GroupName": "team"]))

        func names(_ query: [(String, String)]) async throws -> ([String], String?) {
            let listed = try await h.call("ListSchedules", query: query).document
            return (
                listed["Schedules"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } ?? [],
                listed["NextToken"]?.stringValue
            )
        }
        #expect(try await names([]).0 == ["a1", "a2", "a3", "a4", "b1"])
        #expect(try await names([("NamePrefix", "a")]).0 == ["a1", "a2", "a3", "a4"])
        #expect(try await names([("ScheduleGroup", "team")]).0 == ["a4"])
        #expect(try await names([("State", "DISABLED")]).0 == ["a2"])
        let (first, token) = try await names([("MaxResults", "2")])
        #expect(first == ["a1", "a2"])
        let (second, end) = try await names([("MaxResults", "3"), ("NextToken", try #require(token))])
        #expect(second == ["a3", "a4", "b1"])
        #expect(end == nil)
        let missing = await h.failure("ListSchedules", query: [("ScheduleGroup", "nope")])
        #expect(missing?.message == "Schedule group nope does not exist.")
        let tooMany = await h.failure("ListSchedules", query: [("MaxResults", "101")])
        #expect(tooMany?.code == "ValidationException")
    }
}
