import Foundation
import Testing

@testable import NimbusCore
@testable import NimbusStore

/// Functions, published versions, aliases and reserved concurrency survive a reopen of the database.
@Suite struct FunctionStoreTests {
    func withDatabase(_ body: (String) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-store-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await body("\(root)/nimbus.sqlite")
    }

    static func configuration(_ name: String, version: String = "$LATEST", revision: String) -> FunctionConfiguration {
        FunctionConfiguration(
            name: name, version: version, runtime: "python3.12", role: "arn:aws:iam::000000000000:role/r",
            handler: "app.handler",
            code: .init(digestHex: String(repeating: "a", count: 64), sha256Base64: "x", size: 1, unzippedSize: 1),
            lastModifiedMillis: 1, revisionID: revision)
    }

    @Test func versionsAliasesAndReservationsPersist() async throws {
        try await self.withDatabase { path in
            let store = SQLiteFunctionStore(database: try NimbusDatabase(path: path))
            var function = StoredFunction(
                configuration: Self.configuration("fn", revision: "r1"), tags: ["k": "v"],
                versions: [PublishedVersion(configuration: Self.configuration("fn", version: "1", revision: "v1"), sourceRevisionID: "r1")],
                lastVersionNumber: 1)
            try await store.insert(function)
            function.configuration.revisionID = "r2"
            function.lastVersionNumber = 2
            let v2 = PublishedVersion(configuration: Self.configuration("fn", version: "2", revision: "v2"), sourceRevisionID: "r2")
            function.versions.append(v2)
            try await store.publish(function, version: v2)
            let alias = AliasConfiguration(
                name: "live", functionVersion: "1", additionalVersionWeights: ["2": 0.25], revisionID: "a1")
            try await store.putAlias(function: "fn", alias)
            function.put(alias)
            function.reservedConcurrency = 7
            try await store.update(function)

            let reopened = try await SQLiteFunctionStore(database: try NimbusDatabase(path: path)).loadAll()
            #expect(reopened == [function])

            try await store.deleteVersion(function: "fn", number: 1)
            try await store.deleteAlias(function: "fn", alias: "live")
            let after = try await store.loadAll()
            #expect(after.first?.versions.map(\.number) == [2])
            #expect(after.first?.aliases.isEmpty == true)
            #expect(after.first?.lastVersionNumber == 2)
            #expect(after.first?.reservedConcurrency == 7)

            try await store.delete(name: "fn")
            #expect(try await store.loadAll().isEmpty)
        }
    }

    @Test func lookupsByVersionAndAlias() {
        var function = StoredFunction(
            configuration: Self.configuration("fn", revision: "r1"), tags: [:],
            versions: [PublishedVersion(configuration: Self.configuration("fn", version: "3", revision: "v3"), sourceRevisionID: "r1")])
        function.put(AliasConfiguration(name: "b", functionVersion: "3", revisionID: "x"))
        function.put(AliasConfiguration(name: "a", functionVersion: "$LATEST", revisionID: "y"))
        #expect(function.version("$LATEST")?.revisionID == "r1")
        #expect(function.version("3")?.revisionID == "v3")
        #expect(function.version("4") == nil)
        #expect(function.aliases.map(\.name) == ["a", "b"])
        #expect(function.alias("b")?.functionVersion == "3")
        #expect(function.codeDigests.count == 1)
    }
}
