import ArgumentParser
import Foundation
import NimbusCore

/// `nimbus deploy`: create the function, or update its code and configuration if it exists.
struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or update a function from a directory or zip.")

    @Argument(help: "Function name.") var name: String
    @Option(help: "Runtime, e.g. python3.12, nodejs20.x, provided.al2023.") var runtime: String
    @Option(help: "Handler, e.g. app.handler (provided runtimes: anything, conventionally 'bootstrap').")
    var handler: String = "bootstrap"
    @Option(help: "Directory to package.") var dir: String?
    @Option(help: "Zip file to upload.") var zip: String?
    @Option(help: "Memory in MB (128–10240).") var memory: Int?
    @Option(help: "Timeout in seconds (1–900).") var timeout: Int?
    @Option(help: "Environment variable KEY=VALUE (repeatable).") var env: [String] = []
    @Option(help: "Execution role ARN recorded on the function.")
    var role = "arn:aws:iam::000000000000:role/nimbus-function"
    @OptionGroup var endpoint: EndpointOptions

    func validate() throws {
        guard (self.dir == nil) != (self.zip == nil) else { throw ValidationError("give exactly one of --dir or --zip") }
        for item in self.env where !item.contains("=") { throw ValidationError("--env takes KEY=VALUE, got \(item)") }
    }

    func run() async throws {
        let package: [UInt8]
        if let dir = self.dir {
            package = try Zipper.zip(directory: dir)
        } else {
            guard let data = FileManager.default.contents(atPath: self.zip!) else {
                printError("error: cannot read \(self.zip!)")
                throw ExitCode(2)
            }
            package = Array(data)
        }
        var variables: [String: JSONValue] = [:]
        for item in self.env {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            variables[String(parts[0])] = .string(parts.count > 1 ? String(parts[1]) : "")
        }
        var settings: [String: JSONValue] = ["Runtime": .string(self.runtime), "Handler": .string(self.handler)]
        if let memory = self.memory { settings["MemorySize"] = .number(Double(memory)) }
        if let timeout = self.timeout { settings["Timeout"] = .number(Double(timeout)) }
        if !self.env.isEmpty { settings["Environment"] = ["Variables": .object(variables)] }
        let client = self.endpoint.client
        let zipBase64 = JSONValue.string(Data(package).base64EncodedString())
        try await reportingErrors {
            let result: JSONValue?
            if try await client.getFunction(self.name) != nil {
                _ = try await client.call(
                    .PUT, "/2015-03-31/functions/\(LambdaClient.escape(self.name))/code", json: ["ZipFile": zipBase64])
                result = try await client.call(
                    .PUT, "/2015-03-31/functions/\(LambdaClient.escape(self.name))/configuration",
                    json: .object(settings)
                ).json
                print("Updated \(self.name)")
            } else {
                var create = settings
                create["FunctionName"] = .string(self.name)
                create["Role"] = .string(self.role)
                create["Code"] = ["ZipFile": zipBase64]
                result = try await client.call(.POST, "/2015-03-31/functions", json: .object(create)).json
                print("Created \(self.name)")
            }
            if let arn = result?["FunctionArn"]?.stringValue { print("  arn: \(arn)") }
            if let sha = result?["CodeSha256"]?.stringValue { print("  code: \(package.count) bytes, sha256 \(sha)") }
        }
    }
}

/// `nimbus invoke`: invoke and print the result (stdout) and the log tail (stderr).
struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Invoke a function.",
        discussion: "Exit status: 0 success, 1 the function failed (its error is printed), 2 the invoke failed.")

    @Argument(help: "Function name or ARN (optionally :qualifier).") var name: String
    @Option(help: "JSON event, or @file to read it from a file.") var payload: String?
    @Flag(help: "Invoke asynchronously (InvocationType Event).") var async = false
    @Flag(help: "Do not print the log tail.") var noLogs = false
    @OptionGroup var endpoint: EndpointOptions

    func run() async throws {
        var body = Array((self.payload ?? "{}").utf8)
        if let payload = self.payload, payload.hasPrefix("@") {
            guard let data = FileManager.default.contents(atPath: String(payload.dropFirst())) else {
                printError("error: cannot read \(payload.dropFirst())")
                throw ExitCode(2)
            }
            body = Array(data)
        }
        let client = self.endpoint.client
        var failed = false
        try await reportingErrors {
            let headers = [
                ("X-Amz-Invocation-Type", self.async ? "Event" : "RequestResponse"),
                ("X-Amz-Log-Type", self.async || self.noLogs ? "None" : "Tail"),
            ]
            let reply = try await client.send(
                .POST, "/2015-03-31/functions/\(LambdaClient.escape(self.name))/invocations", body: body,
                headers: headers + [("Content-Type", "application/octet-stream")])
            guard (200..<300).contains(reply.status) else { throw LambdaClient.error(from: reply) }
            if self.async {
                print("Accepted (request id \(reply.headers.first(name: "x-amzn-RequestId") ?? "?"))")
                return
            }
            if let tail = reply.headers.first(name: "X-Amz-Log-Result"), let data = Data(base64Encoded: tail) {
                printError(String(decoding: data, as: UTF8.self))
            }
            print(reply.text)
            failed = reply.headers.first(name: "X-Amz-Function-Error") != nil
        }
        if failed { throw ExitCode(1) }
    }
}

/// `nimbus logs`: print a function's log, optionally following it.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a function's logs.")

    @Argument(help: "Function name.") var name: String
    @Flag(help: "Keep printing new log lines.") var follow = false
    @Option(help: "Only lines from the last N minutes.") var sinceMinutes: Int = 60
    @OptionGroup var endpoint: EndpointOptions

    func run() async throws {
        let client = self.endpoint.client
        let group = "/aws/lambda/\(self.name)"
        var lastID: Int64 = 0
        let start = Timestamp.nowMillis() - Int64(self.sinceMinutes) * 60_000
        try await reportingErrors {
            repeat {
                var token: String?
                repeat {
                    var request: [String: JSONValue] = [
                        "logGroupName": .string(group), "startTime": .number(Double(start)),
                    ]
                    if let token { request["nextToken"] = .string(token) }
                    let reply: JSONValue
                    do {
                        reply = try await client.logsCall("FilterLogEvents", .object(request))
                    } catch let error as LambdaClient.APIError where error.type == "ResourceNotFoundException" {
                        if !self.follow { throw error }
                        reply = .object([:])
                    }
                    for event in reply["events"]?.arrayValue ?? [] {
                        guard let id = event["eventId"]?.stringValue.flatMap({ Int64($0) }), id > lastID else { continue }
                        lastID = id
                        let stamp = Timestamp.isoString(millis: Int64(event["timestamp"]?.numberValue ?? 0))
                        print("\(stamp) \(event["message"]?.stringValue ?? "")")
                    }
                    token = reply["nextToken"]?.stringValue
                } while token != nil
                fflush(nil)
                if self.follow { try await Task.sleep(for: .seconds(1)) }
            } while self.follow
        }
    }
}

/// `nimbus list`.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List functions.")
    @OptionGroup var endpoint: EndpointOptions

    func run() async throws {
        let client = self.endpoint.client
        try await reportingErrors {
            var marker: String?
            var rows: [[String]] = [["NAME", "RUNTIME", "MEMORY", "TIMEOUT", "LAST MODIFIED"]]
            repeat {
                let path = "/2015-03-31/functions" + (marker.map { "?Marker=\(LambdaClient.escape($0))" } ?? "")
                let reply = try await client.call(.GET, path).json
                for f in reply?["Functions"]?.arrayValue ?? [] {
                    rows.append([
                        f["FunctionName"]?.stringValue ?? "", f["Runtime"]?.stringValue ?? "-",
                        "\(Int(f["MemorySize"]?.numberValue ?? 0)) MB", "\(Int(f["Timeout"]?.numberValue ?? 0)) s",
                        f["LastModified"]?.stringValue ?? "",
                    ])
                }
                marker = reply?["NextMarker"]?.stringValue
            } while marker != nil && marker != ""
            let widths = (0..<5).map { i in rows.map { $0[i].count }.max() ?? 0 }
            for row in rows {
                print(row.enumerated().map { $1.padding(toLength: widths[$0] + 2, withPad: " ", startingAt: 0) }.joined())
            }
        }
    }
}

/// `nimbus delete`.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a function.")
    @Argument(help: "Function name.") var name: String
    @OptionGroup var endpoint: EndpointOptions

    func run() async throws {
        let client = self.endpoint.client
        try await reportingErrors {
            _ = try await client.call(.DELETE, "/2015-03-31/functions/\(LambdaClient.escape(self.name))")
            print("Deleted \(self.name)")
        }
    }
}
