import Foundation
import GRDB
import NimbusCore
import Synchronization

/// ``QueueStore`` in the embedded SQLite database (tables `sqs_*`, migration v7).
///
/// Every change goes through one ``GroupCommitWriter``: an operation returns once its transaction is committed with
/// `synchronous = FULL`, and concurrent operations share commits. Reads that change nothing (counts, the next
/// receivable time) read a snapshot.
///
/// FIFO queues keep one `sqs_groups` row per message group with `available_at`, the visibility deadline of the group's
/// head (its oldest message). A group is handed out from its head up to the first message that is not receivable,
/// which is what keeps a group with a message in flight from being received again, and what SQS itself does. The
/// rows are maintained by every write that changes a head; a row that is stale anyway (a head expired by retention)
/// is corrected by the next receive that reads it.
public final class SQLiteQueueStore: QueueStore {
    let database: NimbusDatabase
    let writer: GroupCommitWriter
    /// When each queue's expired messages were last deleted: receives do it at most once a second (between times
    /// they skip expired messages), so a receive costs no extra statement.
    let expiredAt = Mutex<[Int64: Int64]>([:])

    public init(database: NimbusDatabase) {
        self.database = database
        self.writer = GroupCommitWriter(pool: database.pool)
    }

    // MARK: Queues

    public func loadQueues() async throws -> [QueueRecord] {
        try await self.database.pool.read { db in
            try Row.fetchAll(db, SQLRequest(sql: "SELECT * FROM sqs_queues ORDER BY id", cached: true)).map { row in
                QueueRecord(
                    id: row["id"],
                    namespace: AccountContext(region: row["region"], accountID: row["account"]),
                    name: row["name"],
                    attributes: row["attributes"],
                    tags: row["tags"],
                    createdMillis: row["created_at"],
                    modifiedMillis: row["modified_at"]
                )
            }
        }
    }

    public func createQueue(_ queue: NewQueueRecord) async throws -> Int64 {
        try await self.writer.write { db in
            let exists =
                try Bool.fetchOne(
                    db,
                    SQLRequest(
                        sql: "SELECT EXISTS(SELECT 1 FROM sqs_queues WHERE account = ? AND region = ? AND name = ?)",
                        arguments: [queue.namespace.accountID, queue.namespace.region, queue.name],
                        cached: true
                    )
                ) ?? false
            if exists { throw QueueStoreError.queueExists }
            try db.cachedStatement(
                sql: """
                    INSERT INTO sqs_queues (account, region, name, attributes, tags, created_at, modified_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                queue.namespace.accountID, queue.namespace.region, queue.name, queue.attributes, queue.tags,
                queue.createdMillis, queue.createdMillis,
            ])
            return db.lastInsertedRowID
        }
    }

    public func updateQueue(id: Int64, attributes: String, tags: String, modifiedMillis: Int64) async throws {
        try await self.writer.write { db in
            try db.cachedStatement(sql: "UPDATE sqs_queues SET attributes = ?, tags = ?, modified_at = ? WHERE id = ?")
                .execute(arguments: [attributes, tags, modifiedMillis, id])
        }
    }

    public func deleteQueue(id: Int64) async throws {
        try await self.writer.write { db in
            try db.cachedStatement(sql: "DELETE FROM sqs_messages WHERE queue_id = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM sqs_groups WHERE queue_id = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM sqs_deduplication WHERE queue_id = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM sqs_queues WHERE id = ?").execute(arguments: [id])
        }
    }

    // MARK: Send

    public func send(
        queueID: Int64,
        fifo: Bool,
        messages: [NewQueueMessage],
        deduplicationWindowMillis: Int64
    )
        async throws -> [SendOutcome]
    {
        try await self.writer.write { db in
            var outcomes: [SendOutcome] = []
            outcomes.reserveCapacity(messages.count)
            for message in messages {
                if let scope = message.deduplicationScope, let dedupID = message.deduplicationID,
                    let original = try Row.fetchOne(
                        db,
                        SQLRequest(
                            sql: """
                                SELECT message_id, seq FROM sqs_deduplication
                                WHERE queue_id = ? AND scope = ? AND dedup_id = ? AND sent_at > ?
                                """,
                            arguments: [queueID, scope, dedupID, message.sentMillis - deduplicationWindowMillis],
                            cached: true
                        )
                    )
                {
                    outcomes.append(.duplicate(messageID: original["message_id"], sequence: original["seq"]))
                    continue
                }
                let sequence = try Self.insert(db, message, into: queueID, fifo: fifo)
                if let scope = message.deduplicationScope, let dedupID = message.deduplicationID {
                    try db.cachedStatement(
                        sql: """
                            INSERT OR REPLACE INTO sqs_deduplication (queue_id, scope, dedup_id, message_id, seq, sent_at)
                            VALUES (?, ?, ?, ?, ?, ?)
                            """
                    ).execute(arguments: [queueID, scope, dedupID, message.messageID, sequence, message.sentMillis])
                }
                outcomes.append(.stored(sequence: sequence))
            }
            return outcomes
        }
    }

    /// Inserts one message row (and its FIFO group's row when the group had none); returns its sequence.
    static func insert(
        _ db: Database,
        _ message: NewQueueMessage,
        into queueID: Int64,
        fifo: Bool,
        receiveCount: Int = 0,
        firstReceiveMillis: Int64? = nil,
        deadLetterSource: String? = nil
    ) throws -> Int64 {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO sqs_messages
                    (queue_id, message_id, body, attributes, md5_body, md5_attributes, system_attributes, sent_at,
                     visible_at, receive_count, first_received_at, group_id, dedup_id, dead_letter_source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        try statement.execute(arguments: [
            queueID, message.messageID, message.body, message.attributes.map { Data($0) }, message.md5OfBody,
            message.md5OfAttributes, message.systemAttributes, message.sentMillis, message.visibleMillis, receiveCount,
            firstReceiveMillis, message.groupID, message.deduplicationID, deadLetterSource,
        ])
        let sequence = db.lastInsertedRowID
        if fifo, let group = message.groupID {
            try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO sqs_groups (queue_id, group_id, available_at) VALUES (?, ?, ?)"
            ).execute(arguments: [queueID, group, message.visibleMillis])
        }
        return sequence
    }

    // MARK: Receive

    public func receive(_ request: ReceiveRequest) async throws -> ReceiveResult {
        let expire = self.expiredAt.withLock { last -> Bool in
            if let previous = last[request.queueID], request.nowMillis - previous < 1000 { return false }
            last[request.queueID] = request.nowMillis
            return true
        }
        return try await self.writer.write { db in
            if expire {
                try Self.expire(db, queueID: request.queueID, before: request.retentionCutoffMillis, fifo: request.fifo)
            }
            var received: [StoredMessage] = []
            var deadLettered = 0
            let deadline = request.nowMillis + request.visibilityMillis
            /// Hands out one message, or moves it to the dead-letter queue when this receive would exceed the
            /// redrive policy's count; returns whether it was handed out.
            func take(_ row: Row) throws -> Bool {
                var message = Self.message(row)
                if let redrive = request.redrive, message.receiveCount >= redrive.maxReceiveCount {
                    try Self.deadLetter(
                        db,
                        row,
                        message,
                        from: request.queueID,
                        redrive: redrive,
                        now: request.nowMillis
                    )
                    deadLettered += 1
                    return false
                }
                message.receiveCount += 1
                if message.firstReceiveMillis == nil { message.firstReceiveMillis = request.nowMillis }
                try db.cachedStatement(
                    sql: """
                        UPDATE sqs_messages SET receive_count = ?, first_received_at = ?, received_at = ?, visible_at = ?
                        WHERE seq = ?
                        """
                ).execute(arguments: [
                    message.receiveCount, message.firstReceiveMillis, request.nowMillis, deadline, message.sequence,
                ])
                received.append(message)
                return true
            }
            if request.fifo {
                var examined: Set<String> = []
                groups: while received.count < request.maxMessages {
                    let candidates = try String.fetchAll(
                        db,
                        SQLRequest(
                            sql: """
                                SELECT group_id FROM sqs_groups WHERE queue_id = ? AND available_at <= ?
                                ORDER BY available_at LIMIT ?
                                """,
                            arguments: [request.queueID, request.nowMillis, examined.count + 16],
                            cached: true
                        )
                    ).filter { !examined.contains($0) }
                    if candidates.isEmpty { break }
                    for group in candidates {
                        examined.insert(group)
                        let rows = try Row.fetchAll(
                            db,
                            SQLRequest(
                                sql:
                                    "SELECT * FROM sqs_messages WHERE queue_id = ? AND group_id = ? ORDER BY seq LIMIT ?",
                                arguments: [request.queueID, group, request.maxMessages - received.count + 10],
                                cached: true
                            )
                        )
                        for row in rows {
                            if received.count >= request.maxMessages { break }
                            // The group is handed out up to its first message that is not receivable (in flight or
                            // delayed): nothing behind an in-flight message is received before it.
                            guard (row["visible_at"] as Int64) <= request.nowMillis else { break }
                            guard (row["sent_at"] as Int64) >= request.retentionCutoffMillis else { continue }
                            _ = try take(row)
                        }
                        try Self.refreshGroup(db, queueID: request.queueID, group: group)
                        if received.count >= request.maxMessages { break groups }
                    }
                }
            } else {
                var taken: [Int64] = []
                while received.count < request.maxMessages {
                    // Messages taken with a visibility timeout of 0 stay receivable: later rounds (after dead-letter
                    // moves) exclude them, in a statement of their own rather than one of the cache.
                    let exclude =
                        taken.isEmpty ? "" : " AND seq NOT IN (\(taken.map(String.init).joined(separator: ",")))"
                    let rows = try Row.fetchAll(
                        db,
                        SQLRequest(
                            sql: """
                                SELECT * FROM sqs_messages WHERE queue_id = ? AND visible_at <= ? AND sent_at >= ?\(exclude)
                                ORDER BY visible_at LIMIT ?
                                """,
                            arguments: [
                                request.queueID, request.nowMillis, request.retentionCutoffMillis,
                                request.maxMessages - received.count,
                            ],
                            cached: taken.isEmpty
                        )
                    )
                    if rows.isEmpty { break }
                    for row in rows {
                        let sequence: Int64 = row["seq"]
                        if try take(row) { taken.append(sequence) }
                    }
                }
            }
            return ReceiveResult(messages: received, deadLettered: deadLettered)
        }
    }

    /// Moves a message to the dead-letter queue: same id, attributes and receive count, receivable now there.
    static func deadLetter(
        _ db: Database,
        _ row: Row,
        _ message: StoredMessage,
        from queueID: Int64,
        redrive: ReceiveRequest.Redrive,
        now: Int64
    ) throws {
        let copy = NewQueueMessage(
            messageID: message.messageID,
            body: message.body,
            attributes: message.attributes,
            md5OfBody: message.md5OfBody,
            md5OfAttributes: message.md5OfAttributes,
            systemAttributes: message.systemAttributes,
            sentMillis: message.sentMillis,
            visibleMillis: now,
            groupID: message.groupID,
            deduplicationID: message.deduplicationID
        )
        _ = try Self.insert(
            db,
            copy,
            into: redrive.deadLetterQueueID,
            fifo: redrive.deadLetterQueueFIFO,
            receiveCount: message.receiveCount,
            firstReceiveMillis: message.firstReceiveMillis,
            deadLetterSource: redrive.sourceARN
        )
        try db.cachedStatement(sql: "DELETE FROM sqs_messages WHERE seq = ?").execute(arguments: [message.sequence])
    }

    /// Refreshes those of `groups` the queue tracks (messages of theirs were deleted or moved).
    static func refreshTrackedGroups(_ db: Database, queueID: Int64, groups: some Sequence<String>) throws {
        for group in groups {
            let tracked =
                try Bool.fetchOne(
                    db,
                    SQLRequest(
                        sql: "SELECT EXISTS(SELECT 1 FROM sqs_groups WHERE queue_id = ? AND group_id = ?)",
                        arguments: [queueID, group],
                        cached: true
                    )
                ) ?? false
            if tracked { try Self.refreshGroup(db, queueID: queueID, group: group) }
        }
    }

    /// Sets a FIFO group's `available_at` to its head's visibility deadline, or removes the group when it is empty.
    static func refreshGroup(_ db: Database, queueID: Int64, group: String) throws {
        if let head = try Int64.fetchOne(
            db,
            SQLRequest(
                sql: "SELECT visible_at FROM sqs_messages WHERE queue_id = ? AND group_id = ? ORDER BY seq LIMIT 1",
                arguments: [queueID, group],
                cached: true
            )
        ) {
            try db.cachedStatement(sql: "UPDATE sqs_groups SET available_at = ? WHERE queue_id = ? AND group_id = ?")
                .execute(arguments: [head, queueID, group])
        } else {
            try db.cachedStatement(sql: "DELETE FROM sqs_groups WHERE queue_id = ? AND group_id = ?").execute(
                arguments: [queueID, group])
        }
    }

    static func message(_ row: Row) -> StoredMessage {
        StoredMessage(
            sequence: row["seq"],
            messageID: row["message_id"],
            body: row["body"],
            attributes: (row["attributes"] as Data?).map { Array($0) },
            md5OfBody: row["md5_body"],
            md5OfAttributes: row["md5_attributes"],
            systemAttributes: row["system_attributes"],
            sentMillis: row["sent_at"],
            receiveCount: row["receive_count"],
            firstReceiveMillis: row["first_received_at"],
            groupID: row["group_id"],
            deduplicationID: row["dedup_id"],
            deadLetterSourceARN: row["dead_letter_source"]
        )
    }

    // MARK: Delete and visibility

    public func delete(
        queueID: Int64,
        receipts: [Receipt],
        nowMillis: Int64,
        fifo: Bool
    ) async throws
        -> [ReceiptOutcome]
    {
        try await self.writer.write { db in
            var outcomes: [ReceiptOutcome] = []
            var groups: Set<String> = []
            for receipt in receipts {
                guard
                    let row = try Row.fetchOne(
                        db,
                        SQLRequest(
                            sql:
                                "SELECT receive_count, visible_at, group_id FROM sqs_messages WHERE seq = ? AND queue_id = ?",
                            arguments: [receipt.sequence, queueID],
                            cached: true
                        )
                    )
                else {
                    outcomes.append(.gone)
                    continue
                }
                guard (row["receive_count"] as Int) == receipt.receiveCount else {
                    outcomes.append(.superseded)
                    continue
                }
                // A FIFO receipt is good only while its message is in flight; a standard one until the next receive.
                if fifo, (row["visible_at"] as Int64) <= nowMillis {
                    outcomes.append(.expired)
                    continue
                }
                try db.cachedStatement(sql: "DELETE FROM sqs_messages WHERE seq = ?").execute(arguments: [
                    receipt.sequence
                ])
                if fifo, let group = row["group_id"] as String? { groups.insert(group) }
                outcomes.append(.done)
            }
            for group in groups { try Self.refreshGroup(db, queueID: queueID, group: group) }
            return outcomes
        }
    }

    public func changeVisibility(
        queueID: Int64,
        changes: [(receipt: Receipt, visibilityMillis: Int64)],
        nowMillis: Int64,
        fifo: Bool,
        maximumMillis: Int64
    ) async throws -> [ReceiptOutcome] {
        let changes = changes.map { Change(receipt: $0.receipt, visibilityMillis: $0.visibilityMillis) }
        return try await self.writer.write { db in
            var outcomes: [ReceiptOutcome] = []
            var groups: Set<String> = []
            for change in changes {
                guard
                    let row = try Row.fetchOne(
                        db,
                        SQLRequest(
                            sql: """
                                SELECT receive_count, visible_at, received_at, group_id FROM sqs_messages
                                WHERE seq = ? AND queue_id = ?
                                """,
                            arguments: [change.receipt.sequence, queueID],
                            cached: true
                        )
                    )
                else {
                    outcomes.append(.gone)
                    continue
                }
                guard (row["receive_count"] as Int) == change.receipt.receiveCount else {
                    outcomes.append(.superseded)
                    continue
                }
                if fifo, (row["visible_at"] as Int64) <= nowMillis {
                    outcomes.append(.expired)
                    continue
                }
                let deadline = nowMillis + change.visibilityMillis
                let receivedAt = (row["received_at"] as Int64?) ?? nowMillis
                guard deadline - receivedAt <= maximumMillis else {
                    outcomes.append(.beyondMaximum)
                    continue
                }
                try db.cachedStatement(sql: "UPDATE sqs_messages SET visible_at = ? WHERE seq = ?").execute(arguments: [
                    deadline, change.receipt.sequence,
                ])
                if fifo, let group = row["group_id"] as String? { groups.insert(group) }
                outcomes.append(.done)
            }
            for group in groups { try Self.refreshGroup(db, queueID: queueID, group: group) }
            return outcomes
        }
    }

    struct Change: Sendable {
        var receipt: Receipt
        var visibilityMillis: Int64
    }

    // MARK: Purge, retention, counts

    public func purge(queueID: Int64) async throws {
        try await self.writer.write { db in
            try db.cachedStatement(sql: "DELETE FROM sqs_messages WHERE queue_id = ?").execute(arguments: [queueID])
            try db.cachedStatement(sql: "DELETE FROM sqs_groups WHERE queue_id = ?").execute(arguments: [queueID])
        }
    }

    public func expire(queueID: Int64, sentBeforeMillis cutoffMillis: Int64) async throws -> Int {
        try await self.writer.write { db in
            try Self.expire(db, queueID: queueID, before: cutoffMillis, fifo: nil)
        }
    }

    /// Deletes messages past retention (indexed: nothing to do costs one index probe); refreshes their FIFO groups.
    @discardableResult
    static func expire(_ db: Database, queueID: Int64, before cutoff: Int64, fifo: Bool?) throws -> Int {
        let groups = try String.fetchAll(
            db,
            SQLRequest(
                sql:
                    "SELECT DISTINCT group_id FROM sqs_messages WHERE queue_id = ? AND sent_at < ? AND group_id IS NOT NULL",
                arguments: [queueID, cutoff],
                cached: true
            )
        )
        try db.cachedStatement(sql: "DELETE FROM sqs_messages WHERE queue_id = ? AND sent_at < ?").execute(arguments: [
            queueID, cutoff,
        ])
        let deleted = db.changesCount
        if fifo != false {
            try Self.refreshTrackedGroups(db, queueID: queueID, groups: groups)
        }
        return deleted
    }

    public func forgetDeduplication(before beforeMillis: Int64) async throws {
        try await self.writer.write { db in
            try db.cachedStatement(sql: "DELETE FROM sqs_deduplication WHERE sent_at < ?").execute(arguments: [
                beforeMillis
            ])
        }
    }

    public func counts(queueID: Int64, nowMillis: Int64) async throws -> QueueCounts {
        try await self.database.pool.read { db in
            let visible =
                try Int.fetchOne(
                    db,
                    SQLRequest(
                        sql: "SELECT COUNT(*) FROM sqs_messages WHERE queue_id = ? AND visible_at <= ?",
                        arguments: [queueID, nowMillis],
                        cached: true
                    )
                ) ?? 0
            let row = try Row.fetchOne(
                db,
                SQLRequest(
                    sql: """
                        SELECT COALESCE(SUM(receive_count > 0), 0) AS inflight, COALESCE(SUM(receive_count = 0), 0) AS delayed
                        FROM sqs_messages WHERE queue_id = ? AND visible_at > ?
                        """,
                    arguments: [queueID, nowMillis],
                    cached: true
                )
            )
            return QueueCounts(visible: visible, notVisible: row?["inflight"] ?? 0, delayed: row?["delayed"] ?? 0)
        }
    }

    public func nextReceivableMillis(queueID: Int64, nowMillis: Int64, fifo: Bool) async throws -> Int64? {
        try await self.database.pool.read { db in
            if fifo {
                return try Int64.fetchOne(
                    db,
                    SQLRequest(
                        sql: "SELECT MIN(available_at) FROM sqs_groups WHERE queue_id = ? AND available_at > ?",
                        arguments: [queueID, nowMillis],
                        cached: true
                    )
                )
            }
            return try Int64.fetchOne(
                db,
                SQLRequest(
                    sql: "SELECT MIN(visible_at) FROM sqs_messages WHERE queue_id = ? AND visible_at > ?",
                    arguments: [queueID, nowMillis],
                    cached: true
                )
            )
        }
    }

    // MARK: Moves

    public func move(
        from sourceQueueID: Int64,
        limit: Int,
        nowMillis: Int64,
        destination: @escaping @Sendable (StoredMessage) -> MoveDestination?
    ) async throws -> MoveResult {
        try await self.writer.write { db in
            let rows = try Row.fetchAll(
                db,
                SQLRequest(
                    sql:
                        "SELECT * FROM sqs_messages WHERE queue_id = ? AND visible_at <= ? ORDER BY visible_at LIMIT ?",
                    arguments: [sourceQueueID, nowMillis, limit],
                    cached: true
                )
            )
            var moved: [Int64: Int] = [:]
            var groups: Set<String> = []
            var blocked = false
            for row in rows {
                let message = Self.message(row)
                guard let target = destination(message) else {
                    blocked = true
                    break
                }
                // A redriven message is a new message in its destination: receivable now, never received, and no
                // longer dead-lettered; its id, body, attributes and sent time stay.
                let copy = NewQueueMessage(
                    messageID: message.messageID,
                    body: message.body,
                    attributes: message.attributes,
                    md5OfBody: message.md5OfBody,
                    md5OfAttributes: message.md5OfAttributes,
                    systemAttributes: message.systemAttributes,
                    sentMillis: message.sentMillis,
                    visibleMillis: nowMillis,
                    groupID: message.groupID,
                    deduplicationID: message.deduplicationID
                )
                _ = try Self.insert(db, copy, into: target.queueID, fifo: target.fifo)
                try db.cachedStatement(sql: "DELETE FROM sqs_messages WHERE seq = ?").execute(arguments: [
                    message.sequence
                ])
                if let group = message.groupID { groups.insert(group) }
                moved[target.queueID, default: 0] += 1
            }
            try Self.refreshTrackedGroups(db, queueID: sourceQueueID, groups: groups)
            let remaining =
                try Bool.fetchOne(
                    db,
                    SQLRequest(
                        sql: "SELECT EXISTS(SELECT 1 FROM sqs_messages WHERE queue_id = ?)",
                        arguments: [sourceQueueID],
                        cached: true
                    )
                )
                ?? false
            return MoveResult(moved: moved, exhausted: !remaining && !blocked)
        }
    }

    // MARK: Keys

    public func receiptKey() async throws -> [UInt8] {
        try await self.writer.write { db in
            if let key = try Data.fetchOne(
                db,
                SQLRequest(sql: "SELECT value FROM sqs_keys WHERE name = 'receipt'", cached: true)
            ) {
                return Array(key)
            }
            var generator = SystemRandomNumberGenerator()
            let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try db.cachedStatement(sql: "INSERT INTO sqs_keys (name, value) VALUES ('receipt', ?)").execute(arguments: [
                Data(key)
            ])
            return key
        }
    }
}
