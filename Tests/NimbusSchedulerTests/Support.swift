import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusStore
import Synchronization
import Testing

@testable import NimbusScheduler

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A ``FunctionInvoking`` that records asynchronous invocations, keeps one per request id (as Lambda's queue does),
/// and fails as scripted.
final class FakeFunctions: FunctionInvoking {
    let calls = Mutex<[TriggeredInvocation]>([])
    /// Errors thrown by the next enqueues, in order.
    let failures = Mutex<[any Error]>([])

    /// Every enqueue attempted, failed ones and repeats included.
    let count = Mutex(0)
    let hook = Mutex<(@Sendable () -> Void)?>(nil)

    var invocations: [TriggeredInvocation] { self.calls.withLock { $0 } }
    var enqueues: Int { self.count.withLock { $0 } }

    /// Called after each enqueue.
    func onEnqueue(_ hook: @escaping @Sendable () -> Void) { self.hook.withLock { $0 = hook } }
    var payloads: [String] { self.invocations.map { String(buffer: $0.payload) } }

    func fail(_ errors: any Error...) { self.failures.withLock { $0 += errors } }

    func invoke(_ invocation: TriggeredInvocation) async throws -> InvokeResult {
        throw TestFailure("Scheduler invokes asynchronously only")
    }

    func enqueue(_ invocation: TriggeredInvocation) async throws {
        self.count.withLock { $0 += 1 }
        if let failure = self.failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        self.calls.withLock { calls in
            if !calls.contains(where: { $0.requestID == invocation.requestID }) { calls.append(invocation) }
        }
        self.hook.withLock { $0 }?()
    }

    func authorize(_ invocation: TriggeredInvocation) async throws {}
}

/// A ``SchedulerQueues`` that records every message.
final class FakeQueues: SchedulerQueues {
    struct Message: Sendable {
        var queueARN: String
        var body: String
        var attributes: [String: String]
        var groupID: String?
        var deduplicationID: String?
    }

    let messages = Mutex<[Message]>([])
    /// Queues that do not exist.
    let missing = Mutex<Set<String>>([])

    var sent: [Message] { self.messages.withLock { $0 } }

    func send(
        queueARN: String,
        body: String,
        attributes: [String: String],
        groupID: String?,
        deduplicationID: String?
    ) async throws {
        if self.missing.withLock({ $0.contains(queueARN) }) {
            throw TargetRefusal(code: "QueueDoesNotExist", message: "The specified queue does not exist.")
        }
        self.messages.withLock {
            $0.append(
                Message(
                    queueARN: queueARN,
                    body: body,
                    attributes: attributes,
                    groupID: groupID,
                    deduplicationID: deduplicationID
                )
            )
        }
    }
}

/// An ``EventPublishing`` that records events.
final class FakeEvents: EventPublishing {
    let events = Mutex<[(PublishedEvent, String)]>([])

    func publish(_ event: PublishedEvent, busARN: String, namespace: AccountContext) async throws {
        self.events.withLock { $0.append((event, busARN)) }
    }
}

/// The time the service sees, moved by the test.
final class ManualClock: Sendable {
    let now: Mutex<Int64>

    init(_ millis: Int64) { self.now = Mutex(millis) }

    var millis: Int64 { self.now.withLock { $0 } }

    func set(_ millis: Int64) { self.now.withLock { $0 = millis } }

    func advance(seconds: Int64) { self.now.withLock { $0 += seconds * 1000 } }
}

/// A service over a temporary SQLite database, its clock and collaborators faked, driven the way the edge drives it.
struct Harness {
    let root: String
    let store: SQLiteScheduleStore
    let clock: ManualClock
    let functions: FakeFunctions
    let queues: FakeQueues
    let events: FakeEvents
    /// The flexible window's draw: always this many milliseconds (capped by the window).
    let delay: Int64
    let service: SchedulerService
    var namespace = AccountContext(region: "us-east-1", accountID: "123456789012")

    static let function = "arn:aws:lambda:us-east-1:123456789012:function:report"
    static let role = "arn:aws:iam::123456789012:role/scheduler"
    static let deadLetters = "arn:aws:sqs:us-east-1:123456789012:schedule-dlq"
    /// 2030-01-01T00:00:00Z.
    static let start: Int64 = 1_893_456_000_000

    init(now: Int64 = Harness.start, delay: Int64 = 0) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-scheduler-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        self.root = root
        self.store = SQLiteScheduleStore(database: try NimbusDatabase(path: "\(root)/nimbus.sqlite"))
        self.clock = ManualClock(now)
        self.functions = FakeFunctions()
        self.queues = FakeQueues()
        self.events = FakeEvents()
        self.delay = delay
        self.service = Self.makeService(
            store: self.store,
            clock: self.clock,
            functions: self.functions,
            queues: self.queues,
            events: self.events,
            delay: delay
        )
    }

    init(restarting other: Harness) async throws {
        self.root = other.root
        self.store = SQLiteScheduleStore(database: try NimbusDatabase(path: "\(other.root)/nimbus.sqlite"))
        self.clock = other.clock
        self.functions = other.functions
        self.queues = other.queues
        self.events = other.events
        self.delay = other.delay
        self.namespace = other.namespace
        self.service = Self.makeService(
            store: self.store,
            clock: self.clock,
            functions: self.functions,
            queues: self.queues,
            events: self.events,
            delay: other.delay
        )
        try await self.service.load()
    }

    static func makeService(
        store: SQLiteScheduleStore,
        clock: ManualClock,
        functions: FakeFunctions,
        queues: FakeQueues,
        events: FakeEvents,
        delay: Int64
    ) -> SchedulerService {
        SchedulerService(
            store: store,
            functions: functions,
            queues: queues,
            events: events,
            logger: Logger(label: "test"),
            clock: { clock.millis },
            random: { bound in min(delay, bound - 1) }
        )
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: self.root)
    }

    /// Calls an operation; the response's status and document, or the thrown error.
    @discardableResult
    func call(
        _ operation: String,
        labels: [String: String] = [:],
        query: [(String, String)] = [],
        body: JSONValue? = nil
    ) async throws -> (status: Int, document: JSONValue) {
        guard let op = self.service.definition.operations.first(where: { $0.name == operation }) else {
            throw TestFailure("no operation \(operation)")
        }
        let request = ServiceRequest(
            operation: operation,
            namespace: self.namespace,
            caller: Caller(kind: .anonymous, accessKeyID: "test", account: self.namespace.accountID),
            requestID: "r",
            labels: labels,
            query: query,
            body: body.map { ByteBuffer(bytes: $0.serialized()) } ?? ByteBuffer(),
            host: "127.0.0.1:9000"
        )
        let response = try await op.handler(request)
        switch response.body {
        case .document(let document): return (response.status, document)
        case .empty: return (response.status, .null)
        default: throw TestFailure("unexpected body")
        }
    }

    /// The AWS error an operation throws (nil when it succeeds).
    func failure(
        _ operation: String,
        labels: [String: String] = [:],
        query: [(String, String)] = [],
        body: JSONValue? = nil
    ) async -> ServiceError? {
        do {
            try await self.call(operation, labels: labels, query: query, body: body)
            return nil
        } catch let error as any ServiceErrorConvertible {
            return error.serviceError
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    /// A CreateSchedule body for a function target, with `extra` members merged in.
    static func schedule(
        _ expression: String,
        input: String? = #"{"job":"report"}"#,
        _ extra: [String: JSONValue] = [:],
        target: [String: JSONValue] = [:]
    ) -> JSONValue {
        var targetMembers: [String: JSONValue] = ["Arn": .string(Self.function), "RoleArn": .string(Self.role)]
        if let input { targetMembers["Input"] = .string(input) }
        targetMembers.merge(target) { $1 }
        var body: [String: JSONValue] = [
            "ScheduleExpression": .string(expression), "FlexibleTimeWindow": ["Mode": "OFF"],
            "Target": .object(targetMembers),
        ]
        body.merge(extra) { $1 }
        return .object(body)
    }

    @discardableResult
    func create(_ name: String, _ body: JSONValue) async throws -> JSONValue {
        try await self.call("CreateSchedule", labels: ["Name": name], body: body).document
    }

    func get(_ name: String, group: String? = nil) async throws -> JSONValue {
        try await self.call("GetSchedule", labels: ["Name": name], query: group.map { [("groupName", $0)] } ?? [])
            .document
    }

    /// Moves the clock to `millis` and runs the runner there until nothing more is due.
    func run(at millis: Int64) async {
        self.clock.set(millis)
        for _ in 0..<10 {
            guard let next = await self.service.fireDue(at: millis), next <= millis else { return }
        }
    }

    /// Seconds after ``start``.
    static func at(_ seconds: Int64) -> Int64 { Self.start + seconds * 1000 }
}
