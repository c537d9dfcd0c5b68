import Foundation
import NimbusCore
import NimbusEventPatterns
import NimbusSchedules

/// A tag, in the order it was first given (ListTagsForResource answers in that order).
struct Tag: Codable, Sendable, Equatable {
    var key: String
    var value: String
}

extension [Tag] {
    /// Sets each tag, replacing the value of a key already present, appending new keys.
    mutating func merge(_ tags: [Tag]) {
        for tag in tags {
            if let index = self.firstIndex(where: { $0.key == tag.key }) {
                self[index].value = tag.value
            } else {
                self.append(tag)
            }
        }
    }

    var json: JSONValue {
        .array(self.map { ["Key": .string($0.key), "Value": .string($0.value)] })
    }
}

/// An event bus as persisted (the document of its ``EventBusRecord``).
struct BusDefinition: Codable, Sendable, Equatable {
    var description: String?
    var tags: [Tag] = []
    var modifiedMillis: Int64
}

/// One target of a rule, as PutTargets gave it.
struct TargetDefinition: Codable, Sendable, Equatable {
    struct Transformer: Codable, Sendable, Equatable {
        var pathsMap: [String: String]?
        var template: String
    }

    struct Retry: Codable, Sendable, Equatable {
        var maximumRetryAttempts: Int?
        var maximumEventAgeInSeconds: Int?
    }

    var id: String
    var arn: String
    var roleARN: String?
    var input: String?
    var inputPath: String?
    var transformer: Transformer?
    var retry: Retry?
    var deadLetterARN: String?
    /// `SqsParameters.MessageGroupId`, for FIFO queue targets.
    var messageGroupID: String?

    /// The `Target` structure of ListTargetsByRule.
    var json: JSONValue {
        var target: [String: JSONValue] = ["Id": .string(self.id), "Arn": .string(self.arn)]
        if let roleARN { target["RoleArn"] = .string(roleARN) }
        if let input { target["Input"] = .string(input) }
        if let inputPath { target["InputPath"] = .string(inputPath) }
        if let transformer {
            var object: [String: JSONValue] = ["InputTemplate": .string(transformer.template)]
            if let map = transformer.pathsMap { object["InputPathsMap"] = .object(map.mapValues { .string($0) }) }
            target["InputTransformer"] = .object(object)
        }
        if let retry {
            var object: [String: JSONValue] = [:]
            if let attempts = retry.maximumRetryAttempts { object["MaximumRetryAttempts"] = .number(Double(attempts)) }
            if let age = retry.maximumEventAgeInSeconds { object["MaximumEventAgeInSeconds"] = .number(Double(age)) }
            target["RetryPolicy"] = .object(object)
        }
        if let deadLetterARN { target["DeadLetterConfig"] = ["Arn": .string(deadLetterARN)] }
        if let messageGroupID { target["SqsParameters"] = ["MessageGroupId": .string(messageGroupID)] }
        return .object(target)
    }
}

/// A rule as persisted (the document of its ``EventRuleRecord``).
struct RuleDefinition: Codable, Sendable, Equatable {
    var description: String?
    var eventPattern: String?
    var scheduleExpression: String?
    var state: String
    var roleARN: String?
    var createdBy: String
    var tags: [Tag] = []
    var targets: [TargetDefinition] = []
    /// When a rate schedule started counting: the rule's creation, or the last time it was enabled or its schedule
    /// changed (milliseconds).
    var anchorMillis: Int64?

    var enabled: Bool { self.state != "DISABLED" }
}

/// A rule as the service works with it: the definition, its ARN, and what was parsed from it once.
struct RuleState: Sendable {
    var namespace: AccountContext
    var bus: String
    var name: String
    var definition: RuleDefinition
    var createdMillis: Int64
    var pattern: EventPattern?
    var schedule: ScheduleExpression?
    /// The next firing of an enabled scheduled rule not yet delivered (milliseconds); nil otherwise.
    var nextFireMillis: Int64?
    /// Changes with every change of the rule, so the scheduler can tell that a rule changed while it fired.
    var generation: UInt64 = 0

    var arn: String { Names.ruleARN(self.name, bus: self.bus, self.namespace) }

    /// The `Rule` structure of ListRules; DescribeRule adds `CreatedBy`.
    var json: JSONValue {
        var rule: [String: JSONValue] = [
            "Name": .string(self.name), "Arn": .string(self.arn), "State": .string(self.definition.state),
            "EventBusName": .string(self.bus),
        ]
        if let pattern = self.definition.eventPattern { rule["EventPattern"] = .string(pattern) }
        if let schedule = self.definition.scheduleExpression { rule["ScheduleExpression"] = .string(schedule) }
        if let description = self.definition.description { rule["Description"] = .string(description) }
        if let role = self.definition.roleARN { rule["RoleArn"] = .string(role) }
        return .object(rule)
    }
}

/// A bus as the service works with it.
struct BusState: Sendable {
    var namespace: AccountContext
    var name: String
    var definition: BusDefinition
    var createdMillis: Int64
    /// Whether a record exists in the store (the default bus exists without one until it is tagged).
    var stored: Bool

    var arn: String { Names.busARN(self.name, self.namespace) }

    var json: JSONValue {
        var bus: [String: JSONValue] = [
            "Name": .string(self.name), "Arn": .string(self.arn),
            "CreationTime": .number(Double(self.createdMillis) / 1000),
            "LastModifiedTime": .number(Double(self.definition.modifiedMillis) / 1000),
        ]
        if let description = self.definition.description { bus["Description"] = .string(description) }
        return .object(bus)
    }
}

/// Encoding of the stored documents: sorted keys, so a document's text is stable.
enum Documents {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
