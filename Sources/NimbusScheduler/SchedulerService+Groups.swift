import Foundation
import NimbusCore
import NimbusEdge
import NimbusStore

/// Schedule groups and their tags (only groups take tags, as on AWS: `TagResource`'s ARN pattern names
/// `schedule-group/…`).
extension SchedulerService {
    static let maximumTags = 200

    func createGroup(_ request: ServiceRequest) async throws -> ServiceResponse {
        let name = request.label("Name")
        let body = try RequestBody(request.body)
        var violations = Violations()
        violations.check(name, at: "name", length: 1...64, pattern: Patterns.name)
        let token = try body.string("ClientToken")
        violations.check(token, at: "clientToken", length: 1...64, pattern: Patterns.clientToken)
        let tags = try Self.tags(body, &violations)
        try violations.check()
        let namespace = request.namespace
        let key = GroupKey(namespace: namespace, name: name)
        try await self.control.run {
            if name != ScheduleGroupDefinition.defaultName { _ = try await self.ensureDefaultGroup(namespace) }
            if let existing = self.catalog.group(key) {
                if let token, existing.clientToken == token, existing.tags == (tags ?? []) { return }
                throw SchedulerError.groupExists(name)
            }
            let now = self.clock()
            let group = ScheduleGroupDefinition(
                name: name,
                tags: tags ?? [],
                clientToken: token,
                createdMillis: now,
                modifiedMillis: now
            )
            do {
                try await self.store.insertGroup(
                    ScheduleGroupRecord(
                        namespace: namespace,
                        name: name,
                        document: try Documents.encode(group),
                        createdMillis: now
                    )
                )
            } catch ScheduleStoreError.exists {
                throw SchedulerError.groupExists(name)
            }
            self.catalog.putGroup(key, group)
        }
        return .document(200, ["ScheduleGroupArn": .string(ScheduleARN.group(namespace, name: name))])
    }

    func getGroup(_ request: ServiceRequest) async throws -> ServiceResponse {
        let name = request.label("Name")
        var violations = Violations()
        violations.check(name, at: "name", length: 1...64, pattern: Patterns.name)
        try violations.check()
        return .document(200, try await self.group(name, in: request.namespace).document(request.namespace))
    }

    /// Deletes a group and every schedule in it (AWS does this asynchronously, the group `DELETING` meanwhile; Nimbus
    /// at once). The `default` group cannot be deleted.
    func deleteGroup(_ request: ServiceRequest) async throws -> ServiceResponse {
        let name = request.label("Name")
        var violations = Violations()
        violations.check(name, at: "name", length: 1...64, pattern: Patterns.name)
        violations.check(
            request.queryValue("clientToken"),
            at: "clientToken",
            length: 1...64,
            pattern: Patterns.clientToken
        )
        try violations.check()
        guard name != ScheduleGroupDefinition.defaultName else {
            throw SchedulerError.validation("The default schedule group cannot be deleted.")
        }
        let key = GroupKey(namespace: request.namespace, name: name)
        try await self.control.run {
            guard self.catalog.group(key) != nil else { throw SchedulerError.groupNotFound(name) }
            try await self.store.deleteGroup(namespace: key.namespace, name: name)
            self.catalog.removeGroup(key)
        }
        return .document(200, [:])
    }

    func listGroups(_ request: ServiceRequest) async throws -> ServiceResponse {
        let prefix = request.queryValue("NamePrefix")
        var violations = Violations()
        violations.check(prefix, at: "namePrefix", length: 1...64, pattern: Patterns.name)
        let page = try Page(request, &violations)
        try violations.check()
        _ = try await self.group(ScheduleGroupDefinition.defaultName, in: request.namespace)
        let groups = self.catalog.groups(in: request.namespace).filter { group in
            prefix.map { group.name.hasPrefix($0) } ?? true
        }
        let (slice, next) = try page.slice(groups) { $0.name }
        var out: [String: JSONValue] = ["ScheduleGroups": .array(slice.map { $0.document(request.namespace) })]
        if let next { out["NextToken"] = .string(next) }
        return .document(200, .object(out))
    }

    // MARK: Tags

    func tagResource(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        var violations = Violations()
        let tags = try Self.tags(body, &violations)
        violations.required(tags, at: "tags")
        let key = try self.taggedGroup(request, &violations)
        try await self.control.run {
            guard var group = self.catalog.group(key) else { throw SchedulerError.groupNotFound(key.name) }
            for tag in tags ?? [] {
                if let index = group.tags.firstIndex(where: { $0.key == tag.key }) {
                    group.tags[index].value = tag.value
                } else {
                    group.tags.append(tag)
                }
            }
            guard group.tags.count <= Self.maximumTags else {
                throw SchedulerError.validation(
                    "A schedule group can have at most \(Self.maximumTags) tags; this request would give it \(group.tags.count)."
                )
            }
            try await self.writeGroup(key, group)
        }
        return .document(200, [:])
    }

    func untagResource(_ request: ServiceRequest) async throws -> ServiceResponse {
        var violations = Violations()
        let keys = request.queryValues("TagKeys")
        if request.queryValue("TagKeys") == nil { violations.required(nil, at: "tagKeys") }
        for tagKey in keys { violations.check(tagKey, at: "tagKeys.member", length: 1...128) }
        let key = try self.taggedGroup(request, &violations)
        let removed = Set(keys)
        try await self.control.run {
            guard var group = self.catalog.group(key) else { throw SchedulerError.groupNotFound(key.name) }
            group.tags.removeAll { removed.contains($0.key) }
            try await self.writeGroup(key, group)
        }
        return .document(200, [:])
    }

    func listTags(_ request: ServiceRequest) async throws -> ServiceResponse {
        var violations = Violations()
        let key = try self.taggedGroup(request, &violations)
        let group = try await self.group(key.name, in: key.namespace)
        return .document(200, ["Tags": group.tagsDocument])
    }

    /// The group a tag operation's ARN names, in the caller's namespace (another namespace's group is not found).
    func taggedGroup(_ request: ServiceRequest, _ violations: inout Violations) throws(SchedulerError) -> GroupKey {
        let arn = request.label("ResourceArn")
        violations.check(arn, at: "resourceArn", length: 1...1011, pattern: Patterns.groupARN)
        try violations.check()
        guard let (namespace, name) = ScheduleARN.group(arn), namespace == request.namespace else {
            throw SchedulerError.groupNotFound(ScheduleARN.group(arn)?.name ?? arn)
        }
        return GroupKey(namespace: namespace, name: name)
    }

    func writeGroup(_ key: GroupKey, _ group: ScheduleGroupDefinition) async throws {
        var group = group
        group.modifiedMillis = self.clock()
        try await self.store.updateGroup(
            ScheduleGroupRecord(
                namespace: key.namespace,
                name: key.name,
                document: try Documents.encode(group),
                createdMillis: group.createdMillis
            )
        )
        self.catalog.putGroup(key, group)
    }

    /// A `Tags` list (`[{"Key", "Value"}]`, at most 200, keys 1–128 and values 1–256 characters), duplicates
    /// keeping the last value; nil when absent.
    static func tags(
        _ body: RequestBody,
        _ violations: inout Violations
    ) throws(SchedulerError)
        -> [ScheduleGroupDefinition.Tag]?
    {
        guard let list = try body.array("Tags") else { return nil }
        if list.count > Self.maximumTags {
            violations.add("[…]", at: "tags", "have length less than or equal to \(Self.maximumTags)")
        }
        var tags: [ScheduleGroupDefinition.Tag] = []
        for (index, element) in list.enumerated() {
            guard let object = element.objectValue else { throw body.wrongType("Tags", "a list of tags") }
            let tag = RequestBody(members: object, path: "tags.\(index + 1).member.")
            let key = try tag.string("Key")
            let value = try tag.string("Value")
            violations.required(key, at: tag.memberPath("Key"))
            violations.required(value, at: tag.memberPath("Value"))
            violations.check(key, at: tag.memberPath("Key"), length: 1...128)
            violations.check(value, at: tag.memberPath("Value"), length: 1...256)
            guard let key, let value else { continue }
            if let existing = tags.firstIndex(where: { $0.key == key }) {
                tags[existing].value = value
            } else {
                tags.append(ScheduleGroupDefinition.Tag(key: key, value: value))
            }
        }
        return tags
    }
}
