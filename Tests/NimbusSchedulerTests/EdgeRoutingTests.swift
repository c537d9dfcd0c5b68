import NimbusCore
import Testing

@testable import NimbusEdge
@testable import NimbusScheduler

/// The definition as the edge's router sees it: botocore's URIs for `scheduler` reach their operations.
@Suite struct EdgeRoutingTests {
    func route(
        _ method: String,
        _ segments: [String],
        signing: String? = "scheduler"
    ) throws -> (String, [String: String])? {
        let h = try Harness()
        defer { h.cleanUp() }
        let head = Router.Head(
            method: method,
            segments: segments,
            query: [],
            host: "127.0.0.1:9000",
            target: nil,
            signingName: signing,
            isSandbox: false
        )
        guard case .success(let route) = Router(services: [h.service.definition]).route(head),
            let operation = route.operation
        else { return nil }
        return (operation.name, route.labels)
    }

    @Test(arguments: [
        ("POST", "/schedules/s1", "CreateSchedule"), ("GET", "/schedules/s1", "GetSchedule"),
        ("PUT", "/schedules/s1", "UpdateSchedule"), ("DELETE", "/schedules/s1", "DeleteSchedule"),
        ("GET", "/schedules", "ListSchedules"),
        ("POST", "/schedule-groups/g1", "CreateScheduleGroup"), ("GET", "/schedule-groups/g1", "GetScheduleGroup"),
        ("DELETE", "/schedule-groups/g1", "DeleteScheduleGroup"), ("GET", "/schedule-groups", "ListScheduleGroups"),
        ("POST", "/tags/arn", "TagResource"), ("DELETE", "/tags/arn", "UntagResource"),
        ("GET", "/tags/arn", "ListTagsForResource"),
    ])
    func operations(_ method: String, _ path: String, _ operation: String) throws {
        let segments = path.split(separator: "/").map(String.init)
        #expect(try self.route(method, segments)?.0 == operation)
    }

    @Test func aTaggedARNIsOneLabel() throws {
        // botocore percent-encodes the ARN's slash; the edge decodes each segment after splitting.
        let arn = "arn:aws:scheduler:us-east-1:123456789012:schedule-group/team"
        #expect(try self.route("GET", ["tags", arn])?.1 == ["ResourceArn": arn])
    }
}
