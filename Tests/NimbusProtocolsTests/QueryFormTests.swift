import NimbusCore
import NimbusProtocols
import Testing

/// The query protocol's form encoding: real requests and hostile ones.
@Suite struct QueryFormTests {
    func form(_ text: String, limits: QueryForm.Limits = .init()) throws -> QueryForm {
        try QueryForm(decoding: Array(text.utf8), limits: limits)
    }

    @Test func readsSTSGetCallerIdentity() throws {
        let form = try self.form("Action=GetCallerIdentity&Version=2011-06-15")
        #expect(form.parameters == [.init("Action", "GetCallerIdentity"), .init("Version", "2011-06-15")])
        #expect(try form.structured() == ["Action": "GetCallerIdentity", "Version": "2011-06-15"])
    }

    /// The example request of the SQS API reference's SendMessage (query protocol).
    @Test func readsSQSSendMessageWithAttributes() throws {
        let body = """
            Action=SendMessage&QueueUrl=https%3A%2F%2Fsqs.us-east-2.amazonaws.com%2F123456789012%2FMyQueue\
            &MessageBody=This+is+a+test+message&MessageAttribute.1.Name=my_attribute_name_1\
            &MessageAttribute.1.Value.StringValue=my_attribute_value_1&MessageAttribute.1.Value.DataType=String\
            &MessageAttribute.2.Name=my_attribute_name_2&MessageAttribute.2.Value.StringValue=my_attribute_value_2\
            &MessageAttribute.2.Value.DataType=String&Expires=2020-05-05T22%3A52%3A43PST&Version=2012-11-05
            """
        let form = try self.form(body)
        #expect(form["QueueUrl"] == "https://sqs.us-east-2.amazonaws.com/123456789012/MyQueue")
        #expect(form["MessageBody"] == "This is a test message")
        #expect(form.parameters.count == 11)
        let structured = try form.structured()
        #expect(
            structured["MessageAttribute"] == [
                [
                    "Name": "my_attribute_name_1",
                    "Value": ["StringValue": "my_attribute_value_1", "DataType": "String"],
                ],
                [
                    "Name": "my_attribute_name_2",
                    "Value": ["StringValue": "my_attribute_value_2", "DataType": "String"],
                ],
            ]
        )
        #expect(structured["Expires"] == "2020-05-05T22:52:43PST")
    }

    /// botocore's QuerySerializer output for SNS Publish with message attributes.
    @Test func readsBotocoresSNSPublish() throws {
        let body = """
            Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Amy-topic\
            &Message=Hello+world+%26+friends+%3D+%C3%BCn%C3%AFcode&Subject=Greeting&MessageAttributes.entry.1.Name=store\
            &MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=example_corp\
            &MessageAttributes.entry.2.Name=price&MessageAttributes.entry.2.Value.DataType=Number\
            &MessageAttributes.entry.2.Value.StringValue=10.5
            """
        let structured = try self.form(body).structured()
        #expect(structured["Message"] == "Hello world & friends = ünïcode")
        #expect(structured["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:my-topic")
        #expect(
            structured["MessageAttributes"] == [
                "entry": [
                    ["Name": "store", "Value": ["DataType": "String", "StringValue": "example_corp"]],
                    ["Name": "price", "Value": ["DataType": "Number", "StringValue": "10.5"]],
                ]
            ]
        )
    }

    /// botocore's QuerySerializer output for SNS CreateTopic: a wrapped list and a map.
    @Test func readsWrappedListsAndMapsAndOrdersIndicesNumerically() throws {
        let body = """
            Action=CreateTopic&Version=2010-03-31&Name=t&Tags.member.10.Key=j&Tags.member.2.Key=b&Tags.member.1.Key=a\
            &Tags.member.1.Value=1&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=x
            """
        let structured = try self.form(body).structured()
        #expect(structured["Tags"] == ["member": [["Key": "a", "Value": "1"], ["Key": "b"], ["Key": "j"]]])
        #expect(structured["Attributes"] == ["entry": [["key": "DisplayName", "value": "x"]]])
    }

    @Test func keepsRepeatedNamesAndOrderInTheFlatList() throws {
        let form = try self.form("a=1&&b&a=2&=v&c=x=y&")
        #expect(
            form.parameters == [.init("a", "1"), .init("b", ""), .init("a", "2"), .init("", "v"), .init("c", "x=y")]
        )
        #expect(form.values(named: "a") == ["1", "2"])
        #expect(form["a"] == "1")
        #expect(form["zzz"] == nil)
        #expect(try self.form("").parameters.isEmpty)
        #expect(try self.form("").structured() == [:])
    }

    @Test(arguments: ["a=%", "a=%4", "a=%G1", "a=%4g", "%zz=1", "a=%C3", "a=%FF"])
    func refusesBadEscapesAndInvalidUTF8(_ body: String) {
        #expect {
            try self.form(body)
        } throws: { error in
            (error as? WireFormatError)?.code == .malformedForm
        }
    }

    static let inconsistent: [(String, String)] = [
        ("A=1&A=2", "parameter A conflicts"),
        ("A=1&A.B=2", "parameter A.B conflicts"),
        ("A.B=2&A=1", "parameter A conflicts"),
        ("A.1=x&A.B=y", "parameter A.B conflicts"),
        ("A.B=y&A.1=x", "parameter A.1 conflicts"),
        ("A..B=1", "empty segment"),
        (".A=1", "empty segment"),
        ("A.=1", "empty segment"),
        ("=v", "empty segment"),
        ("A.0=x", "index 0; indices start at 1"),
        ("A.01=x", "index 01; indices start at 1 and have no leading zeros"),
        ("A.-1=x", "signed index -1"),
        ("A.%2B2=x", "signed index +2"),
    ]

    @Test(arguments: Self.inconsistent)
    func refusesInconsistentNamesInTheStructuredView(_ body: String, _ message: String) throws {
        let form = try self.form(body)
        #expect {
            try form.structured()
        } throws: { error in
            guard let error = error as? WireFormatError else { return false }
            return error.code == .malformedForm && error.message.contains(message)
        }
    }

    @Test(arguments: ["A.99999999=x", "A.10001=x", "A.99999999999999999999999=x"])
    func refusesHugeIndicesWithoutAllocatingForThem(_ body: String) throws {
        let form = try self.form(body)
        #expect {
            try form.structured()
        } throws: { error in
            (error as? WireFormatError)?.code == .limitExceeded
                && (error as? WireFormatError)?.message.contains("above the limit of 10000") == true
        }
        #expect(try self.form("A.10000=x").structured() == ["A": ["x"]])
    }

    @Test func limitsTheNumberOfParametersAndTheirDepth() throws {
        let many = String(repeating: "p=v&", count: 100_000)
        #expect(throws: WireFormatError(.limitExceeded, "the form has more than 10000 parameters")) {
            try self.form(many)
        }
        let limits = QueryForm.Limits(maximumParameters: 100_000)
        #expect(try self.form(many, limits: limits).parameters.count == 100_000)
        let deep = try self.form(Array(repeating: "a", count: 17).joined(separator: ".") + "=1")
        #expect(
            throws: WireFormatError(
                .limitExceeded,
                "parameter \(deep.parameters[0].name) has more than 16 dotted segments"
            )
        ) {
            try deep.structured()
        }
    }
}
