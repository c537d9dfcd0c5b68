import Foundation
import Logging
import NimbusCore
import NimbusEdge
import NimbusStore
import ServiceLifecycle
import Synchronization

/// Amazon SQS (2012-11-05): the json 1.0 protocol current SDKs speak (`X-Amz-Target: AmazonSQS.<Op>`, errors with
/// the query code in `x-amzn-query-error`), the query protocol older SDKs and the AWS CLI v2 of Debian speak (`Action=`
/// forms, XML answers), and an in-process API for Lambda (destinations, dead-letter queues, event source mappings).
///
/// Queues live in memory (``QueueCatalog``) and in the store, written before a change is acknowledged; messages live
/// only in the store, each operation one durable transaction (group-committed). Long polls wait on ``QueueSignals``.
///
/// As a `Service` it sweeps expired messages and old deduplication records once a minute, and at shutdown answers
/// every long poll at once and stops message move tasks.
public final class SQSService: Sendable, Service {
    let store: any QueueStore
    let logger: Logger
    let catalog = QueueCatalog()
    let signals = QueueSignals()
    let control = AsyncLock()
    let moves = MoveTasks()
    let attempts = ReceiveAttempts()
    /// Milliseconds since the epoch; injected by tests.
    let clock: @Sendable () -> Int64
    let handles = Handles()

    public convenience init(store: any QueueStore, logger: Logger) {
        self.init(store: store, logger: logger, clock: { Timestamp.nowMillis() })
    }

    init(store: any QueueStore, logger: Logger, clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.logger = logger
        self.clock = clock
    }

    /// Loads every stored queue into memory. The composition root calls it once, before the edge serves requests.
    public func load() async throws {
        self.handles.set(ReceiptHandles(key: try await self.store.receiptKey()))
        for record in try await self.store.loadQueues() {
            do {
                self.catalog.install(try Self.state(record))
            } catch {
                // One unreadable queue must not keep the server from starting; it stays in the store, unserved.
                self.logger.error(
                    "SQS queue not loaded",
                    metadata: ["sqs.queue.id": "\(record.id)", "sqs.queue.name": "\(record.name)", "error": "\(error)"]
                )
            }
        }
    }

    /// A stored queue as the catalog keeps it.
    static func state(_ record: QueueRecord) throws -> QueueState {
        guard let attributes = JSONValue.parse(Array(record.attributes.utf8))?.objectValue,
            let tags = JSONValue.parse(Array(record.tags.utf8))?.objectValue
        else { throw SQSError.internalError("The stored queue \(record.name) is not readable.") }
        let given = attributes.compactMapValues(\.stringValue)
        var configuration = QueueConfiguration(fifo: given["FifoQueue"] == "true")
        try configuration.apply(given)
        return QueueState(
            id: record.id,
            namespace: record.namespace,
            name: record.name,
            configuration: configuration,
            tags: tags.compactMapValues(\.stringValue),
            createdMillis: record.createdMillis,
            modifiedMillis: record.modifiedMillis
        )
    }

    // MARK: Service

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(60))
                await self.sweep()
            }
        }
        self.signals.close()
        self.moves.cancelAll()
    }

    /// Deletes messages past their queue's retention and deduplication records past the window.
    func sweep() async {
        let now = self.clock()
        do {
            try await self.store.forgetDeduplication(before: now - SQSLimits.deduplicationWindowMillis)
            for queue in self.catalog.all() {
                _ = try await self.store.expire(
                    queueID: queue.id,
                    sentBeforeMillis: now - Int64(queue.configuration.messageRetentionPeriod) * 1000
                )
            }
        } catch {
            self.logger.warning("SQS sweep failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Definitions

    /// The json 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`). It claims no signing name: a request signed for `sqs`
    /// without a target is a query-protocol request (``queryDefinition``).
    public var definition: ServiceDefinition {
        ServiceDefinition(
            name: "sqs",
            signingNames: [],
            wire: .json(version: "1.0", queryCompatible: true),
            targetPrefix: "AmazonSQS",
            defaultBodyLimit: Self.bodyLimit,
            operations: self.operations(query: false)
        )
    }

    /// The query protocol (`Action=SendMessage&…` POSTed to `/` or to a queue URL, XML answers), which SDKs and AWS
    /// CLIs released before SQS moved to json (2023) speak.
    public var queryDefinition: ServiceDefinition {
        ServiceDefinition(
            name: "sqs",
            signingNames: ["sqs"],
            wire: .query,
            apiVersion: "2012-11-05",
            xmlNamespace: "http://queue.amazonaws.com/doc/2012-11-05/",
            defaultBodyLimit: Self.bodyLimit,
            operations: self.operations(query: true)
        )
    }

    /// Room for a largest batch after JSON escaping, so that an oversized message gets SQS's own error, not a 413.
    static let bodyLimit = 4 * 1_048_576

    /// What an operation sees of its request.
    struct Context: Sendable {
        var namespace: AccountContext
        /// The host the client addressed, for queue URLs.
        var host: String
        /// `SenderId` of sent messages.
        var senderID: String
    }

    typealias Operation = @Sendable (Input, Context) async throws -> JSONValue

    func operations(query: Bool) -> [ServiceOperation] {
        let table: [(String, Operation)] = [
            ("CreateQueue", { try await self.createQueue($0, $1) }),
            ("DeleteQueue", { try await self.deleteQueue($0, $1) }),
            ("GetQueueUrl", { try await self.getQueueURL($0, $1) }),
            ("ListQueues", { try await self.listQueues($0, $1) }),
            ("GetQueueAttributes", { try await self.getQueueAttributes($0, $1) }),
            ("SetQueueAttributes", { try await self.setQueueAttributes($0, $1) }),
            ("PurgeQueue", { try await self.purgeQueue($0, $1) }),
            ("TagQueue", { try await self.tagQueue($0, $1) }),
            ("UntagQueue", { try await self.untagQueue($0, $1) }),
            ("ListQueueTags", { try await self.listQueueTags($0, $1) }),
            ("ListDeadLetterSourceQueues", { try await self.listDeadLetterSourceQueues($0, $1) }),
            ("SendMessage", { try await self.sendMessage($0, $1) }),
            ("SendMessageBatch", { try await self.sendMessageBatch($0, $1) }),
            ("ReceiveMessage", { try await self.receiveMessage($0, $1) }),
            ("DeleteMessage", { try await self.deleteMessage($0, $1) }),
            ("DeleteMessageBatch", { try await self.deleteMessageBatch($0, $1) }),
            ("ChangeMessageVisibility", { try await self.changeMessageVisibility($0, $1) }),
            ("ChangeMessageVisibilityBatch", { try await self.changeMessageVisibilityBatch($0, $1) }),
            ("StartMessageMoveTask", { try await self.startMessageMoveTask($0, $1) }),
            ("ListMessageMoveTasks", { try await self.listMessageMoveTasks($0, $1) }),
            ("CancelMessageMoveTask", { try await self.cancelMessageMoveTask($0, $1) }),
            ("AddPermission", { _, _ in throw Self.unsupported("AddPermission") }),
            ("RemovePermission", { _, _ in throw Self.unsupported("RemovePermission") }),
        ]
        return table.map { name, operation in
            ServiceOperation(name, bodyLimit: Self.bodyLimit) { request in
                let input: Input
                if query {
                    input = try Input(QueryProtocol.input(request.input, operation: name))
                } else {
                    input = try Input(request.input)
                }
                let context = Context(
                    namespace: request.namespace,
                    host: request.host,
                    senderID: request.caller.userID
                )
                let output = try await operation(input, context)
                if query {
                    return QueryProtocol.response(output, operation: name, requestID: request.requestID)
                }
                return .document(200, output)
            }
        }
    }

    static func unsupported(_ operation: String) -> SQSError {
        SQSError(
            code: "UnsupportedOperation",
            queryCode: "AWS.SimpleQueueService.UnsupportedOperation",
            message: "Nimbus does not support \(operation): queue permissions are not enforced."
        )
    }

    // MARK: Queue resolution

    /// The queue a `QueueUrl` names in the request's namespace.
    func queue(url: String, _ context: Context) throws(SQSError) -> QueueState {
        let (account, name) = try QueueURL.parse(url)
        guard account == context.namespace.accountID, let queue = self.catalog.queue(context.namespace, name) else {
            throw .queueDoesNotExist
        }
        return queue
    }

    func queue(_ input: Input, _ context: Context) throws(SQSError) -> QueueState {
        try self.queue(url: try input.requiredString("QueueUrl"), context)
    }

    var receipts: ReceiptHandles {
        get throws(SQSError) {
            guard let handles = self.handles.value else {
                throw SQSError.internalError("The SQS service is not loaded.")
            }
            return handles
        }
    }
}

/// The receipt-handle key, known once ``SQSService/load()`` has read it.
final class Handles: Sendable {
    let state = Mutex<ReceiptHandles?>(nil)
    var value: ReceiptHandles? { self.state.withLock { $0 } }
    func set(_ handles: ReceiptHandles) { self.state.withLock { $0 = handles } }
}
