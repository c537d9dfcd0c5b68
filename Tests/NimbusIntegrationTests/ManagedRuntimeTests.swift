import Foundation
import NimbusCore
import Testing

@testable import NimbusCLI

/// Nimbus's own Python and Node runtime clients, through the real server.
@Suite struct ManagedRuntimeTests {
    static let python = "python3.12"
    static let node = "nodejs20.x"

    func available(_ s: TestServer, _ runtime: String) -> Bool {
        s.server.components.withLock { $0 }?.launcher.availability().first { $0.runtime == runtime }?.interpreter != nil
    }

    @Test func pythonHandlerContextAndErrors() async throws {
        try await withTestServer { s in
            guard self.available(s, Self.python) else {
                Issue.record("\(Self.python) is not installed on this host; install it to run this test")
                return
            }
            let name = unique("py")
            let code = """
                import os
                calls = 0
                def handler(event, context):
                    global calls
                    calls += 1
                    print("event", event)
                    if event.get("fail"):
                        raise ValueError("asked to fail")
                    return {"calls": calls, "request": context.aws_request_id, "name": context.function_name,
                            "memory": context.memory_limit_in_mb, "remaining": context.get_remaining_time_in_millis(),
                            "exec": os.environ.get("AWS_EXECUTION_ENV")}
                """
            try await s.createFunction(
                name, runtime: Self.python, handler: "app.handler", files: ["app.py": (Data(code.utf8), false)])
            let ok = try await s.invoke(name, #"{"x":1}"#)
            #expect(ok.status == 200)
            #expect(ok.functionError == nil)
            #expect(ok.json?["calls"] == 1)
            #expect(ok.json?["request"] == .string(ok.requestID ?? ""))
            #expect(ok.json?["name"] == .string(name))
            #expect(ok.json?["memory"] == "128")  // a string, as AWS's Python runtime reports it
            #expect(ok.json?["exec"] == "AWS_Lambda_python3.12")
            #expect(ok.logTail?.contains("event {'x': 1}") == true)
            let failed = try await s.invoke(name, #"{"fail":true}"#)
            #expect(failed.functionError == "Unhandled")
            #expect(failed.json?["errorType"] == "ValueError")
            #expect(failed.json?["errorMessage"] == "asked to fail")
            #expect(failed.json?["stackTrace"]?.arrayValue?.isEmpty == false)
            let again = try await s.invoke(name, "{}")
            #expect(again.json?["calls"] == 3)
        }
    }

    @Test func pythonImportErrorIsAnInitError() async throws {
        try await withTestServer { s in
            guard self.available(s, Self.python) else { return }
            let name = unique("py-import")
            try await s.createFunction(
                name, runtime: Self.python, handler: "missing.handler",
                files: ["app.py": (Data("x = 1\n".utf8), false)])
            let result = try await s.invoke(name)
            #expect(result.functionError == "Unhandled")
            #expect(result.json?["errorType"] == "Runtime.ImportModuleError")
            #expect(result.json?["errorMessage"]?.stringValue?.hasPrefix("Unable to import module 'missing'") == true)
        }
    }

    @Test func nodeAsyncHandler() async throws {
        try await withTestServer { s in
            guard self.available(s, Self.node) else {
                Issue.record("\(Self.node) is not installed on this host; install it to run this test")
                return
            }
            let name = unique("node")
            let code = """
                let calls = 0;
                exports.handler = async (event, context) => {
                  calls += 1;
                  console.log("event", JSON.stringify(event));
                  if (event.fail) throw new TypeError("asked to fail");
                  return { calls, request: context.awsRequestId, memory: context.memoryLimitInMB };
                };
                """
            try await s.createFunction(
                name, runtime: Self.node, handler: "index.handler", files: ["index.js": (Data(code.utf8), false)])
            let ok = try await s.invoke(name, #"{"x":1}"#)
            #expect(ok.json?["calls"] == 1)
            #expect(ok.json?["request"] == .string(ok.requestID ?? ""))
            #expect(ok.json?["memory"] == "128")
            #expect(ok.logTail?.contains("\tINFO\tevent {\"x\":1}") == true)
            let failed = try await s.invoke(name, #"{"fail":true}"#)
            #expect(failed.functionError == "Unhandled")
            #expect(failed.json?["errorType"] == "TypeError")
            #expect(failed.json?["errorMessage"] == "asked to fail")
        }
    }
}
