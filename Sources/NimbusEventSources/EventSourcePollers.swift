import Logging
import NimbusCore
import ServiceLifecycle
import Synchronization

/// Lambda's pollers: one running poller per enabled event source mapping, across namespaces. The Lambda service tells
/// it whenever a mapping is created, changed, disabled or deleted (``apply(_:namespace:)``, ``remove(uuid:)``); a
/// service of the server's group, so that pollers stop with the server.
public final class EventSourcePollers: Service, Sendable {
    let queue: any PolledQueue
    let functions: any MappingFunctions
    let logger: Logger
    /// The poller task of each enabled mapping.
    let running = Mutex<[String: Task<Void, Never>]>([:])
    /// Mappings applied before the server runs (loaded at start): their pollers start with ``run()``, once the
    /// invokers run. Nil once started.
    let waiting = Mutex<[String: (EventSourceMapping, AccountContext)]?>([:])
    /// `LastProcessingResult` of each mapping, as its poller last reported it.
    let results = Mutex<[String: String]>([:])

    public init(queue: any PolledQueue, functions: any MappingFunctions, logger: Logger) {
        self.queue = queue
        self.functions = functions
        self.logger = logger
    }

    /// Starts, restarts (with the new settings) or stops the mapping's poller. The previous poller is cancelled
    /// first; its batches under way finish on their own.
    public func apply(_ mapping: EventSourceMapping, namespace: AccountContext) {
        self.remove(uuid: mapping.uuid)
        guard mapping.enabled else { return }
        let deferred = self.waiting.withLock { waiting -> Bool in
            guard waiting != nil else { return false }
            waiting?[mapping.uuid] = (mapping, namespace)
            return true
        }
        if !deferred { self.start(mapping, namespace: namespace) }
    }

    func start(_ mapping: EventSourceMapping, namespace: AccountContext) {
        let uuid = mapping.uuid
        let poller = SQSPoller(
            mapping: mapping, namespace: namespace, queue: self.queue, functions: self.functions, logger: self.logger,
            onResult: { [weak self] result in self?.results.withLock { $0[uuid] = result } })
        // Unstructured: a poller lives as long as its mapping is enabled, which no caller's task scope bounds.
        let task = Task { await poller.run() }
        self.running.withLock { $0[uuid] = task }
    }

    /// Stops the mapping's poller (disabled or deleted mapping).
    public func remove(uuid: String) {
        self.waiting.withLock { _ = $0?.removeValue(forKey: uuid) }
        let task = self.running.withLock { $0.removeValue(forKey: uuid) }
        task?.cancel()
    }

    /// What the mapping's poller last reported for `LastProcessingResult`.
    public func lastProcessingResult(uuid: String) -> String? {
        self.results.withLock { $0[uuid] }
    }

    public var runningCount: Int { self.running.withLock { $0.count } }

    /// Starts the pollers of the mappings loaded so far, waits for shutdown, then stops every poller.
    public func run() async throws {
        let loaded = self.waiting.withLock { waiting in
            defer { waiting = nil }
            return waiting.map { Array($0.values) } ?? []
        }
        for (mapping, namespace) in loaded { self.start(mapping, namespace: namespace) }
        try? await gracefulShutdown()
        let tasks = self.running.withLock { running in
            defer { running.removeAll() }
            return Array(running.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
