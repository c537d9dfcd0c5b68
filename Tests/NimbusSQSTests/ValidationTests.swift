import Foundation
import NimbusCore
import Testing

@testable import NimbusSQS

/// Names, attributes, batch ids and message checks, with AWS's error codes.
@Suite struct ValidationTests {
    @Test func queueNames() throws {
        try QueueName.validate("orders", fifo: false)
        try QueueName.validate(String(repeating: "a", count: 80), fifo: false)
        try QueueName.validate("orders-1_x.fifo", fifo: true)
        try QueueName.validate(String(repeating: "a", count: 75) + ".fifo", fifo: true)
        for bad in ["", String(repeating: "a", count: 81), "has space", "dot.ted", "orders.fifo", "ünï"] {
            #expect(throws: SQSError.self) { try QueueName.validate(bad, fifo: false) }
        }
        for bad in ["orders", ".fifo", String(repeating: "a", count: 76) + ".fifo", "a.b.fifo"] {
            #expect(throws: SQSError.self) { try QueueName.validate(bad, fifo: true) }
        }
    }

    @Test func queueAttributeRangesAndTypes() throws {
        var standard = QueueConfiguration(fifo: false)
        try standard.apply(["VisibilityTimeout": "0", "DelaySeconds": "900", "MaximumMessageSize": "1024"])
        #expect(standard.visibilityTimeout == 0 && standard.delaySeconds == 900 && standard.maximumMessageSize == 1024)
        let outOfRange: [String: String] = [
            "VisibilityTimeout": "43201", "DelaySeconds": "901", "MaximumMessageSize": "262145",
            "MessageRetentionPeriod": "59", "ReceiveMessageWaitTimeSeconds": "21", "KmsDataKeyReusePeriodSeconds": "59",
        ]
        for (name, value) in outOfRange {
            var configuration = QueueConfiguration(fifo: false)
            #expect(throws: SQSError.invalidAttributeValue(name: name)) { try configuration.apply([name: value]) }
        }
        var configuration = QueueConfiguration(fifo: false)
        #expect(throws: SQSError.invalidAttributeValue(name: "VisibilityTimeout")) {
            try configuration.apply(["VisibilityTimeout": "ten"])
        }
        #expect(throws: SQSError.unknownAttribute("FifoQueue")) { try configuration.apply(["FifoQueue": "false"]) }
        #expect(throws: SQSError.unknownAttribute("ContentBasedDeduplication")) {
            try configuration.apply(["ContentBasedDeduplication": "true"])
        }
        #expect(throws: SQSError.unknownAttribute("QueueArn")) { try configuration.apply(["QueueArn": "x"]) }
        #expect(
            throws: SQSError.invalidAttributeName(
                "You can specify the DeduplicationScope only when FifoQueue is set to true."
            )
        ) { try configuration.apply(["DeduplicationScope": "queue"]) }

        var fifo = QueueConfiguration(fifo: true)
        try fifo.apply([
            "FifoQueue": "true", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId",
        ])
        #expect(fifo.deduplicatesPerGroup)
        #expect(
            throws: SQSError.invalidAttributeValue(name: "FifoQueue", reason: "Modifying queue type is not supported.")
        ) {
            try fifo.apply(["FifoQueue": "false"])
        }
        var perGroup = QueueConfiguration(fifo: true)
        #expect(throws: SQSError.self) { try perGroup.apply(["FifoThroughputLimit": "perMessageGroupId"]) }
    }

    @Test func sseChoicesExcludeEachOther() throws {
        var configuration = QueueConfiguration(fifo: false)
        try configuration.apply(["KmsMasterKeyId": "alias/aws/sqs"])
        #expect(configuration.reported["SqsManagedSseEnabled"] == "false")
        #expect(configuration.reported["KmsDataKeyReusePeriodSeconds"] == "300")
        #expect(throws: SQSError.self) {
            try configuration.apply(["KmsMasterKeyId": "k", "SqsManagedSseEnabled": "true"])
        }
    }

    @Test func redrivePolicies() throws {
        let policy = try RedrivePolicy(
            parsing: #"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":"3"}"#
        )
        #expect(policy.maxReceiveCount == 3)
        #expect(policy.document == #"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":3}"#)
        for bad in [
            "not json", #"{"maxReceiveCount":3}"#, #"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq"}"#,
            #"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":0}"#,
            #"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":1001}"#,
            #"{"deadLetterTargetArn":"not-an-arn","maxReceiveCount":1}"#,
        ] {
            #expect { try RedrivePolicy(parsing: bad) } throws: {
                SQSError.matches($0, "InvalidParameterValueException")
            }
        }
        let allow = try RedriveAllowPolicy(
            parsing: #"{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:1:a"]}"#
        )
        #expect(allow.allows("arn:aws:sqs:us-east-1:1:a") && !allow.allows("arn:aws:sqs:us-east-1:1:b"))
        #expect(try !RedriveAllowPolicy(parsing: #"{"redrivePermission":"denyAll"}"#).allows("x"))
        #expect(throws: SQSError.self) { try RedriveAllowPolicy(parsing: #"{"redrivePermission":"byQueue"}"#) }
        #expect(throws: SQSError.self) {
            try RedriveAllowPolicy(
                parsing: #"{"redrivePermission":"allowAll","sourceQueueArns":["arn:aws:sqs:r:1:a"]}"#
            )
        }
    }

    @Test func messageAttributes() throws {
        let good = try MessageValidation.attributes([
            "s": ["DataType": "String", "StringValue": "v"],
            "n": ["DataType": "Number.float", "StringValue": "-1.5e3"],
            "b": ["DataType": "Binary.png", "BinaryValue": .string(Data([1, 2]).base64EncodedString())],
        ])
        #expect(good["b"]?.binaryValue == [1, 2] && good["n"]?.dataType == "Number.float")
        let bad: [JSONValue] = [
            ["x": ["DataType": "Text", "StringValue": "v"]],
            ["x": ["DataType": "Stringy", "StringValue": "v"]],
            ["x": ["DataType": "String", "StringValue": ""]],
            ["x": ["DataType": "String"]],
            ["x": ["DataType": "Number", "StringValue": "12abc"]],
            ["x": ["DataType": "Binary", "StringValue": "v"]],
            ["x": ["StringValue": "v"]],
            ["AWS.x": ["DataType": "String", "StringValue": "v"]],
            [".x": ["DataType": "String", "StringValue": "v"]],
            ["a..b": ["DataType": "String", "StringValue": "v"]],
            ["sp ace": ["DataType": "String", "StringValue": "v"]],
            .object(
                Dictionary(
                    uniqueKeysWithValues: (0..<11).map { ("a\($0)", ["DataType": "String", "StringValue": "v"]) }
                )
            ),
        ]
        for attributes in bad {
            #expect(throws: SQSError.self) { try MessageValidation.attributes(attributes) }
        }
    }

    @Test func numbers() {
        for good in ["0", "-1", "+2.5", "1e10", "1.5E-3", ".5", String(repeating: "9", count: 38)] {
            #expect(MessageValidation.isNumber(good), "\(good)")
        }
        for bad in ["", "-", "1.2.3", "e5", "1e", "abc", String(repeating: "9", count: 39), "1 2"] {
            #expect(!MessageValidation.isNumber(bad), "\(bad)")
        }
    }

    @Test func bodies() throws {
        #expect(try MessageValidation.body("ok\t\n") == "ok\t\n")
        #expect(throws: SQSError.missingParameter("MessageBody")) { try MessageValidation.body("") }
        #expect(throws: SQSError.invalidMessageContents) { try MessageValidation.body("bell\u{7}") }
        #expect(throws: SQSError.invalidMessageContents) { try MessageValidation.body("\u{FFFE}") }
        #expect(
            MessageValidation.size(
                body: "abc",
                attributes: ["k": MessageAttributeValue(dataType: "String", stringValue: "vv")]
            )
                == 3 + 1 + 6 + 2
        )
    }

    @Test func batches() throws {
        let entry = { (id: String) -> JSONValue in ["Id": .string(id)] }
        #expect(try MessageValidation.batch([entry("a-1"), entry("B_2")], entryName: "E") == ["a-1", "B_2"])
        #expect(throws: SQSError.emptyBatch("E")) { try MessageValidation.batch([], entryName: "E") }
        #expect(throws: SQSError.tooManyEntries(11)) {
            try MessageValidation.batch((0..<11).map { entry("e\($0)") }, entryName: "E")
        }
        #expect(throws: SQSError.batchEntryIdsNotDistinct("x")) {
            try MessageValidation.batch([entry("x"), entry("x")], entryName: "E")
        }
        for bad in ["", "a:b", String(repeating: "a", count: 81)] {
            #expect(throws: SQSError.invalidBatchEntryId) { try MessageValidation.batch([entry(bad)], entryName: "E") }
        }
    }

    @Test func fifoIdentifiers() throws {
        try MessageValidation.fifoIdentifier("group-1!#$", parameter: "MessageGroupId")
        for bad in ["", "has space", String(repeating: "a", count: 129), "é"] {
            #expect(throws: SQSError.self) { try MessageValidation.fifoIdentifier(bad, parameter: "MessageGroupId") }
        }
    }

    @Test func urlsAndARNs() throws {
        #expect(try QueueURL.parse("http://localhost:9000/123456789012/orders") == ("123456789012", "orders"))
        #expect(
            try QueueURL.parse("https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo") == ("123456789012", "q.fifo")
        )
        #expect(try QueueURL.parse("/123456789012/q") == ("123456789012", "q"))
        #expect(throws: SQSError.self) { try QueueURL.parse("http://localhost:9000/") }
        #expect(throws: SQSError.self) { try QueueURL.parse("orders") }
        let arn = try #require(QueueARN("arn:aws:sqs:eu-west-1:123456789012:orders"))
        #expect(arn.name == "orders" && arn.namespace.region == "eu-west-1" && arn.description.hasSuffix(":orders"))
        #expect(QueueARN("arn:aws:sns:eu-west-1:123456789012:topic") == nil)
        #expect(QueueARN("arn:aws:sqs:eu-west-1:123456789012") == nil)
    }

    @Test func receiptHandlesAreUnforgeable() {
        let handles = ReceiptHandles(key: Array(repeating: 7, count: 32))
        let handle = handles.make(queueID: 3, sequence: 99, receiveCount: 2)
        #expect(handles.parse(handle)! == (3, 99, 2))
        var bytes = Array(Data(base64Encoded: handle)!)
        bytes[10] ^= 1
        #expect(handles.parse(Data(bytes).base64EncodedString()) == nil)
        #expect(ReceiptHandles(key: Array(repeating: 8, count: 32)).parse(handle) == nil)
        #expect(handles.parse("not a handle") == nil)
        #expect(handles.parse("") == nil)
        #expect(handles.parse(String(repeating: "A", count: 5000)) == nil)
    }

    @Test func moveTaskHandles() throws {
        let handle = MoveTaskHandle.make(taskID: "t-1", sourceARN: "arn:aws:sqs:us-east-1:1:dlq")
        let parsed = try #require(MoveTaskHandle.parse(handle))
        #expect(parsed.taskID == "t-1" && parsed.sourceARN == "arn:aws:sqs:us-east-1:1:dlq")
        #expect(MoveTaskHandle.parse("garbage") == nil)
        #expect(SequenceNumber.format(42) == "10000000000000000042")
    }
}

/// The system attributes' own JSON coder agrees with JSON.
@Suite struct FlatJSONTests {
    @Test func roundTripsAndReadsWhatJSONWrites() throws {
        let map = ["SenderId": "AROA:fn", "AWSTraceHeader": "Root=1-\"x\"\\\n\t\u{1}é𝄞"]
        let text = FlatJSON.encode(map)
        #expect(FlatJSON.decode(text) == map)
        let viaFoundation = String(
            decoding: JSONValue.object(map.mapValues { .string($0) }).serialized(),
            as: UTF8.self
        )
        #expect(FlatJSON.decode(viaFoundation) == map)
        #expect(JSONValue.parse(Array(text.utf8)) == JSONValue.object(map.mapValues { .string($0) }))
        #expect(FlatJSON.decode(#"{"a":"\ud834\udd1e","b":"\u00e9"}"#) == ["a": "𝄞", "b": "é"])
        #expect(FlatJSON.decode("{}") == [:])
        for bad in ["", "{", #"{"a":1}"#, #"{"a":"b""#, #"{"a":"b"} x"#, #"{"a":"\x"}"#, #"{"a":"\ud834"}"#] {
            #expect(FlatJSON.decode(bad) == nil, "\(bad)")
        }
    }
}
