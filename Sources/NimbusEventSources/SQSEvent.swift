import ExtrasBase64
import NIOCore
import NimbusCore
import NimbusSQS

/// The event an SQS mapping hands its function, record by record as AWS sends it (`Records[]` with `messageId`,
/// `receiptHandle`, `body`, `attributes`, `messageAttributes`, `md5OfBody`, `eventSource`, `eventSourceARN`,
/// `awsRegion`).
enum SQSEvent {
    static func record(_ message: QueueMessage, queueARN: String, region: String) -> JSONValue {
        var attributes: [String: JSONValue] = [:]
        for (name, value) in message.messageAttributes {
            var attribute: [String: JSONValue] = [
                "dataType": .string(value.dataType), "stringListValues": [], "binaryListValues": [],
            ]
            if let string = value.stringValue { attribute["stringValue"] = .string(string) }
            if let binary = value.binaryValue { attribute["binaryValue"] = .string(Base64.encodeToString(bytes: binary)) }
            attributes[name] = .object(attribute)
        }
        return [
            "messageId": .string(message.messageID),
            "receiptHandle": .string(message.receiptHandle),
            "body": .string(message.body),
            "attributes": .object(message.attributes.mapValues { .string($0) }),
            "messageAttributes": .object(attributes),
            "md5OfBody": .string(message.md5OfBody),
            "eventSource": "aws:sqs",
            "eventSourceARN": .string(queueARN),
            "awsRegion": .string(region),
        ]
    }

    /// `{"Records": [...]}`.
    static func payload(_ records: [JSONValue]) -> ByteBuffer {
        ByteBuffer(bytes: JSONValue.object(["Records": .array(records)]).serialized())
    }

    /// The message ids a function reported as failed (`{"batchItemFailures": [{"itemIdentifier": "…"}]}`), or nil
    /// when the whole batch must count as failed: AWS's rules for a malformed report (an entry without a known,
    /// non-empty `itemIdentifier`). A null, empty or unrelated answer reports no failure.
    static func failedMessages(in result: ByteBuffer, batch: Set<String>) -> Set<String>? {
        guard result.readableBytes > 0, let answer = JSONValue.parse(result.readableBytesView),
            let failures = answer["batchItemFailures"], !failures.isNull
        else { return [] }
        guard let entries = failures.arrayValue else { return nil }
        var failed: Set<String> = []
        for entry in entries {
            guard let id = entry["itemIdentifier"]?.stringValue, !id.isEmpty, batch.contains(id) else { return nil }
            failed.insert(id)
        }
        return failed
    }
}
