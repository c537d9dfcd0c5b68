import NimbusStore

/// The runner's decisions for one schedule, as a pure value: where a schedule starts, whether a due occurrence is
/// delivered, retried, skipped or dead-lettered, and where the schedule goes next. Every method takes `now`; the
/// flexible window's delay comes from `random` (a uniform draw in `0..<bound`), so tests fix both.
///
/// The policy for occurrences missed while Nimbus was not running (AWS does not replay them):
/// - an occurrence is delivered if the runner reaches it within a minute of its time (AWS's precision: a schedule
///   "set to run at 1:00 will invoke the target between 1:00:00 and 1:00:59"), or within its flexible window when that
///   is longer; a restart that short delivers it once;
/// - an occurrence reached later than that is skipped, and the schedule moves to its first occurrence whose window
///   is still open;
/// - an occurrence being retried keeps being retried, across restarts, until its `MaximumEventAgeInSeconds` or
///   `MaximumRetryAttempts` runs out, then goes to the dead-letter queue.
struct FiringPolicy {
    let definition: ScheduleDefinition
    /// Nil when the stored expression no longer parses: the schedule never fires.
    let timeline: ScheduleTimeline?
    let random: @Sendable (Int64) -> Int64

    /// AWS invokes within the minute an occurrence names.
    static let graceMillis: Int64 = 60_000
    /// Retries wait 1 s, 2 s, 4 s, … up to 5 minutes.
    static let maximumBackoffMillis: Int64 = 300_000

    init(_ definition: ScheduleDefinition, random: @escaping @Sendable (Int64) -> Int64) {
        self.definition = definition
        self.timeline = ScheduleTimeline(definition)
        self.random = random
    }

    var windowMillis: Int64 { Int64(self.definition.flexible.maximumMinutes ?? 0) * 60_000 }

    /// How late an occurrence may still be delivered.
    var latenessMillis: Int64 { max(Self.graceMillis, self.windowMillis) }

    /// Where a schedule stands once created or updated: its first occurrence from now on (a one-time schedule whose
    /// time passed less than a minute ago still fires), never one already fired.
    func start(now: Int64, lastFired: Int64?) -> ScheduleFiring {
        guard self.definition.enabled, let timeline else {
            return ScheduleFiring(scheduledMillis: nil, dueMillis: nil, lastFiredMillis: lastFired)
        }
        let from = timeline.isOneTime ? now - Self.graceMillis : now
        return self.waiting(for: timeline.first(atOrAfter: max(from, (lastFired ?? .min) + 1)), lastFired: lastFired)
            ?? ScheduleFiring(scheduledMillis: nil, dueMillis: nil, lastFiredMillis: lastFired)
    }

    /// A firing state waiting for `occurrence`, its flexible delay drawn now; nil when there is no occurrence.
    func waiting(for occurrence: Int64?, lastFired: Int64?) -> ScheduleFiring? {
        guard let occurrence else { return nil }
        let window = self.windowMillis
        let delay = window > 0 ? min(max(self.random(window), 0), window - 1) : 0
        return ScheduleFiring(scheduledMillis: occurrence, dueMillis: occurrence + delay, lastFiredMillis: lastFired)
    }

    enum Step: Sendable, Equatable {
        /// Deliver the occurrence now; `attempt` counts from 1.
        case deliver(scheduled: Int64, attempt: Int)
        /// The occurrence was reached too late (Nimbus was not running): it is not replayed.
        case skip(scheduled: Int64)
        /// A retried occurrence outlived `MaximumEventAgeInSeconds`: it goes to the dead-letter queue.
        case expire(scheduled: Int64, attempts: Int)
    }

    /// What to do about a schedule at `now`; nil when nothing is due.
    func step(_ firing: ScheduleFiring, now: Int64) -> Step? {
        guard self.definition.enabled, let scheduled = firing.scheduledMillis, let due = firing.dueMillis, due <= now
        else { return nil }
        if firing.attempts == 0 {
            return now <= scheduled + self.latenessMillis
                ? .deliver(scheduled: scheduled, attempt: 1) : .skip(scheduled: scheduled)
        }
        return now <= scheduled + self.maximumAgeMillis
            ? .deliver(scheduled: scheduled, attempt: firing.attempts + 1)
            : .expire(scheduled: scheduled, attempts: firing.attempts)
    }

    var maximumAgeMillis: Int64 { Int64(self.definition.target.maximumEventAgeSeconds) * 1000 }

    /// How a delivery went.
    enum Outcome: Sendable, Equatable {
        case delivered
        /// Refused for good: no retry.
        case refused(code: String, message: String)
        /// Failed in a way a retry may fix.
        case failed(code: String, message: String)
    }

    /// What the dead-letter queue receives about a firing given up on.
    struct DeadLetter: Sendable, Equatable {
        var code: String
        var message: String
        /// Retries made (attempts less the first).
        var retryAttempts: Int
        /// `MaximumRetryAttempts` or `MaximumEventAgeInSeconds` when a retry policy ran out; nil for a refusal.
        var exhaustedCondition: String?
    }

    /// Where the schedule goes after a step: its next firing state (nil: the schedule is complete and deleted), and
    /// the dead letter to send, if any.
    struct Resolution: Sendable, Equatable {
        var firing: ScheduleFiring?
        var deadLetter: DeadLetter?
    }

    /// After delivering occurrence `scheduled` (attempt `attempt`) with `outcome`.
    func resolve(scheduled: Int64, attempt: Int, outcome: Outcome, now: Int64, lastFired: Int64?) -> Resolution {
        switch outcome {
        case .delivered:
            return Resolution(firing: self.advance(from: scheduled, now: now, lastFired: scheduled))
        case .refused(let code, let message):
            return Resolution(
                firing: self.advance(from: scheduled, now: now, lastFired: scheduled),
                deadLetter: DeadLetter(
                    code: code,
                    message: message,
                    retryAttempts: attempt - 1,
                    exhaustedCondition: nil
                )
            )
        case .failed(let code, let message):
            let retries = attempt - 1
            var condition: String?
            if retries >= self.definition.target.maximumRetryAttempts {
                condition = "MaximumRetryAttempts"
            } else {
                let retryAt = now + Self.backoff(attempt: attempt)
                if retryAt <= scheduled + self.maximumAgeMillis {
                    return Resolution(
                        firing: ScheduleFiring(
                            scheduledMillis: scheduled,
                            dueMillis: retryAt,
                            attempts: attempt,
                            lastFiredMillis: lastFired
                        )
                    )
                }
                condition = "MaximumEventAgeInSeconds"
            }
            return Resolution(
                firing: self.advance(from: scheduled, now: now, lastFired: scheduled),
                deadLetter: DeadLetter(
                    code: code,
                    message: message,
                    retryAttempts: retries,
                    exhaustedCondition: condition
                )
            )
        }
    }

    /// The firing state after occurrence `scheduled` was dealt with: the first later occurrence whose window is still
    /// open at `now`; nil when none is left and the schedule is to be deleted (`ActionAfterCompletion` DELETE).
    func advance(from scheduled: Int64, now: Int64, lastFired: Int64?) -> ScheduleFiring? {
        let from = max(scheduled + 1, now - self.latenessMillis, (lastFired ?? .min) + 1)
        if let next = self.waiting(for: self.timeline?.first(atOrAfter: from), lastFired: lastFired) { return next }
        if self.definition.deleteAfterCompletion { return nil }
        return ScheduleFiring(scheduledMillis: nil, dueMillis: nil, lastFiredMillis: lastFired)
    }

    static func backoff(attempt: Int) -> Int64 {
        let exponent = min(max(attempt - 1, 0), 20)
        return min(Int64(1000) << Int64(exponent), Self.maximumBackoffMillis)
    }
}
