import Foundation
import NimbusCore
import Testing

@testable import NimbusCLI

/// `Event` invocations through the durable queue and the dispatcher, observed through Nimbus queues.
@Suite struct AsyncInvokeTests {
    func messages(_ s: TestServer, _ queue: String, count: Int) async throws -> [JSONValue] {
        for _ in 0..<300 {
            let list = try await s.client.call(.GET, "/_nimbus/queues/\(queue)/messages").json?["Messages"]?.arrayValue ?? []
            if list.count >= count { return list }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no \(count) message(s) on \(queue) within 15 s")
        return []
    }

    @Test func successAndFailureRecordsReachTheirDestinations() async throws {
        try await withTestServer(sandbox: .process) { s in
            let ok = unique("async-ok")
            let bad = unique("async-crash")
            try await s.createTestRuntimeFunction(ok, behaviour: "echo")
            try await s.createTestRuntimeFunction(bad, behaviour: "crash")
            let queue = unique("q")
            let arn = JSONValue.string("arn:aws:sqs:us-east-1:000000000000:\(queue)")
            _ = try await s.client.call(
                .PUT, "/2019-09-25/functions/\(ok)/event-invoke-config",
                json: ["DestinationConfig": ["OnSuccess": ["Destination": arn]]])
            _ = try await s.client.call(
                .PUT, "/2019-09-25/functions/\(bad)/event-invoke-config",
                json: ["MaximumRetryAttempts": 0, "DestinationConfig": ["OnFailure": ["Destination": arn]]])
            let first = try await s.invoke(ok, #"{"a":1}"#, type: "Event", tail: false)
            #expect(first.status == 202)
            #expect(first.body.isEmpty)
            let second = try await s.invoke(bad, #"{"b":2}"#, type: "Event", tail: false)
            #expect(second.status == 202)
            let list = try await self.messages(s, queue, count: 2)
            let records = list.compactMap { $0["Body"]?.stringValue.flatMap { JSONValue.parse(Array($0.utf8)) } }
            let byID = Dictionary(uniqueKeysWithValues: records.compactMap { r in
                r["requestContext"]?["requestId"]?.stringValue.map { ($0, r) }
            })
            let success = try #require(byID[first.requestID ?? ""])
            #expect(success["requestContext"]?["condition"] == "Success")
            #expect(success["requestContext"]?["approximateInvokeCount"] == 1)
            #expect(success["requestPayload"] == ["a": 1])
            #expect(success["responseContext"] == ["statusCode": 200, "executedVersion": "$LATEST"])
            let failure = try #require(byID[second.requestID ?? ""])
            #expect(failure["requestContext"]?["condition"] == "RetriesExhausted")
            #expect(failure["requestContext"]?["approximateInvokeCount"] == 1)
            #expect(failure["responseContext"]?["functionError"] == "Unhandled")
            let stats = try await s.client.call(.GET, "/_nimbus/async").json?["Functions"]
            #expect(stats?[bad]?["DeadLettered"] == 1)
            #expect(stats?[ok]?["Pending"] == 0)
        }
    }
}
