import Foundation
import GRDB
import NimbusCore
import NimbusStore
import Testing

@testable import NimbusSQS

/// `SQLiteQueueStore` directly: queues and messages round-trip through a reopened database; receives read indexes.
@Suite struct StoreTests {
    @Test func queuesAndMessagesRoundTrip() async throws {
        try await withHarness { h in
            let namespace = Harness.namespace
            let id = try await h.store.createQueue(
                NewQueueRecord(
                    namespace: namespace,
                    name: "q",
                    attributes: #"{"VisibilityTimeout":"30"}"#,
                    tags: "{}",
                    createdMillis: 5
                )
            )
            await #expect(throws: QueueStoreError.queueExists) {
                _ = try await h.store.createQueue(
                    NewQueueRecord(namespace: namespace, name: "q", attributes: "{}", tags: "{}", createdMillis: 6)
                )
            }
            let message = NewQueueMessage(
                messageID: "m-1",
                body: "body",
                attributes: Array(#"{"a":{"DataType":"String","StringValue":"v"}}"#.utf8),
                md5OfBody: "x",
                md5OfAttributes: "y",
                systemAttributes: #"{"SenderId":"s"}"#,
                sentMillis: 10,
                visibleMillis: 10
            )
            let outcomes = try await h.store.send(
                queueID: id,
                fifo: false,
                messages: [message],
                deduplicationWindowMillis: 1
            )
            guard case .stored(let sequence) = outcomes.first else { throw SQSError.internalError("not stored") }

            let reopened = SQLiteQueueStore(database: try NimbusDatabase(path: "\(h.root)/nimbus.sqlite"))
            #expect(try await reopened.loadQueues().map(\.name) == ["q"])
            let received = try await reopened.receive(
                ReceiveRequest(
                    queueID: id,
                    fifo: false,
                    maxMessages: 10,
                    nowMillis: 20,
                    visibilityMillis: 1000,
                    retentionCutoffMillis: 0
                )
            )
            #expect(received.messages.count == 1)
            let stored = try #require(received.messages.first)
            #expect(stored.sequence == sequence && stored.messageID == "m-1" && stored.body == "body")
            #expect(stored.attributes == message.attributes && stored.systemAttributes == message.systemAttributes)
            #expect(stored.receiveCount == 1 && stored.firstReceiveMillis == 20)
            #expect(
                try await reopened.counts(queueID: id, nowMillis: 21)
                    == QueueCounts(visible: 0, notVisible: 1, delayed: 0)
            )
            #expect(try await reopened.nextReceivableMillis(queueID: id, nowMillis: 21, fifo: false) == 1020)
            let deleted = try await reopened.delete(
                queueID: id,
                receipts: [Receipt(queueID: id, sequence: sequence, receiveCount: 1)],
                nowMillis: 30,
                fifo: false
            )
            #expect(deleted == [.done])
            #expect(
                try await reopened.counts(queueID: id, nowMillis: 30)
                    == QueueCounts(visible: 0, notVisible: 0, delayed: 0)
            )
            try await reopened.deleteQueue(id: id)
            #expect(try await reopened.loadQueues().isEmpty)
        }
    }

    @Test func receivesUseTheIndexes() async throws {
        try await withHarness { h in
            let plans = try await NimbusDatabase(path: "\(h.root)/nimbus.sqlite").pool.read { db in
                try [
                    "SELECT * FROM sqs_messages WHERE queue_id = 1 AND visible_at <= 5 ORDER BY visible_at LIMIT 10",
                    "SELECT group_id FROM sqs_groups WHERE queue_id = 1 AND available_at <= 5 ORDER BY available_at LIMIT 16",
                    "SELECT * FROM sqs_messages WHERE queue_id = 1 AND group_id = 'g' ORDER BY seq LIMIT 10",
                    "DELETE FROM sqs_messages WHERE queue_id = 1 AND sent_at < 5",
                ].map { sql in
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String? ?? "" }
                        .joined(separator: "; ")
                }
            }
            #expect(plans[0].contains("sqs_messages_visible") && !plans[0].contains("TEMP B-TREE"))
            #expect(plans[1].contains("sqs_groups_available") && !plans[1].contains("TEMP B-TREE"))
            #expect(plans[2].contains("sqs_messages_group") && !plans[2].contains("TEMP B-TREE"))
            #expect(plans[3].contains("sqs_messages_sent"))
        }
    }
}
