import AsyncHTTPClient
import Foundation
import GRDB
import Logging
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusSQS
import NimbusServer
import NimbusStore

/// `nimbus bench --sqs`: SQS message throughput — each message sent, received and deleted, three durable
/// transactions — by ``sqsConcurrency`` concurrent workers, beside plain inserts into the same database with the same
/// durability (`synchronous = FULL` at every commit) in interleaved rounds of the same run (issue #13: at least
/// 0.5x). Two baselines are printed: one commit per insert (what a writer without batching gets), and inserts sharing
/// commits through the same group-commit writer SQS uses (the database's ceiling for small durable writes). Then the
/// same send-receive-delete cycle through HTTP (json protocol, the full edge) on a server in this process.
extension Bench {
    static let sqsConcurrency = 16

    func measureSQS() async throws {
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
            )
        )
        do {
            try await self.measureSQS(http: http)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    func measureSQS(http: HTTPClient) async throws {
        let count = self.throughputRequests
        let clients = Self.sqsConcurrency
        print(
            "SQS: \(count) messages sent, received and deleted by \(clients) workers; \(self.rounds) rounds, medians\n"
        )
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-bench-sqs-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try NimbusDatabase(path: "\(directory)/nimbus.sqlite")
        try await database.pool.write { db in
            try db.execute(sql: "CREATE TABLE bench_inserts (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)")
        }
        var logger = Logger(label: "nimbus-bench")
        logger.logLevel = .error
        let sqs = SQSService(store: SQLiteQueueStore(database: database), logger: logger)
        try await sqs.load()
        let arn = try await Self.createBenchQueue(sqs)
        let writer = GroupCommitWriter(pool: database.pool)
        var cycles: [Double] = []
        var singles: [Double] = []
        var grouped: [Double] = []
        for _ in 0..<self.rounds {
            cycles.append(try await Self.sqsCycles(sqs, arn: arn, count: count, clients: clients))
            singles.append(try await Self.rawInserts(database, writer: nil, count: count, clients: clients))
            grouped.append(try await Self.rawInserts(database, writer: writer, count: count, clients: clients))
        }
        var httpCycles: [Double] = []
        var mapped: [Double] = []
        try await Self.withServer(ServerConfiguration(sandbox: .process)) { endpoint in
            let client = LambdaClient(endpoint: endpoint, http: http)
            let url =
                try await Self.sqsCall(client, "CreateQueue", ["QueueName": "bench"])["QueueUrl"]?.stringValue ?? ""
            for _ in 0..<self.rounds {
                httpCycles.append(try await Self.httpCycles(client, url: url, count: count, clients: clients))
            }
            if let runtime = self.testRuntimeBinary() {
                for round in 0..<self.rounds {
                    mapped.append(try await self.mappingDrain(client, runtime: runtime, count: count, round: round))
                }
            }
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
        let c = median(cycles)
        let s = median(singles)
        let g = median(grouped)
        let h = median(httpCycles)
        print(
            String(
                format:
                    "  SQS send+receive+delete, in process            %10.0f messages/s (%.0f durable operations/s)",
                c,
                3 * c
            )
        )
        print(String(format: "  SQS send+receive+delete, via HTTP (json)       %10.0f messages/s", h))
        print(
            String(
                format:
                    "  SQLite insert, one FULL commit each, %2d writers %10.0f inserts/s   (SQS: %.2fx, target >= 0.5x; HTTP: %.2fx)",
                clients,
                s,
                c / s,
                h / s
            )
        )
        print(
            String(
                format:
                    "  SQLite insert, group-committed, %2d writers      %10.0f inserts/s   (SQS: %.2fx, per operation %.2fx; HTTP: %.2fx)",
                clients,
                g,
                c / g,
                3 * c / g,
                h / g
            )
        )
        if !mapped.isEmpty {
            print(
                String(
                    format: "  Event source mapping → no-op function (batches of 10)  %10.0f messages/s drained",
                    median(mapped)))
        }
        print(
            "  Rounds (in process / one commit each / group-committed / HTTP, per s): "
                + (0..<cycles.count).map {
                    String(format: "%.0f/%.0f/%.0f/%.0f", cycles[$0], singles[$0], grouped[$0], httpCycles[$0])
                }
                .joined(separator: ", ")
        )
    }

    /// The compiled no-op runtime next to this binary (or `--test-runtime`), if it is there.
    func testRuntimeBinary() -> [UInt8]? {
        let path = self.testRuntime ?? (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/nimbus-test-runtime"
        return FileManager.default.contents(atPath: path).map { Array($0) }
    }

    /// Messages per second from a queue through an event source mapping into a no-op `provided` function: `count`
    /// messages are queued while the mapping is disabled, then it is enabled and the time until the queue is empty
    /// is measured (the pollers' whole path: receive, event, invoke, delete).
    func mappingDrain(_ client: LambdaClient, runtime: [UInt8], count: Int, round: Int) async throws -> Double {
        let name = "bench-mapped-\(round)"
        try await self.create(client, name, runtime: "provided.al2023", handler: "noop", files: [("bootstrap", runtime, true)])
        let url = try await Self.sqsCall(client, "CreateQueue", ["QueueName": .string(name)])["QueueUrl"]?.stringValue ?? ""
        let arn = "arn:aws:sqs:us-east-1:000000000000:\(name)"
        let created = try await client.call(
            .POST, "/2015-03-31/event-source-mappings",
            json: ["FunctionName": .string(name), "EventSourceArn": .string(arn), "Enabled": false, "BatchSize": 10])
        let uuid = created.json?["UUID"]?.stringValue ?? ""
        let body = String(repeating: "x", count: 100)
        try await Self.parallel(count: (count + 9) / 10, clients: Self.sqsConcurrency) { _ in
            let entries: [JSONValue] = (0..<10).map { ["Id": .string("m\($0)"), "MessageBody": .string(body)] }
            _ = try await Self.sqsCall(client, "SendMessageBatch", ["QueueUrl": .string(url), "Entries": .array(entries)])
        }
        let queued = ((count + 9) / 10) * 10
        let start = ContinuousClock.now
        _ = try await client.call(.PUT, "/2015-03-31/event-source-mappings/\(uuid)", json: ["Enabled": true])
        let attributes: JSONValue = [
            "QueueUrl": .string(url),
            "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        ]
        // Bounded: a drain slower than 10 minutes is a failure, not a figure.
        while ContinuousClock.now - start < .seconds(600) {
            let found = try await Self.sqsCall(client, "GetQueueAttributes", attributes)["Attributes"]
            let left = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
                .compactMap { found?[$0]?.stringValue.flatMap(Int.init) }.reduce(0, +)
            if left == 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let elapsed = Self.seconds(ContinuousClock.now - start)
        _ = try await client.call(.DELETE, "/2015-03-31/event-source-mappings/\(uuid)")
        return Double(queued) / elapsed
    }

    static func createBenchQueue(_ sqs: SQSService) async throws -> String {
        let definition = sqs.definition
        guard let create = definition.operations.first(where: { $0.name == "CreateQueue" }) else {
            throw LambdaClient.APIError(status: 0, type: "Bench", message: "SQS has no CreateQueue")
        }
        let namespace = AccountContext()
        _ = try await create.handler(
            ServiceRequest(
                operation: "CreateQueue",
                namespace: namespace,
                caller: Caller(kind: .anonymous, accessKeyID: "", account: namespace.accountID),
                requestID: "bench",
                input: ["QueueName": "bench"]
            )
        )
        return "arn:aws:sqs:\(namespace.region):\(namespace.accountID):bench"
    }

    /// Messages per second through the in-process API: each worker sends one, receives one (any), deletes it.
    static func sqsCycles(_ sqs: SQSService, arn: String, count: Int, clients: Int) async throws -> Double {
        let body = String(repeating: "x", count: 100)
        let start = ContinuousClock.now
        try await Self.parallel(count: count, clients: clients) { _ in
            _ = try await sqs.send(queueARN: arn, body: body)
            while true {
                let received = try await sqs.receive(queueARN: arn, maxMessages: 1, waitSeconds: 1)
                guard let message = received.first else { continue }
                try await sqs.delete(queueARN: arn, receiptHandles: [message.receiptHandle])
                return
            }
        }
        return Double(count) / Self.seconds(ContinuousClock.now - start)
    }

    /// Inserts per second of a 100-byte row, each committed with `synchronous = FULL`: alone, or through `writer`.
    static func rawInserts(
        _ database: NimbusDatabase,
        writer: GroupCommitWriter?,
        count: Int,
        clients: Int
    )
        async throws -> Double
    {
        let body = String(repeating: "x", count: 100)
        let start = ContinuousClock.now
        try await Self.parallel(count: count, clients: clients) { _ in
            if let writer {
                try await writer.write { db in
                    try db.execute(sql: "INSERT INTO bench_inserts (body) VALUES (?)", arguments: [body])
                }
            } else {
                try await database.pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                    defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                    try db.inTransaction {
                        try db.execute(sql: "INSERT INTO bench_inserts (body) VALUES (?)", arguments: [body])
                        return .commit
                    }
                }
            }
        }
        return Double(count) / Self.seconds(ContinuousClock.now - start)
    }

    /// Messages per second through the server's HTTP edge (json 1.0, as boto3 sends).
    static func httpCycles(_ client: LambdaClient, url: String, count: Int, clients: Int) async throws -> Double {
        let body = String(repeating: "x", count: 100)
        let start = ContinuousClock.now
        try await Self.parallel(count: count, clients: clients) { _ in
            _ = try await Self.sqsCall(client, "SendMessage", ["QueueUrl": .string(url), "MessageBody": .string(body)])
            while true {
                let received = try await Self.sqsCall(
                    client,
                    "ReceiveMessage",
                    ["QueueUrl": .string(url), "WaitTimeSeconds": 1]
                )
                guard let handle = received["Messages"]?.arrayValue?.first?["ReceiptHandle"]?.stringValue else {
                    continue
                }
                _ = try await Self.sqsCall(
                    client,
                    "DeleteMessage",
                    ["QueueUrl": .string(url), "ReceiptHandle": .string(handle)]
                )
                return
            }
        }
        return Double(count) / Self.seconds(ContinuousClock.now - start)
    }

    static func sqsCall(_ client: LambdaClient, _ operation: String, _ input: JSONValue) async throws -> JSONValue {
        let reply = try await client.send(
            .POST,
            "/",
            body: input.serialized(),
            headers: [("X-Amz-Target", "AmazonSQS.\(operation)"), ("Content-Type", "application/x-amz-json-1.0")]
        )
        let document = JSONValue.parse(reply.body.readableBytesView) ?? [:]
        guard reply.status == 200 else {
            throw LambdaClient.APIError(
                status: reply.status,
                type: document["__type"]?.stringValue ?? "SQS",
                message: document["message"]?.stringValue ?? "\(operation) answered \(reply.status)"
            )
        }
        return document
    }
}
