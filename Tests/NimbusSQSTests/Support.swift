import Foundation
import Logging
import NimbusCore
import NimbusStore
import Synchronization

@testable import NimbusSQS

/// A clock tests move by hand (milliseconds since the epoch).
final class ManualClock: Sendable {
    let now = Mutex<Int64>(1_700_000_000_000)

    func read() -> Int64 { self.now.withLock { $0 } }
    func advance(seconds: Double) { self.now.withLock { $0 += Int64(seconds * 1000) } }
}

/// A service on a fresh temporary database, with a manual clock, and its namespace's request context.
struct Harness {
    let root: String
    let service: SQSService
    let store: SQLiteQueueStore
    let clock: ManualClock
    let context: SQSService.Context

    static let namespace = AccountContext(region: "us-east-1", accountID: "123456789012")

    init() async throws {
        self.root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-sqs-\(UUID())").path
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
        self.store = SQLiteQueueStore(database: try NimbusDatabase(path: "\(self.root)/nimbus.sqlite"))
        let clock = ManualClock()
        self.clock = clock
        self.service = SQSService(store: self.store, logger: Logger(label: "test"), clock: { clock.read() })
        try await self.service.load()
        self.context = SQSService.Context(namespace: Self.namespace, host: "localhost:9000", senderID: "123456789012")
    }

    /// The same database opened by a new service (a restart).
    func restarted() async throws -> SQSService {
        let store = SQLiteQueueStore(database: try NimbusDatabase(path: "\(self.root)/nimbus.sqlite"))
        let clock = self.clock
        let service = SQSService(store: store, logger: Logger(label: "test"), clock: { clock.read() })
        try await service.load()
        return service
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: self.root)
    }

    /// Creates a queue; returns its URL.
    func create(_ name: String, _ attributes: [String: String] = [:]) async throws -> String {
        let result = try await self.service.createQueue(
            Input(object: [
                "QueueName": .string(name), "Attributes": .object(attributes.mapValues { .string($0) }),
            ]),
            self.context
        )
        return result["QueueUrl"]?.stringValue ?? ""
    }

    func arn(_ name: String) -> String { "arn:aws:sqs:us-east-1:123456789012:\(name)" }

    func call(
        _ operation: (SQSService) -> (Input, SQSService.Context) async throws -> JSONValue,
        _ input: [String: JSONValue]
    ) async throws -> JSONValue {
        try await operation(self.service)(Input(object: input), self.context)
    }
}

/// Runs `body` with a fresh harness, removing its directory afterwards.
func withHarness(_ body: (Harness) async throws -> Void) async throws {
    let harness = try await Harness()
    defer { harness.cleanup() }
    try await body(harness)
}

extension SQSError {
    /// Whether an error is an SQSError with this json error type (for `#expect { … } throws: { … }`).
    static func matches(_ error: any Error, _ code: String) -> Bool {
        (error as? SQSError)?.code == code
    }
}
