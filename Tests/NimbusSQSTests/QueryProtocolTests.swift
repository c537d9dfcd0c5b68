import NIOCore
import NimbusCore
import Testing

@testable import NimbusSQS

/// The query protocol's shapes, to and from the json protocol's.
@Suite struct QueryProtocolTests {
    @Test func formsBecomeJSONInputs() {
        let form: JSONValue = [
            "Action": "SendMessageBatch", "Version": "2012-11-05", "QueueUrl": "http://h/1/q",
            "SendMessageBatchRequestEntry": [
                [
                    "Id": "a", "MessageBody": "b", "DelaySeconds": "3",
                    "MessageAttribute": [["Name": "k", "Value": ["DataType": "String", "StringValue": "v"]]],
                ]
            ],
        ]
        let input = QueryProtocol.input(form, operation: "SendMessageBatch")
        #expect(
            input
                == [
                    "QueueUrl": "http://h/1/q",
                    "Entries": [
                        [
                            "Id": "a", "MessageBody": "b", "DelaySeconds": "3",
                            "MessageAttributes": ["k": ["DataType": "String", "StringValue": "v"]],
                        ]
                    ],
                ]
        )
        let create = QueryProtocol.input(
            [
                "QueueName": "q", "Attribute": [["Name": "VisibilityTimeout", "Value": "5"]],
                "Tag": [["Key": "a", "Value": "b"]],
            ],
            operation: "CreateQueue"
        )
        #expect(create == ["QueueName": "q", "Attributes": ["VisibilityTimeout": "5"], "tags": ["a": "b"]])
        let names = QueryProtocol.input(
            ["AttributeName": ["All"], "MessageAttributeName": ["x"]],
            operation: "ReceiveMessage"
        )
        #expect(names == ["AttributeNames": ["All"], "MessageAttributeNames": ["x"]])
    }

    @Test func answersAreFlattenedXML() throws {
        let output: JSONValue = [
            "Messages": [
                [
                    "MessageId": "m", "Body": "b<&>", "Attributes": ["SenderId": "1"],
                    "MessageAttributes": ["k": ["DataType": "String", "StringValue": "v"]],
                ]
            ]
        ]
        let response = QueryProtocol.response(output, operation: "ReceiveMessage", requestID: "r-1")
        guard case .bytes(let buffer, let type) = response.body else { throw SQSError.internalError("no bytes") }
        #expect(type == "text/xml")
        let xml = String(buffer: buffer)
        #expect(
            xml.contains(
                #"<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult><Message>"#
            )
        )
        #expect(xml.contains("<Attribute><Name>SenderId</Name><Value>1</Value></Attribute>"))
        #expect(
            xml.contains(
                "<MessageAttribute><Name>k</Name><Value><DataType>String</DataType><StringValue>v</StringValue></Value></MessageAttribute>"
            )
        )
        #expect(xml.contains("<Body>b&lt;&amp;&gt;</Body>"))
        #expect(xml.contains("<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>"))
        let batch = QueryProtocol.response(
            ["Successful": [["Id": "1"]], "Failed": []],
            operation: "DeleteMessageBatch",
            requestID: "r"
        )
        guard case .bytes(let batchBuffer, _) = batch.body else { throw SQSError.internalError("no bytes") }
        #expect(
            String(buffer: batchBuffer).contains(
                "<DeleteMessageBatchResultEntry><Id>1</Id></DeleteMessageBatchResultEntry>"
            )
        )
        let empty = QueryProtocol.response([:], operation: "DeleteQueue", requestID: "r")
        guard case .bytes(let emptyBuffer, _) = empty.body else { throw SQSError.internalError("no bytes") }
        #expect(!String(buffer: emptyBuffer).contains("DeleteQueueResult"))
    }
}
