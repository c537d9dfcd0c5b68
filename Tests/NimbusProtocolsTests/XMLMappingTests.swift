import NimbusCore
import NimbusProtocols
import Testing

/// JSONValue documents to XML, following botocore's rest-xml and query conventions.
@Suite struct XMLMappingTests {
    @Test func writesAnS3TaggingDocumentAsBotocoreDoes() throws {
        let mapping = XMLMapping(lists: ["TagSet": .wrapped(member: "Tag")])
        let tagging = XML.Element(
            "Tagging",
            children: try mapping.children(of: ["TagSet": [["Key": "k", "Value": "v"]]])
        )
        // botocore's RestXMLSerializer output for PutBucketTagging.
        #expect(
            String(decoding: tagging.document(namespace: "http://s3.amazonaws.com/doc/2006-03-01/"), as: UTF8.self)
                == """
                <?xml version="1.0" encoding="UTF-8"?>
                <Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>\
                </TagSet></Tagging>
                """
        )
    }

    @Test func writesAQueryResponseWithFlattenedListsAndMaps() throws {
        let mapping = XMLMapping(
            lists: ["QueueUrl": .flattened],
            maps: ["Attribute": .flattened(key: "Name", value: "Value"), "Tags": .wrapped()]
        )
        let result: [String: JSONValue] = [
            "QueueUrl": ["https://q/1", "https://q/2"],
            "Attribute": ["VisibilityTimeout": "30", "DelaySeconds": "0"],
            "Tags": ["env": "prod"],
            "Topics": [["TopicArn": "arn:a"]],
            "Missing": .null,
        ]
        let response = XML.Element("R", children: try mapping.children(of: result))
        #expect(
            response.fragment == """
                <R><Attribute><Name>DelaySeconds</Name><Value>0</Value></Attribute><Attribute><Name>VisibilityTimeout</Name>\
                <Value>30</Value></Attribute><QueueUrl>https://q/1</QueueUrl><QueueUrl>https://q/2</QueueUrl><Tags><entry>\
                <key>env</key><value>prod</value></entry></Tags><Topics><member><TopicArn>arn:a</TopicArn></member></Topics></R>
                """
        )
    }

    @Test func writesScalarsAsBotocoreParsesThem() throws {
        let values: [(JSONValue, String)] = [
            (true, "true"), (false, "false"), (10, "10"), (.number(-3), "-3"), (.number(1.5), "1.5"),
            (.number(1e300), "1e+300"), (.number(.nan), "NaN"), (.number(.infinity), "Infinity"),
            (.number(-.infinity), "-Infinity"), (.number(9_007_199_254_740_992), "9007199254740992"),
            (.number(1e19), "1e+19"),
            ("a<b", "a<b"),
        ]
        for (value, text) in values {
            #expect(try XMLMapping().elements(named: "V", for: value) == [XML.Element("V", text: text)])
        }
    }

    @Test func nestsListsOfLists() throws {
        let elements = try XMLMapping().elements(named: "L", for: [[1, 2], [3]])
        #expect(
            elements.first?.fragment
                == "<L><member><member>1</member><member>2</member></member><member><member>3</member></member></L>"
        )
        let flattened = try XMLMapping(defaultListStyle: .flattened).elements(named: "L", for: [1, 2])
        #expect(flattened.map(\.fragment) == ["<L>1</L>", "<L>2</L>"])
    }

    @Test func refusesMembersThatAreNotXMLNames() {
        #expect(throws: WireFormatError(.unrepresentable, "\"bad key\" is not an XML element name")) {
            try XMLMapping().children(of: ["Outer": ["bad key": 1]])
        }
        #expect(throws: WireFormatError(.unrepresentable, "\"1st\" is not an XML element name")) {
            try XMLMapping(maps: ["M": .wrapped(entry: "1st")]).children(of: ["M": ["k": "v"]])
        }
    }
}
