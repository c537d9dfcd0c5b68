import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NimbusCore
import NimbusSigV4

/// A small client for Nimbus's HTTP API (the Lambda REST API and the CloudWatch Logs subset), used by the CLI and
/// the benchmark.
struct LambdaClient: Sendable {
    let endpoint: String
    let http: HTTPClient
    /// Requests are SigV4-signed with these (a server with `--auth sigv4` needs it); nil sends them unsigned.
    let signing: Signing?

    struct Signing: Sendable {
        var credentials: SigV4Credentials
        var region: String

        /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` and `AWS_REGION`, as the AWS CLI reads them.
        static func fromEnvironment() -> Signing? {
            let env = ProcessInfo.processInfo.environment
            guard let key = env["AWS_ACCESS_KEY_ID"], let secret = env["AWS_SECRET_ACCESS_KEY"] else { return nil }
            return Signing(
                credentials: SigV4Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: env["AWS_SESSION_TOKEN"]),
                region: env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1")
        }
    }

    /// The CLI's client: a refused connection is reported at once instead of being retried until the deadline.
    static let commandLineHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    init(endpoint: String, http: HTTPClient = LambdaClient.commandLineHTTPClient, signing: Signing? = nil) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.http = http
        self.signing = signing
    }

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer

        var json: JSONValue? { JSONValue.parse(self.body.readableBytesView) }
        var text: String { String(buffer: self.body) }
    }

    /// An API error, as the server reported it.
    struct APIError: Error, CustomStringConvertible {
        var status: Int
        var type: String
        var message: String

        var description: String { "\(self.type): \(self.message)" }
    }

    func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(960)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: self.endpoint + path)
        request.method = method
        var headers = headers
        if body != nil, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            headers.append(("Content-Type", "application/json"))
        }
        if let signing = self.signing { headers = self.sign(method, path, body: body ?? [], headers: headers, signing) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response: HTTPClientResponse
        do {
            response = try await self.http.execute(request, timeout: timeout)
        } catch {
            throw APIError(
                status: 0, type: "ConnectionError",
                message: "Could not reach Nimbus at \(self.endpoint): \(error). Is `nimbus serve` running?")
        }
        let data = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: data)
    }

    /// The headers with SigV4's added: the service is Logs for `X-Amz-Target: Logs_…`, Lambda otherwise.
    func sign(_ method: HTTPMethod, _ path: String, body: [UInt8], headers: [(String, String)], _ signing: Signing)
        -> [(String, String)]
    {
        let host = self.endpoint.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
        let isLogs = headers.contains { $0.0.lowercased() == "x-amz-target" && $0.1.hasPrefix("Logs_") }
        let request = SigV4Request(
            method: method.rawValue, target: path, headers: headers.map { (name: $0.0, value: $0.1) } + [(name: "Host", value: host)],
            body: body)
        let signed = SigV4Signer(
            credentials: signing.credentials, region: signing.region, service: isLogs ? "logs" : "lambda"
        ).sign(request, at: Date())
        return signed.request.headers.filter { $0.name.lowercased() != "host" }.map { ($0.name, $0.value) }
    }

    /// Sends a request and throws the server's error on a non-2xx status.
    func call(
        _ method: HTTPMethod, _ path: String, json: JSONValue? = nil, headers: [(String, String)] = []
    ) async throws -> Reply {
        let reply = try await self.send(method, path, body: json?.serialized(), headers: headers)
        guard (200..<300).contains(reply.status) else { throw Self.error(from: reply) }
        return reply
    }

    static func error(from reply: Reply) -> APIError {
        let body = reply.json
        let type =
            reply.headers.first(name: "x-amzn-ErrorType") ?? body?["__type"]?.stringValue ?? "HTTP \(reply.status)"
        let message = body?["message"]?.stringValue ?? body?["Message"]?.stringValue ?? reply.text
        return APIError(status: reply.status, type: type, message: message)
    }

    static func escape(_ segment: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.~")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }

    func getFunction(_ name: String) async throws -> JSONValue? {
        let reply = try await self.send(.GET, "/2015-03-31/functions/\(Self.escape(name))")
        if reply.status == 404 { return nil }
        guard reply.status == 200 else { throw Self.error(from: reply) }
        return reply.json
    }

    func logsCall(_ target: String, _ body: JSONValue) async throws -> JSONValue {
        let reply = try await self.send(
            .POST, "/", body: body.serialized(),
            headers: [("X-Amz-Target", "Logs_20140328.\(target)"), ("Content-Type", "application/x-amz-json-1.1")])
        guard reply.status == 200 else { throw Self.error(from: reply) }
        return reply.json ?? .object([:])
    }
}
