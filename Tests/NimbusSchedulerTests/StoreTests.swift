import Foundation
import NimbusCore
import NimbusStore
import Testing

/// ``SQLiteScheduleStore`` round trips (migration v12).
@Suite struct StoreTests {
    @Test func roundTrip() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-schedule-store-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = SQLiteScheduleStore(database: try NimbusDatabase(path: "\(root)/nimbus.sqlite"))
        let east = AccountContext(region: "us-east-1", accountID: "123456789012")
        let west = AccountContext(region: "us-west-2", accountID: "123456789012")

        try await store.insertGroup(ScheduleGroupRecord(namespace: east, name: "g", document: "{}", createdMillis: 1))
        try await store.insertGroup(ScheduleGroupRecord(namespace: west, name: "g", document: "{}", createdMillis: 2))
        await #expect(throws: ScheduleStoreError.exists("g")) {
            try await store.insertGroup(
                ScheduleGroupRecord(namespace: east, name: "g", document: "{}", createdMillis: 3)
            )
        }
        try await store.updateGroup(
            ScheduleGroupRecord(namespace: east, name: "g", document: #"{"a":1}"#, createdMillis: 1)
        )
        #expect(try await store.loadGroups().map(\.document) == [#"{"a":1}"#, "{}"])

        let firing = ScheduleFiring(scheduledMillis: 10, dueMillis: 12, attempts: 0, lastFiredMillis: nil)
        let record = ScheduleRecord(
            namespace: east,
            group: "g",
            name: "s",
            document: "{}",
            createdMillis: 5,
            firing: firing
        )
        try await store.insertSchedule(record)
        try await store.insertSchedule(
            ScheduleRecord(namespace: west, group: "g", name: "s", document: "{}", createdMillis: 6, firing: .idle)
        )
        await #expect(throws: ScheduleStoreError.exists("s")) { try await store.insertSchedule(record) }
        let moved = ScheduleFiring(scheduledMillis: 20, dueMillis: 25, attempts: 2, lastFiredMillis: 10)
        try await store.recordFiring(namespace: east, group: "g", name: "s", firing: moved)
        var loaded = try await store.loadSchedules()
        #expect(loaded.map(\.firing) == [moved, .idle])
        try await store.replaceSchedule(
            ScheduleRecord(
                namespace: east,
                group: "g",
                name: "s",
                document: "{\"b\":2}",
                createdMillis: 99,
                firing: firing
            )
        )
        loaded = try await store.loadSchedules()
        #expect(loaded.first?.document == #"{"b":2}"#)
        #expect(loaded.first?.createdMillis == 5)
        #expect(loaded.first?.firing == firing)

        // Deleting a group deletes its schedules, in its namespace only.
        try await store.deleteGroup(namespace: east, name: "g")
        #expect(try await store.loadGroups().map(\.namespace) == [west])
        #expect(try await store.loadSchedules().map(\.namespace) == [west])
        try await store.deleteSchedule(namespace: west, group: "g", name: "s")
        #expect(try await store.loadSchedules().isEmpty)
    }
}
