import NIOCore
import NimbusCore
import Testing

@testable import NimbusHTTPEvents

@Suite struct JSONScannerTests {
    static let valid = [
        "0", "-0", "1.5e3", "-12.25E-2", "true", "false", "null", #""""#, "[]", "{}", " [1, [2, [3]], {\"a\": {}}] ",
        #"{"a":"\u00e9\ud83d\ude00\n\"\\\/"}"#, #"["é😀"]"#, "\t{\r\n}\n",
    ]
    static let invalid = [
        "", " ", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}",
        "[", "]", "{\"a\":1}}", "\"abc", "\"a\u{01}b\"", #""\x""#, #""\u12G4""#, "[1] 2", "'a'", "NaN",
    ]

    @Test(arguments: valid)
    func acceptsValidDocuments(text: String) throws {
        _ = try JSONScanner.scan(Array(text.utf8), members: [])
    }

    @Test(arguments: invalid)
    func refusesInvalidDocuments(text: String) {
        #expect(throws: JSONScanner.Malformed.self) { try JSONScanner.scan(Array(text.utf8), members: []) }
    }

    @Test func refusesInvalidUTF8InStrings() {
        #expect(throws: JSONScanner.Malformed.self) { try JSONScanner.scan([0x22, 0xFF, 0x22], members: []) }
        #expect(throws: JSONScanner.Malformed.self) {
            try JSONScanner.scan([0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D], members: [])
        }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONScanner.Malformed.self) { try JSONScanner.scan(Array(deep.utf8), members: []) }
    }

    @Test func buildsOnlyTheRequestedMembersAndAgreesWithFoundation() throws {
        let text =
            #"{"statusCode": 201, "skip": {"deep": [1, 2, {"x": null}]}, "headers": {"a": "b", "n": 1.5},"#
            + #" "cookies": ["c=1"], "body": "caf\u00e9 \ud83d\ude00", "isBase64Encoded": false, "list": [true]}"#
        guard
            case .object(let members) = try JSONScanner.scan(Array(text.utf8), members: PayloadFormatV2.responseMembers)
        else {
            Issue.record("not an object")
            return
        }
        #expect(Set(members.keys) == ["statusCode", "headers", "cookies", "body", "isBase64Encoded"])
        let foundation = try #require(JSONValue.parse(Array(text.utf8))?.objectValue)
        for (key, value) in members { #expect(value == foundation[key], "\(key)") }
        #expect(members["body"] == "café 😀")
    }

    @Test func topLevelStringIsDecoded() throws {
        guard case .string(let text) = try JSONScanner.scan(Array(#""a\tb""#.utf8), members: []) else {
            Issue.record("not a string")
            return
        }
        #expect(text == "a\tb")
    }
}
