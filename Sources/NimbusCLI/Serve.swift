import ArgumentParser
import Foundation
import Logging
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusSandbox
import NimbusServer

/// `nimbus serve`: runs the server until SIGINT/SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Nimbus server.")

    @Option(help: "Address to listen on. Nimbus binds to loopback unless told otherwise.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 9000

    @Option(help: "Where functions, code, logs and the database live.")
    var dataDir = ".nimbus"

    @Option(help: "The region that appears in ARNs.")
    var region = "us-east-1"

    @Option(help: "The 12-digit account id that appears in ARNs.")
    var account = "000000000000"

    @Option(help: "Seconds an idle execution environment is kept warm.")
    var keepAlive = 600

    @Option(help: "Interpreter for a runtime, e.g. nodejs22.x=/opt/node22/bin/node (repeatable).")
    var interpreter: [String] = []

    @Option(help: "Isolation: auto (the Linux sandbox when the host supports it), linux, or process (none).")
    var sandbox: ServerConfiguration.SandboxChoice = .auto

    @Option(help: "Network of sandboxed functions: egress (outbound only), none (Runtime API only), host (trusted code only).")
    var network: NetworkMode = .egress

    @Flag(inversion: .prefixedNo, help: "Freeze idle environments so that they use no CPU between invocations.")
    var freezeIdle = true

    @Option(help: "Seconds before the first retry of a failed asynchronous invocation (doubled for the second; AWS: about 60).")
    var asyncRetryBase = 60.0

    @Option(
        help: "Seconds of the first backoff of a throttled asynchronous invocation (doubled while throttles repeat). The dispatcher takes only what a function has room for, so a throttle means another caller took the slot: the backoff starts small.")
    var asyncThrottleBase = 0.1

    @Option(help: "Longest backoff of a throttled asynchronous invocation, in seconds.")
    var asyncThrottleMax = 300.0

    @Option(help: "Asynchronous invocations dispatched at once.")
    var asyncConcurrency = 64

    @Option(help: "The account's concurrency limit (busy environments across all functions).")
    var accountConcurrency = 1000

    @Option(help: "New environments a function may start at once, then per second (AWS: 1000 then 100/s).")
    var scalingBurst = 1000
    @Option(help: "Environments per second a function's start allowance grows back by.")
    var scalingRefill = 100.0

    @Option(help: "Keep-alive policy: fixed (--keep-alive seconds) or hybrid (adaptive, from each function's idle times).")
    var keepAlivePolicy = "fixed"

    @Option(help: "Authentication of requests from outside: none (any signature accepted; loopback only) or sigv4. Requests from functions are always SigV4-checked.")
    var auth: Authenticator.Mode = .none

    @Option(help: "The operator's access key id (or $NIMBUS_ACCESS_KEY_ID); default: the key pair kept in the data directory.")
    var accessKeyId: String?

    @Option(help: "The operator's secret access key (or $NIMBUS_SECRET_ACCESS_KEY).")
    var secretAccessKey: String?

    @Option(help: "Directory of pure-Python packages (boto3…) Python functions can import (or $NIMBUS_PYTHON_SDK; default ./.sdk/python when it exists).")
    var pythonSdk: String?

    @Option(help: "Log level of the server's own log (trace, debug, info, notice, warning, error).")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(self.port) else { throw ValidationError("--port must be 0…65535") }
        guard self.account.count == 12, self.account.allSatisfy(\.isNumber) else {
            throw ValidationError("--account must be 12 digits")
        }
        guard self.asyncRetryBase > 0, self.asyncThrottleBase > 0, self.asyncThrottleMax >= self.asyncThrottleBase else {
            throw ValidationError("--async-retry-base and --async-throttle-base must be positive, --async-throttle-max at least the base")
        }
        guard self.asyncConcurrency >= 1 else { throw ValidationError("--async-concurrency must be at least 1") }
        guard self.keepAlive >= 1 else { throw ValidationError("--keep-alive must be at least 1 second") }
        guard self.accountConcurrency >= 1 else { throw ValidationError("--account-concurrency must be at least 1") }
        guard self.scalingBurst >= 1, self.scalingRefill > 0 else {
            throw ValidationError("--scaling-burst must be at least 1 and --scaling-refill positive")
        }
        guard ["fixed", "hybrid"].contains(self.keepAlivePolicy) else {
            throw ValidationError("--keep-alive-policy is fixed or hybrid")
        }
        guard Logger.Level(rawValue: self.logLevel) != nil else { throw ValidationError("unknown --log-level") }
        if (self.operatorAccessKey == nil) != (self.operatorSecret == nil) {
            throw ValidationError("--access-key-id and --secret-access-key go together")
        }
        for item in self.interpreter where !item.contains("=") {
            throw ValidationError("--interpreter takes RUNTIME=PATH, got \(item)")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "nimbus")
        logger.logLevel = level
        var overrides: [String: String] = [:]
        for item in self.interpreter {
            let parts = item.split(separator: "=", maxSplits: 1)
            overrides[String(parts[0])] = String(parts[1])
        }
        var configuration = ServerConfiguration(
            host: self.host, port: self.port, dataDirectory: self.dataDir,
            account: AccountContext(region: self.region, accountID: self.account), keepAlive: .seconds(self.keepAlive),
            interpreterOverrides: overrides, sandbox: self.sandbox, network: self.network, freezeIdle: self.freezeIdle)
        configuration.async = .init(
            maximumConcurrentDispatches: self.asyncConcurrency, retryBase: .milliseconds(Int64(self.asyncRetryBase * 1000)),
            throttleBase: .milliseconds(Int64(self.asyncThrottleBase * 1000)),
            throttleMax: .milliseconds(Int64(self.asyncThrottleMax * 1000)))
        configuration.accountConcurrency = self.accountConcurrency
        configuration.scalingRate = .init(burst: self.scalingBurst, refillPerSecond: self.scalingRefill)
        configuration.keepAlivePolicy = self.keepAlivePolicy == "hybrid" ? .hybridHistogram : .fixed
        configuration.auth = self.auth
        if let key = self.operatorAccessKey, let secret = self.operatorSecret {
            configuration.operatorKey = (key, secret)
        }
        configuration.pythonSDK =
            self.pythonSdk ?? ProcessInfo.processInfo.environment["NIMBUS_PYTHON_SDK"]
            ?? (FileManager.default.fileExists(atPath: ".sdk/python/boto3") ? ".sdk/python" : nil)
        let server = NimbusServer(configuration: configuration, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask {
                let endpoint = try await server.endpoint()
                self.printBanner(endpoint: endpoint, server: server)
            }
            try await group.waitForAll()
        }
    }

    var operatorAccessKey: String? { self.accessKeyId ?? ProcessInfo.processInfo.environment["NIMBUS_ACCESS_KEY_ID"] }
    var operatorSecret: String? { self.secretAccessKey ?? ProcessInfo.processInfo.environment["NIMBUS_SECRET_ACCESS_KEY"] }

    func printBanner(endpoint: String, server: NimbusServer) {
        let components = server.components.withLock { $0 }
        var lines = ["Nimbus is listening on \(endpoint)"]
        lines.append("  data directory: \(URL(fileURLWithPath: self.dataDir).standardizedFileURL.path)")
        if let isolation = components?.isolation {
            lines.append("  isolation: \(isolation)")
        }
        if let launcher = components?.launcher {
            let available = launcher.availability().filter { $0.interpreter != nil }.map(\.runtime)
            let missing = launcher.availability().filter { $0.interpreter == nil && RuntimeCatalog.family(of: $0.runtime) != .unsupported }.map(\.runtime)
            lines.append("  runtimes: \(available.joined(separator: ", "))")
            if !missing.isEmpty { lines.append("  unavailable here: \(missing.joined(separator: ", "))") }
        }
        if let launcher = components?.launcher {
            lines.append("  boto3 for Python functions: \(launcher.pythonSDK ?? "not configured (--python-sdk DIR; scripts/serve.sh installs one)")")
        }
        let key = components?.credentials.operatorKey
        if let key {
            let kept = components?.operatorKeyCreated == true ? " (generated now; kept in the data directory's credentials.json)" : ""
            lines.append("  auth: \(self.auth == .sigv4 ? "SigV4 required" : "none — any signature accepted (loopback only)"); operator key \(key.accessKeyID)\(kept)")
        }
        // Every service answers on the one endpoint; S3 also by virtual host, as SDKs address buckets by name.
        let port = endpoint.split(separator: ":").last.map(String.init) ?? ""
        lines.append("  S3: \(endpoint) (path-style) or http://<bucket>.s3.localhost:\(port) (virtual-hosted)")
        lines.append("")
        lines.append("Try it with the AWS CLI:")
        if self.auth == .sigv4, let key {
            lines.append(
                "  export AWS_ACCESS_KEY_ID=\(key.accessKeyID) AWS_SECRET_ACCESS_KEY=\(key.secretAccessKey) AWS_DEFAULT_REGION=\(self.region)")
        } else {
            lines.append("  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=\(self.region)")
        }
        lines.append("  aws lambda list-functions --endpoint-url \(endpoint)")
        lines.append("  aws s3 mb s3://photos --endpoint-url \(endpoint) && aws s3 ls --endpoint-url \(endpoint)")
        lines.append("or deploy an example:")
        // The binary that is running, so the example works whether or not `nimbus` is on PATH.
        let nimbus = CommandLine.arguments.first.map { $0.contains("/") ? $0 : "nimbus" } ?? "nimbus"
        lines.append(
            "  \(nimbus) deploy hello-python --runtime python3.12 --handler app.handler --dir examples/hello-python --endpoint \(endpoint)"
        )
        lines.append("  \(nimbus) invoke hello-python --payload '{\"name\":\"Nimbus\"}' --endpoint \(endpoint)")
        print(lines.joined(separator: "\n"))
        fflush(nil)
    }
}

extension ServerConfiguration.SandboxChoice: ExpressibleByArgument {}
extension NetworkMode: ExpressibleByArgument {}
extension Authenticator.Mode: ExpressibleByArgument {}
