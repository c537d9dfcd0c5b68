import NimbusCore
import Testing

@testable import NimbusEventPatterns

/// The pieces below the matcher: the event reader, addresses, wildcards, numbers, and the Jackson-style reasons for
/// malformed JSON beyond the ones AWS recorded (same wording and location rules).
@Suite struct ReaderTests {
    @Test func eventJSONReadsDocuments() {
        #expect(
            EventJSON.parse(#"{"a": [1, 2.5, -3e2, true, false, null, "x\u00e9\n"], "b": {}}"#)
                == ["a": [1, .number(2.5), -300, true, false, .null, "xé\n"], "b": [:]]
        )
        #expect(EventJSON.parse(" [ ] ") == [])
        #expect(EventJSON.parse(#""\ud83d\ude80""#) == "🚀")
        #expect(EventJSON.parse(#"{"k": 1, "k": 2}"#) == ["k": 2])
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\" 1}", "{\"a\": 1,}", "01", "1.", "-", "tru", "\"a", "\"\u{1}\"", "[1] 2",
        "{'a': 1}", "nul", "\"\\x\"",
    ])
    func eventJSONRefusesNonJSON(_ text: String) {
        #expect(EventJSON.parse(text) == nil)
    }

    @Test func eventJSONRefusesHostileNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(EventJSON.parse(deep) == nil)
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(EventJSON.parse(fine) != nil)
    }

    @Test func parseObjectOnlyAcceptsObjects() {
        #expect(EventJSON.parseObject(#" {"a": 1}"#) == ["a": 1])
        #expect(EventJSON.parseObject("[1]") == nil)
        #expect(EventJSON.parseObject("42") == nil)
        #expect(EventJSON.parseObject("{oops") == nil)
    }

    @Test func addresses() throws {
        #expect(IPAddress.parse("10.0.0.1") == .v4(0x0A00_0001))
        #expect(IPAddress.parse("010.000.000.001") == .v4(0x0A00_0001))
        #expect(IPAddress.parse("10.0.0.256") == nil)
        #expect(IPAddress.parse("10.0.0") == nil)
        #expect(IPAddress.parse("::") == .v6(0, 0))
        #expect(IPAddress.parse("::1") == .v6(0, 1))
        #expect(IPAddress.parse("2001:db8::1") == .v6(0x2001_0db8_0000_0000, 1))
        #expect(IPAddress.parse("1:2:3:4:5:6:7:8") == .v6(0x0001_0002_0003_0004, 0x0005_0006_0007_0008))
        #expect(IPAddress.parse("1:2:3:4:5:6:7::") == .v6(0x0001_0002_0003_0004, 0x0005_0006_0007_0000))
        for invalid in [
            "1:2:3:4:5:6:7:8:9", "1::2::3", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "12345::", "1:2:3:4:5:6:7:8::", "a:b",
        ] {
            #expect(IPAddress.parse(invalid) == nil, "\(invalid)")
        }
        // A pattern string that is an address matches other spellings of it, as Ruler compares addresses.
        #expect(try matches(#"{"ip": ["10.0.0.1"]}"#, #"{"ip": "10.000.0.01"}"#))
        #expect(try matches(#"{"ip": ["2001:db8::1"]}"#, #"{"ip": "2001:0db8:0:0:0:0:0:1"}"#))
        #expect(try !matches(#"{"ip": ["10.0.0.1"]}"#, #"{"ip": "10.0.0.2"}"#))
        let block = try IPRange(cidr: "10.0.0.0/24")
        #expect(block.contains(.v4(0x0A00_00FF)) && !block.contains(.v4(0x0A00_0100)))
        #expect(!block.contains(.v6(0, 0x0A00_0001)))
        let everything = try IPRange(cidr: "0.0.0.0/0")
        #expect(everything.contains(.v4(.max)))
        let v6 = try IPRange(cidr: "2001:db8::/33")
        #expect(v6.contains(.v6(0x2001_0db8_7fff_ffff, .max)) && !v6.contains(.v6(0x2001_0db8_8000_0000, 0)))
    }

    @Test(arguments: [
        ("10.0.0.0/32", "IPv4 mask bits must be < 32"),
        ("::/128", "IPv6 mask bits must be < 128"),
        ("10.0.0.0/-1", "Malformed CIDR, mask bits must not be negative"),
        ("10.0.0.0/", "Malformed CIDR, one '/' required"),
        ("10.0.0.300/8", "Invalid IP address: 10.0.0.300"),
        ("/8", "Nonstandard IP address: "),
    ])
    func cidrRefusals(cidr: String, reason: String) {
        #expect(refusal(#"{"ip": [{"cidr": "\#(cidr)"}]}"#) == reason)
    }

    @Test func wildcards() throws {
        func matches(_ pattern: String, _ value: String) throws -> Bool {
            try WildcardPattern(parsing: pattern).matches(value)
        }
        #expect(try matches("*", ""))
        #expect(try matches("a*", "a"))
        #expect(try matches("*a*a*", "aa"))
        #expect(try !matches("*a*a*", "a"))
        #expect(try matches("ab*ba", "aba") == false)
        #expect(try matches("ab*ba", "abba"))
        #expect(try matches("é*ü", "éxxü"))
        #expect(try matches(#"\*\\"#, #"*\"#))
        #expect(throws: PatternFailure.self) { try WildcardPattern(parsing: "a**") }
        #expect(throws: PatternFailure.self) { try WildcardPattern(parsing: #"a\b"#) }
        #expect(refusal(#"{"k": [{"wildcard": "a\\b"}]}"#)?.hasPrefix("Invalid escape character at pos 2") == true)
        #expect(refusal(#"{"k": [{"wildcard": "ab\\"}]}"#)?.hasPrefix("Invalid escape character at pos 3") == true)
    }

    /// Long value lists are hashed; the verdicts must not change, byte-exactness included.
    @Test func longValueListsMatchLikeShortOnes() throws {
        let strings = (1...20).map { "\"v\($0)\"" }.joined(separator: ", ")
        let pattern = #"{"k": ["\u00e9", \#(strings), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5, {"prefix": "p"}]}"#
        #expect(try matches(pattern, #"{"k": "v20"}"#))
        #expect(try matches(pattern, #"{"k": "\u00e9"}"#))
        #expect(try !matches(pattern, #"{"k": "e\u0301"}"#))
        #expect(try matches(pattern, #"{"k": 10.5}"#))
        #expect(try !matches(pattern, #"{"k": "10.5"}"#))
        #expect(try matches(pattern, #"{"k": "pq"}"#))
        #expect(try !matches(pattern, #"{"k": "v21"}"#))
        let excluded = #"{"k": [{"anything-but": ["\u00e9", \#(strings)]}]}"#
        #expect(try !matches(excluded, #"{"k": "v7"}"#))
        #expect(try matches(excluded, #"{"k": "e\u0301"}"#))
        #expect(try matches(excluded, #"{"k": "v0"}"#))
    }

    @Test func wildcardComplexityBudget() {
        #expect(refusal(#"{"k": [{"wildcard": "*/bin/*.jar"}, {"wildcard": "*/bin/*.class"}]}"#) == nil)
        #expect(refusal(#"{"k": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]}"#) == nil)
        let four =
            #"{"k": [{"wildcard": "d/*/*.jpg"}, {"wildcard": "d/*/*.jpeg"}, {"wildcard": "d/*/*.png"}, {"wildcard": "d/*/*.gif"}]}"#
        #expect(refusal(four)?.hasPrefix("Rule is too complex") == true)
        // Counted per field: the same patterns spread over fields pass.
        let spread =
            #"{"a": [{"wildcard": "d/*/*.jpg"}, {"wildcard": "d/*/*.jpeg"}], "b": [{"wildcard": "d/*/*.png"}, {"wildcard": "d/*/*.gif"}]}"#
        #expect(refusal(spread) == nil)
    }

    @Test func numbers() {
        #expect(Numbers.comparableValue("0.1") == 0.1)
        #expect(Numbers.comparableValue("3.018e2") == 301.8)
        #expect(Numbers.comparableValue("-0") == 0)
        #expect(Numbers.comparableValue("1e400") == nil)
        #expect(Numbers.comparableValue("0.30000000000000001") == nil)
        #expect(Numbers.comparableValue("123456789012345678901") == nil)
        #expect(
            refusal(#"{"n": [{"numeric": [">", 1e400]}]}"#) == "Cannot compare number : 1e400"
                + at(#"{"n": [{"numeric": [">", 1e400]}]}"#, column: 32)
        )
        #expect(refusal(#"{"n": [{"anything-but": 1e400}]}"#) == "Cannot compare number : 1e400")
        // Exact values that are not comparable still match themselves.
        #expect((try? matches(#"{"n": [123456789012345678901]}"#, #"{"n": 123456789012345678901}"#)) == true)
    }

    @Test(arguments: [
        (#"{"n": [{"numeric": [">", 5, "<", 5]}]}"#, "Bottom must be less than top", 36),
        (#"{"n": [{"numeric": ["<", 5, ">", 1]}]}"#, "Too many elements in numeric expression", 30),
        (#"{"n": [{"numeric": [">", 1, "<", 5, 6]}]}"#, "Too many terms in numeric range expression", 38),
        (#"{"n": [{"numeric": [5]}]}"#, "Invalid member in numeric match: 5", 22),
        (#"{"n": [{"numeric": []}]}"#, "Invalid member in numeric match: ]", 22),
        (#"{"n": [{"numeric": ["~", 5]}]}"#, "Unrecognized numeric range operator: ~", 27),
        (#"{"n": [{"numeric": [">", 0, 9]}]}"#, "Bad value in numeric range: 9", 30),
        (#"{"n": [{"numeric": ["=", 1]}, {"exists": 1}]}"#, "exists match pattern must be either true or false.", 43),
        (#"{"n": [{"prefix": "a", "suffix": "b"}]}"#, "Only one key allowed in match expression", 35),
        (#"{"n": [{}]}"#, "Match expression name not found", 10),
        (#"{"n": [[1]]}"#, "Match value must be String, number, true, false, or null", 9),
        (#"{"n": [{"anything-but": {"between": 1}}]}"#, "Unsupported anything-but pattern: between", 38),
        (
            #"{"n": [{"anything-but": []}]}"#,
            "Inside anything but list, either all values are number or string, mixed type is not supported", 27
        ),
        (
            #"{"n": [{"anything-but": ["a", 1]}]}"#,
            "Inside anything but list, either all values are number or string, mixed type is not supported", 33
        ),
        (#"{"n": [{"prefix": {"exactly": "a"}}]}"#, "Unsupported prefix pattern: exactly", 32),
        (#"{"$or": {"a": [1]}}"#, "It must be an Array followed with $or.", 10),
        (#"{"$or": [{"a": [1]}]}"#, "There must have at least 2 Objects in $or relationship.", 21),
        (#"{"$or": [{"a": [1]}, 2]}"#, "Only JSON object is allowed in array of $or relationship.", 23),
        (
            #"{"$or": [{"a": [1]}, {"prefix": [2]}]}"#,
            "prefix is Ruler reserved fieldName which cannot be used inside $or.", 34
        ),
        (
            #"{"a": [1] "b": [2]}"#,
            "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries", 11
        ),
        (
            #"{"a" [1]}"#,
            "Unexpected character ('[' (code 91)): was expecting a colon to separate field name and value", 6
        ),
        (
            #"{"a": [1,]}"#,
            "Unexpected character (']' (code 93)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
            10
        ),
        (#"{"a": [01]}"#, "Invalid numeric value: Leading zeroes not allowed", 10),
        (#"{"a": }"#, "Unexpected character ('}' (code 125)): expected a value", 7),
        (
            #"{"a": [tru]}"#,
            "Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
            11
        ),
        (
            #"{"a": [NaN]}"#, "Non-standard token 'NaN': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow",
            11
        ),
        (#"{"a": ["\q"]}"#, "Unrecognized character escape 'q' (code 113)", 11),
    ])
    func moreRefusals(pattern: String, reason: String, column: Int) {
        #expect(refusal(pattern) == reason + at(pattern, column: column))
    }

    @Test func endOfInputNamesTheOpenContainer() {
        let pattern = #"{"a": [1]"#
        #expect(
            refusal(pattern)
                == "Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)\"\(pattern)\"; line: 1, column: 1])"
                + at(pattern, column: 10)
        )
        #expect(refusal("")?.hasPrefix("Filter is not an object") == true)
    }

    @Test func longSourcesAreCutAt500Characters() {
        let pattern = #"{"a": "# + String(repeating: " ", count: 600) + "1}"
        let reason = refusal(pattern)
        #expect(reason?.contains("\"[truncated 108 chars]; line: 1, column: 608]") == true)
    }

    /// Trailing content after the pattern's object is never read (Ruler stops at the closing brace).
    @Test func trailingContentIsIgnored() {
        #expect(refusal(#"{"a": [1]} trailing"#) == nil)
    }

    @Test func limits() {
        #expect(throws: EventPatternError(code: .tooLong, reason: "Member must have length less than or equal to 4096"))
        {
            try EventPattern(json: #"{"a": ["# + String(repeating: "\"x\",", count: 1100) + "1]}")
        }
        let deep = String(repeating: #"{"a": "#, count: 101) + "[1]" + String(repeating: "}", count: 101)
        #expect(refusal(deep) == "Event pattern is nested more than 100 levels deep")
        // 11 sequential $or of two alternatives: 2048 combinations.
        let ors = (0..<11).map { #""x\#($0)": {"$or": [{"a": [1]}, {"b": [2]}]}"# }.joined(separator: ", ")
        #expect(refusal("{\(ors)}") == "Event pattern has more than 1000 combinations of $or alternatives")
    }
}
