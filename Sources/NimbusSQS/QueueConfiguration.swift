import Foundation
import NimbusCore

/// Nimbus's SQS limits (one place, so that a change of AWS's quotas is one edit).
enum SQSLimits {
    /// The largest message (body plus message attributes) and the largest `MaximumMessageSize`: 256 KiB, the limit
    /// issue #13 asks for. AWS raised its own to 1 MiB in 2025; docs/sqs.md says so.
    static let maximumMessageSize = 262_144
    static let maximumVisibilityTimeout = 43_200
    static let maximumDelaySeconds = 900
    static let maximumWaitTimeSeconds = 20
    static let maximumBatchEntries = 10
    static let maximumMessageAttributes = 10
    static let deduplicationWindowMillis: Int64 = 5 * 60 * 1000
    /// `QueueDeletedRecently` and `PurgeQueueInProgress`: 60 seconds.
    static let recentMillis: Int64 = 60_000
    static let maximumQueueNameLength = 80
}

/// A queue's configuration: every attribute CreateQueue and SetQueueAttributes can set, validated, with AWS's
/// defaults. The read-only attributes (`QueueArn`, counts, timestamps) are computed when asked for.
struct QueueConfiguration: Sendable, Equatable {
    var fifo: Bool
    var delaySeconds = 0
    var maximumMessageSize = SQSLimits.maximumMessageSize
    var messageRetentionPeriod = 345_600
    var receiveMessageWaitTimeSeconds = 0
    var visibilityTimeout = 30
    var policy: String?
    var redrivePolicy: RedrivePolicy?
    var redriveAllowPolicy: RedriveAllowPolicy?
    var kmsMasterKeyID: String?
    var kmsDataKeyReusePeriodSeconds: Int?
    var sqsManagedSSEEnabled = true
    var contentBasedDeduplication = false
    var deduplicationScope = "queue"
    var fifoThroughputLimit = "perQueue"

    init(fifo: Bool) {
        self.fifo = fifo
    }

    /// The attributes that are not computed, as GetQueueAttributes reports them.
    var reported: [String: String] {
        var attributes: [String: String] = [
            "DelaySeconds": String(self.delaySeconds),
            "MaximumMessageSize": String(self.maximumMessageSize),
            "MessageRetentionPeriod": String(self.messageRetentionPeriod),
            "ReceiveMessageWaitTimeSeconds": String(self.receiveMessageWaitTimeSeconds),
            "VisibilityTimeout": String(self.visibilityTimeout),
            "SqsManagedSseEnabled": String(self.sqsManagedSSEEnabled),
        ]
        if let policy = self.policy { attributes["Policy"] = policy }
        if let redrive = self.redrivePolicy { attributes["RedrivePolicy"] = redrive.document }
        if let allow = self.redriveAllowPolicy { attributes["RedriveAllowPolicy"] = allow.document }
        if let key = self.kmsMasterKeyID {
            attributes["KmsMasterKeyId"] = key
            attributes["KmsDataKeyReusePeriodSeconds"] = String(self.kmsDataKeyReusePeriodSeconds ?? 300)
        } else if let period = self.kmsDataKeyReusePeriodSeconds {
            attributes["KmsDataKeyReusePeriodSeconds"] = String(period)
        }
        if self.fifo {
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = String(self.contentBasedDeduplication)
            attributes["DeduplicationScope"] = self.deduplicationScope
            attributes["FifoThroughputLimit"] = self.fifoThroughputLimit
        }
        return attributes
    }

    /// The settable attribute names (`FifoQueue` only at creation).
    static let settable: Set<String> = [
        "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout", "Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "FifoQueue", "ContentBasedDeduplication",
        "DeduplicationScope", "FifoThroughputLimit",
    ]

    /// Every attribute name GetQueueAttributes knows.
    static let readable: Set<String> = settable.union([
        "All", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
    ])

    /// Applies CreateQueue's or SetQueueAttributes' attributes, in name order, with AWS's errors: unknown and
    /// read-only names and FIFO-only names on a standard queue are `InvalidAttributeName`, values out of range
    /// `InvalidAttributeValue`, malformed redrive policies `InvalidParameterValue`. Whether a dead-letter target
    /// exists is the service's to check.
    mutating func apply(_ given: [String: String]) throws(SQSError) {
        var setsManagedSSE = false
        for name in given.keys.sorted() {
            guard let value = given[name] else { continue }
            switch name {
            case "DelaySeconds":
                self.delaySeconds = try Self.integer(name, value, 0...SQSLimits.maximumDelaySeconds)
            case "MaximumMessageSize":
                self.maximumMessageSize = try Self.integer(name, value, 1024...SQSLimits.maximumMessageSize)
            case "MessageRetentionPeriod":
                self.messageRetentionPeriod = try Self.integer(name, value, 60...1_209_600)
            case "ReceiveMessageWaitTimeSeconds":
                self.receiveMessageWaitTimeSeconds = try Self.integer(name, value, 0...SQSLimits.maximumWaitTimeSeconds)
            case "VisibilityTimeout":
                self.visibilityTimeout = try Self.integer(name, value, 0...SQSLimits.maximumVisibilityTimeout)
            case "Policy":
                if value.isEmpty {
                    self.policy = nil
                } else {
                    guard JSONValue.parse(Array(value.utf8))?.objectValue != nil else {
                        throw .invalidAttributeValue(name: name, reason: "Invalid policy document.")
                    }
                    self.policy = value
                }
            case "RedrivePolicy":
                self.redrivePolicy = value.isEmpty ? nil : try RedrivePolicy(parsing: value)
            case "RedriveAllowPolicy":
                self.redriveAllowPolicy = value.isEmpty ? nil : try RedriveAllowPolicy(parsing: value)
            case "KmsMasterKeyId":
                self.kmsMasterKeyID = value.isEmpty ? nil : value
                if !value.isEmpty { self.sqsManagedSSEEnabled = false }
            case "KmsDataKeyReusePeriodSeconds":
                self.kmsDataKeyReusePeriodSeconds = try Self.integer(name, value, 60...86_400)
            case "SqsManagedSseEnabled":
                self.sqsManagedSSEEnabled = try Self.boolean(name, value)
                setsManagedSSE = self.sqsManagedSSEEnabled
            case "FifoQueue":
                guard self.fifo else { throw .unknownAttribute(name) }
                guard value.lowercased() == "true" else {
                    throw .invalidAttributeValue(name: name, reason: "Modifying queue type is not supported.")
                }
            case "ContentBasedDeduplication":
                guard self.fifo else { throw .unknownAttribute(name) }
                self.contentBasedDeduplication = try Self.boolean(name, value)
            case "DeduplicationScope":
                guard self.fifo else {
                    throw .invalidAttributeName("You can specify the \(name) only when FifoQueue is set to true.")
                }
                guard value == "messageGroup" || value == "queue" else { throw .invalidAttributeValue(name: name) }
                self.deduplicationScope = value
            case "FifoThroughputLimit":
                guard self.fifo else {
                    throw .invalidAttributeName("You can specify the \(name) only when FifoQueue is set to true.")
                }
                guard value == "perQueue" || value == "perMessageGroupId" else {
                    throw .invalidAttributeValue(name: name)
                }
                self.fifoThroughputLimit = value
            default:
                throw .unknownAttribute(name)
            }
        }
        if setsManagedSSE, given["KmsMasterKeyId"].map({ !$0.isEmpty }) == true {
            throw .invalidAttributeName(
                "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE."
            )
        }
        if setsManagedSSE { self.kmsMasterKeyID = nil }
        if self.fifoThroughputLimit == "perMessageGroupId", self.deduplicationScope != "messageGroup" {
            throw .invalidAttributeValue(
                name: "FifoThroughputLimit",
                reason:
                    "The perMessageGroupId value is allowed only when the value for DeduplicationScope is messageGroup."
            )
        }
    }

    static func integer(_ name: String, _ value: String, _ range: ClosedRange<Int>) throws(SQSError) -> Int {
        guard let number = Int(value.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw .invalidAttributeValue(name: name)
        }
        return number
    }

    static func boolean(_ name: String, _ value: String) throws(SQSError) -> Bool {
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw .invalidAttributeValue(name: name)
        }
    }

    /// Whether messages of this queue are deduplicated per message group (high-throughput FIFO) or per queue.
    var deduplicatesPerGroup: Bool { self.deduplicationScope == "messageGroup" }
}

/// `RedrivePolicy`: where messages go after `maxReceiveCount` receives.
struct RedrivePolicy: Sendable, Equatable {
    var deadLetterTargetARN: String
    var maxReceiveCount: Int

    init(deadLetterTargetARN: String, maxReceiveCount: Int) {
        self.deadLetterTargetARN = deadLetterTargetARN
        self.maxReceiveCount = maxReceiveCount
    }

    /// Parses the JSON document (`maxReceiveCount` as a number or a numeric string, as AWS accepts).
    init(parsing text: String) throws(SQSError) {
        func invalid(_ reason: String) -> SQSError {
            .invalidValue(text, parameter: "RedrivePolicy", reason: reason)
        }
        guard let document = JSONValue.parse(Array(text.utf8))?.objectValue else {
            throw invalid("Redrive policy is not a valid JSON map.")
        }
        guard let target = document["deadLetterTargetArn"]?.stringValue, !target.isEmpty else {
            throw invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
        }
        guard let countValue = document["maxReceiveCount"] else {
            throw invalid("Redrive policy does not contain mandatory attribute: maxReceiveCount.")
        }
        let count: Int?
        switch countValue {
        case .number(let n): count = n.rounded() == n && abs(n) < 1e9 ? Int(n) : nil
        case .string(let s): count = Int(s)
        default: count = nil
        }
        guard let count, (1...1000).contains(count) else {
            throw invalid(
                "Invalid value for maxReceiveCount: \(Self.text(countValue)), valid values are from 1 to 1000 both inclusive."
            )
        }
        guard QueueARN(target) != nil else {
            throw invalid("Invalid value for deadLetterTargetArn.")
        }
        self.deadLetterTargetARN = target
        self.maxReceiveCount = count
    }

    /// As AWS reports it: `{"deadLetterTargetArn":"…","maxReceiveCount":5}`.
    var document: String {
        "{\"deadLetterTargetArn\":\(Self.quoted(self.deadLetterTargetARN)),\"maxReceiveCount\":\(self.maxReceiveCount)}"
    }

    static func quoted(_ text: String) -> String {
        String(decoding: JSONValue.string(text).serialized(), as: UTF8.self)
    }

    static func text(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        return String(decoding: value.serialized(), as: UTF8.self)
    }
}

/// `RedriveAllowPolicy`: which source queues may use this queue as their dead-letter queue.
struct RedriveAllowPolicy: Sendable, Equatable {
    enum Permission: String, Sendable {
        case allowAll, denyAll, byQueue
    }

    var permission: Permission
    var sourceQueueARNs: [String]

    init(parsing text: String) throws(SQSError) {
        func invalid(_ reason: String) -> SQSError {
            .invalidValue(text, parameter: "RedriveAllowPolicy", reason: reason)
        }
        guard let document = JSONValue.parse(Array(text.utf8))?.objectValue else {
            throw invalid("Redrive allow policy is not a valid JSON map.")
        }
        guard let name = document["redrivePermission"]?.stringValue, let permission = Permission(rawValue: name) else {
            throw invalid("Invalid value for redrivePermission. Valid values are allowAll, denyAll and byQueue.")
        }
        let sources = document["sourceQueueArns"]
        if permission != .byQueue, sources != nil {
            throw invalid("sourceQueueArns can be specified only when redrivePermission is byQueue.")
        }
        var arns: [String] = []
        if permission == .byQueue {
            guard let list = sources?.arrayValue, !list.isEmpty, list.count <= 10 else {
                throw invalid("sourceQueueArns must contain 1 to 10 queue ARNs when redrivePermission is byQueue.")
            }
            for item in list {
                guard let arn = item.stringValue, QueueARN(arn) != nil else {
                    throw invalid("Invalid value for sourceQueueArns.")
                }
                arns.append(arn)
            }
        }
        self.permission = permission
        self.sourceQueueARNs = arns
    }

    func allows(_ sourceARN: String) -> Bool {
        switch self.permission {
        case .allowAll: return true
        case .denyAll: return false
        case .byQueue: return self.sourceQueueARNs.contains(sourceARN)
        }
    }

    var document: String {
        var text = "{\"redrivePermission\":\"\(self.permission.rawValue)\""
        if self.permission == .byQueue {
            text +=
                ",\"sourceQueueArns\":[" + self.sourceQueueARNs.map(RedrivePolicy.quoted).joined(separator: ",") + "]"
        }
        return text + "}"
    }
}
