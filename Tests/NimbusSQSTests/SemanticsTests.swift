import Foundation
import NimbusCore
import NimbusStore
import Testing

@testable import NimbusSQS

/// Visibility, receive counts, redrive, retention, delay, FIFO groups and deduplication, on a real temporary
/// database with a manual clock (no sleeps).
@Suite struct SemanticsTests {
    @Test func aReceivedMessageComesBackAfterItsVisibilityTimeout() async throws {
        try await withHarness { h in
            _ = try await h.create("q", ["VisibilityTimeout": "30"])
            let id = try await h.service.send(queueARN: h.arn("q"), body: "hello")
            let first = try await h.service.receive(queueARN: h.arn("q"), maxMessages: 10, waitSeconds: 0)
            #expect(first.map(\.messageID) == [id])
            #expect(first[0].attributes["ApproximateReceiveCount"] == "1")
            #expect(try await h.service.receive(queueARN: h.arn("q"), maxMessages: 10, waitSeconds: 0).isEmpty)
            h.clock.advance(seconds: 29.9)
            #expect(try await h.service.receive(queueARN: h.arn("q"), maxMessages: 10, waitSeconds: 0).isEmpty)
            h.clock.advance(seconds: 0.2)
            let again = try await h.service.receive(queueARN: h.arn("q"), maxMessages: 10, waitSeconds: 0)
            #expect(again.map(\.messageID) == [id])
            #expect(again[0].attributes["ApproximateReceiveCount"] == "2")
            #expect(
                again[0].attributes["ApproximateFirstReceiveTimestamp"]
                    == first[0].attributes["ApproximateFirstReceiveTimestamp"]
            )
            #expect(again[0].receiptHandle != first[0].receiptHandle)
        }
    }

    @Test func visibilityDeadlinesSurviveARestart() async throws {
        try await withHarness { h in
            _ = try await h.create("q", ["VisibilityTimeout": "10"])
            _ = try await h.service.send(queueARN: h.arn("q"), body: "durable")
            let received = try await h.service.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 0)
            let restarted = try await h.restarted()
            #expect(try await restarted.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 0).isEmpty)
            h.clock.advance(seconds: 11)
            let back = try await restarted.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 0)
            #expect(back.map(\.body) == ["durable"])
            // The handle of the receive before the restart is old now: deleting with it leaves the message.
            try await restarted.delete(queueARN: h.arn("q"), receiptHandles: [received[0].receiptHandle])
            try await restarted.delete(queueARN: h.arn("q"), receiptHandles: [back[0].receiptHandle])
            h.clock.advance(seconds: 11)
            #expect(try await restarted.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 0).isEmpty)
        }
    }

    @Test func standardDeletesNeedTheLatestHandleButNeverFail() async throws {
        try await withHarness { h in
            _ = try await h.create("q", ["VisibilityTimeout": "5"])
            _ = try await h.service.send(queueARN: h.arn("q"), body: "x")
            let first = try await h.service.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 0)[0]
            h.clock.advance(seconds: 6)
            let second = try await h.service.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 0)[0]
            try await h.service.delete(queueARN: h.arn("q"), receiptHandles: [first.receiptHandle])
            h.clock.advance(seconds: 6)
            // Still there: the old handle did not delete it. The latest one does, even after its timeout.
            let third = try await h.service.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 0)[0]
            #expect(third.messageID == second.messageID)
            h.clock.advance(seconds: 6)
            try await h.service.delete(queueARN: h.arn("q"), receiptHandles: [third.receiptHandle])
            h.clock.advance(seconds: 6)
            #expect(try await h.service.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 0).isEmpty)
            await #expect {
                try await h.service.delete(queueARN: h.arn("q"), receiptHandles: ["forged"])
            } throws: { SQSError.matches($0, "ReceiptHandleIsInvalid") }
        }
    }

    @Test func changeVisibilityAndItsLimit() async throws {
        try await withHarness { h in
            _ = try await h.create("q")
            _ = try await h.service.send(queueARN: h.arn("q"), body: "x")
            let message = try await h.service.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 0)[0]
            try await h.service.changeVisibility(
                queueARN: h.arn("q"),
                receiptHandle: message.receiptHandle,
                timeoutSeconds: 0
            )
            let back = try await h.service.receive(
                queueARN: h.arn("q"),
                maxMessages: 1,
                waitSeconds: 0,
                visibilityTimeout: 100
            )
            #expect(back.count == 1)
            h.clock.advance(seconds: 50)
            // 12 hours at most since the receive.
            await #expect {
                try await h.service.changeVisibility(
                    queueARN: h.arn("q"),
                    receiptHandle: back[0].receiptHandle,
                    timeoutSeconds: 43_200
                )
            } throws: { SQSError.matches($0, "InvalidParameterValueException") }
            try await h.service.changeVisibility(
                queueARN: h.arn("q"),
                receiptHandle: back[0].receiptHandle,
                timeoutSeconds: 43_150
            )
            await #expect {
                try await h.service.changeVisibility(
                    queueARN: h.arn("q"),
                    receiptHandle: message.receiptHandle,
                    timeoutSeconds: 1
                )
            } throws: { SQSError.matches($0, "InvalidParameterValueException") }
        }
    }

    @Test func delaysOfTheQueueAndOfTheMessage() async throws {
        try await withHarness { h in
            let url = try await h.create("q", ["DelaySeconds": "10"])
            _ = try await h.service.send(queueARN: h.arn("q"), body: "queue delay")
            _ = try await h.call(
                { $0.sendMessage },
                ["QueueUrl": .string(url), "MessageBody": "no delay", "DelaySeconds": 0]
            )
            let attributes = try await h.call(
                { $0.getQueueAttributes },
                ["QueueUrl": .string(url), "AttributeNames": ["All"]]
            )
            #expect(attributes["Attributes"]?["ApproximateNumberOfMessagesDelayed"] == "1")
            #expect(attributes["Attributes"]?["ApproximateNumberOfMessages"] == "1")
            #expect(
                try await h.service.receive(queueARN: h.arn("q"), maxMessages: 10, waitSeconds: 0).map(\.body) == [
                    "no delay"
                ]
            )
            h.clock.advance(seconds: 10)
            #expect(
                try await h.service.receive(queueARN: h.arn("q"), maxMessages: 10, waitSeconds: 0).map(\.body) == [
                    "queue delay"
                ]
            )
        }
    }

    @Test func retentionExpiresMessages() async throws {
        try await withHarness { h in
            _ = try await h.create("q", ["MessageRetentionPeriod": "60"])
            _ = try await h.service.send(queueARN: h.arn("q"), body: "old")
            h.clock.advance(seconds: 61)
            _ = try await h.service.send(queueARN: h.arn("q"), body: "new")
            #expect(
                try await h.service.receive(queueARN: h.arn("q"), maxMessages: 10, waitSeconds: 0).map(\.body) == [
                    "new"
                ]
            )
        }
    }

    @Test func redriveOnTheReceiveThatWouldExceedMaxReceiveCount() async throws {
        try await withHarness { h in
            _ = try await h.create("dlq")
            let policy = #"{"deadLetterTargetArn":"\#(h.arn("dlq"))","maxReceiveCount":2}"#
            _ = try await h.create("src", ["VisibilityTimeout": "1", "RedrivePolicy": policy])
            let id = try await h.service.send(queueARN: h.arn("src"), body: "poison")
            for count in 1...2 {
                let got = try await h.service.receive(queueARN: h.arn("src"), maxMessages: 1, waitSeconds: 0)
                #expect(got.first?.attributes["ApproximateReceiveCount"] == String(count))
                h.clock.advance(seconds: 1.5)
            }
            #expect(try await h.service.receive(queueARN: h.arn("src"), maxMessages: 1, waitSeconds: 0).isEmpty)
            let dead = try await h.service.receive(queueARN: h.arn("dlq"), maxMessages: 1, waitSeconds: 0)
            #expect(dead.map(\.messageID) == [id])
            #expect(dead.first?.attributes["DeadLetterQueueSourceArn"] == h.arn("src"))
            #expect(dead.first?.attributes["ApproximateReceiveCount"] == "3")
            let sources = try await h.call(
                { $0.listDeadLetterSourceQueues },
                ["QueueUrl": "http://localhost:9000/123456789012/dlq"]
            )
            #expect(sources["queueUrls"] == ["http://localhost:9000/123456789012/src"])

            // Back to the source with a move task (run here to completion).
            h.clock.advance(seconds: 31)
            guard let dlq = h.service.catalog.queue(arn: QueueARN(h.arn("dlq"))!) else {
                throw SQSError.queueDoesNotExist
            }
            #expect(
                h.service.moves.begin(
                    MoveTasks.Record(id: "t", sourceARN: h.arn("dlq"), status: .running, toMove: 1, startedMillis: 0)
                )
            )
            await h.service.runMove(id: "t", source: dlq, destinationID: nil, rate: 500)
            #expect(h.service.moves.record(h.arn("dlq"), "t")?.status == .completed)
            let redriven = try await h.service.receive(queueARN: h.arn("src"), maxMessages: 1, waitSeconds: 0)
            #expect(redriven.map(\.messageID) == [id])
            #expect(redriven.first?.attributes["ApproximateReceiveCount"] == "1")
            #expect(redriven.first?.attributes["DeadLetterQueueSourceArn"] == nil)
        }
    }

    @Test func redrivePoliciesNeedAnExistingTargetOfTheSameTypeThatAllowsIt() async throws {
        try await withHarness { h in
            _ = try await h.create("deny", ["RedriveAllowPolicy": #"{"redrivePermission":"denyAll"}"#])
            _ = try await h.create("f.fifo", ["FifoQueue": "true"])
            for target in ["missing", "deny", "f.fifo"] {
                let policy = #"{"deadLetterTargetArn":"\#(h.arn(target))","maxReceiveCount":2}"#
                await #expect {
                    _ = try await h.create(
                        "src-\(target.replacingOccurrences(of: ".", with: "-"))",
                        ["RedrivePolicy": policy]
                    )
                } throws: { SQSError.matches($0, "InvalidParameterValueException") }
            }
        }
    }

    @Test func fifoGroupsInOrderOneBatchInFlightPerGroup() async throws {
        try await withHarness { h in
            _ = try await h.create(
                "f.fifo",
                ["FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "30"]
            )
            for i in 0..<4 { _ = try await h.service.send(queueARN: h.arn("f.fifo"), body: "a\(i)", groupID: "A") }
            for i in 0..<2 { _ = try await h.service.send(queueARN: h.arn("f.fifo"), body: "b\(i)", groupID: "B") }
            let first = try await h.service.receive(queueARN: h.arn("f.fifo"), maxMessages: 1, waitSeconds: 0)
            #expect(first.map(\.body) == ["a0"])
            // Group A is in flight: the next receive gets B, in order, and nothing of A.
            let second = try await h.service.receive(queueARN: h.arn("f.fifo"), maxMessages: 10, waitSeconds: 0)
            #expect(second.map(\.body) == ["b0", "b1"])
            #expect(try await h.service.receive(queueARN: h.arn("f.fifo"), maxMessages: 10, waitSeconds: 0).isEmpty)
            try await h.service.delete(queueARN: h.arn("f.fifo"), receiptHandles: [first[0].receiptHandle])
            let rest = try await h.service.receive(queueARN: h.arn("f.fifo"), maxMessages: 10, waitSeconds: 0)
            #expect(rest.map(\.body) == ["a1", "a2", "a3"])
            #expect(rest.map { $0.attributes["MessageGroupId"] } == ["A", "A", "A"])
            let sequences = rest.compactMap { $0.attributes["SequenceNumber"] }
            #expect(sequences == sequences.sorted() && sequences.count == 3)
            // A message whose visibility expires is handed out again before anything behind it.
            h.clock.advance(seconds: 31)
            let again = try await h.service.receive(queueARN: h.arn("f.fifo"), maxMessages: 10, waitSeconds: 0)
            #expect(again.map(\.body) == ["a1", "a2", "a3", "b0", "b1"])
            // A FIFO receipt is good only while its message is in flight.
            h.clock.advance(seconds: 31)
            await #expect {
                try await h.service.delete(queueARN: h.arn("f.fifo"), receiptHandles: [again[0].receiptHandle])
            } throws: { SQSError.matches($0, "InvalidParameterValueException") }
        }
    }

    @Test func fifoDeduplicationForFiveMinutes() async throws {
        try await withHarness { h in
            _ = try await h.create("f.fifo", ["FifoQueue": "true", "ContentBasedDeduplication": "true"])
            let a = try await h.service.send(queueARN: h.arn("f.fifo"), body: "same", groupID: "g")
            let b = try await h.service.send(queueARN: h.arn("f.fifo"), body: "same", groupID: "other")
            let c = try await h.service.send(
                queueARN: h.arn("f.fifo"),
                body: "different",
                groupID: "g",
                deduplicationID: "d1"
            )
            let d = try await h.service.send(
                queueARN: h.arn("f.fifo"),
                body: "again",
                groupID: "g",
                deduplicationID: "d1"
            )
            #expect(a == b && c == d && a != c)
            h.clock.advance(seconds: 301)
            let e = try await h.service.send(queueARN: h.arn("f.fifo"), body: "same", groupID: "g")
            #expect(e != a)
            let all = try await h.service.receive(queueARN: h.arn("f.fifo"), maxMessages: 10, waitSeconds: 0)
            #expect(all.map(\.body) == ["same", "different", "same"])
            await #expect {
                _ = try await h.service.send(queueARN: h.arn("f.fifo"), body: "x")
            } throws: { SQSError.matches($0, "MissingRequiredParameterException") }
        }
    }

    @Test func highThroughputFifoDeduplicatesPerGroup() async throws {
        try await withHarness { h in
            _ = try await h.create(
                "f.fifo",
                ["FifoQueue": "true", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"]
            )
            let a = try await h.service.send(queueARN: h.arn("f.fifo"), body: "1", groupID: "g1", deduplicationID: "d")
            let b = try await h.service.send(queueARN: h.arn("f.fifo"), body: "2", groupID: "g2", deduplicationID: "d")
            let c = try await h.service.send(queueARN: h.arn("f.fifo"), body: "3", groupID: "g1", deduplicationID: "d")
            #expect(a != b && a == c)
        }
    }

    @Test func receiveRequestAttemptIdReturnsTheSameMessages() async throws {
        try await withHarness { h in
            let url = try await h.create("f.fifo", ["FifoQueue": "true", "ContentBasedDeduplication": "true"])
            _ = try await h.service.send(queueARN: h.arn("f.fifo"), body: "one", groupID: "g")
            let request: [String: JSONValue] = ["QueueUrl": .string(url), "ReceiveRequestAttemptId": "attempt-1"]
            let first = try await h.call({ $0.receiveMessage }, request)
            let retry = try await h.call({ $0.receiveMessage }, request)
            #expect(first == retry && first["Messages"]?.arrayValue?.count == 1)
        }
    }

    @Test func controlPlaneRules() async throws {
        try await withHarness { h in
            let url = try await h.create("q", ["DelaySeconds": "5"])
            #expect(try await h.create("q", ["DelaySeconds": "5"]) == url)
            #expect(try await h.create("q") == url)
            await #expect(throws: SQSError.queueNameExists(attribute: "DelaySeconds")) {
                _ = try await h.create("q", ["DelaySeconds": "6"])
            }
            _ = try await h.call({ $0.purgeQueue }, ["QueueUrl": .string(url)])
            await #expect(throws: SQSError.purgeQueueInProgress("q")) {
                _ = try await h.call({ $0.purgeQueue }, ["QueueUrl": .string(url)])
            }
            _ = try await h.call({ $0.deleteQueue }, ["QueueUrl": .string(url)])
            await #expect(throws: SQSError.queueDoesNotExist) {
                _ = try await h.call({ $0.getQueueURL }, ["QueueName": "q"])
            }
            await #expect(throws: SQSError.queueDeletedRecently) { _ = try await h.create("q") }
            h.clock.advance(seconds: 60)
            #expect(try await h.create("q") == url)
            #expect(h.service.queueInfo(arn: h.arn("q"))! == (30, false))
            #expect(h.service.queueInfo(arn: h.arn("nope")) == nil)
        }
    }

    @Test func listQueuesPages() async throws {
        try await withHarness { h in
            for i in 0..<5 { _ = try await h.create("p\(i)") }
            _ = try await h.create("other")
            let page = try await h.call({ $0.listQueues }, ["QueueNamePrefix": "p", "MaxResults": 2])
            #expect(page["QueueUrls"]?.arrayValue?.count == 2)
            let token = try #require(page["NextToken"])
            let rest = try await h.call(
                { $0.listQueues },
                ["QueueNamePrefix": "p", "MaxResults": 10, "NextToken": token]
            )
            #expect(rest["QueueUrls"]?.arrayValue?.count == 3 && rest["NextToken"] == nil)
            let all = try await h.call({ $0.listQueues }, [:])
            #expect(all["QueueUrls"]?.arrayValue?.count == 6 && all["NextToken"] == nil)
        }
    }

    @Test func aLongPollReturnsAsSoonAsAMessageIsSent() async throws {
        try await withHarness { h in
            _ = try await h.create("q")
            let started = ContinuousClock.now
            async let received = h.service.receive(queueARN: h.arn("q"), maxMessages: 1, waitSeconds: 20)
            _ = try await h.service.send(queueARN: h.arn("q"), body: "wake up")
            #expect(try await received.map(\.body) == ["wake up"])
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func batchesReportEachEntry() async throws {
        try await withHarness { h in
            let url = try await h.create("q")
            let result = try await h.call(
                { $0.sendMessageBatch },
                [
                    "QueueUrl": .string(url),
                    "Entries": [
                        ["Id": "ok", "MessageBody": "fine"],
                        [
                            "Id": "bad", "MessageBody": "x",
                            "MessageAttributes": ["a": ["DataType": "Nope", "StringValue": "v"]],
                        ],
                    ],
                ]
            )
            #expect(result["Successful"]?.arrayValue?.map { $0["Id"] } == ["ok"])
            #expect(result["Failed"]?.arrayValue?.first?["Code"] == "InvalidParameterValue")
            await #expect(throws: SQSError.batchRequestTooLong(limit: 262_144, sent: 300_000)) {
                _ = try await h.call(
                    { $0.sendMessageBatch },
                    [
                        "QueueUrl": .string(url),
                        "Entries": [["Id": "big", "MessageBody": .string(String(repeating: "x", count: 300_000))]],
                    ]
                )
            }
            await #expect {
                _ = try await h.call(
                    { $0.sendMessage },
                    ["QueueUrl": .string(url), "MessageBody": .string(String(repeating: "x", count: 262_145))]
                )
            } throws: { SQSError.matches($0, "InvalidParameterValueException") }
        }
    }
}
