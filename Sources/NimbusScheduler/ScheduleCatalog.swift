import NimbusCore
import NimbusStore
import Synchronization

/// A schedule's address: namespace, group, name.
struct ScheduleKey: Sendable, Hashable {
    var namespace: AccountContext
    var group: String
    var name: String
}

/// A group's address.
struct GroupKey: Sendable, Hashable {
    var namespace: AccountContext
    var name: String
}

/// Every group and schedule of every namespace, in memory, with each schedule's firing state: the control plane's
/// reads and the runner never touch the store. Changes are made under the service's control lock, after the store
/// took them. Each change of a schedule gives it a new revision, so that the runner, which delivers outside the lock,
/// records a firing only on the definition it fired.
final class ScheduleCatalog: Sendable {
    struct Entry: Sendable {
        var definition: ScheduleDefinition
        var firing: ScheduleFiring
        var revision: Int
    }

    struct State {
        var groups: [GroupKey: ScheduleGroupDefinition] = [:]
        var schedules: [ScheduleKey: Entry] = [:]
        var nextRevision = 1
    }

    let state = Mutex(State())

    func group(_ key: GroupKey) -> ScheduleGroupDefinition? {
        self.state.withLock { $0.groups[key] }
    }

    func schedule(_ key: ScheduleKey) -> Entry? {
        self.state.withLock { $0.schedules[key] }
    }

    /// The namespace's groups, by name.
    func groups(in namespace: AccountContext) -> [ScheduleGroupDefinition] {
        self.state.withLock { state in
            state.groups.filter { $0.key.namespace == namespace }.map(\.value).sorted { $0.name < $1.name }
        }
    }

    /// The namespace's schedules (of one group when given), by name then group.
    func schedules(in namespace: AccountContext, group: String?) -> [ScheduleDefinition] {
        self.state.withLock { state in
            state.schedules.filter { $0.key.namespace == namespace && (group == nil || $0.key.group == group) }
                .map(\.value.definition)
        }.sorted { ($0.name, $0.group) < ($1.name, $1.group) }
    }

    func putGroup(_ key: GroupKey, _ group: ScheduleGroupDefinition?) {
        self.state.withLock { $0.groups[key] = group }
    }

    /// Installs a schedule (new, replaced, or loaded) with a new revision.
    func putSchedule(_ key: ScheduleKey, _ definition: ScheduleDefinition, firing: ScheduleFiring) {
        self.state.withLock { state in
            state.schedules[key] = Entry(definition: definition, firing: firing, revision: state.nextRevision)
            state.nextRevision += 1
        }
    }

    func removeSchedule(_ key: ScheduleKey) {
        self.state.withLock { _ = $0.schedules.removeValue(forKey: key) }
    }

    /// Removes a group with its schedules.
    func removeGroup(_ key: GroupKey) {
        self.state.withLock { state in
            state.groups[key] = nil
            state.schedules = state.schedules.filter {
                !($0.key.namespace == key.namespace && $0.key.group == key.name)
            }
        }
    }

    /// Records a firing state if the schedule is still at `revision`; whether it was.
    func setFiring(_ key: ScheduleKey, revision: Int, _ firing: ScheduleFiring) -> Bool {
        self.state.withLock { state in
            guard var entry = state.schedules[key], entry.revision == revision else { return false }
            entry.firing = firing
            state.schedules[key] = entry
            return true
        }
    }

    /// The schedules due at `now`, and the earliest due time of the others (nil when none waits).
    func due(at now: Int64) -> (due: [(ScheduleKey, Entry)], next: Int64?) {
        self.state.withLock { state in
            var due: [(ScheduleKey, Entry)] = []
            var next: Int64?
            for (key, entry) in state.schedules where entry.definition.enabled {
                guard let at = entry.firing.dueMillis else { continue }
                if at <= now {
                    due.append((key, entry))
                } else {
                    next = min(next ?? at, at)
                }
            }
            return (due.sorted { ($0.1.firing.dueMillis ?? 0) < ($1.1.firing.dueMillis ?? 0) }, next)
        }
    }
}
