import Foundation
import NimbusCore
import NimbusStore
import Testing

/// ``SQLiteEventBusStore``: what it keeps across opening the database again.
@Suite struct StoreTests {
    @Test func roundTripsBusesRulesAndNextFirings() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-events-store-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let a = AccountContext(region: "us-east-1", accountID: "111111111111")
        let b = AccountContext(region: "eu-west-1", accountID: "111111111111")
        let store = SQLiteEventBusStore(database: try NimbusDatabase(path: "\(root)/nimbus.sqlite"))
        try await store.putBus(EventBusRecord(namespace: a, name: "shop", document: "{}", createdMillis: 1))
        try await store.putBus(EventBusRecord(namespace: b, name: "shop", document: "{}", createdMillis: 2))
        try await store.putRule(
            EventRuleRecord(
                namespace: a,
                bus: "shop",
                name: "r1",
                document: "{\"a\":1}",
                createdMillis: 3,
                nextFireMillis: nil
            )
        )
        try await store.putRule(
            EventRuleRecord(
                namespace: a,
                bus: "default",
                name: "r2",
                document: "{}",
                createdMillis: 4,
                nextFireMillis: 60
            )
        )
        try await store.putRule(
            EventRuleRecord(
                namespace: b,
                bus: "shop",
                name: "r1",
                document: "{}",
                createdMillis: 5,
                nextFireMillis: nil
            )
        )
        // A replaced rule keeps its creation time.
        try await store.putRule(
            EventRuleRecord(
                namespace: a,
                bus: "shop",
                name: "r1",
                document: "{\"a\":2}",
                createdMillis: 9,
                nextFireMillis: nil
            )
        )
        try await store.setNextFire(namespace: a, bus: "default", name: "r2", nextFireMillis: 120)
        try await store.deleteBus(namespace: b, name: "shop")

        let reopened = SQLiteEventBusStore(database: try NimbusDatabase(path: "\(root)/nimbus.sqlite"))
        #expect(
            try await reopened.loadBuses() == [
                EventBusRecord(namespace: a, name: "shop", document: "{}", createdMillis: 1)
            ]
        )
        let rules = try await reopened.loadRules()
        #expect(
            rules == [
                EventRuleRecord(
                    namespace: a,
                    bus: "default",
                    name: "r2",
                    document: "{}",
                    createdMillis: 4,
                    nextFireMillis: 120
                ),
                EventRuleRecord(
                    namespace: a,
                    bus: "shop",
                    name: "r1",
                    document: "{\"a\":2}",
                    createdMillis: 3,
                    nextFireMillis: nil
                ),
            ]
        )
        try await reopened.deleteRule(namespace: a, bus: "default", name: "r2")
        #expect(try await reopened.loadRules().map(\.name) == ["r1"])
    }
}
