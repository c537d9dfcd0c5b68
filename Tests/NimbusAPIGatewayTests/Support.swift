import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusStore
import Synchronization

@testable import NimbusAPIGateway
@testable import NimbusInvoker

/// An in-memory ``APIGatewayStore`` that records what it was asked to write.
final class MemoryAPIGatewayStore: APIGatewayStore {
    let records = Mutex<[String: APIGatewayRecord]>([:])
    let writes = Mutex<Int>(0)

    func loadAll() async throws -> [APIGatewayRecord] {
        self.records.withLock { Array($0.values) }.sorted { $0.createdMillis < $1.createdMillis }
    }

    func insert(_ record: APIGatewayRecord) async throws {
        try self.records.withLock { records in
            if records[record.apiID] != nil { throw APIGatewayStoreError.apiExists(record.apiID) }
            records[record.apiID] = record
        }
        self.writes.withLock { $0 += 1 }
    }

    func update(
        apiID: String, document: String?, put: [APIGatewayChildRecord], delete: [APIGatewayChildKey]
    ) async throws {
        self.records.withLock { records in
            guard var record = records[apiID] else { return }
            if let document { record.document = document }
            record.children.removeAll { delete.contains($0.key) }
            for child in put {
                if let index = record.children.firstIndex(where: { $0.key == child.key }) {
                    record.children[index].document = child.document
                } else {
                    record.children.append(child)
                }
            }
            records[apiID] = record
        }
        self.writes.withLock { $0 += 1 }
    }

    func delete(apiID: String) async throws {
        _ = self.records.withLock { $0.removeValue(forKey: apiID) }
        self.writes.withLock { $0 += 1 }
    }
}

/// A ``FunctionInvoking`` that records invocations and answers with a scripted outcome.
final class FakeFunctions: FunctionInvoking {
    enum Behaviour: Sendable {
        case payload(String)
        case functionError(type: String)
        case error(NimbusError)
        /// Never answers (the integration timeout must).
        case hang
    }

    let behaviour: Mutex<Behaviour>
    let calls = Mutex<[TriggeredInvocation]>([])

    init(_ behaviour: Behaviour = .payload(#"{"statusCode":200,"body":"ok"}"#)) {
        self.behaviour = Mutex(behaviour)
    }

    var invocations: [TriggeredInvocation] { self.calls.withLock { $0 } }

    func invoke(_ invocation: TriggeredInvocation) async throws -> InvokeResult {
        self.calls.withLock { $0.append(invocation) }
        switch self.behaviour.withLock({ $0 }) {
        case .payload(let text):
            return InvokeResult(payload: ByteBuffer(string: text), executedVersion: "$LATEST", coldStart: false)
        case .functionError(let type):
            return InvokeResult(
                payload: ByteBuffer(string: #"{"errorMessage":"boom"}"#), functionError: "Unhandled",
                executedVersion: "$LATEST",
                errorType: type, coldStart: false)
        case .error(let error):
            throw error
        case .hang:
            // Suspends until cancelled; the service never cancels it (as on AWS, the function keeps running).
            try await Task.sleep(for: .seconds(3600))
            throw CancellationError()
        }
    }

    /// API Gateway never invokes asynchronously; recorded all the same, so that a test would see it.
    func enqueue(_ invocation: TriggeredInvocation) async throws {
        self.calls.withLock { $0.append(invocation) }
    }

    func authorize(_ invocation: TriggeredInvocation) async throws {}
}

/// Drives a service's operations the way the edge does.
struct Harness {
    let service: APIGatewayService
    let store: any APIGatewayStore
    let functions: FakeFunctions
    var namespace = AccountContext(region: "us-east-1", accountID: "123456789012")

    init(store: any APIGatewayStore = MemoryAPIGatewayStore(), functions: FakeFunctions = FakeFunctions()) {
        self.store = store
        self.functions = functions
        self.service = APIGatewayService(store: store, functions: functions, logger: Logger(label: "test"))
    }

    static let function = "arn:aws:lambda:us-east-1:123456789012:function:app"

    /// Calls a control-plane operation; the response's document, or the thrown error as AWS would render it.
    @discardableResult
    func call(
        _ operation: String, labels: [String: String] = [:], query: [(String, String)] = [], body: JSONValue? = nil
    ) async throws -> (status: Int, document: JSONValue) {
        guard let op = self.service.definition.operations.first(where: { $0.name == operation }) else {
            throw TestFailure("no operation \(operation)")
        }
        let request = ServiceRequest(
            operation: operation, namespace: self.namespace,
            caller: Caller(kind: .anonymous, accessKeyID: "test", account: self.namespace.accountID), requestID: "r",
            labels: labels, query: query, body: body.map { ByteBuffer(bytes: $0.serialized()) } ?? ByteBuffer(),
            host: "127.0.0.1:9000")
        let response = try await op.handler(request)
        switch response.body {
        case .document(let document): return (response.status, document)
        case .empty: return (response.status, .null)
        case .bytes(let bytes, _): return (response.status, JSONValue.parse(bytes.readableBytesView) ?? .null)
        case .stream: throw TestFailure("API Gateway's control plane does not stream")
        }
    }

    /// The AWS error an operation throws.
    func failure(
        _ operation: String, labels: [String: String] = [:], query: [(String, String)] = [], body: JSONValue? = nil
    ) async -> ServiceError? {
        do {
            try await self.call(operation, labels: labels, query: query, body: body)
            return nil
        } catch let error as any ServiceErrorConvertible {
            return error.serviceError
        } catch {
            return nil
        }
    }

    /// A request to the invoke endpoint.
    func invoke(
        _ method: String, _ path: String, apiID: String, query: String = "", headers: [(String, String)] = [],
        body: String = "", signature: ServiceRequest.SignatureCheck = .absent
    ) async -> ServiceResponse {
        var request = ServiceRequest(
            operation: "Invoke", namespace: AccountContext(),
            caller: Caller(kind: .anonymous, accessKeyID: "", account: "000000000000"), requestID: "lambda-request-id",
            labels: ["ApiId": apiID], headers: [("host", "\(apiID).execute-api.localhost:9000")] + headers,
            body: ByteBuffer(string: body), host: "\(apiID).execute-api.localhost:9000")
        request.http = ServiceRequest.HTTPExchange(
            method: method, rawPath: path, rawQuery: query, protocolVersion: "HTTP/1.1", sourceIP: "192.0.2.7")
        request.signature = signature
        guard let op = self.service.invokeDefinition.operations.first else { fatalError("no invoke operation") }
        do {
            return try await op.handler(request)
        } catch {
            return ServiceResponse(status: 599)
        }
    }

    /// Creates an API, a 2.0 integration to ``function`` and the given routes on it, and a `$default` auto-deploy stage.
    func api(
        routes: [String], payload: String = "2.0", stage: Bool = true, cors: JSONValue? = nil
    ) async throws -> (api: String, integration: String) {
        var body: [String: JSONValue] = ["name": "test", "protocolType": "HTTP"]
        if let cors { body["corsConfiguration"] = cors }
        let api = try await self.call("CreateApi", body: .object(body)).document["apiId"]?.stringValue ?? ""
        let integration =
            try await self.call(
                "CreateIntegration", labels: ["apiId": api],
                body: [
                    "integrationType": "AWS_PROXY", "integrationUri": .string(Self.function),
                    "payloadFormatVersion": .string(payload),
                ]
            ).document["integrationId"]?.stringValue ?? ""
        for key in routes {
            try await self.call(
                "CreateRoute", labels: ["apiId": api],
                body: ["routeKey": .string(key), "target": .string("integrations/\(integration)")])
        }
        if stage {
            try await self.call(
                "CreateStage", labels: ["apiId": api], body: ["stageName": "$default", "autoDeploy": true])
        }
        return (api, integration)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension ServiceResponse {
    var bodyText: String {
        switch self.body {
        case .empty: ""
        case .document(let document): String(decoding: document.serialized(), as: UTF8.self)
        case .bytes(let bytes, _): String(buffer: bytes)
        case .stream: "<streamed>"
        }
    }

    var contentType: String? {
        if case .bytes(_, let contentType) = self.body { return contentType }
        return nil
    }

    func header(_ name: String) -> String? {
        self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}
