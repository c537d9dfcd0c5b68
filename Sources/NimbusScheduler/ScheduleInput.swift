import Foundation
import NimbusCore
import NimbusSchedules

/// CreateSchedule's and UpdateSchedule's input (the same shape: UpdateSchedule replaces the whole definition), read
/// and validated as AWS does: the model's constraints first, all reported together, then the meaning (the expression,
/// the time zone, the dates, the flexible window, the target).
enum ScheduleInput {
    /// The earliest `StartDate` accepted: five minutes ago.
    static let startDateToleranceMillis: Int64 = 300_000

    /// The definition a request asks for (creation and modification times are `now`; the caller keeps the original
    /// creation time on update).
    static func parse(_ body: RequestBody, name: String, now: Int64) throws(SchedulerError) -> ScheduleDefinition {
        var violations = Violations()
        violations.check(name, at: "name", length: 1...64, pattern: Patterns.name)
        let group = try body.string("GroupName")
        violations.check(group, at: "groupName", length: 1...64, pattern: Patterns.name)
        let expression = try body.string("ScheduleExpression")
        violations.required(expression, at: "scheduleExpression")
        violations.check(expression, at: "scheduleExpression", length: 1...256)
        let timeZone = try body.string("ScheduleExpressionTimezone")
        violations.check(timeZone, at: "scheduleExpressionTimezone", length: 1...50)
        let start = try body.timestamp("StartDate")
        let end = try body.timestamp("EndDate")
        let description = try body.string("Description")
        violations.check(description, at: "description", length: 0...512)
        let state = try body.string("State")
        violations.oneOf(state, at: "state", ["ENABLED", "DISABLED"])
        let action = try body.string("ActionAfterCompletion")
        violations.oneOf(action, at: "actionAfterCompletion", ["NONE", "DELETE"])
        let kms = try body.string("KmsKeyArn")
        violations.check(kms, at: "kmsKeyArn", length: 1...2048, pattern: Patterns.kmsKeyARN)
        let token = try body.string("ClientToken")
        violations.check(token, at: "clientToken", length: 1...64, pattern: Patterns.clientToken)

        let window = try body.object("FlexibleTimeWindow")
        violations.required(window, at: "flexibleTimeWindow")
        let mode = try window?.string("Mode")
        let minutes = try window?.integer("MaximumWindowInMinutes")
        if window != nil { violations.required(mode, at: "flexibleTimeWindow.mode") }
        violations.oneOf(mode, at: "flexibleTimeWindow.mode", ["OFF", "FLEXIBLE"])
        violations.check(minutes, at: "flexibleTimeWindow.maximumWindowInMinutes", range: 1...1440)

        let targetBody = try body.object("Target")
        violations.required(targetBody, at: "target")
        var target: ScheduleTarget?
        if let targetBody { target = try Self.target(targetBody, &violations) }
        try violations.check()

        guard let expression, let target, let mode else {
            throw .validation("ScheduleExpression, FlexibleTimeWindow and Target are required.")
        }
        do {
            _ = try ScheduleExpression(parsing: expression)
        } catch {
            throw .validation("Invalid Schedule Expression \(expression).")
        }
        if let timeZone, TimeZone(identifier: timeZone) == nil {
            throw .validation("Invalid Schedule Expression Timezone \(timeZone).")
        }
        switch (mode, minutes) {
        case ("FLEXIBLE", nil):
            throw .validation("MaximumWindowInMinutes is required when the flexible time window's Mode is FLEXIBLE.")
        case ("OFF", .some):
            throw .validation("MaximumWindowInMinutes must not be set when the flexible time window's Mode is OFF.")
        default: break
        }
        if let start, start < now - Self.startDateToleranceMillis {
            throw .validation("The StartDate you specify cannot be earlier than 5 minutes ago.")
        }
        if let end {
            if end <= now { throw .validation("The EndDate you specify cannot be earlier than the current time.") }
            if let start, end <= start {
                throw .validation("The EndDate you specify must be later than the StartDate.")
            }
        }
        try Self.check(target)

        return ScheduleDefinition(
            name: name,
            group: group ?? ScheduleGroupDefinition.defaultName,
            expression: expression,
            timeZone: timeZone,
            startMillis: start,
            endMillis: end,
            flexible: ScheduleDefinition.FlexibleWindow(maximumMinutes: mode == "FLEXIBLE" ? minutes : nil),
            enabled: state != "DISABLED",
            description: description,
            deleteAfterCompletion: action == "DELETE",
            kmsKeyARN: kms,
            target: target,
            clientToken: token,
            createdMillis: now,
            modifiedMillis: now
        )
    }

    /// The parameter blocks Nimbus reads; the others are kept as given and echoed.
    static let knownTargetMembers: Set<String> = [
        "Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig", "SqsParameters", "EventBridgeParameters",
    ]

    static func target(_ body: RequestBody, _ violations: inout Violations) throws(SchedulerError) -> ScheduleTarget? {
        let arn = try body.string("Arn")
        violations.required(arn, at: "target.arn")
        violations.check(arn, at: "target.arn", length: 1...1600)
        let role = try body.string("RoleArn")
        violations.required(role, at: "target.roleArn")
        violations.check(role, at: "target.roleArn", length: 1...1600, pattern: Patterns.roleARN)
        let input = try body.string("Input")
        violations.check(input, at: "target.input", length: 1...Int.max)
        let retry = try body.object("RetryPolicy")
        let age = try retry?.integer("MaximumEventAgeInSeconds")
        violations.check(age, at: "target.retryPolicy.maximumEventAgeInSeconds", range: 60...86_400)
        let attempts = try retry?.integer("MaximumRetryAttempts")
        violations.check(attempts, at: "target.retryPolicy.maximumRetryAttempts", range: 0...185)
        let deadLetter = try body.object("DeadLetterConfig")
        let deadLetterARN = try deadLetter?.string("Arn")
        violations.check(deadLetterARN, at: "target.deadLetterConfig.arn", length: 1...1600, pattern: Patterns.queueARN)
        let sqs = try body.object("SqsParameters")
        let groupID = try sqs?.string("MessageGroupId")
        violations.check(groupID, at: "target.sqsParameters.messageGroupId", length: 1...128)
        let bus = try body.object("EventBridgeParameters")
        let detailType = try bus?.string("DetailType")
        let source = try bus?.string("Source")
        if bus != nil {
            violations.required(detailType, at: "target.eventBridgeParameters.detailType")
            violations.required(source, at: "target.eventBridgeParameters.source")
        }
        violations.check(detailType, at: "target.eventBridgeParameters.detailType", length: 1...128)
        violations.check(source, at: "target.eventBridgeParameters.source", length: 1...256)
        guard let arn, let role else { return nil }
        return ScheduleTarget(
            arn: arn,
            roleARN: role,
            input: input,
            maximumEventAgeSeconds: age ?? ScheduleTarget.defaultMaximumEventAgeSeconds,
            maximumRetryAttempts: attempts ?? ScheduleTarget.defaultMaximumRetryAttempts,
            deadLetterARN: deadLetterARN,
            messageGroupID: groupID,
            detailType: detailType,
            source: source,
            extras: body.members.filter { !Self.knownTargetMembers.contains($0.key) && !$0.value.isNull }
        )
    }

    /// What Nimbus can deliver to.
    static func check(_ target: ScheduleTarget) throws(SchedulerError) {
        switch target.kind {
        case nil:
            throw .validation(
                "Nimbus delivers schedules to Lambda functions, SQS queues and EventBridge event buses; \(target.arn) is none of these."
            )
        case .eventBus?:
            if target.detailType == nil || target.source == nil {
                throw .validation("EventBridgeParameters (DetailType and Source) are required for an event bus target.")
            }
            if target.source?.hasPrefix("aws.") == true {
                throw .validation("The EventBridgeParameters Source must not begin with aws.")
            }
        case .queue?:
            if target.arn.hasSuffix(".fifo"), target.messageGroupID == nil {
                throw .validation("SqsParameters.MessageGroupId is required for a FIFO queue target.")
            }
        case .function?:
            break
        }
    }
}
