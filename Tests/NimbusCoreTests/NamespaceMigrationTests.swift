import Foundation
import GRDB
import Testing

@testable import NimbusCore
@testable import NimbusStore

/// Data from before regions and accounts (migrations up to v4) moves into the server's default namespace, and
/// stores of different namespaces never see each other's functions.
@Suite struct NamespaceMigrationTests {
    @Test func existingFunctionsMoveIntoTheDefaultNamespace() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-ns-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = "\(root)/nimbus.sqlite"
        let home = AccountContext(region: "eu-central-1", accountID: "210987654321")
        do {
            let pool = try DatabasePool(path: path)
            try NimbusDatabase.migrator(defaultNamespace: home).migrate(pool, upTo: "v4")
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO functions (name, config, tags, created_at, last_version) VALUES ('old', ?, '{}', 1, 1)",
                    arguments: [String(decoding: try JSONEncoder().encode(Self.configuration("old")), as: UTF8.self)])
                try db.execute(
                    sql: "INSERT INTO function_versions (function_name, version, config, source_revision) VALUES ('old', 1, ?, 'r')",
                    arguments: [String(decoding: try JSONEncoder().encode(Self.configuration("old", version: "1")), as: UTF8.self)])
                try db.execute(
                    sql: """
                        INSERT INTO log_events (log_group, log_stream, timestamp, ingestion_time, message)
                        VALUES ('/aws/lambda/old', 's', 1, 1, 'hello')
                        """)
            }
        }
        let database = try NimbusDatabase(path: path, defaultNamespace: home)
        #expect(try await database.namespaces() == [home])
        let functions = try await SQLiteFunctionStore(database: database, namespace: home).loadAll()
        #expect(functions.map(\.configuration.name) == ["old"])
        #expect(functions.first?.versions.map(\.number) == [1])
        let elsewhere = SQLiteFunctionStore(database: database, namespace: AccountContext(region: "us-east-1", accountID: "210987654321"))
        #expect(try await elsewhere.loadAll().isEmpty)
        let logs = LogStore(database: database, configuration: .init(retentionDays: 7), logger: .init(label: "test"))
        #expect(try await logs.groups(home, prefix: nil) == ["/aws/lambda/old"])
        #expect(try await logs.groups(AccountContext(), prefix: nil).isEmpty)
    }

    static func configuration(_ name: String, version: String = "$LATEST") -> FunctionConfiguration {
        FunctionConfiguration(
            name: name, version: version, runtime: "python3.12", role: "arn:aws:iam::210987654321:role/r", handler: "app.handler",
            code: .init(digestHex: String(repeating: "a", count: 64), sha256Base64: "x", size: 1, unzippedSize: 1),
            lastModifiedMillis: 1, revisionID: "r")
    }
}
