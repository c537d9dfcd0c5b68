import Foundation
import NimbusCore
import NimbusEdge
import Testing

@testable import NimbusScheduler

@Suite struct GroupOperationTests {
    static let teamARN = "arn:aws:scheduler:us-east-1:123456789012:schedule-group/team"

    @Test func theDefaultGroupAlwaysExists() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let got = try await h.call("GetScheduleGroup", labels: ["Name": "default"]).document
        #expect(
            got
                == [
                    "Arn": "arn:aws:scheduler:us-east-1:123456789012:schedule-group/default",
                    "CreationDate": .number(Double(Harness.start) / 1000),
                    "LastModificationDate": .number(Double(Harness.start) / 1000), "Name": "default",
                    "State": "ACTIVE",
                ]
        )
        let listed = try await h.call("ListScheduleGroups").document
        #expect(listed["ScheduleGroups"]?.arrayValue?.count == 1)
        let delete = await h.failure("DeleteScheduleGroup", labels: ["Name": "default"])
        #expect(delete?.code == "ValidationException")
        // Another namespace has its own default group.
        var other = h
        other.namespace = AccountContext(region: "eu-west-1", accountID: "123456789012")
        #expect(
            try await other.call("GetScheduleGroup", labels: ["Name": "default"]).document["Arn"]
                == "arn:aws:scheduler:eu-west-1:123456789012:schedule-group/default"
        )
    }

    @Test func createGetListDeleteWithItsSchedules() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let created = try await h.call(
            "CreateScheduleGroup",
            labels: ["Name": "team"],
            body: ["Tags": [["Key": "owner", "Value": "ops"]]]
        ).document
        #expect(created == ["ScheduleGroupArn": .string(Self.teamARN)])
        let conflict = await h.failure("CreateScheduleGroup", labels: ["Name": "team"])
        #expect(conflict?.code == "ConflictException")
        #expect(conflict?.message == "Schedule group team already exists.")
        #expect(try await h.call("GetScheduleGroup", labels: ["Name": "team"]).document["State"] == "ACTIVE")
        let names = try await h.call("ListScheduleGroups").document["ScheduleGroups"]?.arrayValue?.compactMap {
            $0["Name"]?.stringValue
        }
        #expect(names == ["default", "team"])
        #expect(
            try await h.call("ListScheduleGroups", query: [("NamePrefix", "te")]).document["ScheduleGroups"]?
                .arrayValue?.count == 1
        )

        try await h.create("in-team", Harness.schedule("rate(1 hour)", ["GroupName": "team"]))
        try await h.create("in-default", Harness.schedule("rate(1 hour)"))
        try await h.call("DeleteScheduleGroup", labels: ["Name": "team"])
        let gone = await h.failure("GetScheduleGroup", labels: ["Name": "team"])
        #expect(gone?.code == "ResourceNotFoundException")
        #expect(gone?.message == "Schedule group team does not exist.")
        #expect(await h.failure("GetSchedule", labels: ["Name": "in-team"], query: [("groupName", "team")]) != nil)
        #expect(try await h.get("in-default")["Name"] == "in-default")

        // Deleted with the group in the store too.
        let restarted = try await Harness(restarting: h)
        #expect(await restarted.failure("GetScheduleGroup", labels: ["Name": "team"]) != nil)
        #expect(try await restarted.call("ListSchedules").document["Schedules"]?.arrayValue?.count == 1)
    }

    @Test func tags() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try await h.call(
            "CreateScheduleGroup",
            labels: ["Name": "team"],
            body: ["Tags": [["Key": "owner", "Value": "ops"]]]
        )
        try await h.call(
            "TagResource",
            labels: ["ResourceArn": Self.teamARN],
            body: ["Tags": [["Key": "env", "Value": "prod"], ["Key": "owner", "Value": "dev"]]]
        )
        let tags = try await h.call("ListTagsForResource", labels: ["ResourceArn": Self.teamARN]).document
        #expect(tags == ["Tags": [["Key": "owner", "Value": "dev"], ["Key": "env", "Value": "prod"]]])
        try await h.call(
            "UntagResource",
            labels: ["ResourceArn": Self.teamARN],
            query: [("TagKeys", "owner"), ("TagKeys", "x")]
        )
        #expect(
            try await h.call("ListTagsForResource", labels: ["ResourceArn": Self.teamARN]).document
                == ["Tags": [["Key": "env", "Value": "prod"]]]
        )

        // Only groups take tags.
        let schedule = await h.failure(
            "ListTagsForResource",
            labels: ["ResourceArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/x"]
        )
        #expect(schedule?.code == "ValidationException")
        let missing = await h.failure(
            "TagResource",
            labels: ["ResourceArn": "arn:aws:scheduler:us-east-1:123456789012:schedule-group/nope"],
            body: ["Tags": [["Key": "a", "Value": "b"]]]
        )
        #expect(missing?.message == "Schedule group nope does not exist.")
        let otherAccount = await h.failure(
            "ListTagsForResource",
            labels: ["ResourceArn": "arn:aws:scheduler:us-east-1:999999999999:schedule-group/team"]
        )
        #expect(otherAccount?.code == "ResourceNotFoundException")

        let restarted = try await Harness(restarting: h)
        #expect(
            try await restarted.call("ListTagsForResource", labels: ["ResourceArn": Self.teamARN]).document
                == ["Tags": [["Key": "env", "Value": "prod"]]]
        )
    }
}
