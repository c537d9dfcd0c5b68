import AsyncHTTPClient
import Foundation
import NIOCore
import NimbusCore
import NimbusQueue
import NimbusServer
import NimbusStore

/// `nimbus bench --async`: accepted `Event` invocations per second through the full HTTP path (each 202 sent after
/// a `synchronous = FULL` commit), beside the same number of plain SQLite inserts with the same durability in this
/// process: one transaction per insert, and the queue's own group commit under the same concurrency.
extension Bench {
    func measureAsync(http: HTTPClient, runtimeBinary: [UInt8]) async throws {
        let count = self.throughputRequests
        let clients = self.concurrency
        print("Asynchronous invocation: \(count) events over \(clients) connections; \(self.rounds) rounds, medians\n")
        var httpRates: [Double] = []
        var singleRates: [Double] = []
        var groupRates: [Double] = []
        try await Self.withServer(ServerConfiguration(sandbox: self.sandbox)) { endpoint in
            let client = LambdaClient(endpoint: endpoint, http: http)
            let name = "bench-async"
            try await self.create(
                client, name, runtime: "provided.al2023", handler: "noop", files: [("bootstrap", runtimeBinary, true)])
            for _ in 0..<self.rounds {
                let start = ContinuousClock.now
                try await Self.parallel(count: count, clients: clients) { _ in
                    let reply = try await client.send(
                        .POST, "/2015-03-31/functions/\(name)/invocations", body: Array("{}".utf8),
                        headers: [("X-Amz-Invocation-Type", "Event")])
                    guard reply.status == 202 else {
                        throw LambdaClient.APIError(status: reply.status, type: "Bench", message: "Event invoke answered \(reply.status)")
                    }
                }
                httpRates.append(Double(count) / Self.seconds(ContinuousClock.now - start))
                singleRates.append(try await Self.sqliteInserts(count: count, clients: 1, groupCommit: false))
                groupRates.append(try await Self.sqliteInserts(count: count, clients: clients, groupCommit: true))
            }
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
        let h = median(httpRates)
        let s = median(singleRates)
        let g = median(groupRates)
        print(String(format: "  Event invoke via HTTP (202 after FULL commit)   %10.0f events/s", h))
        print(String(format: "  SQLite, one FULL commit per insert, 1 writer    %10.0f inserts/s  (HTTP path: %.2fx)", s, h / s))
        print(String(format: "  SQLite, EventQueue group commit, %3d writers    %10.0f inserts/s  (HTTP path: %.2fx)", clients, g, h / g))
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Runs `body` `count` times over `clients` concurrent workers.
    static func parallel(count: Int, clients: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<clients {
                group.addTask {
                    var i = worker
                    while i < count {
                        try await body(i)
                        i += clients
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Inserts per second into a fresh database with the queue's durability.
    static func sqliteInserts(count: Int, clients: Int, groupCommit: Bool) async throws -> Double {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-bench-q-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queue = EventQueue(database: try NimbusDatabase(path: "\(directory)/nimbus.sqlite"))
        let payload = Array("{}".utf8)
        let start = ContinuousClock.now
        try await Self.parallel(count: count, clients: clients) { i in
            let event = QueuedEvent(requestID: "bench-\(i)", functionName: "bench", qualifier: nil, payload: payload)
            if groupCommit {
                try await queue.enqueue(event)
            } else {
                try await queue.insertDurably([event])
            }
        }
        return Double(count) / Self.seconds(ContinuousClock.now - start)
    }
}
