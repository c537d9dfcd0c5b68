import Foundation
import Testing

@testable import NimbusSQS

/// MD5s as SQS computes them: AWS's documented encoding, checked against digests AWS returned (recorded in public
/// test snapshots of real SQS responses) and against a published implementation's examples.
@Suite struct MessageDigestTests {
    @Test func bodyDigestIsTheMD5OfItsUTF8() {
        #expect(MessageDigest.body("hello") == "5d41402abc4b2a76b9719d911017c592")
        #expect(MessageDigest.body("test") == "098f6bcd4621d373cade4e832627b4f6")
        #expect(MessageDigest.body("message-1") == "3d6b824fd8c1520e9a047d21fee6fb1f")
    }

    /// Digests real SQS answered for these attributes.
    @Test func attributeDigestsMatchWhatAWSAnswered() {
        #expect(
            MessageDigest.attributes(["Foo": MessageAttributeValue(dataType: "String", stringValue: "Bar")])
                == "ae7155c6026991b6d54b11589678bf9c"
        )
        #expect(
            MessageDigest.attributes(["MyAttribute": MessageAttributeValue(dataType: "String", stringValue: "foobar")])
                == "adb59cd4678ea5a855436b949cd07ab6"
        )
        let traceparent = Array("traceparent\u{1e}00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01".utf8)
        #expect(
            MessageDigest.attributes(["attr1": MessageAttributeValue(dataType: "Binary", binaryValue: traceparent)])
                == "8cbe4db156db8a94db8b801b7addb984"
        )
    }

    /// The examples of a published implementation of the algorithm (custom types, binary, several attributes).
    @Test func publishedExamples() {
        let string = ["attribName1": MessageAttributeValue(dataType: "String", stringValue: "attribValue 1")]
        let custom = [
            "customNumberTypeAttrib": MessageAttributeValue(
                dataType: "Number.float",
                stringValue: "4563442423554324324264524243.32543234"
            )
        ]
        let binary = [
            "binaryAttribute": MessageAttributeValue(dataType: "Binary", binaryValue: Array("Hello binary world!".utf8))
        ]
        #expect(MessageDigest.attributes(string) == "19e27d4e946b072f3f58da80d94fd778")
        #expect(MessageDigest.attributes(custom) == "9fe1b90bbd9965bdf77bac517c7d2495")
        #expect(MessageDigest.attributes(binary) == "31a92b15d92f8db860eda32aceb656c3")
        let all = string.merging(custom) { a, _ in a }.merging(binary) { a, _ in a }
        #expect(MessageDigest.attributes(all) == "c932db14a896c663f83c260297d594ff")
    }

    @Test func encodingIsLengthPrefixedAndSortedByName() {
        let bytes = MessageDigest.encoding([
            "b": MessageAttributeValue(dataType: "Binary", binaryValue: [0xFF]),
            "a": MessageAttributeValue(dataType: "Number", stringValue: "1"),
        ])
        let expected: [UInt8] =
            [0, 0, 0, 1] + Array("a".utf8) + [0, 0, 0, 6] + Array("Number".utf8) + [1] + [0, 0, 0, 1] + Array("1".utf8)
            + [0, 0, 0, 1] + Array("b".utf8) + [0, 0, 0, 6] + Array("Binary".utf8) + [2] + [0, 0, 0, 1] + [0xFF]
        #expect(bytes == expected)
        #expect(MessageDigest.attributes([:]) == nil)
    }
}
