import Foundation
import NimbusCore
import NimbusStore
import Synchronization

/// Message move tasks (dead-letter queue redrive): what StartMessageMoveTask started, per source queue, the most
/// recent first. Tasks live in memory: a restart ends them (the messages not yet moved stay in the dead-letter queue,
/// where a new task can pick them up).
final class MoveTasks: Sendable {
    enum Status: String, Sendable {
        case running = "RUNNING"
        case completed = "COMPLETED"
        case cancelling = "CANCELLING"
        case cancelled = "CANCELLED"
        case failed = "FAILED"
    }

    struct Record: Sendable {
        var id: String
        var sourceARN: String
        var destinationARN: String?
        var maxPerSecond: Int?
        var status: Status
        var moved: Int = 0
        var toMove: Int
        var startedMillis: Int64
        var failureReason: String?
        var worker: Task<Void, Never>?
    }

    let state = Mutex<[String: [Record]]>([:])

    /// Registers a task unless one runs for the source already.
    func begin(_ record: Record) -> Bool {
        self.state.withLock { state in
            if state[record.sourceARN]?.contains(where: { $0.status == .running || $0.status == .cancelling }) == true {
                return false
            }
            state[record.sourceARN, default: []].insert(record, at: 0)
            if (state[record.sourceARN]?.count ?? 0) > 10 { state[record.sourceARN]?.removeLast() }
            return true
        }
    }

    func update(_ source: String, _ id: String, _ change: (inout Record) -> Void) {
        self.state.withLock { state in
            guard var records = state[source], let index = records.firstIndex(where: { $0.id == id }) else { return }
            change(&records[index])
            state[source] = records
        }
    }

    func records(_ source: String) -> [Record] {
        self.state.withLock { $0[source] ?? [] }
    }

    func record(_ source: String, _ id: String) -> Record? {
        self.records(source).first { $0.id == id }
    }

    func cancelAll() {
        let workers = self.state.withLock { state in state.values.flatMap { $0.compactMap(\.worker) } }
        for worker in workers { worker.cancel() }
    }
}

extension SQSService {
    func startMessageMoveTask(_ input: Input, _ context: Context) async throws -> JSONValue {
        let sourceARN = try input.requiredString("SourceArn")
        let destinationARN = try input.string("DestinationArn")
        let rate = try input.integer("MaxNumberOfMessagesPerSecond")
        if let rate, !(1...500).contains(rate) {
            throw SQSError.invalidValue(
                String(rate),
                parameter: "MaxNumberOfMessagesPerSecond",
                reason: "MaxNumberOfMessagesPerSecond must be an integer between 1 and 500."
            )
        }
        guard let arn = QueueARN(sourceARN), arn.namespace == context.namespace,
            let source = self.catalog.queue(arn: arn)
        else {
            throw SQSError.resourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist."
            )
        }
        guard !self.deadLetterSources(of: source).isEmpty else {
            throw SQSError.invalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        }
        var destination: QueueState?
        if let destinationARN {
            guard let arn = QueueARN(destinationARN), arn.namespace == context.namespace,
                let target = self.catalog.queue(arn: arn)
            else {
                throw SQSError.resourceNotFound(
                    "The resource that you specified for the DestinationArn parameter doesn't exist."
                )
            }
            guard target.fifo == source.fifo else {
                throw SQSError.invalidParameterValue(
                    "The source queue and the destination queue must be of the same type."
                )
            }
            destination = target
        }
        let now = self.clock()
        let counts = try await self.store.counts(queueID: source.id, nowMillis: now)
        let id = UUID().uuidString.lowercased()
        let record = MoveTasks.Record(
            id: id,
            sourceARN: sourceARN,
            destinationARN: destinationARN,
            maxPerSecond: rate,
            status: .running,
            toMove: counts.visible + counts.notVisible + counts.delayed,
            startedMillis: now
        )
        guard self.moves.begin(record) else {
            throw SQSError.invalidParameterValue(
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time."
            )
        }
        let worker = Task {
            await self.runMove(id: id, source: source, destinationID: destination?.id, rate: rate ?? 500)
        }
        self.moves.update(sourceARN, id) { $0.worker = worker }
        return ["TaskHandle": .string(MoveTaskHandle.make(taskID: id, sourceARN: sourceARN))]
    }

    /// Moves messages in batches at the task's rate until the source is empty, the task is cancelled, or a message's
    /// destination is gone (FAILED, as AWS reports it: `AWS.SimpleQueueService.NonExistentQueue`).
    func runMove(id: String, source: QueueState, destinationID: Int64?, rate: Int) async {
        let sourceARN = source.arnString
        let batch = max(1, rate / 10)
        let interval = Duration.milliseconds(1000 * batch / rate)
        while true {
            if Task.isCancelled || self.moves.record(sourceARN, id)?.status == .cancelling {
                self.moves.update(sourceARN, id) { $0.status = .cancelled }
                return
            }
            let started = ContinuousClock.now
            do {
                let catalog = self.catalog
                let namespace = source.namespace
                let result = try await self.store.move(from: source.id, limit: batch, nowMillis: self.clock()) {
                    message in
                    if let destinationID {
                        return catalog.queue(id: destinationID).map { MoveDestination(queueID: $0.id, fifo: $0.fifo) }
                    }
                    guard let origin = message.deadLetterSourceARN, let arn = QueueARN(origin),
                        arn.namespace == namespace,
                        let queue = catalog.queue(arn: arn)
                    else { return nil }
                    return MoveDestination(queueID: queue.id, fifo: queue.fifo)
                }
                let count = result.moved.values.reduce(0, +)
                for queue in result.moved.keys { self.signals.signal(queue) }
                self.moves.update(sourceARN, id) { $0.moved += count }
                if result.exhausted {
                    self.moves.update(sourceARN, id) { $0.status = .completed }
                    return
                }
                if count == 0 {
                    let failed = destinationID.map { self.catalog.queue(id: $0) == nil } ?? true
                    if failed {
                        self.moves.update(sourceARN, id) {
                            $0.status = .failed
                            $0.failureReason = SQSError.queueDoesNotExist.queryCode
                        }
                        return
                    }
                }
            } catch {
                self.moves.update(sourceARN, id) {
                    $0.status = .failed
                    $0.failureReason = (error as? SQSError)?.queryCode ?? "InternalError"
                }
                return
            }
            try? await Task.sleep(until: started + interval, clock: .continuous)
        }
    }

    func listMessageMoveTasks(_ input: Input, _ context: Context) async throws -> JSONValue {
        let sourceARN = try input.requiredString("SourceArn")
        let maxResults = try input.integer("MaxResults") ?? 1
        guard (1...10).contains(maxResults) else {
            throw SQSError.invalidValue(
                String(maxResults),
                parameter: "MaxResults",
                reason: "MaxResults must be an integer between 1 and 10."
            )
        }
        guard let arn = QueueARN(sourceARN), arn.namespace == context.namespace, self.catalog.queue(arn: arn) != nil
        else {
            throw SQSError.resourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist."
            )
        }
        let results = self.moves.records(sourceARN).prefix(maxResults).map { record -> JSONValue in
            var entry: [String: JSONValue] = [
                "Status": .string(record.status.rawValue), "SourceArn": .string(record.sourceARN),
                "ApproximateNumberOfMessagesMoved": .number(Double(record.moved)),
                "ApproximateNumberOfMessagesToMove": .number(Double(record.toMove)),
                "StartedTimestamp": .number(Double(record.startedMillis)),
            ]
            if let destination = record.destinationARN { entry["DestinationArn"] = .string(destination) }
            if let rate = record.maxPerSecond { entry["MaxNumberOfMessagesPerSecond"] = .number(Double(rate)) }
            if record.status == .running {
                entry["TaskHandle"] = .string(MoveTaskHandle.make(taskID: record.id, sourceARN: record.sourceARN))
            }
            if let reason = record.failureReason { entry["FailureReason"] = .string(reason) }
            return .object(entry)
        }
        return ["Results": .array(Array(results))]
    }

    func cancelMessageMoveTask(_ input: Input, _ context: Context) async throws -> JSONValue {
        let handle = try input.requiredString("TaskHandle")
        guard let (taskID, sourceARN) = MoveTaskHandle.parse(handle) else {
            throw SQSError.invalidParameterValue("Value for parameter TaskHandle is invalid.")
        }
        guard let arn = QueueARN(sourceARN), arn.namespace == context.namespace, self.catalog.queue(arn: arn) != nil
        else {
            throw SQSError.resourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist."
            )
        }
        guard let record = self.moves.record(sourceARN, taskID), record.status == .running else {
            throw SQSError.resourceNotFound("Task does not exist.")
        }
        record.worker?.cancel()
        var moved = record.moved
        self.moves.update(sourceARN, taskID) {
            $0.status = .cancelled
            moved = $0.moved
        }
        return ["ApproximateNumberOfMessagesMoved": .number(Double(moved))]
    }
}
