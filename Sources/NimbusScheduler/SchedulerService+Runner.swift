import Foundation
import Logging
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusStore
import ServiceLifecycle

/// The runner: sleeps until the earliest due schedule (a change rings the doorbell), delivers what is due, and moves
/// each schedule to its next occurrence in the store after the delivery. Delivery first, record second: a crash in
/// between delivers the occurrence again after the restart, under the same request id, which Lambda's queue takes
/// once (an SQS standard queue target may then receive it twice, as SQS's own at-least-once delivery allows).
extension SchedulerService {
    /// Occurrences delivered concurrently.
    static let width = 32
    /// The longest sleep: the wall clock is read again at least this often.
    static let longestSleepMillis: Int64 = 60_000

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let next = await self.fireDue()
                let wait = next.map { max($0 - self.clock(), 0) } ?? Self.longestSleepMillis
                await self.doorbell.wait(timeout: .milliseconds(min(wait, Self.longestSleepMillis)))
            }
        }
    }

    /// Delivers every occurrence due at `now` (the clock's time when nil) and returns when the runner should look
    /// again: the earliest due time left (`now` when a schedule is due already, after catching up), nil when nothing
    /// waits.
    @discardableResult
    func fireDue(at now: Int64? = nil) async -> Int64? {
        let now = now ?? self.clock()
        let due = self.catalog.due(at: now).due
        if !due.isEmpty {
            await withTaskGroup(of: Void.self) { group in
                var iterator = due.makeIterator()
                func addNext() {
                    guard let (key, entry) = iterator.next() else { return }
                    group.addTask { await self.handle(key, entry, now: now) }
                }
                for _ in 0..<Self.width { addNext() }
                while await group.next() != nil { addNext() }
            }
        }
        let after = self.catalog.due(at: now)
        return after.due.isEmpty ? after.next : now
    }

    /// Takes one due schedule through its step.
    func handle(_ key: ScheduleKey, _ entry: ScheduleCatalog.Entry, now: Int64) async {
        let policy = self.policy(entry.definition)
        guard let step = policy.step(entry.firing, now: now) else { return }
        let arn = ScheduleARN.schedule(key.namespace, group: key.group, name: key.name)
        let resolution: FiringPolicy.Resolution
        switch step {
        case .deliver(let scheduled, let attempt):
            let firing = Firing(definition: entry.definition, arn: arn, scheduled: scheduled, attempt: attempt)
            let outcome = await self.deliver(firing, namespace: key.namespace)
            if case .failed(let code, let message) = outcome {
                self.lastErrors.set(key, (code, message))
            } else {
                self.lastErrors.set(key, nil)
            }
            resolution = policy.resolve(
                scheduled: scheduled,
                attempt: attempt,
                outcome: outcome,
                now: now,
                lastFired: entry.firing.lastFiredMillis
            )
            if let deadLetter = resolution.deadLetter {
                await self.sendDeadLetter(deadLetter, firing)
            } else if case .failed(let code, _) = outcome {
                self.logger.notice(
                    "Scheduler delivery failed; retrying",
                    metadata: ["scheduler.schedule": "\(arn)", "scheduler.attempt": "\(attempt)", "error": "\(code)"]
                )
            }
        case .skip(let scheduled):
            self.logger.warning(
                "Scheduler occurrence reached too late (the server was down); not replayed",
                metadata: ["scheduler.schedule": "\(arn)", "scheduler.scheduled": "\(Self.isoSeconds(scheduled))"]
            )
            resolution = FiringPolicy.Resolution(
                firing: policy.advance(from: scheduled, now: now, lastFired: scheduled)
            )
        case .expire(let scheduled, let attempts):
            let last =
                self.lastErrors.get(key)
                ?? ("InternalServerException", "The target was not reached before the event's maximum age.")
            self.lastErrors.set(key, nil)
            let firing = Firing(definition: entry.definition, arn: arn, scheduled: scheduled, attempt: attempts)
            await self.sendDeadLetter(
                FiringPolicy.DeadLetter(
                    code: last.code,
                    message: last.message,
                    retryAttempts: max(attempts - 1, 0),
                    exhaustedCondition: "MaximumEventAgeInSeconds"
                ),
                firing
            )
            resolution = FiringPolicy.Resolution(
                firing: policy.advance(from: scheduled, now: now, lastFired: scheduled)
            )
        }
        await self.record(key, revision: entry.revision, resolution.firing)
    }

    /// Moves a schedule to its next firing state (nil: deletes it, complete), unless it changed meanwhile (the change
    /// computed its own). A store that fails leaves the memory advanced all the same: the occurrence is not delivered
    /// again by this process, and after a restart its repeat is taken once by Lambda's queue.
    func record(_ key: ScheduleKey, revision: Int, _ firing: ScheduleFiring?) async {
        await self.control.acquire()
        defer { self.control.release() }
        guard self.catalog.schedule(key)?.revision == revision else { return }
        do {
            if let firing {
                try await self.store.recordFiring(
                    namespace: key.namespace,
                    group: key.group,
                    name: key.name,
                    firing: firing
                )
            } else {
                try await self.store.deleteSchedule(namespace: key.namespace, group: key.group, name: key.name)
            }
        } catch {
            self.logger.error(
                "Scheduler firing state not stored",
                metadata: ["scheduler.group": "\(key.group)", "scheduler.schedule": "\(key.name)", "error": "\(error)"]
            )
        }
        if let firing {
            _ = self.catalog.setFiring(key, revision: revision, firing)
        } else {
            self.catalog.removeSchedule(key)
            self.logger.info(
                "Scheduler schedule deleted after completion",
                metadata: ["scheduler.group": "\(key.group)", "scheduler.schedule": "\(key.name)"]
            )
        }
    }

    // MARK: Delivery

    /// One delivery attempt of one occurrence.
    struct Firing: Sendable {
        var definition: ScheduleDefinition
        var arn: String
        var scheduled: Int64
        var attempt: Int

        /// The occurrence's id, the same on every attempt and after a restart: the request id of the invocation
        /// (Lambda's queue takes an id once), `<aws.scheduler.execution-id>` and the dead letter's `EXECUTION_ID`.
        /// The schedule's creation time is part of it, so a schedule deleted and made again fires afresh.
        var executionID: String {
            let hex = Digest.sha256Hex(Array("\(self.arn)|\(self.definition.createdMillis)|\(self.scheduled)".utf8))
            let d = Array(hex.prefix(32))
            return [d[0..<8], d[8..<12], d[12..<16], d[16..<20], d[20..<32]].map { String($0) }.joined(separator: "-")
        }

        /// The target's input with Scheduler's context attributes filled in (`{}` when the target has none).
        var payload: String {
            guard let input = self.definition.target.input else { return "{}" }
            return
                input
                .replacingOccurrences(of: "<aws.scheduler.schedule-arn>", with: self.arn)
                .replacingOccurrences(
                    of: "<aws.scheduler.scheduled-time>",
                    with: SchedulerService.isoSeconds(self.scheduled)
                )
                .replacingOccurrences(of: "<aws.scheduler.execution-id>", with: self.executionID)
                .replacingOccurrences(of: "<aws.scheduler.attempt-number>", with: String(self.attempt))
        }
    }

    func deliver(_ firing: Firing, namespace: AccountContext) async -> FiringPolicy.Outcome {
        let target = firing.definition.target
        let payload = firing.payload
        do {
            switch target.kind {
            case .function?:
                guard let functions else {
                    throw TargetRefusal(code: "ResourceNotFoundException", message: "Lambda is not available.")
                }
                guard JSONValue.parse(Array(payload.utf8)) != nil else {
                    throw TargetRefusal(
                        code: NimbusError.Code.invalidRequestContent.rawValue,
                        message: "Could not parse request body into json: the schedule's Input is not JSON."
                    )
                }
                // Scheduler invokes with the target's execution role, not through the function's resource policy;
                // see docs/scheduler.md.
                try await functions.enqueue(
                    TriggeredInvocation(
                        function: target.arn,
                        namespace: namespace,
                        payload: ByteBuffer(string: payload),
                        principal: "scheduler.amazonaws.com",
                        sourceARN: firing.arn,
                        sourceAccount: namespace.accountID,
                        requestID: firing.executionID,
                        executionRole: target.roleARN
                    )
                )
            case .queue?:
                guard let queues else {
                    throw TargetRefusal(code: "QueueDoesNotExist", message: "SQS is not available.")
                }
                try await queues.send(
                    queueARN: target.arn,
                    body: payload,
                    attributes: [:],
                    groupID: target.messageGroupID,
                    deduplicationID: target.messageGroupID == nil ? nil : firing.executionID
                )
            case .eventBus?:
                guard let events, let detailType = target.detailType, let source = target.source else {
                    throw TargetRefusal(code: "ResourceNotFoundException", message: "EventBridge is not available.")
                }
                try await events.publish(
                    PublishedEvent(source: source, detailType: detailType, detail: payload, resources: [firing.arn]),
                    busARN: target.arn,
                    namespace: namespace
                )
            case nil:
                throw TargetRefusal(code: "ValidationException", message: "Nimbus cannot deliver to \(target.arn).")
            }
            return .delivered
        } catch let refusal as TargetRefusal {
            return .refused(code: refusal.code, message: refusal.message)
        } catch let error as NimbusError {
            let transient = error.code.status >= 500 || error.code == .tooManyRequests
            return transient
                ? .failed(code: error.code.rawValue, message: error.message)
                : .refused(code: error.code.rawValue, message: error.message)
        } catch let error as any ServiceErrorConvertible {
            let failure = error.serviceError
            return failure.status >= 500
                ? .failed(code: failure.code, message: failure.message)
                : .refused(code: failure.code, message: failure.message)
        } catch {
            return .failed(code: "InternalServerException", message: "\(error)")
        }
    }

    /// Sends a firing given up on to the target's dead-letter queue, with the message attributes Scheduler's dead
    /// letters carry; without a dead-letter queue the firing is dropped, logged.
    func sendDeadLetter(_ deadLetter: FiringPolicy.DeadLetter, _ firing: Firing) async {
        let metadata: Logger.Metadata = [
            "scheduler.schedule": "\(firing.arn)", "scheduler.scheduled": "\(Self.isoSeconds(firing.scheduled))",
            "error": "\(deadLetter.code): \(deadLetter.message)",
        ]
        guard let queueARN = firing.definition.target.deadLetterARN else {
            self.logger.warning(
                "Scheduler firing dropped: delivery failed and there is no dead-letter queue",
                metadata: metadata
            )
            return
        }
        let (body, truncated) = Self.truncated(firing.payload, toBytes: Self.deadLetterBodyBytes)
        var attributes: [String: String] = [
            "ERROR_CODE": deadLetter.code,
            "ERROR_MESSAGE": String(deadLetter.message.prefix(1024)),
            "EXECUTION_ID": firing.executionID,
            "IS_PAYLOAD_TRUNCATED": truncated ? "true" : "false",
            "RETRY_ATTEMPTS": String(deadLetter.retryAttempts),
            "SCHEDULED_TIME": Self.isoSeconds(firing.scheduled),
            "SCHEDULE_ARN": firing.arn,
            "TARGET_ARN": firing.definition.target.arn,
        ]
        if let condition = deadLetter.exhaustedCondition { attributes["EXHAUSTED_RETRY_CONDITION"] = condition }
        do {
            guard let queues else { throw TargetRefusal(code: "QueueDoesNotExist", message: "SQS is not available.") }
            try await queues.send(
                queueARN: queueARN,
                body: body,
                attributes: attributes,
                groupID: nil,
                deduplicationID: nil
            )
            self.logger.notice("Scheduler firing sent to its dead-letter queue", metadata: metadata)
        } catch {
            var metadata = metadata
            metadata["scheduler.dlq"] = "\(queueARN)"
            metadata["scheduler.dlq.error"] = "\(error)"
            self.logger.warning("Scheduler firing dropped: its dead-letter queue refused it", metadata: metadata)
        }
    }

    /// The largest dead-letter body: SQS's 256 KiB less room for the attributes.
    static let deadLetterBodyBytes = 240 * 1024

    static func truncated(_ text: String, toBytes limit: Int) -> (String, Bool) {
        guard text.utf8.count > limit else { return (text, false) }
        var out = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            if bytes + size > limit { break }
            out.append(character)
            bytes += size
        }
        return (out, true)
    }

    /// `2022-11-10T00:05:00Z`, as Scheduler writes `<aws.scheduler.scheduled-time>` and `SCHEDULED_TIME`.
    static func isoSeconds(_ millis: Int64) -> String {
        let iso = Timestamp.isoString(millis: millis)
        // `…:00.000Z` → `…:00Z`
        return String(iso.dropLast(5)) + "Z"
    }
}
