import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NimbusCore
import NimbusServer

/// `nimbus bench`: starts a server in this process (its own temporary data directory) and measures invoke latency,
/// throughput and cold starts, each printed beside a baseline measured in the same run with the same client: a
/// trivial GET (the health route) on the same server. Machines are shared and noisy, so only the ratios are
/// meaningful.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure invoke latency, throughput and cold starts against a baseline in the same run.")

    @Option(help: "Sequential requests per latency measurement.") var requests = 2000
    @Option(help: "Requests per throughput measurement.") var throughputRequests = 6000
    @Option(help: "Concurrent clients for the throughput measurement.") var concurrency = 32
    @Option(help: "Cold starts measured per runtime.") var coldStarts = 20
    @Option(help: "The compiled no-op runtime (default: nimbus-test-runtime next to this binary).")
    var testRuntime: String?
    @Option(help: "Python runtime for the Python function.") var pythonRuntime = "python3.12"
    @Option(help: "Write the figures as JSON to this file.") var json: String?

    func run() async throws {
        let runtimePath =
            self.testRuntime
            ?? (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/nimbus-test-runtime"
        guard let runtimeBinary = FileManager.default.contents(atPath: runtimePath) else {
            printError("error: \(runtimePath) not found; build it with `swift build -c release --product nimbus-test-runtime`")
            throw ExitCode(2)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-bench-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "nimbus-bench")
        logger.logLevel = .warning
        let server = NimbusServer(
            configuration: ServerConfiguration(port: 0, dataDirectory: directory, keepAlive: .seconds(600)),
            logger: logger)
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run(handleSignals: false) }
            let endpoint = try await server.endpoint()
            do {
                try await self.measure(endpoint: endpoint, http: http, runtimeBinary: Array(runtimeBinary))
            } catch {
                await server.shutdown()
                throw error
            }
            await server.shutdown()
            try await group.waitForAll()
        }
        try await http.shutdown()
    }

    struct Latency {
        var p50: Double
        var p99: Double
        var mean: Double
    }

    func measure(endpoint: String, http: HTTPClient, runtimeBinary: [UInt8]) async throws {
        let client = LambdaClient(endpoint: endpoint, http: http)
        print("Nimbus benchmark — server in this process at \(endpoint), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("latency: \(self.requests) sequential requests; throughput: \(self.throughputRequests) requests over \(self.concurrency) connections\n")

        let provided = "bench-provided"
        let python = "bench-python"
        try await self.create(client, provided, runtime: "provided.al2023", handler: "noop", files: [("bootstrap", runtimeBinary, true)])
        let pythonAvailable: Bool
        do {
            try await self.create(
                client, python, runtime: self.pythonRuntime, handler: "app.handler",
                files: [("app.py", Array("def handler(event, context):\n    return {}\n".utf8), false)])
            pythonAvailable = (try await self.invoke(client, python)).status == 200
        } catch {
            printError("Python function unavailable (\(error)); skipping its rows.")
            pythonAvailable = false
        }

        let health: @Sendable () async throws -> Void = {
            let reply = try await client.send(.GET, "/_nimbus/health")
            guard reply.status == 200 else { throw LambdaClient.error(from: reply) }
        }
        let invokeProvided: @Sendable () async throws -> Void = {
            let reply = try await self.invoke(client, provided)
            guard reply.status == 200, reply.headers.first(name: "X-Amz-Function-Error") == nil else {
                throw LambdaClient.error(from: reply)
            }
        }
        let invokePython: @Sendable () async throws -> Void = {
            let reply = try await self.invoke(client, python)
            guard reply.status == 200, reply.headers.first(name: "X-Amz-Function-Error") == nil else {
                throw LambdaClient.error(from: reply)
            }
        }

        // Warm everything up: connections, JIT-less caches, and `concurrency` environments per function.
        try await self.throughput(count: self.concurrency * 4, concurrency: self.concurrency, health)
        try await self.throughput(count: self.concurrency * 4, concurrency: self.concurrency, invokeProvided)
        if pythonAvailable { try await self.throughput(count: self.concurrency * 4, concurrency: self.concurrency, invokePython) }

        var rows: [(String, Latency, Double)] = []
        let baseLatency = try await self.latency(count: self.requests, health)
        let baseThroughput = try await self.throughput(count: self.throughputRequests, concurrency: self.concurrency, health)
        rows.append(("baseline GET /_nimbus/health", baseLatency, baseThroughput))
        let pLatency = try await self.latency(count: self.requests, invokeProvided)
        let pThroughput = try await self.throughput(count: self.throughputRequests, concurrency: self.concurrency, invokeProvided)
        rows.append(("warm invoke, provided no-op", pLatency, pThroughput))
        if pythonAvailable {
            let l = try await self.latency(count: self.requests, invokePython)
            let t = try await self.throughput(count: self.throughputRequests, concurrency: self.concurrency, invokePython)
            rows.append(("warm invoke, \(self.pythonRuntime) no-op", l, t))
        }

        print("| measurement | p50 ms | p99 ms | p50 / baseline | req/s at c=\(self.concurrency) | throughput / baseline |")
        print("|---|---|---|---|---|---|")
        var figures: [String: JSONValue] = [:]
        for (label, latency, rate) in rows {
            let latencyRatio = latency.p50 / baseLatency.p50
            let rateRatio = rate / baseThroughput
            print(
                "| \(label) | \(Self.f(latency.p50)) | \(Self.f(latency.p99)) | \(Self.f(latencyRatio))× | \(Int(rate)) | \(Self.f(rateRatio * 100))% |")
            figures[label] = [
                "p50Ms": .number(latency.p50), "p99Ms": .number(latency.p99), "p50Ratio": .number(latencyRatio),
                "requestsPerSecond": .number(rate), "throughputRatio": .number(rateRatio),
            ]
        }

        print("\nCold starts (\(self.coldStarts) each; every one after a configuration change, so no warm environment exists):")
        print("| function | cold invoke p50 ms | p99 ms | p50 / warm p50 |")
        print("|---|---|---|---|")
        var coldTargets = [(provided, "provided no-op", pLatency.p50)]
        if pythonAvailable, let warm = rows.first(where: { $0.0.contains(self.pythonRuntime) }) {
            coldTargets.append((python, "\(self.pythonRuntime) no-op", warm.1.p50))
        }
        for (name, label, warmP50) in coldTargets {
            var samples: [Double] = []
            for i in 0..<self.coldStarts {
                _ = try await client.call(
                    .PUT, "/2015-03-31/functions/\(name)/configuration", json: ["Description": .string("cold \(i)")])
                let start = ContinuousClock.now
                try await (name == provided ? invokeProvided : invokePython)()
                samples.append(Self.millis(ContinuousClock.now - start))
            }
            let cold = Self.summarise(samples)
            print("| \(label) | \(Self.f(cold.p50)) | \(Self.f(cold.p99)) | \(Self.f(cold.p50 / warmP50))× |")
            figures["cold start, \(label)"] = ["p50Ms": .number(cold.p50), "p99Ms": .number(cold.p99)]
        }
        let pRow = rows[1]
        print("\nTargets (issue #2): warm invoke p50 ≤ 3× baseline p50 → \(Self.f(pRow.1.p50 / baseLatency.p50))× (provided)"
            + (rows.count > 2 ? ", \(Self.f(rows[2].1.p50 / baseLatency.p50))× (python)" : ""))
        print("                    throughput at c=\(self.concurrency) ≥ 35% of baseline → \(Self.f(pRow.2 / baseThroughput * 100))% (provided)"
            + (rows.count > 2 ? ", \(Self.f(rows[2].2 / baseThroughput * 100))% (python)" : ""))
        if let path = self.json {
            try Data(JSONValue.object(figures).serialized()).write(to: URL(fileURLWithPath: path))
        }
    }

    func create(
        _ client: LambdaClient, _ name: String, runtime: String, handler: String, files: [(String, [UInt8], Bool)]
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-bench-fn-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (path, bytes, executable) in files {
            FileManager.default.createFile(
                atPath: "\(directory)/\(path)", contents: Data(bytes),
                attributes: [.posixPermissions: executable ? 0o755 : 0o644])
        }
        let zip = try Zipper.zip(directory: directory)
        _ = try await client.call(
            .POST, "/2015-03-31/functions",
            json: [
                "FunctionName": .string(name), "Runtime": .string(runtime), "Handler": .string(handler),
                "Role": "arn:aws:iam::000000000000:role/bench", "Timeout": 30,
                "Code": ["ZipFile": .string(Data(zip).base64EncodedString())],
            ])
    }

    func invoke(_ client: LambdaClient, _ name: String) async throws -> LambdaClient.Reply {
        try await client.send(.POST, "/2015-03-31/functions/\(name)/invocations", body: Array("{}".utf8))
    }

    func latency(count: Int, _ call: () async throws -> Void) async throws -> Latency {
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for _ in 0..<count {
            let start = ContinuousClock.now
            try await call()
            samples.append(Self.millis(ContinuousClock.now - start))
        }
        return Self.summarise(samples)
    }

    /// Requests per second for `count` requests spread over `concurrency` workers.
    @discardableResult
    func throughput(count: Int, concurrency: Int, _ call: @escaping @Sendable () async throws -> Void) async throws
        -> Double
    {
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                let share = count / concurrency + (worker < count % concurrency ? 1 : 0)
                group.addTask { for _ in 0..<share { try await call() } }
            }
            try await group.waitForAll()
        }
        return Double(count) / (Self.millis(ContinuousClock.now - start) / 1000)
    }

    static func summarise(_ samples: [Double]) -> Latency {
        let sorted = samples.sorted()
        let pick = { (q: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        return Latency(p50: pick(0.5), p99: pick(0.99), mean: sorted.reduce(0, +) / Double(max(1, sorted.count)))
    }

    static func millis(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    static func f(_ x: Double) -> String { String(format: "%.2f", x) }
}
