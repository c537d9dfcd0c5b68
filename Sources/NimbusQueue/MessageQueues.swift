import Foundation
import GRDB
import NimbusCore
import NimbusStore

/// Nimbus-native message queues: the targets of destinations and dead-letter queues named
/// `arn:aws:sqs:<region>:<account>:<name>`. Messages are stored in SQLite (table `queue_messages`) and read through
/// `GET /_nimbus/queues/<name>/messages`.
public struct MessageQueues: Sendable {
    public struct Message: Sendable, Equatable {
        public var messageID: String
        public var body: String
        /// SQS-style message attributes (name → string value), e.g. a DLQ message's `RequestID`.
        public var attributes: [String: String]
        public var sentAtMillis: Int64
    }

    let database: NimbusDatabase

    public init(database: NimbusDatabase) {
        self.database = database
    }

    /// The queue name of a Nimbus queue ARN, or nil when `arn` is not one.
    public static func queueName(of arn: String) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "sqs", !parts[5].isEmpty else { return nil }
        let name = String(parts[5])
        guard name.count <= 80, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
        else { return nil }
        return name
    }

    /// Appends a message (committed with `synchronous = FULL`).
    public func send(queue: String, body: String, attributes: [String: String] = [:]) async throws {
        let attributesJSON = String(decoding: try JSONEncoder().encode(attributes), as: UTF8.self)
        try await self.database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            try db.execute(
                sql: "INSERT INTO queue_messages (queue, message_id, body, attributes, sent_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [queue, UUID().uuidString.lowercased(), body, attributesJSON, Timestamp.nowMillis()])
        }
    }

    /// Messages of a queue in the order they were sent.
    public func messages(queue: String, limit: Int = 10_000) async throws -> [Message] {
        try await self.database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM queue_messages WHERE queue = ? ORDER BY id LIMIT ?", arguments: [queue, limit]
            ).map { row in
                let attributes = (try? JSONDecoder().decode([String: String].self, from: Data((row["attributes"] as String).utf8))) ?? [:]
                return Message(
                    messageID: row["message_id"], body: row["body"], attributes: attributes, sentAtMillis: row["sent_at"])
            }
        }
    }
}
