import Foundation
import NimbusCore
import NimbusEventPatterns
import NimbusSchedules
import NimbusStore

/// PutRule, DescribeRule, ListRules, EnableRule, DisableRule, DeleteRule.
extension EventsService {
    static let ruleStates = ["ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"]
    /// AWS's default quota of rules per event bus.
    static let maximumRulesPerBus = 300

    func putRule(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let name = try input.string("Name")
        let scheduleText = try input.string("ScheduleExpression")
        let patternText = try input.string("EventPattern")
        let state = try input.string("State")
        let description = try input.string("Description")
        let roleARN = try input.string("RoleArn")
        let busText = try input.string("EventBusName")
        let tags = try Self.tags(input, "Tags")
        var constraints = Constraints()
        constraints.required(name, at: "name")
        constraints.name(name, at: "name")
        constraints.length(scheduleText, at: "scheduleExpression", max: 256)
        constraints.length(patternText, at: "eventPattern", max: 4096)
        constraints.enumeration(state, at: "state", Self.ruleStates)
        constraints.length(description, at: "description", max: 512)
        constraints.length(roleARN, at: "roleArn", min: 1, max: 1600)
        Self.checkBus(busText, at: "eventBusName", &constraints)
        Self.checkTags(tags, at: "tags", &constraints)
        try constraints.check()
        guard let name else { throw EventsError.validation("Name is required.") }

        guard scheduleText != nil || patternText != nil else {
            throw EventsError.validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        }
        let bus = try self.busName(busText, namespace)
        var schedule: ScheduleExpression?
        if let scheduleText {
            guard bus == Names.defaultBus else {
                throw EventsError.validation("ScheduleExpression is supported only on the default event bus.")
            }
            schedule = try Self.schedule(scheduleText)
        }
        var pattern: EventPattern?
        if let patternText { pattern = try Self.pattern(patternText) }

        return try await self.control.run {
            let now = self.clock()
            let existing = self.catalog.rule(namespace, bus: bus, name)
            if existing == nil, self.catalog.rules(namespace, bus: bus).count >= Self.maximumRulesPerBus {
                throw EventsError.limitExceeded
            }
            var definition = RuleDefinition(
                description: description,
                eventPattern: patternText,
                scheduleExpression: scheduleText,
                state: state ?? "ENABLED",
                roleARN: roleARN,
                createdBy: namespace.accountID,
                tags: existing?.definition.tags ?? [],
                targets: existing?.definition.targets ?? [],
                anchorMillis: existing?.definition.anchorMillis
            )
            // Tags are given at creation; on an update they are ignored (PutRule's documentation).
            if existing == nil { definition.tags = tags ?? [] }
            var rule = RuleState(
                namespace: namespace,
                bus: bus,
                name: name,
                definition: definition,
                createdMillis: existing?.createdMillis ?? now,
                pattern: pattern,
                schedule: schedule,
                nextFireMillis: existing?.nextFireMillis
            )
            Self.reschedule(&rule, previous: existing, now: now)
            try await self.save(rule)
            return ["RuleArn": .string(rule.arn)]
        }
    }

    func describeRule(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let rule = try self.existingRule(input, namespace, nameMember: "Name")
        guard case .object(var object) = rule.json else { return rule.json }
        object["CreatedBy"] = .string(rule.definition.createdBy)
        return .object(object)
    }

    func listRules(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let prefix = try input.string("NamePrefix")
        let busText = try input.string("EventBusName")
        let token = try input.string("NextToken")
        let limit = try input.integer("Limit")
        var constraints = Constraints()
        constraints.length(prefix, at: "namePrefix", min: 1, max: 64)
        constraints.pattern(prefix, at: "namePrefix", Constraints.namePattern, Names.isNameText)
        Self.checkBus(busText, at: "eventBusName", &constraints)
        constraints.length(token, at: "nextToken", min: 1, max: 2048)
        constraints.range(limit, at: "limit", min: 1, max: 100)
        try constraints.check()
        let bus = try self.busName(busText, namespace)
        let rules = self.catalog.rules(namespace, bus: bus).filter { $0.name.hasPrefix(prefix ?? "") }
        let (page, next) = try Paging.page(rules, key: \.name, token: token, limit: limit)
        var result: [String: JSONValue] = ["Rules": .array(page.map(\.json))]
        if let next { result["NextToken"] = .string(next) }
        return .object(result)
    }

    func setState(_ input: Input, _ namespace: AccountContext, enabled: Bool) async throws -> JSONValue {
        let (name, bus) = try self.ruleReference(input, namespace, nameMember: "Name")
        try await self.control.run {
            guard let existing = self.catalog.rule(namespace, bus: bus, name) else {
                throw EventsError.ruleNotFound(name, bus: bus)
            }
            guard existing.definition.enabled != enabled else { return }
            var rule = existing
            rule.definition.state = enabled ? "ENABLED" : "DISABLED"
            Self.reschedule(&rule, previous: existing, now: self.clock())
            try await self.save(rule)
        }
        return [:]
    }

    func deleteRule(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        _ = try input.bool("Force")
        let (name, bus) = try self.ruleReference(input, namespace, nameMember: "Name")
        try await self.control.run {
            // Deleting a rule that does not exist succeeds, as on AWS.
            guard let rule = self.catalog.rule(namespace, bus: bus, name) else { return }
            guard rule.definition.targets.isEmpty else {
                throw EventsError.validation("Rule can't be deleted since it has targets.")
            }
            try await self.store.deleteRule(namespace: namespace, bus: bus, name: name)
            self.catalog.removeRule(namespace, bus: bus, name)
            self.doorbell.ring()
        }
        return [:]
    }

    // MARK: Shared

    /// Writes a rule to the store, then publishes it; wakes the scheduler.
    func save(_ rule: RuleState) async throws {
        try await self.store.putRule(
            EventRuleRecord(
                namespace: rule.namespace,
                bus: rule.bus,
                name: rule.name,
                document: try Documents.encode(rule.definition),
                createdMillis: rule.createdMillis,
                nextFireMillis: rule.nextFireMillis
            )
        )
        self.catalog.putRule(rule)
        self.doorbell.ring()
    }

    /// The rule named by `Name`/`Rule` and `EventBusName`, validated; the bus must exist.
    func ruleReference(_ input: Input, _ namespace: AccountContext, nameMember: String) throws -> (String, String) {
        let name = try input.string(nameMember)
        let busText = try input.string("EventBusName")
        var constraints = Constraints()
        let path = nameMember.prefix(1).lowercased() + nameMember.dropFirst()
        constraints.required(name, at: path)
        constraints.name(name, at: path)
        Self.checkBus(busText, at: "eventBusName", &constraints)
        try constraints.check()
        return (name ?? "", try self.busName(busText, namespace))
    }

    func existingRule(_ input: Input, _ namespace: AccountContext, nameMember: String) throws -> RuleState {
        let (name, bus) = try self.ruleReference(input, namespace, nameMember: nameMember)
        guard let rule = self.catalog.rule(namespace, bus: bus, name) else {
            throw EventsError.ruleNotFound(name, bus: bus)
        }
        return rule
    }

    /// The bus an `EventBusName` (name or ARN) names, which must exist; `default` when none is given.
    func busName(_ text: String?, _ namespace: AccountContext) throws(EventsError) -> String {
        guard let text else { return Names.defaultBus }
        guard let reference = Names.busReference(text) else { throw .busNotFound(text) }
        if let other = reference.namespace, other != namespace { throw .busNotFound(reference.name) }
        guard self.catalog.bus(namespace, reference.name) != nil else { throw .busNotFound(reference.name) }
        return reference.name
    }

    static func checkBus(_ text: String?, at path: String, _ constraints: inout Constraints) {
        constraints.pattern(text, at: path, Constraints.busNameOrARNPattern) { Names.busReference($0) != nil }
        constraints.length(text, at: path, min: 1, max: 1600)
    }

    /// Parses a rule's pattern with EventBridge's errors.
    static func pattern(_ text: String) throws(EventsError) -> EventPattern {
        do {
            return try EventPattern(json: text)
        } catch {
            switch error.code {
            case .invalid: throw .invalidPattern(error.message)
            case .tooLong:
                throw .constraints([
                    "Value '\(text)' at 'eventPattern' failed to satisfy constraint: Member \(error.reason)"
                ])
            }
        }
    }

    /// Parses a rule's schedule: `rate(…)` or `cron(…)` (a one-time `at(…)` is Scheduler's, not a rule's).
    static func schedule(_ text: String) throws(EventsError) -> ScheduleExpression {
        guard let schedule = try? ScheduleExpression(parsing: text), !schedule.isOneTime else {
            throw .validation("Parameter ScheduleExpression is not valid.")
        }
        return schedule
    }

    /// Parses what a stored rule's definition holds.
    static func compile(_ rule: inout RuleState) throws {
        rule.pattern = try rule.definition.eventPattern.map { text throws(EventsError) in try Self.pattern(text) }
        rule.schedule = try rule.definition.scheduleExpression.map { text throws(EventsError) in try Self.schedule(text)
        }
    }

    /// Sets an enabled scheduled rule's next firing when it is new, was just enabled or its schedule changed (its
    /// rate counts from now); keeps it otherwise; clears it for disabled and unscheduled rules.
    static func reschedule(_ rule: inout RuleState, previous: RuleState?, now: Int64) {
        guard let schedule = rule.schedule, rule.definition.enabled else {
            rule.nextFireMillis = nil
            return
        }
        if let previous, previous.definition.enabled, previous.schedule == schedule,
            previous.definition.anchorMillis != nil
        {
            return
        }
        rule.definition.anchorMillis = now
        rule.nextFireMillis = ScheduledRules.next(schedule, after: now, anchor: now)
    }
}

/// Pages of a list sorted by a key: the token is the last key of the previous page, base64-encoded.
enum Paging {
    static let defaultLimit = 100

    static func page<T>(
        _ items: [T],
        key: (T) -> String,
        token: String?,
        limit: Int?
    ) throws(EventsError) -> ([T], String?) {
        var start = 0
        if let token {
            guard let data = Data(base64Encoded: token), let after = String(data: data, encoding: .utf8) else {
                throw .validation("The NextToken provided is not valid.")
            }
            start = items.firstIndex { key($0) > after } ?? items.count
        }
        let size = limit ?? Self.defaultLimit
        let end = min(items.count, start + size)
        let page = Array(items[start..<end])
        guard end < items.count, let last = page.last else { return (page, nil) }
        return (page, Data(key(last).utf8).base64EncodedString())
    }
}
