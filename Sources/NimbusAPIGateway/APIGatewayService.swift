import Foundation
import Logging
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusStore

/// API Gateway HTTP APIs (`apigatewayv2`, 2018-11-29): the control plane (``definition``: APIs, integrations, routes,
/// stages, deployments, CORS, tags, exactly as botocore's model binds them) and the invoke endpoint
/// (``invokeDefinition``: `http://<api-id>.execute-api.localhost:<port>/…`, matched to a route and handed to a
/// function through ``FunctionInvoking``). Every API lives in memory (``APIGatewayCatalog``) and in the store, which
/// is written before a change is acknowledged; the invoke path reads memory only.
public final class APIGatewayService: Sendable {
    let store: any APIGatewayStore
    let functions: any FunctionInvoking
    let logger: Logger
    let catalog = APIGatewayCatalog()

    public init(store: any APIGatewayStore, functions: any FunctionInvoking, logger: Logger) {
        self.store = store
        self.functions = functions
        self.logger = logger
    }

    /// Loads every stored API into memory. The composition root calls it once, before the edge serves requests.
    public func load() async throws {
        for record in try await self.store.loadAll() {
            do {
                self.catalog.install(try Documents.state(record))
            } catch {
                // One unreadable API must not keep the server from starting; it stays in the store, unserved.
                self.logger.error(
                    "API Gateway API not loaded",
                    metadata: ["apigateway.api.id": "\(record.apiID)", "error": "\(error)"])
            }
        }
    }

    // MARK: Changes

    /// Changes one API: `body` edits a copy of its state; the difference is written to the store, then installed.
    /// A change of an API already being changed gets AWS's concurrent-modification `ConflictException`.
    func change<T>(
        _ id: String, in namespace: AccountContext, _ body: (inout APIState) throws(APIGatewayError) -> T
    ) async throws -> T {
        let old = try self.catalog.begin(id, in: namespace)
        do {
            var new = old
            let result = try body(&new)
            if new != old {
                let write = try Documents.diff(old: old, new: new, now: Timestamp.nowMillis())
                try await self.store.update(apiID: id, document: write.document, put: write.put, delete: write.delete)
            }
            self.catalog.commit(id, new)
            return result
        } catch {
            self.catalog.abandon(id)
            throw error
        }
    }

    /// Creates an API: `make` builds its first state with the reserved id.
    func create(_ make: (String) throws(APIGatewayError) -> APIState) async throws -> APIState {
        let id = self.catalog.reserveID()
        do {
            let state = try make(id)
            try await self.store.insert(try Documents.record(state))
            self.catalog.commit(id, state)
            return state
        } catch {
            self.catalog.abandon(id)
            throw error
        }
    }

    /// Deletes an API and everything in it.
    func delete(_ id: String, in namespace: AccountContext) async throws {
        _ = try self.catalog.begin(id, in: namespace)
        do {
            try await self.store.delete(apiID: id)
            self.catalog.commit(id, nil)
        } catch {
            self.catalog.abandon(id)
            throw error
        }
    }

    /// `http://<api-id>.execute-api.localhost:<port>`, the port taken from the Host the client addressed.
    static func endpoint(_ id: String, host: String) -> String {
        var port: Substring?
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]"), host[close...].hasPrefix("]:") {
                port = host[host.index(close, offsetBy: 2)...]
            }
        } else if let colon = host.lastIndex(of: ":") {
            port = host[host.index(after: colon)...]
        }
        let suffix = port.map { $0.isEmpty || $0 == "80" ? "" : ":\($0)" } ?? ""
        return "http://\(id).execute-api.localhost\(suffix)"
    }
}

/// The store's documents: one JSON text per API and per child, written and read here only.
enum Documents {
    static let integration = "integration"
    static let route = "route"
    static let stage = "stage"
    static let deployment = "deployment"

    struct Write {
        var document: String?
        var put: [APIGatewayChildRecord]
        var delete: [APIGatewayChildKey]
    }

    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// A new API's record with all its children.
    static func record(_ state: APIState) throws -> APIGatewayRecord {
        let now = state.api.createdMillis
        return APIGatewayRecord(
            apiID: state.api.id, namespace: state.namespace, document: try self.encode(state.api), createdMillis: now,
            children: try self.children(of: state, now: now))
    }

    static func children(of state: APIState, now: Int64) throws -> [APIGatewayChildRecord] {
        try state.integrations.map {
            APIGatewayChildRecord(kind: self.integration, id: $0.id, document: try self.encode($0), createdMillis: now)
        }
            + state.routes.map {
                APIGatewayChildRecord(kind: self.route, id: $0.id, document: try self.encode($0), createdMillis: now)
            }
            + state.stages.map {
                APIGatewayChildRecord(
                    kind: self.stage, id: $0.stageName, document: try self.encode($0), createdMillis: $0.createdMillis)
            }
            + state.deployments.map {
                APIGatewayChildRecord(
                    kind: self.deployment, id: $0.id, document: try self.encode($0), createdMillis: $0.createdMillis)
            }
    }

    /// What a change writes: the API document if it changed, the children added or changed, the children removed.
    static func diff(old: APIState, new: APIState, now: Int64) throws -> Write {
        var put: [APIGatewayChildRecord] = []
        var delete: [APIGatewayChildKey] = []
        func compare<T: Encodable & Equatable>(
            _ kind: String, _ before: [T], _ after: [T], id: (T) -> String, created: (T) -> Int64?
        ) throws {
            let previous = Dictionary(before.map { (id($0), $0) }, uniquingKeysWith: { first, _ in first })
            let current = Set(after.map(id))
            for child in after where previous[id(child)] != child {
                put.append(
                    APIGatewayChildRecord(
                        kind: kind, id: id(child), document: try self.encode(child),
                        createdMillis: created(child) ?? now))
            }
            for key in previous.keys.sorted() where !current.contains(key) {
                delete.append(APIGatewayChildKey(kind: kind, id: key))
            }
        }
        try compare(self.integration, old.integrations, new.integrations, id: \.id, created: { _ in nil })
        try compare(self.route, old.routes, new.routes, id: \.id, created: { _ in nil })
        try compare(self.stage, old.stages, new.stages, id: \.stageName, created: \.createdMillis)
        try compare(self.deployment, old.deployments, new.deployments, id: \.id, created: \.createdMillis)
        return Write(document: old.api == new.api ? nil : try self.encode(new.api), put: put, delete: delete)
    }

    /// An API as stored, back in memory. Children of kinds this version does not know are skipped.
    static func state(_ record: APIGatewayRecord) throws -> APIState {
        var state = APIState(namespace: record.namespace, api: try self.decode(HTTPAPI.self, record.document))
        for child in record.children {
            switch child.kind {
            case self.integration: state.integrations.append(try self.decode(Integration.self, child.document))
            case self.route: state.routes.append(try self.decode(Route.self, child.document))
            case self.stage: state.stages.append(try self.decode(Stage.self, child.document))
            case self.deployment: state.deployments.append(try self.decode(Deployment.self, child.document))
            default: continue
            }
        }
        return state
    }
}
