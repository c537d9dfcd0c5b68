import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NimbusCore

/// A small client for Nimbus's HTTP API (the Lambda REST API and the CloudWatch Logs subset), used by the CLI and
/// the benchmark.
struct LambdaClient: Sendable {
    let endpoint: String
    let http: HTTPClient

    /// The CLI's client: a refused connection is reported at once instead of being retried until the deadline.
    static let commandLineHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    init(endpoint: String, http: HTTPClient = LambdaClient.commandLineHTTPClient) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.http = http
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
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
        }
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
