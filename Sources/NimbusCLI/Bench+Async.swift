import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusQueue
import NimbusServer
import NimbusStore

/// `nimbus bench --async`: accepted `Event` invocations per second through the full HTTP path (each 202 sent after
/// a `synchronous = FULL` commit), beside the same number of plain SQLite inserts with the same durability in this
/// process: one transaction per insert, and the queue's own group commit under the same concurrency. Then the
/// drain of a backlog at reserved concurrency 4 beside synchronous invokes at concurrency 4 (``measureDrain``).
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
                client,
                name,
                runtime: "provided.al2023",
                handler: "noop",
                files: [("bootstrap", runtimeBinary, true)]
            )
            for _ in 0..<self.rounds {
                let start = ContinuousClock.now
                try await Self.parallel(count: count, clients: clients) { _ in
                    let reply = try await client.send(
                        .POST,
                        "/2015-03-31/functions/\(name)/invocations",
                        body: Array("{}".utf8),
                        headers: [("X-Amz-Invocation-Type", "Event")]
                    )
                    guard reply.status == 202 else {
                        throw LambdaClient.APIError(
                            status: reply.status,
                            type: "Bench",
                            message: "Event invoke answered \(reply.status)"
                        )
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
        print(
            String(
                format: "  SQLite, one FULL commit per insert, 1 writer    %10.0f inserts/s  (HTTP path: %.2fx)",
                s,
                h / s
            )
        )
        print(
            String(
                format: "  SQLite, EventQueue group commit, %3d writers    %10.0f inserts/s  (HTTP path: %.2fx)",
                clients,
                g,
                h / g
            )
        )
        try await self.measureDrain(http: http, runtimeBinary: runtimeBinary)
    }

    /// Events in the drained backlog, and synchronous invokes beside them (issue #13).
    static let drainEvents = 1000
    /// The function's reserved concurrency, and the synchronous clients.
    static let drainConcurrency = 4

    /// Issue #13's figure: how long a backlog of ``drainEvents`` events of a no-op function with reserved
    /// concurrency ``drainConcurrency`` takes to drain through the dispatcher, beside ``drainEvents`` synchronous
    /// invokes of the same function by ``drainConcurrency`` clients, in interleaved rounds of the same run. The
    /// backlog is accepted while the function is paused (reserved concurrency 0) and released by setting the
    /// reservation, as a restarted server finds one: every event due at once. The drain ends when no event of the
    /// function is pending or running (the queue is read from this process every 2 ms). Also printed: throttles
    /// counted by the limiter during the drains and events that were ever backed off (target: none).
    func measureDrain(http: HTTPClient, runtimeBinary: [UInt8]) async throws {
        let count = Self.drainEvents
        let concurrency = Self.drainConcurrency
        print(
            "\nAsynchronous backlog: \(count) events at reserved concurrency \(concurrency) beside \(count) synchronous "
                + "invokes at concurrency \(concurrency); \(self.rounds) rounds, medians\n"
        )
        var drains: [Double] = []
        var syncs: [Double] = []
        var throttles = 0
        var backedOff = 0
        try await Self.withInspectableServer(ServerConfiguration(sandbox: self.sandbox)) { endpoint, server, queue in
            let client = LambdaClient(endpoint: endpoint, http: http)
            let name = "bench-drain"
            let function = EventFunction(namespace: server.configuration.account, name: name)
            try await self.create(
                client,
                name,
                runtime: "provided.al2023",
                handler: "noop",
                files: [("bootstrap", runtimeBinary, true)]
            )
            guard let invoker = server.components.withLock({ $0?.invoker }) else {
                throw LambdaClient.APIError(status: 0, type: "Bench", message: "the server has no invoker")
            }
            let reserve = { (n: Int) in
                _ = try await client.call(
                    .PUT,
                    "/2017-10-31/functions/\(name)/concurrency",
                    json: ["ReservedConcurrentExecutions": .number(Double(n))]
                )
            }
            let invokeSync: @Sendable (Int) async throws -> Void = { _ in
                let reply = try await self.invoke(client, name)
                guard reply.status == 200 else { throw LambdaClient.error(from: reply) }
            }
            try await reserve(concurrency)
            try await Self.parallel(count: 4 * concurrency, clients: concurrency, invokeSync)  // warm environments
            for _ in 0..<self.rounds {
                try await reserve(0)
                try await Self.parallel(count: count, clients: 16) { _ in
                    let reply = try await client.send(
                        .POST,
                        "/2015-03-31/functions/\(name)/invocations",
                        body: Array("{}".utf8),
                        headers: [("X-Amz-Invocation-Type", "Event")]
                    )
                    guard reply.status == 202 else { throw LambdaClient.error(from: reply) }
                }
                let throttlesBefore = invoker.throttleCount(function: name)
                let start = ContinuousClock.now
                try await reserve(concurrency)
                while try await queue.hasUnfinishedEvents(of: function) {
                    try await Task.sleep(for: .milliseconds(2))
                }
                drains.append(Self.seconds(ContinuousClock.now - start))
                throttles += invoker.throttleCount(function: name) - throttlesBefore

                let syncStart = ContinuousClock.now
                try await Self.parallel(count: count, clients: concurrency, invokeSync)
                syncs.append(Self.seconds(ContinuousClock.now - syncStart))
            }
            backedOff = try await queue.events(function: name, states: [.done, .dead], limit: count * self.rounds)
                .filter { $0.backoffs > 0 }.count
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
        let drain = median(drains)
        let sync = median(syncs)
        print(
            String(
                format: "  Backlog drained by the dispatcher (Event)        %8.3f s  %8.0f events/s",
                drain,
                Double(count) / drain
            )
        )
        print(
            String(
                format: "  Synchronous invokes by %d clients (RequestResponse) %6.3f s  %8.0f invokes/s",
                concurrency,
                sync,
                Double(count) / sync
            )
        )
        print(
            String(
                format: "  Drain / synchronous                              %8.2fx   (target: at most 1.5x)",
                drain / sync
            )
        )
        print("  Throttles during the drains: \(throttles); events ever backed off: \(backedOff)")
        print(
            "  Rounds (drain s / sync s): "
                + zip(drains, syncs).map { String(format: "%.3f/%.3f", $0, $1) }.joined(separator: ", ")
        )
    }

    /// Like ``withServer(_:_:)``, and also hands `body` the server and a queue reader on its database (the same
    /// file, opened again in this process: WAL readers do not block the server's writes).
    static func withInspectableServer(
        _ base: ServerConfiguration,
        _ body: (String, NimbusServer, EventQueue) async throws -> Void
    ) async throws {
        try await Self.withServer(base) { endpoint, server, directory in
            let queue = EventQueue(database: try NimbusDatabase(path: "\(directory)/nimbus.sqlite"))
            try await body(endpoint, server, queue)
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Runs `body` `count` times over `clients` concurrent workers.
    static func parallel(count: Int, clients: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws
    {
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
