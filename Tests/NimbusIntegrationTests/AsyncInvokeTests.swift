import Foundation
import NimbusCore
import Testing

@testable import NimbusCLI

/// `Event` invocations through the durable queue and the dispatcher, observed through an SQS destination queue.
@Suite struct AsyncInvokeTests {
    /// Creates an SQS queue through the service's own API (json 1.0) and returns its ARN.
    func createQueue(_ s: TestServer, _ name: String) async throws -> String {
        _ = try await s.client.call(
            .POST, "/", json: ["QueueName": .string(name)],
            headers: [("X-Amz-Target", "AmazonSQS.CreateQueue"), ("Content-Type", "application/x-amz-json-1.0")])
        return "arn:aws:sqs:us-east-1:000000000000:\(name)"
    }

    /// Receives (and deletes) until `count` messages have arrived, through SQS's in-process API.
    func messages(_ s: TestServer, _ arn: String, count: Int) async throws -> [String] {
        let sqs = try #require(s.server.components.withLock { $0?.sqs })
        var bodies: [String] = []
        for _ in 0..<30 where bodies.count < count {
            let batch = try await sqs.receive(queueARN: arn, maxMessages: 10, waitSeconds: 1)
            bodies += batch.map(\.body)
            if !batch.isEmpty { try await sqs.delete(queueARN: arn, receiptHandles: batch.map(\.receiptHandle)) }
        }
        if bodies.count < count { Issue.record("\(bodies.count) of \(count) message(s) on \(arn) within 30 s") }
        return bodies
    }

    @Test func successAndFailureRecordsReachTheirDestinations() async throws {
        try await withTestServer(sandbox: .process) { s in
            let ok = unique("async-ok")
            let bad = unique("async-crash")
            try await s.createTestRuntimeFunction(ok, behaviour: "echo")
            try await s.createTestRuntimeFunction(bad, behaviour: "crash")
            let queueARN = try await self.createQueue(s, unique("q"))
            let arn = JSONValue.string(queueARN)
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
            let records = try await self.messages(s, queueARN, count: 2).compactMap { JSONValue.parse(Array($0.utf8)) }
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
