import Logging
import NIOCore
import NimbusCore
import NimbusEventPatterns
import NimbusInvoker
import NimbusSQS

/// Where SQS targets and dead-letter queues send: ``SQSService`` in the server, a fake in tests.
protocol QueueSending: Sendable {
    /// Sends a message; throws ``DeliveryRefusal`` when the queue refuses for good (it does not exist, the message is
    /// not acceptable), anything else when a later attempt may succeed.
    func sendMessage(
        queueARN: String,
        body: String,
        attributes: [String: String],
        groupID: String?,
        deduplicationID: String?
    )
        async throws
}

/// A refusal no retry would change: EventBridge sends such deliveries to the target's dead-letter queue at once.
struct DeliveryRefusal: Error, Sendable, Equatable {
    /// The DLQ's `ERROR_CODE` (AWS's vocabulary: `NO_RESOURCE`, `NO_PERMISSIONS`, `INVALID_JSON`, `INVALID_PARAMETER`).
    var code: String
    var message: String
}

extension SQSService: QueueSending {
    func sendMessage(
        queueARN: String,
        body: String,
        attributes: [String: String],
        groupID: String?,
        deduplicationID: String?
    )
        async throws
    {
        do {
            _ = try await self.send(
                queueARN: queueARN,
                body: body,
                messageAttributes: attributes.mapValues { MessageAttributeValue(dataType: "String", stringValue: $0) },
                groupID: groupID,
                deduplicationID: groupID == nil ? nil : deduplicationID
            )
        } catch let error as SQSError where error.status < 500 {
            throw DeliveryRefusal(
                code: error.code == "QueueDoesNotExist" ? "NO_RESOURCE" : "INVALID_PARAMETER",
                message: error.message
            )
        }
    }
}

/// Hands events to targets: a function through Lambda's durable asynchronous queue (its retries, maximum event age,
/// destinations and dead-letter queue then apply), a queue as a message. Returns once the target has the event
/// durably.
///
/// Lambda's queue takes an event or refuses it for good (the function does not exist, its resource policy does not
/// allow `events.amazonaws.com` for the rule, the payload is too large): it does not throttle. So EventBridge's own
/// retries have nothing to retry; refusals go to the target's dead-letter queue (the event as the body, with
/// `RULE_ARN`, `TARGET_ARN`, `ERROR_CODE`, `ERROR_MESSAGE` and `RETRY_ATTEMPTS` attributes, as AWS sends them for
/// errors it does not retry) or are dropped with a log line. What may pass later (the store failing) is thrown.
struct Deliverer: Sendable {
    let functions: (any FunctionInvoking)?
    let queues: (any QueueSending)?
    let logger: Logger

    static let principal = "events.amazonaws.com"

    func deliver(_ event: Event, rule: RuleState, target: TargetDefinition) async throws {
        let requestID = DerivedID.delivery(eventID: event.id, ruleARN: rule.arn, targetID: target.id)
        guard let payload = TargetInput.render(target, event: event, rule: rule) else {
            self.logger.debug(
                "EventBridge target input is empty; nothing delivered",
                metadata: ["events.rule": "\(rule.arn)", "events.target": "\(target.id)"]
            )
            return
        }
        do {
            switch Names.targetKind(target.arn) {
            case .function:
                guard let functions else {
                    throw DeliveryRefusal(code: "NO_RESOURCE", message: "Lambda is not available on this server.")
                }
                guard EventJSON.parse(payload) != nil else {
                    throw DeliveryRefusal(code: "INVALID_JSON", message: "The target input is not valid JSON.")
                }
                do {
                    try await functions.enqueue(
                        TriggeredInvocation(
                            function: target.arn,
                            namespace: rule.namespace,
                            payload: ByteBuffer(string: payload),
                            principal: Self.principal,
                            sourceARN: rule.arn,
                            sourceAccount: rule.namespace.accountID,
                            requestID: requestID
                        )
                    )
                } catch let error as NimbusError where Self.isRefusal(error) {
                    throw DeliveryRefusal(code: Self.errorCode(error), message: error.message)
                }
            case .queue:
                guard let queues else {
                    throw DeliveryRefusal(code: "NO_RESOURCE", message: "SQS is not available on this server.")
                }
                try await queues.sendMessage(
                    queueARN: target.arn,
                    body: payload,
                    attributes: [:],
                    groupID: target.messageGroupID,
                    deduplicationID: requestID
                )
            case nil:
                throw DeliveryRefusal(code: "INVALID_PARAMETER", message: "Nimbus cannot deliver to \(target.arn).")
            }
        } catch let refusal as DeliveryRefusal {
            try await self.deadLetter(event, rule: rule, target: target, refusal: refusal)
        }
    }

    /// Sends a refused delivery's event to the target's dead-letter queue, or drops it with a log line.
    func deadLetter(_ event: Event, rule: RuleState, target: TargetDefinition, refusal: DeliveryRefusal) async throws {
        let metadata: Logger.Metadata = [
            "events.rule": "\(rule.arn)", "events.target": "\(target.arn)", "events.error": "\(refusal.code)",
            "error": "\(refusal.message)",
        ]
        guard let dlq = target.deadLetterARN, let queues else {
            self.logger.warning("EventBridge delivery refused; event dropped", metadata: metadata)
            return
        }
        do {
            try await queues.sendMessage(
                queueARN: dlq,
                body: event.text,
                attributes: [
                    "RULE_ARN": rule.arn, "TARGET_ARN": target.arn, "ERROR_CODE": refusal.code,
                    "ERROR_MESSAGE": refusal.message, "RETRY_ATTEMPTS": "0",
                ],
                groupID: nil,
                deduplicationID: nil
            )
            self.logger.notice("EventBridge delivery refused; event sent to the dead-letter queue", metadata: metadata)
        } catch let dlqRefusal as DeliveryRefusal {
            self.logger.warning(
                "EventBridge delivery refused and its dead-letter queue refused it too; event dropped",
                metadata: metadata.merging(["events.dlq.error": "\(dlqRefusal.message)"]) { $1 }
            )
        }
    }

    /// Lambda's answers that a retry would not change.
    static func isRefusal(_ error: NimbusError) -> Bool {
        switch error.code {
        case .tooManyRequests, .service, .resourceNotReady: false
        default: true
        }
    }

    static func errorCode(_ error: NimbusError) -> String {
        switch error.code {
        case .resourceNotFound: "NO_RESOURCE"
        case .accessDenied: "NO_PERMISSIONS"
        default: "INVALID_PARAMETER"
        }
    }
}
