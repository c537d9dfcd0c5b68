import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusServer
import Testing
import ZIPFoundation

@testable import NimbusCLI

/// A real Nimbus server on 127.0.0.1:0 with its own temporary data directory, for the duration of `body`.
/// The isolation is the default (`auto`: the Linux sandbox where the host allows it, as in CI) unless a test needs
/// to see environments as host processes.
func withTestServer<R>(
    keepAlive: Duration = .seconds(60),
    sandbox: ServerConfiguration.SandboxChoice = .auto,
    dataDirectory: String? = nil,
    _ body: (TestServer) async throws -> R
) async throws -> R {
    // A given data directory outlives the server (restart tests); the caller removes it.
    let directory =
        dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-it-\(UUID())").path
    var logger = Logger(label: "nimbus-test")
    logger.logLevel = .warning
    let server = NimbusServer(
        configuration: ServerConfiguration(port: 0, dataDirectory: directory, keepAlive: keepAlive, sandbox: sandbox),
        logger: logger)
    defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run(handleSignals: false) }
        let endpoint = try await server.endpoint()
        let test = TestServer(server: server, client: LambdaClient(endpoint: endpoint), dataDirectory: directory)
        do {
            let result = try await body(test)
            await server.shutdown()
            try await group.waitForAll()
            return result
        } catch {
            await server.shutdown()
            try? await group.waitForAll()  // the test's own error is the one to report
            throw error
        }
    }
}

struct TestServer {
    let server: NimbusServer
    let client: LambdaClient
    let dataDirectory: String

    /// Creates a function from files (path → (content, executable)).
    @discardableResult
    func createFunction(
        _ name: String, runtime: String, handler: String, files: [String: (Data, Bool)], timeout: Int = 3,
        memory: Int = 128, environment: [String: String] = [:]
    ) async throws -> JSONValue {
        let zip = try makeZip(files)
        let body: JSONValue = [
            "FunctionName": .string(name), "Runtime": .string(runtime), "Handler": .string(handler),
            "Role": "arn:aws:iam::000000000000:role/test", "Timeout": .number(Double(timeout)),
            "MemorySize": .number(Double(memory)),
            "Environment": ["Variables": .object(environment.mapValues { .string($0) })],
            "Code": ["ZipFile": .string(Data(zip).base64EncodedString())],
        ]
        return try await self.client.call(.POST, "/2015-03-31/functions", json: body).json ?? .null
    }

    /// Creates a `provided.al2023` function whose bootstrap is nimbus-test-runtime.
    @discardableResult
    func createTestRuntimeFunction(
        _ name: String, behaviour: String, timeout: Int = 3, environment: [String: String] = [:]
    ) async throws -> JSONValue {
        try await self.createFunction(
            name, runtime: "provided.al2023", handler: behaviour,
            files: ["bootstrap": (try testRuntimeBinary(), true)], timeout: timeout, environment: environment)
    }

    struct Invocation {
        var status: Int
        var body: String
        var json: JSONValue?
        var functionError: String?
        var logTail: String?
        var requestID: String?
        var executedVersion: String?
    }

    func invoke(_ name: String, _ payload: String = "{}", type: String = "RequestResponse", tail: Bool = true)
        async throws -> Invocation
    {
        let reply = try await self.client.send(
            .POST, "/2015-03-31/functions/\(LambdaClient.escape(name))/invocations", body: Array(payload.utf8),
            headers: [("X-Amz-Invocation-Type", type), ("X-Amz-Log-Type", tail ? "Tail" : "None")])
        let tailText = reply.headers.first(name: "X-Amz-Log-Result").flatMap { Data(base64Encoded: $0) }.map {
            String(decoding: $0, as: UTF8.self)
        }
        return Invocation(
            status: reply.status, body: reply.text, json: reply.json,
            functionError: reply.headers.first(name: "X-Amz-Function-Error"), logTail: tailText,
            requestID: reply.headers.first(name: "x-amzn-RequestId"),
            executedVersion: reply.headers.first(name: "X-Amz-Executed-Version"))
    }
}

func makeZip(_ files: [String: (Data, Bool)]) throws -> [UInt8] {
    let archive = try Archive(data: Data(), accessMode: .create)
    for (path, (data, executable)) in files.sorted(by: { $0.key < $1.key }) {
        try archive.addEntry(
            with: path, type: .file, uncompressedSize: Int64(data.count), permissions: executable ? 0o755 : 0o644,
            compressionMethod: .deflate
        ) { position, size in data.subdata(in: Int(position)..<Int(position) + size) }
    }
    return Array(archive.data!)
}

/// The nimbus-test-runtime binary built beside the tests (`swift build` builds it with the package).
func testRuntimeBinary() throws -> Data {
    let candidates = [
        ProcessInfo.processInfo.environment["NIMBUS_TEST_RUNTIME"],
        (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/nimbus-test-runtime",
        ((#filePath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
            + "/../.build/debug/nimbus-test-runtime",
    ].compactMap { $0 }
    for path in candidates {
        if let data = FileManager.default.contents(atPath: path) { return data }
    }
    throw TestSetupError(
        message: "nimbus-test-runtime is not built; run `swift build --product nimbus-test-runtime` (looked in \(candidates))")
}

struct TestSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

/// Whether a process exists.
func processExists(_ pid: Int32) -> Bool {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
    // A zombie has exited; it only waits to be reaped.
    return !status.contains("State:\tZ")
}
