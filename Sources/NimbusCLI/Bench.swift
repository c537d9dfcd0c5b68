import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NimbusCore
import NimbusInvoker
import NimbusSandbox
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
    @Option(help: "Interleaved measurement rounds (medians are reported).") var rounds = 3
    @Option(help: "Cold starts measured per runtime.") var coldStarts = 20
    @Option(help: "The compiled no-op runtime (default: nimbus-test-runtime next to this binary).")
    var testRuntime: String?
    @Option(help: "Python runtime for the Python function.") var pythonRuntime = "python3.12"
    @Option(help: "Write the figures as JSON to this file.") var json: String?
    @Option(
        help: "Isolation of the server measured in the first part: process (default: the platform's own overhead), linux (adds the sandbox's CPU share: 128 MB = 7% of a core), auto."
    )
    var sandbox: ServerConfiguration.SandboxChoice = .process
    @Flag(help: "Skip the isolation comparison (Linux sandbox against process tier, freeze/thaw).")
    var skipIsolation = false
    @Flag(
        help: "Only replay a synthetic invocation trace (fixed seed) through the fixed and the hybrid-histogram keep-alive policies and print cold starts and environment-seconds."
    )
    var keepAliveTrace = false
    @Option(help: "The fixed keep-alive (seconds) of the keep-alive trace.") var keepAliveSeconds = 600.0
    @Flag(
        name: .customLong("async"),
        help: "Only measure accepted Event invocations per second through HTTP against plain SQLite inserts with the same durability, and the drain of 1,000 events at reserved concurrency 4 against 1,000 synchronous invokes at concurrency 4."
    )
    var asyncOnly = false
    @Flag(
        name: .customLong("sqs"),
        help: "Only measure SQS send+receive+delete throughput at concurrency 16 against plain SQLite inserts into the same database with the same durability."
    )
    var sqsOnly = false
    @Flag(
        name: .customLong("s3"),
        help: "Only measure S3 PUT and GET of 1 MiB objects at concurrency 8 against plain file writes (fsync, rename) and reads on the same file system, and the process's memory while streaming one large object."
    )
    var s3Only = false
    @Option(name: .customLong("s3-objects"), help: "1 MiB objects per S3 round.") var s3Objects = 256
    @Option(name: .customLong("s3-large-mib"), help: "Size in MiB of the object streamed for the S3 memory figure.")
    var s3LargeMiB = 2048

    func run() async throws {
        if self.keepAliveTrace {
            Self.printKeepAliveTrace(fixedSeconds: self.keepAliveSeconds)
            return
        }
        if self.sqsOnly { return try await self.measureSQS() }
        if self.s3Only { return try await self.measureS3() }
        let runtimePath =
            self.testRuntime
            ?? (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/nimbus-test-runtime"
        guard let runtimeBinary = FileManager.default.contents(atPath: runtimePath) else {
            printError("error: \(runtimePath) not found; build it with `swift build -c release --product nimbus-test-runtime`")
            throw ExitCode(2)
        }
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)))
        do {
            if self.asyncOnly {
                try await self.measureAsync(http: http, runtimeBinary: Array(runtimeBinary))
                try await http.shutdown()
                return
            }
            try await Self.withServer(ServerConfiguration(sandbox: self.sandbox)) { endpoint in
                try await self.measure(endpoint: endpoint, http: http, runtimeBinary: Array(runtimeBinary))
            }
            if !self.skipIsolation {
                try await self.measureIsolation(http: http, runtimeBinary: Array(runtimeBinary))
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// Runs a server (port 0, its own temporary data directory) in this process for the duration of `body`.
    static func withServer(
        _ base: ServerConfiguration, _ body: (String) async throws -> Void
    ) async throws {
        try await Self.withServer(base) { endpoint, _, _ in try await body(endpoint) }
    }

    /// Runs a server as ``withServer(_:_:)`` does, handing `body` its endpoint, the server and its data directory.
    static func withServer(
        _ base: ServerConfiguration, _ body: (String, NimbusServer, String) async throws -> Void
    ) async throws {
        var configuration = base
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-bench-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        configuration.port = 0
        configuration.dataDirectory = directory
        configuration.keepAlive = .seconds(600)
        var logger = Logger(label: "nimbus-bench")
        logger.logLevel = .error
        let server = NimbusServer(configuration: configuration, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run(handleSignals: false) }
            let endpoint = try await server.endpoint()
            do {
                try await body(endpoint, server, directory)
            } catch {
                await server.shutdown()
                throw error
            }
            await server.shutdown()
            try await group.waitForAll()
        }
    }

    /// Issue #3's figures: cold start in the Linux sandbox against the process tier, and warm invokes with
    /// freeze/thaw against without, each pair measured in interleaved rounds in this run.
    func measureIsolation(http: HTTPClient, runtimeBinary: [UInt8]) async throws {
        guard SandboxSupport.probe().linuxSandboxAvailable else {
            print("\nIsolation: the Linux sandbox is unavailable on this host (`nimbus doctor` says why); skipped.")
            return
        }
        print("\nIsolation (provided no-op; \(self.rounds) interleaved rounds, medians):")
        let name = "bench-isolation"
        try await Self.withServer(ServerConfiguration(sandbox: .process)) { processEndpoint in
            try await Self.withServer(ServerConfiguration(sandbox: .linux, network: .egress)) { linuxEndpoint in
                try await Self.withServer(ServerConfiguration(sandbox: .linux, network: .none)) { noneEndpoint in
                    try await Self.withServer(ServerConfiguration(sandbox: .linux, freezeIdle: false)) { unfrozenEndpoint in
                        let servers = [processEndpoint, linuxEndpoint, noneEndpoint, unfrozenEndpoint].map {
                            LambdaClient(endpoint: $0, http: http)
                        }
                        for client in servers {
                            try await self.create(
                                client, name, runtime: "provided.al2023", handler: "noop",
                                files: [("bootstrap", runtimeBinary, true)])
                            _ = try await self.invoke(client, name)
                        }
                        var cold: [[Double]] = [[], [], []]
                        var warm: [[Double]] = [[], []]
                        for round in 0..<self.rounds {
                            for (i, client) in servers.prefix(3).enumerated() {
                                cold[i].append(try await self.coldStarts(client, name, count: self.coldStarts, tag: round))
                            }
                            for (i, client) in [servers[1], servers[3]].enumerated() {
                                let call: @Sendable () async throws -> Void = {
                                    _ = try await self.invoke(client, name)
                                }
                                warm[i].append(try await self.latency(count: self.requests, call).p50)
                            }
                        }
                        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
                        let (p, l, n) = (median(cold[0]), median(cold[1]), median(cold[2]))
                        print("| measurement | process tier | linux sandbox | overhead |")
                        print("|---|---|---|---|")
                        print("| cold invoke p50, network egress (slirp4netns) | \(Self.f(p)) ms | \(Self.f(l)) ms | +\(Self.f(l - p)) ms |")
                        print("| cold invoke p50, network none | \(Self.f(p)) ms | \(Self.f(n)) ms | +\(Self.f(n - p)) ms |")
                        let (frozen, unfrozen) = (median(warm[0]), median(warm[1]))
                        print("| warm invoke p50, freeze/thaw vs not frozen | \(Self.f(unfrozen)) ms | \(Self.f(frozen)) ms | \(Self.f(frozen / unfrozen))× |")
                        print(
                            "Targets (issue #3): sandbox cold-start overhead ≤ 15 ms → +\(Self.f(l - p)) ms (egress), +\(Self.f(n - p)) ms (none); warm p50 with freeze/thaw ≤ 1.3× → \(Self.f(frozen / unfrozen))×"
                        )
                    }
                }
            }
        }
    }

    /// The median latency of `count` invocations, each after a configuration change (so each is a cold start).
    func coldStarts(_ client: LambdaClient, _ name: String, count: Int, tag: Int) async throws -> Double {
        var samples: [Double] = []
        for i in 0..<count {
            _ = try await client.call(
                .PUT, "/2015-03-31/functions/\(name)/configuration",
                json: ["Description": .string("cold \(tag)-\(i)")])
            let start = ContinuousClock.now
            let reply = try await self.invoke(client, name)
            guard reply.status == 200, reply.headers.first(name: "X-Amz-Function-Error") == nil else {
                throw LambdaClient.error(from: reply)
            }
            samples.append(Self.millis(ContinuousClock.now - start))
        }
        return Self.summarise(samples).p50
    }

    struct Latency {
        var p50: Double
        var p99: Double
        var mean: Double
    }

    func measure(endpoint: String, http: HTTPClient, runtimeBinary: [UInt8]) async throws {
        let client = LambdaClient(endpoint: endpoint, http: http)
        print(
            "Nimbus benchmark — server in this process at \(endpoint) (isolation: \(self.sandbox.rawValue)), \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )
        print("latency: \(self.requests) sequential requests; throughput: \(self.throughputRequests) requests over \(self.concurrency) connections; \(self.rounds) rounds\n")

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
        // The same no-op behind a public function URL (issue #12: a URL request should cost at most 1.2× an Invoke).
        let urlHost = try await self.publicURLHost(client, provided)
        let urlProvided: @Sendable () async throws -> Void = {
            let reply = try await client.send(.GET, "/", headers: [("Host", urlHost)])
            guard reply.status == 200 else { throw LambdaClient.error(from: reply) }
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
        try await self.throughput(count: self.concurrency * 4, concurrency: self.concurrency, urlProvided)
        if pythonAvailable { try await self.throughput(count: self.concurrency * 4, concurrency: self.concurrency, invokePython) }

        // Interleaved rounds: each round measures the baseline and then every function, so that a noisy moment on
        // a shared machine hits both sides of a ratio; the median over rounds is reported.
        var targets: [(String, @Sendable () async throws -> Void)] = [
            ("baseline GET /_nimbus/health", health), ("warm invoke, provided no-op", invokeProvided),
            ("function URL GET, provided no-op", urlProvided),
        ]
        if pythonAvailable { targets.append(("warm invoke, \(self.pythonRuntime) no-op", invokePython)) }
        var latencies = Array(repeating: [Latency](), count: targets.count)
        var rates = Array(repeating: [Double](), count: targets.count)
        for _ in 0..<self.rounds {
            for (i, target) in targets.enumerated() {
                latencies[i].append(try await self.latency(count: self.requests, target.1))
            }
            for (i, target) in targets.enumerated() {
                rates[i].append(
                    try await self.throughput(count: self.throughputRequests, concurrency: self.concurrency, target.1))
            }
        }
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        print("| measurement | p50 ms | p99 ms | p50 / baseline | req/s at c=\(self.concurrency) | throughput / baseline |")
        print("|---|---|---|---|---|---|")
        var figures: [String: JSONValue] = [:]
        var latencyRatios: [Double] = []
        var rateRatios: [Double] = []
        for (i, target) in targets.enumerated() {
            let latencyRatio = median((0..<self.rounds).map { latencies[i][$0].p50 / latencies[0][$0].p50 })
            let rateRatio = median((0..<self.rounds).map { rates[i][$0] / rates[0][$0] })
            let p50 = median(latencies[i].map(\.p50))
            let p99 = median(latencies[i].map(\.p99))
            let rate = median(rates[i])
            latencyRatios.append(latencyRatio)
            rateRatios.append(rateRatio)
            print(
                "| \(target.0) | \(Self.f(p50)) | \(Self.f(p99)) | \(Self.f(latencyRatio))× | \(Int(rate)) | \(Self.f(rateRatio * 100))% |")
            figures[target.0] = [
                "p50Ms": .number(p50), "p99Ms": .number(p99), "p50Ratio": .number(latencyRatio),
                "requestsPerSecond": .number(rate), "throughputRatio": .number(rateRatio),
            ]
        }
        let pLatency = Latency(p50: median(latencies[1].map(\.p50)), p99: 0, mean: 0)
        let pythonWarmP50 = targets.count > 3 ? median(latencies[3].map(\.p50)) : 0
        // A URL request against a direct Invoke of the same function, per round.
        let urlLatencyRatio = median((0..<self.rounds).map { latencies[2][$0].p50 / latencies[1][$0].p50 })
        let urlRateRatio = median((0..<self.rounds).map { rates[1][$0] / rates[2][$0] })

        print("\nCold starts (\(self.coldStarts) each; every one after a configuration change, so no warm environment exists):")
        print("| function | cold invoke p50 ms | p99 ms | p50 / warm p50 |")
        print("|---|---|---|---|")
        var coldTargets = [(provided, "provided no-op", pLatency.p50)]
        if pythonAvailable { coldTargets.append((python, "\(self.pythonRuntime) no-op", pythonWarmP50)) }
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
        print(
            "\nTargets (issue #2), medians of \(self.rounds) interleaved rounds:\n"
                + "  warm invoke p50 ≤ 3× baseline p50: \(Self.f(latencyRatios[1]))× (provided)"
                + (targets.count > 3 ? ", \(Self.f(latencyRatios[3]))× (python)" : "") + "\n"
                + "  throughput at c=\(self.concurrency) ≥ 35% of baseline: \(Self.f(rateRatios[1] * 100))% (provided)"
                + (targets.count > 3 ? ", \(Self.f(rateRatios[3] * 100))% (python)" : "") + "\n"
                + "Target (issue #12): a function URL request costs ≤ 1.2× a direct Invoke: \(Self.f(urlLatencyRatio))× at p50, "
                + "\(Self.f(urlRateRatio))× in time per request at c=\(self.concurrency)")
        figures["function URL / invoke"] = ["p50Ratio": .number(urlLatencyRatio), "timePerRequestRatio": .number(urlRateRatio)]
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
            guard
                FileManager.default.createFile(
                    atPath: "\(directory)/\(path)", contents: Data(bytes),
                    attributes: [.posixPermissions: executable ? 0o755 : 0o644])
            else {
                throw Zipper.ZipperError(message: "cannot write \(directory)/\(path)")
            }
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

    /// Creates a public (`NONE`) URL for the function and returns the Host its requests carry.
    func publicURLHost(_ client: LambdaClient, _ name: String) async throws -> String {
        let created = try await client.call(.POST, "/2021-10-31/functions/\(name)/url", json: ["AuthType": "NONE"])
        _ = try await client.call(
            .POST, "/2015-03-31/functions/\(name)/policy",
            json: [
                "StatementId": "public", "Action": "lambda:InvokeFunctionUrl", "Principal": "*",
                "FunctionUrlAuthType": "NONE",
            ])
        guard let url = created.json?["FunctionUrl"]?.stringValue, let host = URL(string: url)?.host else {
            throw LambdaClient.APIError(status: created.status, type: "Bench", message: "no FunctionUrl in \(created.text)")
        }
        return host
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
