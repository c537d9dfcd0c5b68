import NimbusCore

/// Where EventBridge Scheduler persists: one row per schedule group and one per schedule, each holding a JSON
/// document whose schema the scheduler service owns, and beside every schedule its firing state (the occurrence it
/// waits for, when that occurrence is due, how often it was tried, the last occurrence fired), kept in columns so that
/// a store serving several nodes can find due schedules with one indexed query. The service keeps everything in
/// memory and writes here before it acknowledges a change or moves a schedule to its next occurrence. The embedded
/// default is ``SQLiteScheduleStore``; a PostgreSQL store implements the same protocol.
public protocol ScheduleStore: Sendable {
    /// Every schedule group of every namespace, in creation order.
    func loadGroups() async throws -> [ScheduleGroupRecord]
    /// Every schedule of every namespace, in creation order.
    func loadSchedules() async throws -> [ScheduleRecord]
    /// Inserts a new group.
    /// - Throws: ``ScheduleStoreError/exists`` when the namespace has a group of that name.
    func insertGroup(_ record: ScheduleGroupRecord) async throws
    /// Replaces a group's document (its tags changed).
    func updateGroup(_ record: ScheduleGroupRecord) async throws
    /// Deletes a group and every schedule in it, atomically.
    func deleteGroup(namespace: AccountContext, name: String) async throws
    /// Inserts a new schedule.
    /// - Throws: ``ScheduleStoreError/exists`` when its group has a schedule of that name.
    func insertSchedule(_ record: ScheduleRecord) async throws
    /// Replaces a schedule's document and firing state (UpdateSchedule); its creation time stays.
    func replaceSchedule(_ record: ScheduleRecord) async throws
    /// Deletes a schedule (nothing happens when there is none).
    func deleteSchedule(namespace: AccountContext, group: String, name: String) async throws
    /// Moves a schedule to its next occurrence (only the firing columns change).
    func recordFiring(namespace: AccountContext, group: String, name: String, firing: ScheduleFiring) async throws
}

/// One stored schedule group.
public struct ScheduleGroupRecord: Sendable, Equatable {
    public var namespace: AccountContext
    public var name: String
    public var document: String
    public var createdMillis: Int64

    public init(namespace: AccountContext, name: String, document: String, createdMillis: Int64) {
        self.namespace = namespace
        self.name = name
        self.document = document
        self.createdMillis = createdMillis
    }
}

/// One stored schedule: its definition as a document and its firing state.
public struct ScheduleRecord: Sendable, Equatable {
    public var namespace: AccountContext
    public var group: String
    public var name: String
    public var document: String
    public var createdMillis: Int64
    public var firing: ScheduleFiring

    public init(
        namespace: AccountContext,
        group: String,
        name: String,
        document: String,
        createdMillis: Int64,
        firing: ScheduleFiring
    ) {
        self.namespace = namespace
        self.group = group
        self.name = name
        self.document = document
        self.createdMillis = createdMillis
        self.firing = firing
    }
}

/// Where a schedule stands: the occurrence it waits for and the last one it fired. Times are milliseconds since the
/// epoch.
public struct ScheduleFiring: Sendable, Equatable, Hashable {
    /// The occurrence the schedule waits for, as its expression gives it (nil: none is left, or the schedule is
    /// disabled).
    public var scheduledMillis: Int64?
    /// When that occurrence is delivered: its time, plus the flexible window's delay drawn once for it, or the next
    /// retry of an occurrence whose delivery failed.
    public var dueMillis: Int64?
    /// Deliveries of that occurrence tried so far (0 until it is first due).
    public var attempts: Int
    /// The last occurrence delivered (or given up on).
    public var lastFiredMillis: Int64?

    public init(scheduledMillis: Int64?, dueMillis: Int64?, attempts: Int = 0, lastFiredMillis: Int64? = nil) {
        self.scheduledMillis = scheduledMillis
        self.dueMillis = dueMillis
        self.attempts = attempts
        self.lastFiredMillis = lastFiredMillis
    }

    /// Nothing to wait for.
    public static let idle = ScheduleFiring(scheduledMillis: nil, dueMillis: nil)
}

public enum ScheduleStoreError: Error, Sendable, Equatable {
    /// A group or schedule of that name exists already.
    case exists(String)
}
