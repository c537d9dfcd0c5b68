import Foundation
import Logging
import NimbusCore
import NimbusSchedules
import ServiceLifecycle

/// The firing of scheduled rules (`rate(…)`, `cron(…)`, UTC), as a ServiceLifecycle `Service`.
///
/// Each enabled scheduled rule has a next firing, persisted with it: set when the rule is created, enabled or given a
/// new schedule (a rate counts from then), advanced once a firing's Scheduled Event was delivered to every target.
/// The loop sleeps until the earliest next firing (a rule change rings the doorbell and it looks again), so a rule
/// fires within milliseconds of its time on an idle server, without polling.
///
/// Delivery is at least once and, for functions, exactly once: the Scheduled Event's id and each delivery's request
/// id derive from (rule, scheduled time, target), and the next firing is persisted only after the deliveries, so a
/// crash in between delivers the same firing again after the restart and Lambda's queue keeps one invocation.
///
/// Firings missed while the server was down (or stalled) are not replayed, as AWS does not replay them: a firing
/// found late by at most ``EventsService/missedFiringGrace`` (5 minutes) is delivered once, late — the most recent
/// one, if several are within the grace (a restart during a firing thus neither repeats nor loses it) — and every
/// older one is skipped; the rule then continues with its next firing after now.
extension EventsService: Service {
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let wake = await self.fireDue()
                let delay = wake.map { max(0, $0 - self.clock()) } ?? 3_600_000
                await self.doorbell.wait(timeout: .milliseconds(min(delay, 3_600_000)))
            }
        }
    }

    /// Fires every rule that is due now; returns when the next one is due (nil: none is scheduled).
    @discardableResult
    func fireDue() async -> Int64? {
        var earliest: Int64?
        func wake(at time: Int64) { earliest = min(earliest ?? time, time) }
        for rule in self.catalog.scheduledRules() {
            guard let due = rule.nextFireMillis else { continue }
            let now = self.clock()
            let retryAt = self.retries.withLock { $0[rule.arn] }
            let effective = max(due, retryAt ?? due)
            guard effective <= now else {
                wake(at: effective)
                continue
            }
            if let next = await self.fire(rule, due: due, now: now) { wake(at: next) }
        }
        return earliest
    }

    /// Delivers a due rule's firing and records the next; returns when to look at the rule again.
    func fire(_ rule: RuleState, due: Int64, now: Int64) async -> Int64? {
        guard let schedule = rule.schedule else { return nil }
        let plan = ScheduledRules.plan(
            schedule,
            due: due,
            now: now,
            anchor: rule.definition.anchorMillis,
            grace: self.missedFiringGrace
        )
        let metadata: Logger.Metadata = ["events.rule": "\(rule.arn)"]
        if let fireAt = plan.fire {
            let event = Event.scheduled(rule: rule, scheduledMillis: fireAt, now: now)
            do {
                for target in rule.definition.targets {
                    try await self.deliverer.deliver(event, rule: rule, target: target)
                }
            } catch {
                // The store or a queue failed: the same firing is tried again (same ids: no duplicates).
                self.logger.warning(
                    "EventBridge scheduled rule not delivered; retrying",
                    metadata: metadata.merging(["error": "\(error)"]) { $1 }
                )
                let retryAt = now + ScheduledRules.retryDelay
                self.retries.withLock { $0[rule.arn] = retryAt }
                return retryAt
            }
            if fireAt < due || now - fireAt > 1_000 {
                self.logger.notice(
                    "EventBridge scheduled rule fired late",
                    metadata: metadata.merging(["events.scheduled": "\(Event.time(fireAt))"]) { $1 }
                )
            }
        }
        if plan.skipped > 0 {
            self.logger.notice(
                "EventBridge scheduled rule missed firings while the server was down; not replayed",
                metadata: metadata.merging(["events.skipped": "\(plan.skipped)"]) { $1 }
            )
        }
        do {
            try await self.control.run {
                // A rule rescheduled meanwhile (new schedule, disabled, enabled again, deleted) has its own next
                // firing already; one changed otherwise (targets, tags) still waits for this one.
                guard let current = self.catalog.rule(rule.namespace, bus: rule.bus, rule.name),
                    current.nextFireMillis == due, current.schedule == rule.schedule
                else { return }
                try await self.store.setNextFire(
                    namespace: rule.namespace,
                    bus: rule.bus,
                    name: rule.name,
                    nextFireMillis: plan.next
                )
                _ = self.catalog.advance(
                    rule.namespace,
                    bus: rule.bus,
                    rule.name,
                    generation: current.generation,
                    to: plan.next
                )
            }
        } catch {
            self.logger.warning(
                "EventBridge scheduled rule's next firing not recorded; retrying",
                metadata: metadata.merging(["error": "\(error)"]) { $1 }
            )
            let retryAt = now + ScheduledRules.retryDelay
            self.retries.withLock { $0[rule.arn] = retryAt }
            return retryAt
        }
        self.retries.withLock { $0[rule.arn] = nil }
        return plan.next
    }
}

/// The schedule arithmetic of rules, in milliseconds. Pure.
enum ScheduledRules {
    /// How long a firing that failed for a reason that may pass waits before it is tried again.
    static let retryDelay: Int64 = 1_000
    /// Bounds the walk over missed firings (a rate(1 minute) rule within the 5 minutes' grace takes 5 steps).
    static let maximumSteps = 10_000

    /// The first firing strictly after `millis`, in UTC.
    static func next(_ schedule: ScheduleExpression, after millis: Int64, anchor: Int64?) -> Int64? {
        let date = schedule.nextFire(
            after: Self.date(millis),
            timeZone: .gmt,
            anchor: anchor.map { Self.date($0) }
        )
        return date.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }

    static func date(_ millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    struct Plan: Equatable {
        /// The firing to deliver now: the most recent one due that is at most `grace` old; nil when none is.
        var fire: Int64?
        /// The first firing after now (what to persist).
        var next: Int64?
        /// Firings older than the grace, not delivered.
        var skipped: Int
    }

    /// What to do with a rule whose next firing `due` has come (`due <= now`).
    static func plan(_ schedule: ScheduleExpression, due: Int64, now: Int64, anchor: Int64?, grace: Int64) -> Plan {
        var skipped = 0
        var candidate: Int64? = due
        // Firings older than the grace are skipped (counted while the walk is short, estimated past that).
        var steps = 0
        while let c = candidate, c < now - grace, steps < Self.maximumSteps {
            skipped += 1
            steps += 1
            candidate = Self.next(schedule, after: c, anchor: anchor)
        }
        if let c = candidate, c < now - grace {
            // Too many to walk (a long outage of a frequent schedule): jump to the grace window.
            candidate = Self.next(schedule, after: now - grace - 1, anchor: anchor)
        }
        var fire: Int64?
        steps = 0
        while let c = candidate, c <= now, steps < Self.maximumSteps {
            if fire != nil { skipped += 1 }
            fire = c
            steps += 1
            candidate = Self.next(schedule, after: c, anchor: anchor)
        }
        if let c = candidate, c <= now {
            candidate = Self.next(schedule, after: now, anchor: anchor)
        }
        return Plan(fire: fire, next: candidate, skipped: skipped)
    }
}
