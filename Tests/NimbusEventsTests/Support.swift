import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusStore
import Synchronization

@testable import NimbusEvents

/// A clock tests move by hand (milliseconds since the epoch): 2026-01-01T00:00:00Z to start.
final class ManualClock: Sendable {
    let now = Mutex<Int64>(1_767_225_600_000)

    func read() -> Int64 { self.now.withLock { $0 } }
    func set(_ millis: Int64) { self.now.withLock { $0 = millis } }
    func advance(seconds: Double) { self.now.withLock { $0 += Int64(seconds * 1000) } }
}

/// A ``FunctionInvoking`` that records asynchronous invocations (once per request id, as Lambda's queue) and refuses
/// the functions it is told to.
final class FakeFunctions: FunctionInvoking {
    let queued = Mutex<[TriggeredInvocation]>([])
    let refusals = Mutex<[String: NimbusError]>([:])
    let failing = Mutex<Bool>(false)

    var invocations: [TriggeredInvocation] { self.queued.withLock { $0 } }
    var payloads: [JSONValue] { self.invocations.map { JSONValue.parse($0.payload.readableBytesView) ?? .null } }

    func refuse(_ function: String, _ error: NimbusError) { self.refusals.withLock { $0[function] = error } }

    func invoke(_ invocation: TriggeredInvocation) async throws -> InvokeResult {
        throw NimbusError(.service, "EventBridge never invokes synchronously")
    }

    func enqueue(_ invocation: TriggeredInvocation) async throws {
        if self.failing.withLock({ $0 }) { throw TestFailure("the queue's store is down") }
        if let error = self.refusals.withLock({ $0[invocation.function] }) { throw error }
        self.queued.withLock { queued in
            if !queued.contains(where: { $0.requestID == invocation.requestID }) { queued.append(invocation) }
        }
    }

    func authorize(_ invocation: TriggeredInvocation) async throws {}
}

/// A ``QueueSending`` that records messages; queues not in `existing` do not exist.
final class FakeQueues: QueueSending {
    struct Message: Sendable, Equatable {
        var queueARN: String
        var body: String
        var attributes: [String: String]
        var groupID: String?
    }

    let messages = Mutex<[Message]>([])
    let existing: Set<String>

    init(existing: Set<String> = [Harness.queue, Harness.deadLetters]) {
        self.existing = existing
    }

    var sent: [Message] { self.messages.withLock { $0 } }

    func sendMessage(
        queueARN: String,
        body: String,
        attributes: [String: String],
        groupID: String?,
        deduplicationID: String?
    ) async throws {
        guard self.existing.contains(queueARN) else {
            throw DeliveryRefusal(code: "NO_RESOURCE", message: "The specified queue does not exist.")
        }
        self.messages.withLock {
            $0.append(Message(queueARN: queueARN, body: body, attributes: attributes, groupID: groupID))
        }
    }
}

/// The service on a fresh temporary database, with a manual clock and fake targets; drives operations the way the
/// edge does.
struct Harness {
    let root: String
    let clock: ManualClock
    let functions: FakeFunctions
    let queues: FakeQueues
    let service: EventsService
    var namespace = AccountContext(region: "us-east-1", accountID: "123456789012")

    static let function = "arn:aws:lambda:us-east-1:123456789012:function:app"
    static let queue = "arn:aws:sqs:us-east-1:123456789012:events"
    static let deadLetters = "arn:aws:sqs:us-east-1:123456789012:dead-letters"

    init(grace: Int64 = 300_000) async throws {
        self.root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-events-\(UUID())").path
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
        self.clock = ManualClock()
        self.functions = FakeFunctions()
        self.queues = FakeQueues()
        self.service = try await Self.open(
            self.root,
            clock: self.clock,
            functions: self.functions,
            queues: self.queues,
            grace: grace
        )
    }

    static func open(
        _ root: String,
        clock: ManualClock,
        functions: FakeFunctions,
        queues: FakeQueues,
        grace: Int64
    )
        async throws -> EventsService
    {
        let store = SQLiteEventBusStore(database: try NimbusDatabase(path: "\(root)/nimbus.sqlite"))
        let service = EventsService(
            store: store,
            functions: functions,
            queueSender: queues,
            logger: Logger(label: "test"),
            clock: { clock.read() },
            missedFiringGrace: grace
        )
        try await service.load()
        return service
    }

    /// The same database opened by a new service (a restart), with the same clock and targets.
    func restarted(grace: Int64 = 300_000) async throws -> EventsService {
        try await Self.open(self.root, clock: self.clock, functions: self.functions, queues: self.queues, grace: grace)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: self.root)
    }

    /// Calls an operation; the response's document.
    @discardableResult
    func call(_ operation: String, _ body: JSONValue = [:], on service: EventsService? = nil) async throws -> JSONValue
    {
        let service = service ?? self.service
        guard let op = service.definition.operations.first(where: { $0.name == operation }) else {
            throw TestFailure("no operation \(operation)")
        }
        let request = ServiceRequest(
            operation: operation,
            namespace: self.namespace,
            caller: Caller(kind: .anonymous, accessKeyID: "test", account: self.namespace.accountID),
            requestID: "r",
            body: ByteBuffer(bytes: body.serialized()),
            input: body
        )
        let response = try await op.handler(request)
        guard case .document(let document) = response.body else { throw TestFailure("no document") }
        return document
    }

    /// The AWS error an operation throws (nil when it succeeds).
    func failure(_ operation: String, _ body: JSONValue = [:]) async -> ServiceError? {
        do {
            try await self.call(operation, body)
            return nil
        } catch let error as any ServiceErrorConvertible {
            return error.serviceError
        } catch {
            return ServiceError(code: "Unexpected", message: "\(error)")
        }
    }

    /// A pattern rule on `bus` with one function target.
    func patternRule(_ name: String, pattern: String, bus: String? = nil, target: JSONValue? = nil) async throws {
        var rule: [String: JSONValue] = ["Name": .string(name), "EventPattern": .string(pattern)]
        if let bus { rule["EventBusName"] = .string(bus) }
        try await self.call("PutRule", .object(rule))
        var targets: [String: JSONValue] = [
            "Rule": .string(name), "Targets": [target ?? ["Id": "fn", "Arn": .string(Self.function)]],
        ]
        if let bus { targets["EventBusName"] = .string(bus) }
        try await self.call("PutTargets", .object(targets))
    }

    /// PutEvents with one entry; its result entry.
    @discardableResult
    func put(
        source: String = "app.orders",
        detailType: String = "OrderPlaced",
        detail: String,
        bus: String? = nil
    )
        async throws -> JSONValue
    {
        var entry: [String: JSONValue] = [
            "Source": .string(source), "DetailType": .string(detailType), "Detail": .string(detail),
        ]
        if let bus { entry["EventBusName"] = .string(bus) }
        let result = try await self.call("PutEvents", ["Entries": [.object(entry)]])
        return result["Entries"]?.arrayValue?.first ?? .null
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
