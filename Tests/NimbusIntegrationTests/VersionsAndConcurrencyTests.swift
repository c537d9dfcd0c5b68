import Foundation
import NimbusCore
import Testing

@testable import NimbusCLI

/// Published versions, aliases and concurrency limits through the real server, real processes and the compiled test
/// runtime.
@Suite struct VersionsAndConcurrencyTests {
    func publish(_ s: TestServer, _ name: String) async throws -> String {
        let reply = try await s.client.call(.POST, "/2015-03-31/functions/\(name)/versions", json: [:])
        return try #require(reply.json?["Version"]?.stringValue)
    }

    func setEnvironment(_ s: TestServer, _ name: String, _ variables: [String: String]) async throws {
        _ = try await s.client.call(
            .PUT, "/2015-03-31/functions/\(name)/configuration",
            json: ["Environment": ["Variables": .object(variables.mapValues { .string($0) })]])
    }

    func reserve(_ s: TestServer, _ name: String, _ count: Int) async throws {
        _ = try await s.client.call(
            .PUT, "/2017-10-31/functions/\(name)/concurrency",
            json: ["ReservedConcurrentExecutions": .number(Double(count))])
    }

    @Test func versionsRunTheirOwnSnapshotInTheirOwnEnvironments() async throws {
        try await withTestServer { s in
            let name = unique("versions")
            try await s.createTestRuntimeFunction(name, behaviour: "env", environment: ["STAGE": "one"])
            #expect(try await self.publish(s, name) == "1")
            try await self.setEnvironment(s, name, ["STAGE": "two"])

            let latest = try await s.invoke(name)
            let v1 = try await s.invoke("\(name):1")
            #expect(latest.executedVersion == "$LATEST", "\(latest.status) \(latest.body.prefix(600))")
            #expect(latest.json?["env"]?["STAGE"] == "two")
            #expect(v1.executedVersion == "1")
            #expect(v1.json?["env"]?["STAGE"] == "one", "\(v1.status) \(v1.body.prefix(600)) \(v1.logTail ?? "")")
            #expect(v1.json?["env"]?["AWS_LAMBDA_FUNCTION_VERSION"] == "1")
            #expect(v1.json?["context"]?["invokedFunctionArn"] == .string("arn:aws:lambda:us-east-1:000000000000:function:\(name):1"))
            #expect(v1.logTail?.contains("Version: 1") == true)

            // Changing $LATEST again leaves version 1's warm environment alone.
            try await self.setEnvironment(s, name, ["STAGE": "three"])
            let again = try await s.invoke("\(name):1")
            #expect(again.json?["env"]?["STAGE"] == "one", "\(again.status) \(again.body.prefix(600))")
            #expect(again.logTail?.contains("Init Duration") == false, "\(again.logTail ?? "")")
            let counts = try #require(s.server.components.withLock { $0 }?.invoker.environmentCounts())
            #expect(counts["\(name):1"]?.idle == 1)
        }
    }

    @Test func aliasesRunTheirVersionUnderTheAliasARN() async throws {
        try await withTestServer { s in
            let name = unique("alias")
            try await s.createTestRuntimeFunction(name, behaviour: "env", environment: ["STAGE": "one"])
            _ = try await self.publish(s, name)
            try await self.setEnvironment(s, name, ["STAGE": "two"])
            _ = try await self.publish(s, name)
            _ = try await s.client.call(
                .POST, "/2015-03-31/functions/\(name)/aliases", json: ["Name": "live", "FunctionVersion": "1"])
            let result = try await s.invoke("\(name):live")
            #expect(result.executedVersion == "1")
            #expect(result.json?["env"]?["STAGE"] == "one")
            #expect(result.json?["env"]?["AWS_LAMBDA_FUNCTION_VERSION"] == "1")
            #expect(
                result.json?["context"]?["invokedFunctionArn"]
                    == .string("arn:aws:lambda:us-east-1:000000000000:function:\(name):live"))

            // Routing everything to version 2 (weight 1.0) runs version 2 under the same alias.
            _ = try await s.client.call(
                .PUT, "/2015-03-31/functions/\(name)/aliases/live",
                json: ["RoutingConfig": ["AdditionalVersionWeights": ["2": 1]]])
            let routed = try await s.invoke("\(name):live")
            #expect(routed.executedVersion == "2")
            #expect(routed.json?["env"]?["STAGE"] == "two")
        }
    }

    @Test func reservedConcurrencyAdmitsExactlyTheReservation() async throws {
        try await withTestServer { s in
            let name = unique("reserved")
            try await s.createTestRuntimeFunction(name, behaviour: "sleep", timeout: 10)
            try await self.reserve(s, name, 2)
            let results = try await withThrowingTaskGroup(of: TestServer.Invocation.self) { group in
                for _ in 0..<6 { group.addTask { try await s.invoke(name, #"{"ms":1500}"#, tail: false) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let ok = results.filter { $0.status == 200 }
            let throttled = results.filter { $0.status == 429 }
            #expect(ok.count == 2)
            #expect(throttled.count == 4)
            for result in throttled {
                #expect(result.json?["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded")
                #expect(result.json?["message"] == "Rate Exceeded.")
                #expect(result.json?["Type"] == "User")
                #expect(result.json?["Retry-After"] == nil)
            }
            let invoker = try #require(s.server.components.withLock { $0 }?.invoker)
            #expect(invoker.throttleCount(function: name) == 4)
            #expect(invoker.concurrencyUsage()[name]?.inUse == 0)
        }
    }

    @Test func slotsComeBackOnEveryFailurePath() async throws {
        try await withTestServer { s in
            // With a reservation of 1, a leaked slot would throttle the second invocation of each pair.
            let cases: [(behaviour: String, payload: String, timeout: Int)] = [
                ("crash", #"{"code":3}"#, 3), ("sleep", #"{"ms":3000}"#, 1), ("init-error", "{}", 3),
                ("init-crash", "{}", 3), ("error", "{}", 3), ("big", #"{"bytes":6291557}"#, 3),
            ]
            for c in cases {
                let name = unique(c.behaviour)
                try await s.createTestRuntimeFunction(name, behaviour: c.behaviour, timeout: c.timeout)
                try await self.reserve(s, name, 1)
                for _ in 0..<2 {
                    let result = try await s.invoke(name, c.payload, tail: false)
                    #expect(result.status == 200, "\(c.behaviour): \(result.body)")
                    #expect(result.functionError == "Unhandled")
                }
            }
            let invoker = try #require(s.server.components.withLock { $0 }?.invoker)
            #expect(invoker.concurrencyUsage().values.allSatisfy { $0.inUse == 0 && $0.throttles == 0 })
        }
    }

    @Test func reservedZeroThrottlesAndDeletingTheReservationRestores() async throws {
        try await withTestServer { s in
            let name = unique("zero")
            try await s.createTestRuntimeFunction(name, behaviour: "echo")
            try await self.reserve(s, name, 0)
            let throttled = try await s.invoke(name)
            #expect(throttled.status == 429)
            _ = try await s.client.call(.DELETE, "/2017-10-31/functions/\(name)/concurrency")
            #expect(try await s.invoke(name).status == 200)
        }
    }
}
