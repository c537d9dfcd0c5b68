import Foundation
import Logging
import NimbusCore
import NimbusStore
import Testing

@testable import NimbusAPIGateway

/// `SQLiteAPIGatewayStore` on a temporary database, and the service's state surviving a restart through it.
@Suite struct StoreTests {
    func withDatabase(_ body: (String) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-apigw-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await body("\(root)/nimbus.sqlite")
    }

    @Test func roundTrip() async throws {
        try await self.withDatabase { path in
            let store = SQLiteAPIGatewayStore(database: try NimbusDatabase(path: path))
            let east = AccountContext(region: "us-east-1", accountID: "111111111111")
            let west = AccountContext(region: "us-west-2", accountID: "222222222222")
            let first = APIGatewayRecord(
                apiID: "aaaaaaaaaa", namespace: east, document: #"{"name":"a"}"#, createdMillis: 10,
                children: [
                    APIGatewayChildRecord(kind: "integration", id: "i000001", document: "{}", createdMillis: 10),
                    APIGatewayChildRecord(kind: "route", id: "r000001", document: #"{"k":1}"#, createdMillis: 10),
                    APIGatewayChildRecord(kind: "stage", id: "$default", document: "{}", createdMillis: 10),
                ])
            let second = APIGatewayRecord(
                apiID: "bbbbbbbbbb", namespace: west, document: #"{"name":"b"}"#, createdMillis: 20)
            try await store.insert(first)
            try await store.insert(second)
            await #expect(throws: APIGatewayStoreError.apiExists("aaaaaaaaaa")) { try await store.insert(first) }

            let reopened = SQLiteAPIGatewayStore(database: try NimbusDatabase(path: path))
            #expect(try await reopened.loadAll() == [first, second])

            // Replace a child (it keeps its place and creation time), add one, delete one, change the document.
            try await store.update(
                apiID: "aaaaaaaaaa", document: #"{"name":"a2"}"#,
                put: [
                    APIGatewayChildRecord(kind: "route", id: "r000001", document: #"{"k":2}"#, createdMillis: 99),
                    APIGatewayChildRecord(kind: "deployment", id: "d000001", document: "{}", createdMillis: 30),
                ],
                delete: [APIGatewayChildKey(kind: "integration", id: "i000001")])
            let updated = try await store.loadAll().first
            #expect(updated?.document == #"{"name":"a2"}"#)
            #expect(updated?.children.map(\.id) == ["r000001", "$default", "d000001"])
            #expect(updated?.children.first?.document == #"{"k":2}"#)
            #expect(updated?.children.first?.createdMillis == 10)

            try await store.delete(apiID: "aaaaaaaaaa")
            #expect(try await store.loadAll().map(\.apiID) == ["bbbbbbbbbb"])
            let orphans = try await NimbusDatabase(path: path).pool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM apigateway_children") ?? -1
            }
            #expect(orphans == 0)
        }
    }

    @Test func serviceStateSurvivesARestart() async throws {
        try await self.withDatabase { path in
            let h = Harness(store: SQLiteAPIGatewayStore(database: try NimbusDatabase(path: path)))
            let (api, integration) = try await h.api(
                routes: ["GET /items/{id}", "ANY /{proxy+}"], payload: "1.0",
                cors: ["allowOrigins": ["https://example.com"], "maxAge": 60])
            try await h.call(
                "CreateStage", labels: ["apiId": api], body: ["stageName": "dev", "stageVariables": ["v": "1"]])
            try await h.call("CreateDeployment", labels: ["apiId": api], body: ["stageName": "dev"])
            try await h.call(
                "TagResource", labels: ["resource-arn": "arn:aws:apigateway:us-east-1::/apis/\(api)"],
                body: ["tags": ["t": "x"]])
            let quick =
                try await h.call(
                    "CreateApi", body: ["name": "q", "protocolType": "HTTP", "target": .string(Harness.function)]
                )
                .document["apiId"]?.stringValue ?? ""
            let before = try h.service.catalog.state(api, in: h.namespace)
            let quickBefore = try h.service.catalog.state(quick, in: h.namespace)
            #expect(before.integrations.map(\.id) == [integration])

            let restarted = Harness(store: SQLiteAPIGatewayStore(database: try NimbusDatabase(path: path)))
            try await restarted.service.load()
            #expect(try restarted.service.catalog.state(api, in: h.namespace) == before)
            #expect(try restarted.service.catalog.state(quick, in: h.namespace) == quickBefore)
            #expect(try await restarted.call("GetApis").document == (try await h.call("GetApis").document))
            // And it serves: the named stage from its deployment.
            let response = await restarted.invoke("GET", "/dev/items/7", apiID: api)
            #expect(response.status == 200)
        }
    }

    @Test func diffWritesOnlyWhatChanged() throws {
        let api = HTTPAPI(
            id: "aaaaaaaaaa", name: "a", tags: [:], createdMillis: 1, disableExecuteApiEndpoint: false,
            apiKeySelectionExpression: "$request.header.x-api-key",
            routeSelectionExpression: "${request.method} ${request.path}",
            ipAddressType: "ipv4")
        var old = APIState(namespace: AccountContext(), api: api)
        old.routes = [
            Route(id: "r1", routeKey: "GET /a", authorizationType: "NONE", apiKeyRequired: false, managed: false),
            Route(id: "r2", routeKey: "GET /b", authorizationType: "NONE", apiKeyRequired: false, managed: false),
        ]
        var new = old
        new.routes[0].routeKey = "GET /c"
        new.routes.remove(at: 1)
        let write = try Documents.diff(old: old, new: new, now: 5)
        #expect(write.document == nil)
        #expect(write.put.map(\.id) == ["r1"])
        #expect(write.delete == [APIGatewayChildKey(kind: "route", id: "r2")])
        new.api.name = "b"
        #expect(try Documents.diff(old: old, new: new, now: 5).document != nil)
    }
}
