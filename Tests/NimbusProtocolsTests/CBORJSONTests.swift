import Foundation
import NimbusCore
import NimbusProtocols
import Testing

/// smithy-rpc-v2-cbor documents ↔ awsJson-shaped JSONValue documents.
@Suite struct CBORJSONTests {
    /// botocore 1.x's RpcV2CBORSerializer output for CloudWatch PutMetricData (Timestamp 2024-01-02T03:04:05Z).
    static let putMetricData = hex(
        """
        a2694e616d657370616365634170706a4d65747269634461746181a76a4d65747269634e616d65674c6174656e63796a44696d656e7369
        6f6e7381a2644e616d65624f706556616c7565634765746954696d657374616d70c11a65937d256556616c7565fb3ff800000000000064
        556e69746c4d696c6c697365636f6e64736656616c75657382fb3ff0000000000000fb400400000000000066436f756e747382fb400800
        0000000000fb4010000000000000
        """
    )

    @Test func readsBotocoresPutMetricDataAsTheAWSJSONDocument() throws {
        let value = try CBORDecoder().decode(Self.putMetricData)
        let datum = try #require(value["MetricData"]?.arrayValue?.first)
        #expect(datum["Timestamp"]?.timestampValue == Date(timeIntervalSince1970: 1_704_164_645))
        let expected: JSONValue = [
            "Namespace": "App",
            "MetricData": [
                [
                    "MetricName": "Latency", "Dimensions": [["Name": "Op", "Value": "Get"]], "Timestamp": 1_704_164_645,
                    "Value": .number(1.5), "Unit": "Milliseconds", "Values": [1, .number(2.5)], "Counts": [3, 4],
                ]
            ],
        ]
        #expect(try value.jsonValue() == expected)
    }

    @Test func mapsBlobsToBase64AndSpecialFloatsToAWSJSONStrings() throws {
        let value: CBORValue = [
            "Blob": .bytes(Array("hello".utf8)), "NaN": .float64(.nan), "Inf": .float32(.infinity),
            "NegInf": .float16(-.infinity), "Undefined": .undefined, "Big": .unsigned(UInt64.max), "Neg": .negative(9),
        ]
        let expected: JSONValue = [
            "Blob": "aGVsbG8=", "NaN": "NaN", "Inf": "Infinity", "NegInf": "-Infinity", "Undefined": .null,
            "Big": .number(18_446_744_073_709_551_615), "Neg": -10,
        ]
        #expect(try value.jsonValue() == expected)
    }

    static let unrepresentable: [(CBORValue, String)] = [
        (.map([.init(1, 2)]), "a map key that is not a text string has no JSON form, at $"),
        (
            .map([.init("a", .array([.map([.init("b", .tagged(2, .bytes([1])))])]))]),
            "tag 2 (only tag 1, epoch time, is supported) has no JSON form, at $.a[0].b"
        ),
        (
            .map([.init("t", .tagged(1, .text("2024")))]),
            "tag 1 (epoch time) over something other than a finite number has no JSON form, at $.t"
        ),
        (.array([.simple(16)]), "simple value 16 has no JSON form, at $[0]"),
        (.map([.init("k", 1), .init("k", 2)]), "a duplicate map key has no JSON form, at $.k"),
    ]

    @Test(arguments: Self.unrepresentable)
    func refusesWhatJSONCannotCarry(_ value: CBORValue, _ message: String) {
        #expect(throws: WireFormatError(.unrepresentable, message)) { try value.jsonValue() }
    }

    @Test func writesJSONWithSortedKeysIntegersWhereExactAndDoublesOtherwise() {
        let json: JSONValue = [
            "b": [1, .number(-2), .number(1.5), .number(-0.0), .number(1e300), .number(18_446_744_073_709_551_615)],
            "a": ["z": .null, "y": true, "x": "text"],
            "ä": "after every ASCII key", "B": "before lowercase",
        ]
        let expected: CBORValue = [
            "B": "before lowercase",
            "a": ["x": "text", "y": true, "z": .null],
            "b": [1, -2, 1.5, .float64(-0.0), 1e300, .float64(18_446_744_073_709_551_616)],
            "ä": "after every ASCII key",
        ]
        let converted = CBORValue(json: json)
        #expect(converted == expected)
        #expect(converted["b"]?.arrayValue?[3].encoded() == hex("fb8000000000000000"))
        #expect(CBORValue(json: .number(-9_223_372_036_854_775_808)) == CBORValue(Int64.min))
        #expect(CBORValue(json: .number(-9_223_372_036_854_777_856)) == .float64(-9_223_372_036_854_777_856))
    }

    @Test func letsTheCallerSupplyTimestampsAndBlobsByPath() throws {
        let output: JSONValue = [
            "MetricDataResults": [["Timestamps": [1_704_164_645, .number(1_704_164_645.5)], "Label": "p99"]],
            "Payload": "aGk=",
        ]
        let cbor = CBORValue(json: output) { path, value in
            if path.count == 4, path[2] == .key("Timestamps"), let seconds = value.numberValue {
                return .timestamp(Date(timeIntervalSince1970: seconds))
            }
            if path == [.key("Payload")], let text = value.stringValue, let data = Data(base64Encoded: text) {
                return .bytes(Array(data))
            }
            return nil
        }
        let result = try #require(cbor["MetricDataResults"]?.arrayValue?.first)
        #expect(result["Timestamps"] == [.tagged(1, 1_704_164_645), .tagged(1, 1_704_164_645.5)])
        #expect(result["Label"] == "p99")
        #expect(cbor["Payload"] == .bytes(Array("hi".utf8)))
        // And back: what a JSON-speaking service sees again.
        #expect(try cbor.jsonValue()["MetricDataResults"] == output["MetricDataResults"])
    }

    @Test func buildsRPCv2ErrorBodies() throws {
        let body = RPCv2CBOR.errorBody(
            type: "com.amazonaws.cloudwatch#ResourceNotFound",
            members: [("message", "No alarm named a")]
        )
        #expect(
            try CBORDecoder().decode(body) == [
                "__type": "com.amazonaws.cloudwatch#ResourceNotFound", "message": "No alarm named a",
            ]
        )
    }
}
