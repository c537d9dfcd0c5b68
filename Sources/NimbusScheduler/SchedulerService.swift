import Foundation
import Logging
import NimbusCore
import NimbusInvoker
import NimbusStore
import ServiceLifecycle
import Synchronization

/// Amazon EventBridge Scheduler (`scheduler`, 2021-06-30, rest-json): schedules (`at()`, `rate()`, `cron()` in IANA
/// time zones, start and end dates, flexible windows, retry policies, dead-letter queues, deletion after completion)
/// and schedule groups with tags, as botocore's model binds them (``definition``), and, as a `Service`, the runner
/// that fires them on time.
///
/// Schedules live in memory (``ScheduleCatalog``) and in the ``ScheduleStore``, written first. A firing hands the
/// target's input to a Lambda function through Lambda's durable asynchronous queue (``FunctionInvoking/enqueue(_:)``,
/// under a request id derived from the schedule and occurrence, so a firing repeated after a crash is queued once),
/// or sends it to an SQS queue or an event bus; then the schedule moves to its next occurrence in the store. Time
/// arithmetic is ``NimbusSchedules``'; what happens to late, failed and missed firings is ``FiringPolicy``'s.
///
/// What it does not do: IAM. A target's `RoleArn` is validated and kept, and stands for the permission to invoke
/// (Nimbus evaluates no role policies); see docs/scheduler.md.
public final class SchedulerService: Service, Sendable {
    let store: any ScheduleStore
    let functions: (any FunctionInvoking)?
    let queues: (any SchedulerQueues)?
    let events: (any EventPublishing)?
    let logger: Logger
    let catalog = ScheduleCatalog()
    let control = AsyncLock()
    let doorbell = Doorbell()
    /// Milliseconds since the epoch; injected by tests.
    let clock: @Sendable () -> Int64
    /// A uniform draw in `0..<bound` (flexible windows); injected by tests.
    let random: @Sendable (Int64) -> Int64
    let lastErrors = LastErrors()

    /// - Parameters:
    ///   - functions: Lambda, for function targets (nil: function targets fail, dead-lettered).
    ///   - queues: SQS, for queue targets and dead-letter queues (nil: those fail, logged).
    ///   - events: EventBridge, for event bus targets (nil: those fail, dead-lettered).
    public convenience init(
        store: any ScheduleStore,
        functions: (any FunctionInvoking)?,
        queues: (any SchedulerQueues)?,
        events: (any EventPublishing)?,
        logger: Logger
    ) {
        self.init(
            store: store,
            functions: functions,
            queues: queues,
            events: events,
            logger: logger,
            clock: { Timestamp.nowMillis() },
            random: { Int64.random(in: 0..<max($0, 1)) }
        )
    }

    init(
        store: any ScheduleStore,
        functions: (any FunctionInvoking)?,
        queues: (any SchedulerQueues)?,
        events: (any EventPublishing)?,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64,
        random: @escaping @Sendable (Int64) -> Int64
    ) {
        self.store = store
        self.functions = functions
        self.queues = queues
        self.events = events
        self.logger = logger
        self.clock = clock
        self.random = random
    }

    /// Loads every stored group and schedule into memory, each schedule with its firing state as stored (the runner
    /// decides about occurrences that came due while the server was down). The composition root calls it once,
    /// before the edge serves requests and before ``run()``.
    public func load() async throws {
        for record in try await self.store.loadGroups() {
            do {
                let group = try Documents.decode(ScheduleGroupDefinition.self, record.document)
                self.catalog.putGroup(GroupKey(namespace: record.namespace, name: record.name), group)
            } catch {
                // One unreadable group must not keep the server from starting; it stays in the store, unserved.
                self.logger.error(
                    "Scheduler group not loaded",
                    metadata: ["scheduler.group": "\(record.name)", "error": "\(error)"]
                )
            }
        }
        for record in try await self.store.loadSchedules() {
            do {
                let definition = try Documents.decode(ScheduleDefinition.self, record.document)
                self.catalog.putSchedule(
                    ScheduleKey(namespace: record.namespace, group: record.group, name: record.name),
                    definition,
                    firing: record.firing
                )
            } catch {
                self.logger.error(
                    "Scheduler schedule not loaded",
                    metadata: [
                        "scheduler.group": "\(record.group)", "scheduler.schedule": "\(record.name)",
                        "error": "\(error)",
                    ]
                )
            }
        }
        self.doorbell.ring()
    }

    func policy(_ definition: ScheduleDefinition) -> FiringPolicy {
        FiringPolicy(definition, random: self.random)
    }

    // MARK: Groups

    /// A group of the namespace; `default` is written the first time a namespace asks for it.
    func group(_ name: String, in namespace: AccountContext) async throws -> ScheduleGroupDefinition {
        let key = GroupKey(namespace: namespace, name: name)
        if let group = self.catalog.group(key) { return group }
        guard name == ScheduleGroupDefinition.defaultName else { throw SchedulerError.groupNotFound(name) }
        return try await self.control.run { try await self.ensureDefaultGroup(namespace) }
    }

    /// The namespace's `default` group, written if it is not yet. Call under the control lock.
    func ensureDefaultGroup(_ namespace: AccountContext) async throws -> ScheduleGroupDefinition {
        let key = GroupKey(namespace: namespace, name: ScheduleGroupDefinition.defaultName)
        if let group = self.catalog.group(key) { return group }
        let now = self.clock()
        let group = ScheduleGroupDefinition(
            name: ScheduleGroupDefinition.defaultName,
            tags: [],
            clientToken: nil,
            createdMillis: now,
            modifiedMillis: now
        )
        do {
            try await self.store.insertGroup(
                ScheduleGroupRecord(
                    namespace: namespace,
                    name: group.name,
                    document: try Documents.encode(group),
                    createdMillis: now
                )
            )
        } catch ScheduleStoreError.exists {
            // Written by an earlier run whose catalog did not load it: keep going with this one.
        }
        self.catalog.putGroup(key, group)
        return group
    }
}

/// The last failure of each occurrence being retried, for the dead letter it may end in (kept in memory: after a
/// restart the dead letter names a generic error).
final class LastErrors: Sendable {
    let errors = Mutex<[ScheduleKey: (code: String, message: String)]>([:])

    func set(_ key: ScheduleKey, _ error: (code: String, message: String)?) {
        self.errors.withLock { $0[key] = error }
    }

    func get(_ key: ScheduleKey) -> (code: String, message: String)? {
        self.errors.withLock { $0[key] }
    }
}
