import Foundation
import Testing

@testable import NimbusCore
@testable import NimbusStore

/// Provisioned concurrency configurations survive a reopen of the database and go with their function.
@Suite struct ProvisionedStoreTests {
    @Test func configurationsPersistAndCascade() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-prov-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = "\(root)/nimbus.sqlite"
        let store = SQLiteFunctionStore(database: try NimbusDatabase(path: path))
        try await store.insert(
            StoredFunction(configuration: FunctionStoreTests.configuration("fn", revision: "r1"), tags: [:])
        )
        try await store.putProvisioned(function: "fn", .init(qualifier: "1", requested: 2, lastModifiedMillis: 5))
        try await store.putProvisioned(function: "fn", .init(qualifier: "live", requested: 1, lastModifiedMillis: 6))
        try await store.putProvisioned(function: "fn", .init(qualifier: "1", requested: 3, lastModifiedMillis: 7))
        try await store.deleteProvisioned(function: "fn", qualifier: "live")
        let reopened = SQLiteFunctionStore(database: try NimbusDatabase(path: path))
        #expect(
            try await reopened.loadProvisioned()
                == ["fn": [ProvisionedConcurrencyConfig(qualifier: "1", requested: 3, lastModifiedMillis: 7)]]
        )
        try await reopened.delete(name: "fn")
        #expect(try await reopened.loadProvisioned().isEmpty)
    }
}
