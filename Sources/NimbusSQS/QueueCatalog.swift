import NimbusCore
import Synchronization

/// One queue as the service knows it: identity, configuration, tags.
struct QueueState: Sendable, Equatable {
    var id: Int64
    var namespace: AccountContext
    var name: String
    var configuration: QueueConfiguration
    var tags: [String: String]
    var createdMillis: Int64
    var modifiedMillis: Int64

    var fifo: Bool { self.configuration.fifo }
    var arn: QueueARN { QueueARN(namespace: self.namespace, name: self.name) }
    var arnString: String { self.arn.description }

    func url(host: String) -> String {
        QueueURL.make(host: host, account: self.namespace.accountID, name: self.name)
    }
}

/// The key of a queue: its namespace and name.
struct QueueKey: Sendable, Hashable {
    var namespace: AccountContext
    var name: String
}

/// Every queue in memory, so that the message path never reads queue rows: lookups by name, id and ARN, the names
/// deleted in the last 60 seconds (`QueueDeletedRecently`) and the last purge of each queue (`PurgeQueueInProgress`).
/// Changes are written to the store first; the catalog changes only after the store accepted them.
final class QueueCatalog: Sendable {
    struct State {
        var queues: [QueueKey: QueueState] = [:]
        var keys: [Int64: QueueKey] = [:]
        var deleted: [QueueKey: Int64] = [:]
        var purged: [Int64: Int64] = [:]
    }

    let state = Mutex<State>(State())

    func install(_ queue: QueueState) {
        self.state.withLock { state in
            let key = QueueKey(namespace: queue.namespace, name: queue.name)
            state.queues[key] = queue
            state.keys[queue.id] = key
            state.deleted[key] = nil
        }
    }

    func remove(id: Int64, at millis: Int64) {
        self.state.withLock { state in
            guard let key = state.keys.removeValue(forKey: id) else { return }
            state.queues[key] = nil
            state.deleted[key] = millis
            state.purged[id] = nil
        }
    }

    func queue(_ namespace: AccountContext, _ name: String) -> QueueState? {
        self.state.withLock { $0.queues[QueueKey(namespace: namespace, name: name)] }
    }

    func queue(id: Int64) -> QueueState? {
        self.state.withLock { state in state.keys[id].flatMap { state.queues[$0] } }
    }

    func queue(arn: QueueARN) -> QueueState? {
        self.queue(arn.namespace, arn.name)
    }

    /// The queues of a namespace, by name.
    func queues(in namespace: AccountContext) -> [QueueState] {
        self.state.withLock { state in
            state.queues.values.filter { $0.namespace == namespace }.sorted { $0.name < $1.name }
        }
    }

    func all() -> [QueueState] {
        self.state.withLock { Array($0.queues.values) }
    }

    /// Whether the name was deleted less than 60 seconds ago.
    func deletedRecently(_ namespace: AccountContext, _ name: String, now: Int64) -> Bool {
        self.state.withLock { state in
            let key = QueueKey(namespace: namespace, name: name)
            guard let at = state.deleted[key] else { return false }
            if now - at >= SQSLimits.recentMillis {
                state.deleted[key] = nil
                return false
            }
            return true
        }
    }

    /// Records a purge unless one happened in the last 60 seconds; returns whether it may go ahead.
    func beginPurge(id: Int64, now: Int64) -> Bool {
        self.state.withLock { state in
            if let last = state.purged[id], now - last < SQSLimits.recentMillis { return false }
            state.purged[id] = now
            return true
        }
    }
}
