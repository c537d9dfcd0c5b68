import Foundation
import NimbusCore
import Testing

@testable import NimbusCLI

/// Provisioned concurrency through the real server: environments started ahead of time, and configurations that
/// survive a restart.
@Suite struct ProvisionedConcurrencyTests {
    func status(_ s: TestServer, _ name: String, _ qualifier: String) async throws -> JSONValue? {
        try await s.client.call(.GET, "/2019-09-30/functions/\(name)/provisioned-concurrency?Qualifier=\(qualifier)")
            .json
    }

    /// Polls (bounded) until the configuration leaves `IN_PROGRESS`.
    func waitReady(_ s: TestServer, _ name: String, _ qualifier: String) async throws -> JSONValue? {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let reply = try await self.status(s, name, qualifier)
            if reply?["Status"]?.stringValue != "IN_PROGRESS" || ContinuousClock.now > deadline { return reply }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func configurationsAreRestoredOnRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-it-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let name = unique("provisioned")
        try await withTestServer(dataDirectory: directory) { s in
            try await s.createTestRuntimeFunction(name, behaviour: "env")
            _ = try await s.client.call(.POST, "/2015-03-31/functions/\(name)/versions", json: [:])
            let put = try await s.client.call(
                .PUT,
                "/2019-09-30/functions/\(name)/provisioned-concurrency?Qualifier=1",
                json: ["ProvisionedConcurrentExecutions": 1]
            )
            #expect(put.json?["Status"] == "IN_PROGRESS")
            #expect(try await self.waitReady(s, name, "1")?["Status"] == "READY")
        }
        try await withTestServer(dataDirectory: directory) { s in
            let ready = try await self.waitReady(s, name, "1")
            #expect(ready?["Status"] == "READY")
            #expect(ready?["AllocatedProvisionedConcurrentExecutions"] == 1)
            let result = try await s.invoke("\(name):1")
            #expect(result.json?["env"]?["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency")
            #expect(!(result.logTail ?? "").contains("Init Duration"), "\(result.logTail ?? "")")
        }
    }
}
