import Foundation
import NimbusCore

/// Scheduler's ARNs: `arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>` and
/// `arn:aws:scheduler:<region>:<account>:schedule-group/<name>`.
enum ScheduleARN {
    static func schedule(_ namespace: AccountContext, group: String, name: String) -> String {
        "arn:aws:scheduler:\(namespace.region):\(namespace.accountID):schedule/\(group)/\(name)"
    }

    static func group(_ namespace: AccountContext, name: String) -> String {
        "arn:aws:scheduler:\(namespace.region):\(namespace.accountID):schedule-group/\(name)"
    }

    /// The namespace and name a group ARN names, or nil when `arn` is not one.
    static func group(_ arn: String) -> (namespace: AccountContext, name: String)? {
        guard let rest = Patterns.partition(arn, service: "scheduler") else { return nil }
        let parts = rest.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, Patterns.isRegion(parts[0]), Patterns.isAccount(parts[1]),
            parts[2].hasPrefix("schedule-group/")
        else { return nil }
        let name = parts[2].dropFirst("schedule-group/".count)
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(Patterns.isNameScalar) else { return nil }
        return (AccountContext(region: String(parts[0]), accountID: String(parts[1])), String(name))
    }
}

/// Epoch seconds, as rest-json timestamps travel (millisecond precision kept as a fraction).
func epochSeconds(_ millis: Int64) -> JSONValue {
    .number(Double(millis) / 1000)
}

/// A schedule as defined by CreateSchedule or UpdateSchedule (which replaces it whole), stored as the schedule's
/// document. Optional members are nil when the caller did not give them.
struct ScheduleDefinition: Codable, Sendable, Equatable {
    var name: String
    var group: String
    var expression: String
    /// `ScheduleExpressionTimezone` as given (reported `UTC` when absent).
    var timeZone: String?
    var startMillis: Int64?
    var endMillis: Int64?
    var flexible: FlexibleWindow
    var enabled: Bool
    var description: String?
    var deleteAfterCompletion: Bool
    var kmsKeyARN: String?
    var target: ScheduleTarget
    /// The client token of the CreateSchedule that made it: a retry of that request answers as the first did.
    var clientToken: String?
    var createdMillis: Int64
    var modifiedMillis: Int64

    struct FlexibleWindow: Codable, Sendable, Equatable {
        /// Nil for `OFF`.
        var maximumMinutes: Int?

        var document: JSONValue {
            guard let maximumMinutes else { return ["Mode": "OFF"] }
            return ["Mode": "FLEXIBLE", "MaximumWindowInMinutes": .number(Double(maximumMinutes))]
        }
    }

    /// GetSchedule's answer.
    func document(_ namespace: AccountContext) -> JSONValue {
        var out: [String: JSONValue] = [
            "ActionAfterCompletion": .string(self.deleteAfterCompletion ? "DELETE" : "NONE"),
            "Arn": .string(ScheduleARN.schedule(namespace, group: self.group, name: self.name)),
            "CreationDate": epochSeconds(self.createdMillis),
            "FlexibleTimeWindow": self.flexible.document,
            "GroupName": .string(self.group),
            "LastModificationDate": epochSeconds(self.modifiedMillis),
            "Name": .string(self.name),
            "ScheduleExpression": .string(self.expression),
            "ScheduleExpressionTimezone": .string(self.timeZone ?? "UTC"),
            "State": .string(self.enabled ? "ENABLED" : "DISABLED"),
            "Target": self.target.document,
        ]
        if let description { out["Description"] = .string(description) }
        if let startMillis { out["StartDate"] = epochSeconds(startMillis) }
        if let endMillis { out["EndDate"] = epochSeconds(endMillis) }
        if let kmsKeyARN { out["KmsKeyArn"] = .string(kmsKeyARN) }
        return .object(out)
    }

    /// ListSchedules' `ScheduleSummary`.
    func summary(_ namespace: AccountContext) -> JSONValue {
        [
            "Arn": .string(ScheduleARN.schedule(namespace, group: self.group, name: self.name)),
            "CreationDate": epochSeconds(self.createdMillis),
            "GroupName": .string(self.group),
            "LastModificationDate": epochSeconds(self.modifiedMillis),
            "Name": .string(self.name),
            "State": .string(self.enabled ? "ENABLED" : "DISABLED"),
            "Target": ["Arn": .string(self.target.arn)],
        ]
    }

    /// Whether two definitions differ in anything a caller set (a retried CreateSchedule must be the same request).
    func sameRequest(as other: ScheduleDefinition) -> Bool {
        var a = self
        var b = other
        a.createdMillis = 0
        a.modifiedMillis = 0
        b.createdMillis = 0
        b.modifiedMillis = 0
        return a == b
    }
}

/// What a schedule invokes and how its failures are handled.
struct ScheduleTarget: Codable, Sendable, Equatable {
    var arn: String
    var roleARN: String
    var input: String?
    /// `RetryPolicy`, with AWS's defaults (24 hours, 185 retries) when not given.
    var maximumEventAgeSeconds: Int
    var maximumRetryAttempts: Int
    var deadLetterARN: String?
    /// `SqsParameters.MessageGroupId` (FIFO queue targets).
    var messageGroupID: String?
    /// `EventBridgeParameters` (event bus targets).
    var detailType: String?
    var source: String?
    /// Other parameter blocks (`EcsParameters`, `KinesisParameters`, …), echoed as given.
    var extras: [String: JSONValue]

    static let defaultMaximumEventAgeSeconds = 86_400
    static let defaultMaximumRetryAttempts = 185

    var document: JSONValue {
        var out = self.extras
        out["Arn"] = .string(self.arn)
        out["RoleArn"] = .string(self.roleARN)
        out["RetryPolicy"] = [
            "MaximumEventAgeInSeconds": .number(Double(self.maximumEventAgeSeconds)),
            "MaximumRetryAttempts": .number(Double(self.maximumRetryAttempts)),
        ]
        if let input { out["Input"] = .string(input) }
        if let deadLetterARN { out["DeadLetterConfig"] = ["Arn": .string(deadLetterARN)] }
        if let messageGroupID { out["SqsParameters"] = ["MessageGroupId": .string(messageGroupID)] }
        if let detailType, let source {
            out["EventBridgeParameters"] = ["DetailType": .string(detailType), "Source": .string(source)]
        }
        return .object(out)
    }

    /// What kind of resource the target ARN names.
    var kind: Kind? { Kind(self.arn) }

    enum Kind: Sendable, Equatable {
        case function
        case queue
        case eventBus

        init?(_ arn: String) {
            let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 6, parts[0] == "arn", parts[1].hasPrefix("aws") else { return nil }
            switch parts[2] {
            case "lambda" where parts[5] == "function" && parts.count >= 7 && parts.count <= 8 && !parts[6].isEmpty:
                self = .function
            case "sqs" where parts.count == 6 && !parts[5].isEmpty:
                self = .queue
            case "events" where parts.count == 6 && parts[5].hasPrefix("event-bus/") && parts[5].count > 10:
                self = .eventBus
            default:
                return nil
            }
        }
    }
}

/// A schedule group as stored. The `default` group of each namespace always exists (it is written the first time
/// the namespace is used).
struct ScheduleGroupDefinition: Codable, Sendable, Equatable {
    var name: String
    /// In the order given (TagResource replaces values in place and appends new keys).
    var tags: [Tag]
    var clientToken: String?
    var createdMillis: Int64
    var modifiedMillis: Int64

    struct Tag: Codable, Sendable, Equatable {
        var key: String
        var value: String
    }

    static let defaultName = "default"

    func document(_ namespace: AccountContext) -> JSONValue {
        [
            "Arn": .string(ScheduleARN.group(namespace, name: self.name)),
            "CreationDate": epochSeconds(self.createdMillis),
            "LastModificationDate": epochSeconds(self.modifiedMillis),
            "Name": .string(self.name),
            "State": "ACTIVE",
        ]
    }

    var tagsDocument: JSONValue {
        .array(self.tags.map { ["Key": .string($0.key), "Value": .string($0.value)] })
    }
}

/// The store's documents: JSON text written and read here only.
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
