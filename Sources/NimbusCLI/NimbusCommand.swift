import ArgumentParser
import Foundation

/// The `nimbus` command line.
public struct NimbusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "nimbus",
        abstract: "A self-hosted AWS Lambda: the Lambda API and Runtime API on your own machine.",
        subcommands: [
            Serve.self, Deploy.self, Invoke.self, FunctionURLCommand.self, Logs.self, List.self, Delete.self, Bench.self, Doctor.self,
            Queue.self,
        ])

    public init() {}
}

/// Options shared by the commands that talk to a running server.
struct EndpointOptions: ParsableArguments {
    @Option(help: "The Nimbus endpoint (default: $NIMBUS_ENDPOINT or http://127.0.0.1:9000).")
    var endpoint: String?

    var resolved: String {
        self.endpoint ?? ProcessInfo.processInfo.environment["NIMBUS_ENDPOINT"] ?? "http://127.0.0.1:9000"
    }

    var client: LambdaClient { LambdaClient(endpoint: self.resolved, signing: .fromEnvironment()) }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Runs a client command, turning API errors into a message and exit code 2.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as LambdaClient.APIError {
        printError("error: \(error)")
        throw ExitCode(2)
    }
}

extension NimbusCommand {
    /// Entry point of the executable. Calls the async parse-and-run path explicitly: from top-level code in another
    /// module the compiler picks ArgumentParser's synchronous `main()`, which refuses async commands.
    public static func runMain() async {
        do {
            var command = try await Self.asyncParseAsRoot(nil)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Self.exit(withError: error)
        }
    }
}
