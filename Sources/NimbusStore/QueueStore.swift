import NimbusCore

/// Where SQS queues and their messages persist. The SQS service keeps every queue's definition in memory and writes
/// here before it acknowledges a change; messages live only here, and every message operation is one durable
/// transaction (a sent message is acknowledged once committed with `synchronous = FULL`).
///
/// Visibility is stored as a deadline (`visible_at`), never as a timer, so a received message that is not deleted
/// becomes receivable again after its visibility timeout whatever happened to the process meanwhile. Receives read
/// through indexes: standard queues by `(queue, visible_at)`, FIFO queues through one row per message group holding
/// the time its head becomes receivable.
///
/// The embedded default is ``SQLiteQueueStore``.
public protocol QueueStore: Sendable {
    /// Every queue of every namespace.
    func loadQueues() async throws -> [QueueRecord]
    /// Inserts a queue; returns its id (never reused, so receipt handles of a deleted queue stay dead).
    /// - Throws: ``QueueStoreError/queueExists`` when the namespace has a queue of that name.
    func createQueue(_ queue: NewQueueRecord) async throws -> Int64
    /// Replaces a queue's attributes and tags documents.
    func updateQueue(id: Int64, attributes: String, tags: String, modifiedMillis: Int64) async throws
    /// Deletes a queue with its messages, groups and deduplication records.
    func deleteQueue(id: Int64) async throws

    /// Stores messages in one durable transaction. For FIFO queues, a message whose deduplication key was seen within
    /// the window is not stored; its outcome names the original.
    func send(
        queueID: Int64,
        fifo: Bool,
        messages: [NewQueueMessage],
        deduplicationWindowMillis: Int64
    ) async throws
        -> [SendOutcome]
    /// Hands out up to `maxMessages` receivable messages, making them invisible until `nowMillis + visibilityMillis`,
    /// and first moves those that this receive would take past the redrive policy's `maxReceiveCount` to the
    /// dead-letter queue.
    func receive(_ request: ReceiveRequest) async throws -> ReceiveResult
    /// Deletes the messages the receipts name, as ``ReceiptOutcome`` says per receipt.
    func delete(queueID: Int64, receipts: [Receipt], nowMillis: Int64, fifo: Bool) async throws -> [ReceiptOutcome]
    /// Makes the messages the receipts name receivable at `nowMillis + visibilityMillis` (per receipt).
    func changeVisibility(
        queueID: Int64,
        changes: [(receipt: Receipt, visibilityMillis: Int64)],
        nowMillis: Int64,
        fifo: Bool,
        maximumMillis: Int64
    ) async throws -> [ReceiptOutcome]
    /// Deletes every message of a queue (dedup records stay: AWS keeps deduplicating across a purge).
    func purge(queueID: Int64) async throws
    /// Deletes the queue's messages sent before `cutoffMillis` (retention).
    func expire(queueID: Int64, sentBeforeMillis cutoffMillis: Int64) async throws -> Int
    /// Forgets deduplication records older than `beforeMillis`, in every queue.
    func forgetDeduplication(before beforeMillis: Int64) async throws
    /// ApproximateNumberOfMessages, …NotVisible, …Delayed.
    func counts(queueID: Int64, nowMillis: Int64) async throws -> QueueCounts
    /// The earliest time after `nowMillis` at which a message of the queue becomes receivable (nil: none pending).
    func nextReceivableMillis(queueID: Int64, nowMillis: Int64, fifo: Bool) async throws -> Int64?
    /// Moves up to `limit` of the oldest messages of `sourceQueueID` to the queue `destination` picks for each (nil
    /// leaves a message where it is and ends the batch), as new messages there: receive count reset, visible now.
    func move(
        from sourceQueueID: Int64,
        limit: Int,
        nowMillis: Int64,
        destination: @escaping @Sendable (StoredMessage) -> MoveDestination?
    ) async throws -> MoveResult
    /// The secret receipt handles are authenticated with, created on first use.
    func receiptKey() async throws -> [UInt8]
}

/// One stored queue: its namespace, name and the service's documents (attributes and tags, JSON).
public struct QueueRecord: Sendable, Equatable {
    public var id: Int64
    public var namespace: AccountContext
    public var name: String
    public var attributes: String
    public var tags: String
    public var createdMillis: Int64
    public var modifiedMillis: Int64

    public init(
        id: Int64,
        namespace: AccountContext,
        name: String,
        attributes: String,
        tags: String,
        createdMillis: Int64,
        modifiedMillis: Int64
    ) {
        self.id = id
        self.namespace = namespace
        self.name = name
        self.attributes = attributes
        self.tags = tags
        self.createdMillis = createdMillis
        self.modifiedMillis = modifiedMillis
    }
}

/// A queue to insert (its id is the store's).
public struct NewQueueRecord: Sendable, Equatable {
    public var namespace: AccountContext
    public var name: String
    public var attributes: String
    public var tags: String
    public var createdMillis: Int64

    public init(namespace: AccountContext, name: String, attributes: String, tags: String, createdMillis: Int64) {
        self.namespace = namespace
        self.name = name
        self.attributes = attributes
        self.tags = tags
        self.createdMillis = createdMillis
    }
}

public enum QueueStoreError: Error, Sendable, Equatable {
    /// The namespace has a queue of that name already.
    case queueExists
}

/// A message to store.
public struct NewQueueMessage: Sendable, Equatable {
    public var messageID: String
    public var body: String
    /// The message attributes in the service's encoding (nil: none).
    public var attributes: [UInt8]?
    public var md5OfBody: String
    public var md5OfAttributes: String?
    /// System attributes kept with the message (`SenderId`, `AWSTraceHeader`, `DeadLetterQueueSourceArn`), JSON.
    public var systemAttributes: String
    public var sentMillis: Int64
    /// When it first becomes receivable (sent time plus its delay).
    public var visibleMillis: Int64
    /// FIFO (and fair standard queues): the message group.
    public var groupID: String?
    /// FIFO: the deduplication id (explicit or content-based).
    public var deduplicationID: String?
    /// FIFO: the deduplication scope key (`""` for the queue, the group id for `messageGroup` scope); nil: no
    /// deduplication.
    public var deduplicationScope: String?

    public init(
        messageID: String,
        body: String,
        attributes: [UInt8]?,
        md5OfBody: String,
        md5OfAttributes: String?,
        systemAttributes: String,
        sentMillis: Int64,
        visibleMillis: Int64,
        groupID: String? = nil,
        deduplicationID: String? = nil,
        deduplicationScope: String? = nil
    ) {
        self.messageID = messageID
        self.body = body
        self.attributes = attributes
        self.md5OfBody = md5OfBody
        self.md5OfAttributes = md5OfAttributes
        self.systemAttributes = systemAttributes
        self.sentMillis = sentMillis
        self.visibleMillis = visibleMillis
        self.groupID = groupID
        self.deduplicationID = deduplicationID
        self.deduplicationScope = deduplicationScope
    }
}

public enum SendOutcome: Sendable, Equatable {
    /// Stored with this sequence (the row's, increasing per database).
    case stored(sequence: Int64)
    /// A duplicate within the deduplication window: not stored; the original's id and sequence.
    case duplicate(messageID: String, sequence: Int64)
}

/// A message as stored.
public struct StoredMessage: Sendable, Equatable {
    public var sequence: Int64
    public var messageID: String
    public var body: String
    public var attributes: [UInt8]?
    public var md5OfBody: String
    public var md5OfAttributes: String?
    public var systemAttributes: String
    public var sentMillis: Int64
    public var receiveCount: Int
    public var firstReceiveMillis: Int64?
    public var groupID: String?
    public var deduplicationID: String?
    /// `DeadLetterQueueSourceArn`: the queue a dead-lettered message came from.
    public var deadLetterSourceARN: String?

    public init(
        sequence: Int64,
        messageID: String,
        body: String,
        attributes: [UInt8]?,
        md5OfBody: String,
        md5OfAttributes: String?,
        systemAttributes: String,
        sentMillis: Int64,
        receiveCount: Int,
        firstReceiveMillis: Int64?,
        groupID: String?,
        deduplicationID: String?,
        deadLetterSourceARN: String? = nil
    ) {
        self.deadLetterSourceARN = deadLetterSourceARN
        self.sequence = sequence
        self.messageID = messageID
        self.body = body
        self.attributes = attributes
        self.md5OfBody = md5OfBody
        self.md5OfAttributes = md5OfAttributes
        self.systemAttributes = systemAttributes
        self.sentMillis = sentMillis
        self.receiveCount = receiveCount
        self.firstReceiveMillis = firstReceiveMillis
        self.groupID = groupID
        self.deduplicationID = deduplicationID
    }
}

/// What one receive asks of the store.
public struct ReceiveRequest: Sendable, Equatable {
    public var queueID: Int64
    public var fifo: Bool
    public var maxMessages: Int
    public var nowMillis: Int64
    public var visibilityMillis: Int64
    /// Messages sent before this are past the retention period: never handed out (and deleted).
    public var retentionCutoffMillis: Int64
    public var redrive: Redrive?

    /// Where messages go that would be received more than `maxReceiveCount` times.
    public struct Redrive: Sendable, Equatable {
        public var maxReceiveCount: Int
        public var deadLetterQueueID: Int64
        public var deadLetterQueueFIFO: Bool
        /// `DeadLetterQueueSourceArn` of the moved messages.
        public var sourceARN: String

        public init(maxReceiveCount: Int, deadLetterQueueID: Int64, deadLetterQueueFIFO: Bool, sourceARN: String) {
            self.maxReceiveCount = maxReceiveCount
            self.deadLetterQueueID = deadLetterQueueID
            self.deadLetterQueueFIFO = deadLetterQueueFIFO
            self.sourceARN = sourceARN
        }
    }

    public init(
        queueID: Int64,
        fifo: Bool,
        maxMessages: Int,
        nowMillis: Int64,
        visibilityMillis: Int64,
        retentionCutoffMillis: Int64,
        redrive: Redrive? = nil
    ) {
        self.queueID = queueID
        self.fifo = fifo
        self.maxMessages = maxMessages
        self.nowMillis = nowMillis
        self.visibilityMillis = visibilityMillis
        self.retentionCutoffMillis = retentionCutoffMillis
        self.redrive = redrive
    }
}

public struct ReceiveResult: Sendable, Equatable {
    /// The received messages, receive counts already incremented.
    public var messages: [StoredMessage]
    /// How many messages went to the dead-letter queue.
    public var deadLettered: Int

    public init(messages: [StoredMessage], deadLettered: Int) {
        self.messages = messages
        self.deadLettered = deadLettered
    }
}

/// What a receipt handle names: one receive (the `receiveCount`-th) of one message of one queue.
public struct Receipt: Sendable, Hashable {
    public var queueID: Int64
    public var sequence: Int64
    public var receiveCount: Int

    public init(queueID: Int64, sequence: Int64, receiveCount: Int) {
        self.queueID = queueID
        self.sequence = sequence
        self.receiveCount = receiveCount
    }
}

/// What happened to one receipt's message.
public enum ReceiptOutcome: Sendable, Equatable {
    /// Deleted, or its visibility changed.
    case done
    /// No such message (deleted already, purged, moved, expired).
    case gone
    /// The message was received again since: the receipt is not its latest.
    case superseded
    /// The receipt is its latest, but its visibility timeout has passed (FIFO: the receipt expired).
    case expired
    /// The new visibility timeout would keep the message invisible for more than the maximum since it was received.
    case beyondMaximum
}

public struct QueueCounts: Sendable, Equatable {
    public var visible: Int
    public var notVisible: Int
    public var delayed: Int

    public init(visible: Int, notVisible: Int, delayed: Int) {
        self.visible = visible
        self.notVisible = notVisible
        self.delayed = delayed
    }
}

/// Where a moved message goes.
public struct MoveDestination: Sendable, Equatable {
    public var queueID: Int64
    public var fifo: Bool

    public init(queueID: Int64, fifo: Bool) {
        self.queueID = queueID
        self.fifo = fifo
    }
}

public struct MoveResult: Sendable, Equatable {
    /// How many messages moved, per destination queue id.
    public var moved: [Int64: Int]
    /// Whether the source has no message left to move.
    public var exhausted: Bool

    public init(moved: [Int64: Int], exhausted: Bool) {
        self.moved = moved
        self.exhausted = exhausted
    }
}
