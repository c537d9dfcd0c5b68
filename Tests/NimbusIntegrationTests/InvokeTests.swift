import Foundation
import NimbusCore
import Testing

@testable import NimbusCLI

/// The real server, real processes, the compiled test runtime: what a caller of Invoke sees.
@Suite struct InvokeTests {
    @Test func warmReuseAndColdStartReport() async throws {
        try await withTestServer { s in
            let name = unique("counter")
            try await s.createTestRuntimeFunction(name, behaviour: "counter")
            let first = try await s.invoke(name)
            let second = try await s.invoke(name)
            #expect(first.status == 200)
            #expect(first.json?["count"] == 1)
            #expect(second.json?["count"] == 2)
            #expect(first.json?["pid"] == second.json?["pid"])
            #expect(second.json?["tmpLines"] == 2)
            #expect(first.executedVersion == "$LATEST")
            let cold = try #require(first.logTail)
            let warm = try #require(second.logTail)
            #expect(cold.contains("START RequestId: \(first.requestID!) Version: $LATEST"))
            #expect(cold.contains("END RequestId: \(first.requestID!)"))
            #expect(cold.contains("\tInit Duration: "))
            #expect(!warm.contains("Init Duration"))
            let report = try #require(warm.split(separator: "\n").first { $0.hasPrefix("REPORT") })
            #expect(report.hasPrefix("REPORT RequestId: \(second.requestID!)\tDuration: "))
            #expect(report.contains("\tBilled Duration: "))
            #expect(report.contains("\tMemory Size: 128 MB\tMax Memory Used: "))
            #expect(report.hasSuffix(" MB\t"))
        }
    }

    @Test func eventAndPrintedOutputReachTheTail() async throws {
        try await withTestServer { s in
            let name = unique("print")
            try await s.createTestRuntimeFunction(name, behaviour: "print")
            let result = try await s.invoke(name, #"{"lines":3}"#)
            #expect(result.json?["printed"] == 3)
            let tail = try #require(result.logTail)
            for i in 1...3 {
                #expect(tail.contains("line \(i)\n"))
                #expect(tail.contains("err \(i)\n"))
            }
            #expect(tail.range(of: "line 3")!.lowerBound < tail.range(of: "END RequestId")!.lowerBound)
        }
    }

    @Test func timeoutKillsTheEnvironment() async throws {
        try await withTestServer { s in
            let name = unique("sleep")
            try await s.createTestRuntimeFunction(name, behaviour: "sleep", timeout: 1)
            let before = try await s.invoke(name, #"{"ms":1}"#)
            #expect(before.functionError == nil)
            let result = try await s.invoke(name, #"{"ms":5000}"#)
            #expect(result.status == 200)
            #expect(result.functionError == "Unhandled")
            #expect(result.json?["errorType"] == "Sandbox.Timedout")
            #expect(
                result.json?["errorMessage"]
                    == .string("RequestId: \(result.requestID!) Error: Task timed out after 1.00 seconds"))
            #expect(result.logTail?.contains("Task timed out after 1.00 seconds") == true)
            #expect(result.logTail?.contains("\tStatus: timeout") == true)
            let after = try await s.invoke(name, #"{"ms":1}"#)
            #expect(after.logTail?.contains("Init Duration") == true)
        }
    }

    @Test func crashIsReportedAsExitError() async throws {
        try await withTestServer { s in
            let name = unique("crash")
            try await s.createTestRuntimeFunction(name, behaviour: "crash")
            let result = try await s.invoke(name, #"{"code":3}"#)
            #expect(result.functionError == "Unhandled")
            #expect(result.json?["errorType"] == "Runtime.ExitError")
            #expect(
                result.json?["errorMessage"]
                    == .string("RequestId: \(result.requestID!) Error: Runtime exited with error: exit status 3"))
            #expect(result.logTail?.contains("crashing") == true)
            #expect(result.logTail?.contains("Status: error\tError Type: Runtime.ExitError") == true)
        }
    }

    @Test func initFailuresAreTheFirstInvokesResult() async throws {
        try await withTestServer { s in
            let failing = unique("init-error")
            try await s.createTestRuntimeFunction(failing, behaviour: "init-error")
            let result = try await s.invoke(failing)
            #expect(result.functionError == "Unhandled")
            #expect(result.json?["errorType"] == "Runtime.TestInitError")
            #expect(result.logTail?.contains("INIT_REPORT Init Duration:") == true)

            let crashing = unique("init-crash")
            try await s.createTestRuntimeFunction(crashing, behaviour: "init-crash")
            let crash = try await s.invoke(crashing)
            #expect(crash.json?["errorType"] == "Runtime.ExitError")
            #expect(
                crash.json?["errorMessage"]
                    == .string("RequestId: \(crash.requestID!) Error: Runtime exited with error: exit status 3"))
        }
    }

    @Test func functionErrorsPassThrough() async throws {
        try await withTestServer { s in
            let name = unique("error")
            try await s.createTestRuntimeFunction(name, behaviour: "error")
            let result = try await s.invoke(name, #"{"message":"broken"}"#)
            #expect(result.status == 200)
            #expect(result.functionError == "Unhandled")
            #expect(result.json?["errorType"] == "TestError")
            #expect(result.json?["errorMessage"] == "broken")
            // The environment survives a handled error.
            #expect(try await s.invoke(name).logTail?.contains("Init Duration") == false)
        }
    }

    @Test func oversizedResponse() async throws {
        try await withTestServer { s in
            let name = unique("big")
            try await s.createTestRuntimeFunction(name, behaviour: "big")
            let result = try await s.invoke(name, #"{"bytes":6291557}"#, tail: false)
            #expect(result.functionError == "Unhandled")
            #expect(result.json?["errorType"] == "Function.ResponseSizeTooLarge")
            #expect(
                result.json?["errorMessage"]
                    == "Response payload size exceeded maximum allowed payload size (6291556 bytes).")
            let fits = try await s.invoke(name, #"{"bytes":6291456}"#, tail: false)
            #expect(fits.functionError == nil)
            #expect(fits.body.utf8.count == 6_291_456)
        }
    }

    @Test func concurrentInvokesScaleOut() async throws {
        try await withTestServer { s in
            let name = unique("parallel")
            try await s.createTestRuntimeFunction(name, behaviour: "sleep", timeout: 10)
            // Four invocations that each hold an environment for 2 s cannot share one: one environment each. (With
            // 300 ms, a slow sandbox cold start on a loaded CI machine let one finish before the last one began.)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let result = try await s.invoke(name, #"{"ms":2000}"#, tail: false)
                        #expect(result.json?["slept"] == 2000)
                    }
                }
                try await group.waitForAll()
            }
            let counts = try #require(s.server.components.withLock { $0 }?.invoker.environmentCounts()[name])
            #expect(counts.busy == 0)
            #expect(counts.idle == 4)
            // Warm now: the next four reuse them.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await s.invoke(name, #"{"ms":300}"#, tail: false) } }
                try await group.waitForAll()
            }
            #expect(s.server.components.withLock { $0 }?.invoker.environmentCounts()[name]?.idle == 4)
        }
    }

    @Test func updatesAreNeverServedByStaleEnvironments() async throws {
        try await withTestServer { s in
            let name = unique("update")
            try await s.createTestRuntimeFunction(name, behaviour: "env", environment: ["STAGE": "one"])
            let first = try await s.invoke(name)
            #expect(first.json?["env"]?["STAGE"] == "one")
            _ = try await s.client.call(
                .PUT, "/2015-03-31/functions/\(name)/configuration",
                json: ["Environment": ["Variables": ["STAGE": "two"]], "MemorySize": 256])
            let second = try await s.invoke(name)
            #expect(second.json?["env"]?["STAGE"] == "two")
            #expect(second.json?["env"]?["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256")
            // A new environment (its own log stream), and the old one is gone, not merely idle.
            #expect(second.json?["env"]?["AWS_LAMBDA_LOG_STREAM_NAME"] != first.json?["env"]?["AWS_LAMBDA_LOG_STREAM_NAME"])
            let counts = s.server.components.withLock { $0 }?.invoker.environmentCounts().first { $0.key.hasPrefix(name) }?.value
            #expect(counts?.idle == 1)
            #expect(counts?.busy == 0)
        }
    }

    @Test func runtimeEnvironmentMatchesLambda() async throws {
        try await withTestServer { s in
            let name = unique("env")
            try await s.createTestRuntimeFunction(name, behaviour: "env", environment: ["MY_VAR": "x"])
            let context = Data(#"{"custom":{"k":"v"}}"#.utf8).base64EncodedString()
            let reply = try await s.client.send(
                .POST, "/2015-03-31/functions/\(name)/invocations", body: Array("{}".utf8),
                headers: [("X-Amz-Client-Context", context)])
            let json = try #require(reply.json)
            let env = try #require(json["env"]?.objectValue)
            #expect(env["AWS_LAMBDA_FUNCTION_NAME"] == .string(name))
            #expect(env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST")
            #expect(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128")
            #expect(env["AWS_LAMBDA_LOG_GROUP_NAME"] == .string("/aws/lambda/\(name)"))
            #expect(env["AWS_REGION"] == "us-east-1")
            #expect(env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand")
            #expect(env["_HANDLER"] == "env")
            #expect(env["TZ"] == ":UTC")
            #expect(env["MY_VAR"] == "x")
            #expect(env["AWS_EXECUTION_ENV"] == nil)
            #expect(env["AWS_LAMBDA_RUNTIME_API"]?.stringValue?.hasPrefix("127.0.0.1:") == true)
            #expect(env["TMPDIR"] != nil)
            let stream = try #require(env["AWS_LAMBDA_LOG_STREAM_NAME"]?.stringValue)
            #expect(stream.contains("/[$LATEST]"))
            #expect(stream.split(separator: "]").last?.count == 32)
            #expect(json["cwd"] == env["LAMBDA_TASK_ROOT"])
            #expect(json["context"]?["clientContext"] == #"{"custom":{"k":"v"}}"#)
            #expect(json["context"]?["requestId"] == .string(reply.headers.first(name: "x-amzn-RequestId") ?? ""))
            #expect(
                json["context"]?["invokedFunctionArn"]
                    == .string("arn:aws:lambda:us-east-1:000000000000:function:\(name)"))
            #expect((json["remainingMs"]?.numberValue ?? 0) > 2000)
        }
    }

    /// In the process tier environments are host processes whose pids the test can check (the Linux sandbox's
    /// equivalent is in Tests/e2e/test_sandbox.py).
    @Test func shutdownLeavesNoRuntimeProcess() async throws {
        var pids: [Int32] = []
        try await withTestServer(sandbox: .process) { s in
            let name = unique("shutdown")
            try await s.createTestRuntimeFunction(name, behaviour: "env", timeout: 10)
            async let slow: Void = {
                let sleeper = unique("sleeper")
                try await s.createTestRuntimeFunction(sleeper, behaviour: "sleep", timeout: 10)
                _ = try await s.invoke(sleeper, #"{"ms":1}"#)
            }()
            pids.append(Int32(try await s.invoke(name).json?["pid"]?.numberValue ?? 0))
            try await slow
        }
        for pid in pids { #expect(!processExists(pid)) }
    }
}
