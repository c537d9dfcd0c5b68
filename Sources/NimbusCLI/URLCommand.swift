import ArgumentParser
import Foundation
import NimbusCore

/// `nimbus url`: a function's URL, created on first use. With `--auth none` (the default) it also adds the resource
/// policy statements that make the URL public, as the AWS console does (`FunctionURLAllowPublicAccess`,
/// `FunctionURLAllowInvokeAction`).
struct FunctionURLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "url", abstract: "Create (or show) a function's URL and print how to call it.")

    @Argument(help: "Function name.") var name: String
    @Option(help: "An alias the URL invokes (default: the unqualified function, $LATEST).") var qualifier: String?
    @Option(help: "none: public, anyone may call; iam: callers sign with SigV4 (service lambda).")
    var auth: Auth = .none
    @Option(name: .customLong("cors-origin"), help: "An origin browsers may call from (repeatable; * for any).")
    var corsOrigins: [String] = []
    @Flag(help: "Delete the URL (and its public-access statement) instead.") var delete = false
    @OptionGroup var endpoint: EndpointOptions

    enum Auth: String, ExpressibleByArgument {
        case none
        case iam

        var awsName: String { self == .none ? "NONE" : "AWS_IAM" }
    }

    static let publicStatement = "FunctionURLAllowPublicAccess"
    static let invokeStatement = "FunctionURLAllowInvokeAction"

    func run() async throws {
        let client = self.endpoint.client
        let function = LambdaClient.escape(self.name)
        let query = self.qualifier.map { "?Qualifier=\(LambdaClient.escape($0))" } ?? ""
        try await reportingErrors {
            if self.delete {
                _ = try await client.call(.DELETE, "/2021-10-31/functions/\(function)/url\(query)")
                for statement in [Self.publicStatement, Self.invokeStatement] {
                    _ = try? await client.call(.DELETE, "/2015-03-31/functions/\(function)/policy/\(statement)\(query)")
                }
                print("Deleted the URL of \(self.name)")
                return
            }
            var config = try await client.send(.GET, "/2021-10-31/functions/\(function)/url\(query)")
            if config.status == 404 {
                var body: [String: JSONValue] = ["AuthType": .string(self.auth.awsName)]
                if !self.corsOrigins.isEmpty {
                    body["Cors"] = [
                        "AllowOrigins": .array(self.corsOrigins.map { .string($0) }), "AllowMethods": ["*"],
                        "AllowHeaders": ["*"],
                    ]
                }
                config = try await client.call(.POST, "/2021-10-31/functions/\(function)/url\(query)", json: .object(body))
                if self.auth == .none {
                    // The two statements the AWS console adds for a public URL (AWS requires both for URLs made since
                    // October 2025; Nimbus needs the first).
                    _ = try await client.call(
                        .POST, "/2015-03-31/functions/\(function)/policy\(query)",
                        json: [
                            "StatementId": .string(Self.publicStatement), "Action": "lambda:InvokeFunctionUrl",
                            "Principal": "*", "FunctionUrlAuthType": "NONE",
                        ])
                    _ = try await client.call(
                        .POST, "/2015-03-31/functions/\(function)/policy\(query)",
                        json: [
                            "StatementId": .string(Self.invokeStatement), "Action": "lambda:InvokeFunction",
                            "Principal": "*", "InvokedViaFunctionUrl": true,
                        ])
                }
                print("Created a URL for \(self.name)")
            } else if !(200..<300).contains(config.status) {
                throw LambdaClient.error(from: config)
            }
            guard let url = config.json?["FunctionUrl"]?.stringValue, let host = Foundation.URL(string: url)?.host else {
                throw LambdaClient.APIError(status: config.status, type: "UnexpectedResponse", message: config.text)
            }
            let authType = config.json?["AuthType"]?.stringValue ?? "NONE"
            let local = self.endpoint.resolved.hasSuffix("/") ? String(self.endpoint.resolved.dropLast()) : self.endpoint.resolved
            print("  url:  \(url)")
            print("  auth: \(authType)")
            print("  curl \(url)")
            print("  where *.localhost does not resolve: curl -H 'Host: \(host)' \(local)/")
        }
    }
}
