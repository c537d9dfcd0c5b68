import Foundation
import NimbusCore
import NimbusEdge
import NimbusStore

extension SchedulerService {
    /// The API as the edge serves it: rest-json, signing name `scheduler`, each operation with botocore's
    /// `http.method` and `http.requestUri` (`scheduler/2021-06-30/service-2.json`).
    public var definition: ServiceDefinition {
        typealias Handler = @Sendable (SchedulerService, ServiceRequest) async throws -> ServiceResponse
        func op(_ name: String, _ method: String, _ uri: String, _ handler: @escaping Handler) -> ServiceOperation {
            ServiceOperation(name, HTTPBinding(method, uri)) { [self] request in try await handler(self, request) }
        }
        return ServiceDefinition(
            name: "scheduler",
            signingNames: ["scheduler"],
            wire: .restJSON,
            operations: [
                op("CreateSchedule", "POST", "/schedules/{Name}") { try await $0.createSchedule($1) },
                op("GetSchedule", "GET", "/schedules/{Name}") { try await $0.getSchedule($1) },
                op("UpdateSchedule", "PUT", "/schedules/{Name}") { try await $0.updateSchedule($1) },
                op("DeleteSchedule", "DELETE", "/schedules/{Name}") { try await $0.deleteSchedule($1) },
                op("ListSchedules", "GET", "/schedules") { try await $0.listSchedules($1) },
                op("CreateScheduleGroup", "POST", "/schedule-groups/{Name}") { try await $0.createGroup($1) },
                op("GetScheduleGroup", "GET", "/schedule-groups/{Name}") { try await $0.getGroup($1) },
                op("DeleteScheduleGroup", "DELETE", "/schedule-groups/{Name}") { try await $0.deleteGroup($1) },
                op("ListScheduleGroups", "GET", "/schedule-groups") { try await $0.listGroups($1) },
                op("TagResource", "POST", "/tags/{ResourceArn}") { try await $0.tagResource($1) },
                op("UntagResource", "DELETE", "/tags/{ResourceArn}") { try await $0.untagResource($1) },
                op("ListTagsForResource", "GET", "/tags/{ResourceArn}") { try await $0.listTags($1) },
            ]
        )
    }

    // MARK: Schedules

    func createSchedule(_ request: ServiceRequest) async throws -> ServiceResponse {
        let now = self.clock()
        let definition = try ScheduleInput.parse(try RequestBody(request.body), name: request.label("Name"), now: now)
        let namespace = request.namespace
        let key = ScheduleKey(namespace: namespace, group: definition.group, name: definition.name)
        try await self.control.run {
            _ = try await self.lockedGroup(definition.group, in: namespace)
            if let existing = self.catalog.schedule(key) {
                // A retry of the request that created it (same client token, same definition) succeeds again.
                if let token = definition.clientToken, existing.definition.clientToken == token,
                    existing.definition.sameRequest(as: definition)
                {
                    return
                }
                throw SchedulerError.scheduleExists(definition.name)
            }
            let firing = self.policy(definition).start(now: now, lastFired: nil)
            do {
                try await self.store.insertSchedule(
                    ScheduleRecord(
                        namespace: namespace,
                        group: definition.group,
                        name: definition.name,
                        document: try Documents.encode(definition),
                        createdMillis: now,
                        firing: firing
                    )
                )
            } catch ScheduleStoreError.exists {
                throw SchedulerError.scheduleExists(definition.name)
            }
            self.catalog.putSchedule(key, definition, firing: firing)
        }
        self.doorbell.ring()
        return .document(
            200,
            ["ScheduleArn": .string(ScheduleARN.schedule(namespace, group: definition.group, name: definition.name))]
        )
    }

    func getSchedule(_ request: ServiceRequest) async throws -> ServiceResponse {
        let name = request.label("Name")
        let group = request.queryValue("groupName") ?? ScheduleGroupDefinition.defaultName
        try Self.checkAddress(name: name, group: group)
        guard let entry = self.catalog.schedule(ScheduleKey(namespace: request.namespace, group: group, name: name))
        else { throw SchedulerError.scheduleNotFound(name) }
        return .document(200, entry.definition.document(request.namespace))
    }

    /// UpdateSchedule replaces the definition whole, as AWS does: members left out take their defaults. The schedule
    /// keeps its creation time and the last occurrence it fired; its next occurrence is computed again from now.
    func updateSchedule(_ request: ServiceRequest) async throws -> ServiceResponse {
        let now = self.clock()
        var definition = try ScheduleInput.parse(try RequestBody(request.body), name: request.label("Name"), now: now)
        let namespace = request.namespace
        let key = ScheduleKey(namespace: namespace, group: definition.group, name: definition.name)
        try await self.control.run {
            guard let existing = self.catalog.schedule(key) else {
                throw SchedulerError.scheduleNotFound(definition.name)
            }
            definition.createdMillis = existing.definition.createdMillis
            definition.clientToken = existing.definition.clientToken
            let firing = self.policy(definition).start(now: now, lastFired: existing.firing.lastFiredMillis)
            try await self.store.replaceSchedule(
                ScheduleRecord(
                    namespace: namespace,
                    group: definition.group,
                    name: definition.name,
                    document: try Documents.encode(definition),
                    createdMillis: definition.createdMillis,
                    firing: firing
                )
            )
            self.catalog.putSchedule(key, definition, firing: firing)
            self.lastErrors.set(key, nil)
        }
        self.doorbell.ring()
        return .document(
            200,
            ["ScheduleArn": .string(ScheduleARN.schedule(namespace, group: definition.group, name: definition.name))]
        )
    }

    func deleteSchedule(_ request: ServiceRequest) async throws -> ServiceResponse {
        let name = request.label("Name")
        let group = request.queryValue("groupName") ?? ScheduleGroupDefinition.defaultName
        try Self.checkAddress(name: name, group: group)
        var violations = Violations()
        violations.check(
            request.queryValue("clientToken"),
            at: "clientToken",
            length: 1...64,
            pattern: Patterns.clientToken
        )
        try violations.check()
        let key = ScheduleKey(namespace: request.namespace, group: group, name: name)
        try await self.control.run {
            guard self.catalog.schedule(key) != nil else { throw SchedulerError.scheduleNotFound(name) }
            try await self.store.deleteSchedule(namespace: key.namespace, group: group, name: name)
            self.catalog.removeSchedule(key)
            self.lastErrors.set(key, nil)
        }
        return .document(200, [:])
    }

    func listSchedules(_ request: ServiceRequest) async throws -> ServiceResponse {
        let group = request.queryValue("ScheduleGroup")
        let prefix = request.queryValue("NamePrefix")
        let state = request.queryValue("State")
        var violations = Violations()
        violations.check(group, at: "groupName", length: 1...64, pattern: Patterns.name)
        violations.check(prefix, at: "namePrefix", length: 1...64, pattern: Patterns.name)
        violations.oneOf(state, at: "state", ["ENABLED", "DISABLED"])
        let page = try Page(request, &violations)
        try violations.check()
        if let group { _ = try await self.group(group, in: request.namespace) }
        let schedules = self.catalog.schedules(in: request.namespace, group: group).filter { schedule in
            (prefix.map { schedule.name.hasPrefix($0) } ?? true)
                && (state.map { ($0 == "ENABLED") == schedule.enabled } ?? true)
        }
        let (slice, next) = try page.slice(schedules) { "\($0.name)\u{0}\($0.group)" }
        var out: [String: JSONValue] = ["Schedules": .array(slice.map { $0.summary(request.namespace) })]
        if let next { out["NextToken"] = .string(next) }
        return .document(200, .object(out))
    }

    static func checkAddress(name: String, group: String) throws(SchedulerError) {
        var violations = Violations()
        violations.check(name, at: "name", length: 1...64, pattern: Patterns.name)
        violations.check(group, at: "groupName", length: 1...64, pattern: Patterns.name)
        try violations.check()
    }

    /// The group a change names, under the control lock (`default` is written if needed).
    func lockedGroup(_ name: String, in namespace: AccountContext) async throws -> ScheduleGroupDefinition {
        if let group = self.catalog.group(GroupKey(namespace: namespace, name: name)) { return group }
        guard name == ScheduleGroupDefinition.defaultName else { throw SchedulerError.groupNotFound(name) }
        return try await self.ensureDefaultGroup(namespace)
    }
}

/// `MaxResults` (1–100, default 100) and `NextToken` (opaque: the base64 of the last key listed) of the list
/// operations.
struct Page {
    var size: Int
    var after: String?

    init(_ request: ServiceRequest, _ violations: inout Violations) throws(SchedulerError) {
        var size = 100
        if let text = request.queryValue("MaxResults") {
            guard let value = Int(text) else { throw .validation("Invalid value for MaxResults: \(text).") }
            violations.check(value, at: "maxResults", range: 1...100)
            size = value
        }
        self.size = size
        if let token = request.queryValue("NextToken") {
            violations.check(token, at: "nextToken", length: 1...2048)
            guard let data = Data(base64Encoded: token), let key = String(data: data, encoding: .utf8) else {
                throw .validation("Invalid NextToken.")
            }
            self.after = key
        }
    }

    /// The page of `items` (sorted by `key`) after the token, and the next token when more follow.
    func slice<T>(_ items: [T], key: (T) -> String) throws(SchedulerError) -> ([T], String?) {
        let rest = self.after.map { after in items.filter { key($0) > after } } ?? items
        let page = Array(rest.prefix(self.size))
        guard rest.count > page.count, let last = page.last else { return (page, nil) }
        return (page, Data(key(last).utf8).base64EncodedString())
    }
}
