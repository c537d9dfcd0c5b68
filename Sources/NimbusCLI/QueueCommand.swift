import ArgumentParser
import Foundation
import NimbusCore

/// `nimbus queue`: the asynchronous-invocation queue — pending and dead-lettered events, and redrive.
struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show asynchronous invocations waiting or dead-lettered; redrive dead-lettered ones.",
        subcommands: [QueueList.self, QueueRedrive.self], defaultSubcommand: QueueList.self)
}

/// `nimbus queue [list] [--function NAME]`.
struct QueueList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List pending and dead-lettered asynchronous events (the default).")

    @Option(help: "Only this function's events.") var function: String?
    @OptionGroup var endpoint: EndpointOptions

    func run() async throws {
        let client = self.endpoint.client
        try await reportingErrors {
            let stats = try await client.call(.GET, "/_nimbus/async").json?["Functions"]?.objectValue ?? [:]
            print("FUNCTION                          PENDING  RUNNING  RETRIES  DEAD  OLDEST(s)")
            for (name, s) in stats.sorted(by: { $0.key < $1.key }) where self.function == nil || self.function == name {
                let n = { (key: String) in Int(s[key]?.numberValue ?? 0) }
                let oldest = s["OldestPendingAgeSeconds"]?.numberValue.map { String(format: "%.1f", $0) } ?? "-"
                print(
                    "\(name.padding(toLength: 33, withPad: " ", startingAt: 0)) \(Self.pad(n("Pending"), 7))  \(Self.pad(n("Running"), 7))  \(Self.pad(n("Retries"), 7))  \(Self.pad(n("DeadLettered"), 4))  \(oldest)"
                )
            }
            var path = "/_nimbus/async/events?State=pending,leased,dead"
            if let function = self.function { path += "&Function=\(LambdaClient.escape(function))" }
            let events = try await client.call(.GET, path).json?["Events"]?.arrayValue ?? []
            print("")
            print("REQUEST ID                            FUNCTION                          STATE    ATTEMPTS  LAST ERROR")
            for e in events {
                let text = { (key: String) in e[key]?.stringValue ?? "" }
                print(
                    "\(text("RequestId").padding(toLength: 37, withPad: " ", startingAt: 0)) \(text("FunctionName").padding(toLength: 33, withPad: " ", startingAt: 0)) \(text("State").padding(toLength: 8, withPad: " ", startingAt: 0)) \(Self.pad(Int(e["Attempts"]?.numberValue ?? 0), 8))  \(text("LastError"))"
                )
            }
        }
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}

/// `nimbus queue redrive FUNCTION`: dead-lettered events of a function go back to the queue.
struct QueueRedrive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redrive", abstract: "Re-enqueue a function's dead-lettered asynchronous events.")

    @Argument(help: "Function name.") var function: String
    @OptionGroup var endpoint: EndpointOptions

    func run() async throws {
        let client = self.endpoint.client
        try await reportingErrors {
            let reply = try await client.call(.POST, "/_nimbus/async/redrive/\(LambdaClient.escape(self.function))")
            let count = Int(reply.json?["Redriven"]?.numberValue ?? 0)
            print("Re-enqueued \(count) dead-lettered event\(count == 1 ? "" : "s") of \(self.function)")
        }
    }
}
