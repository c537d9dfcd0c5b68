import Testing

@testable import NimbusEventPatterns

/// Verdicts real EventBridge gave (TestEventPattern, recorded in localstack's AWS-validated pattern suite), restated
/// as small cases. Each pins a rule the documentation leaves implicit.
@Suite struct RecordedVerdictTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var pattern: String
        var event: String
        var matches: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // Arrays: a pattern list matches when it intersects the event's array.
        Case(
            name: "array intersects",
            pattern: #"{"resources": ["a", "b", "c"]}"#,
            event: #"{"resources": ["x", "b"]}"#,
            matches: true
        ),
        Case(
            name: "array disjoint",
            pattern: #"{"resources": ["a", "b", "c"]}"#,
            event: #"{"resources": ["x"]}"#,
            matches: false
        ),
        Case(
            name: "[null] against empty array",
            pattern: #"{"resources": [null]}"#,
            event: #"{"resources": []}"#,
            matches: false
        ),
        Case(
            name: "exists against empty array",
            pattern: #"{"resources": [{"exists": true}]}"#,
            event: #"{"resources": []}"#,
            matches: false
        ),
        Case(name: "boolean", pattern: #"{"boolean": [false]}"#, event: #"{"boolean": false}"#, matches: true),
        Case(name: "boolean mismatch", pattern: #"{"boolean": [false]}"#, event: #"{"boolean": true}"#, matches: false),
        // Null and empty values.
        Case(name: "null", pattern: #"{"detail": {"r": [null]}}"#, event: #"{"detail": {"r": null}}"#, matches: true),
        Case(
            name: "null is not \"null\"",
            pattern: #"{"detail": {"r": [null]}}"#,
            event: #"{"detail": {"r": "null"}}"#,
            matches: false
        ),
        Case(
            name: "empty string",
            pattern: #"{"detail": {"v": [""]}}"#,
            event: #"{"detail": {"v": ""}}"#,
            matches: true
        ),
        // Numbers compare numerically, strings never as numbers.
        Case(name: "300 equals 300.0", pattern: #"{"number": [300]}"#, event: #"{"number": 300.0}"#, matches: true),
        Case(
            name: "numeric on float",
            pattern: #"{"n": [{"numeric": [">", 100]}]}"#,
            event: #"{"n": 101.0}"#,
            matches: true
        ),
        Case(
            name: "numeric on null",
            pattern: #"{"n": [{"numeric": [">", 100]}]}"#,
            event: #"{"n": null}"#,
            matches: false
        ),
        Case(
            name: "numeric on string",
            pattern: #"{"n": [{"numeric": [">", 100]}]}"#,
            event: #"{"n": "300"}"#,
            matches: false
        ),
        // anything-but: every present leaf not excluded, null and other types included; never a missing field.
        Case(
            name: "anything-but string vs null",
            pattern: #"{"d": {"s": [{"anything-but": "init"}]}}"#,
            event: #"{"d": {"s": null}}"#,
            matches: true
        ),
        Case(
            name: "anything-but string vs missing",
            pattern: #"{"d": {"s": [{"anything-but": "init"}]}}"#,
            event: #"{"d": {}}"#,
            matches: false
        ),
        Case(
            name: "anything-but list vs null",
            pattern: #"{"d": {"s": [{"anything-but": ["a", "b"]}]}}"#,
            event: #"{"d": {"s": null}}"#,
            matches: true
        ),
        Case(
            name: "anything-but list vs missing",
            pattern: #"{"d": {"s": [{"anything-but": ["a", "b"]}]}}"#,
            event: #"{"d": {}}"#,
            matches: false
        ),
        Case(
            name: "anything-but number",
            pattern: #"{"d": {"x": [{"anything-but": 123}]}}"#,
            event: #"{"d": {"x": 789}}"#,
            matches: true
        ),
        Case(
            name: "anything-but number excluded",
            pattern: #"{"d": {"x": [{"anything-but": 123}]}}"#,
            event: #"{"d": {"x": 123}}"#,
            matches: false
        ),
        Case(
            name: "anything-but zero",
            pattern: #"{"d": {"x": [{"anything-but": 0}]}}"#,
            event: #"{"d": {"x": 789}}"#,
            matches: true
        ),
        Case(
            name: "anything-but numbers excluded",
            pattern: #"{"d": {"x": [{"anything-but": [100, 200, 300]}]}}"#,
            event: #"{"d": {"x": 100}}"#,
            matches: false
        ),
        Case(
            name: "anything-but prefix vs number",
            pattern: #"{"d": {"s": [{"anything-but": {"prefix": "init"}}]}}"#,
            event: #"{"d": {"s": 12}}"#,
            matches: true
        ),
        Case(
            name: "anything-but prefix vs null",
            pattern: #"{"d": {"s": [{"anything-but": {"prefix": "init"}}]}}"#,
            event: #"{"d": {"s": null}}"#,
            matches: true
        ),
        Case(
            name: "anything-but prefix vs missing",
            pattern: #"{"d": {"s": [{"anything-but": {"prefix": "init"}}]}}"#,
            event: #"{"d": {}}"#,
            matches: false
        ),
        Case(
            name: "anything-but prefix excluded",
            pattern: #"{"d": {"s": [{"anything-but": {"prefix": "init"}}]}}"#,
            event: #"{"d": {"s": "init-x"}}"#,
            matches: false
        ),
        Case(
            name: "anything-but prefix list",
            pattern: #"{"d": {"s": [{"anything-but": {"prefix": ["init", "post"]}}]}}"#,
            event: #"{"d": {"s": "post-init"}}"#,
            matches: false
        ),
        Case(
            name: "anything-but suffix",
            pattern: #"{"d": {"f": [{"anything-but": {"suffix": ".txt"}}]}}"#,
            event: #"{"d": {"f": "file.txt.bak"}}"#,
            matches: true
        ),
        Case(
            name: "anything-but suffix excluded",
            pattern: #"{"d": {"f": [{"anything-but": {"suffix": ".txt"}}]}}"#,
            event: #"{"d": {"f": "file.txt"}}"#,
            matches: false
        ),
        Case(
            name: "anything-but suffix vs null",
            pattern: #"{"d": {"f": [{"anything-but": {"suffix": ".txt"}}]}}"#,
            event: #"{"d": {"f": null}}"#,
            matches: true
        ),
        Case(
            name: "anything-but ignore case",
            pattern: #"{"d": {"s": [{"anything-but": {"equals-ignore-case": "initializing"}}]}}"#,
            event: #"{"d": {"s": "INITIALIZING"}}"#,
            matches: false
        ),
        Case(
            name: "anything-but ignore case other",
            pattern: #"{"d": {"s": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]}}"#,
            event: #"{"d": {"s": "pending"}}"#,
            matches: true
        ),
        Case(
            name: "anything-but ignore case vs null",
            pattern: #"{"d": {"s": [{"anything-but": {"equals-ignore-case": "x"}}]}}"#,
            event: #"{"d": {"s": null}}"#,
            matches: true
        ),
        Case(
            name: "anything-but wildcard",
            pattern: #"{"d": {"p": [{"anything-but": {"wildcard": "*/dir/*"}}]}}"#,
            event: #"{"d": {"p": "dir/init/file"}}"#,
            matches: true
        ),
        Case(
            name: "anything-but wildcard excluded",
            pattern: #"{"d": {"p": [{"anything-but": {"wildcard": "*/init/*"}}]}}"#,
            event: #"{"d": {"p": "dir/init/file"}}"#,
            matches: false
        ),
        Case(
            name: "anything-but empty wildcard",
            pattern: #"{"d": {"p": [{"anything-but": {"wildcard": ""}}]}}"#,
            event: #"{"d": {"p": "dir/init/file"}}"#,
            matches: true
        ),
        Case(
            name: "anything-but wildcard vs number",
            pattern: #"{"d": {"p": [{"anything-but": {"wildcard": "*/dir/*"}}]}}"#,
            event: #"{"d": {"p": 123}}"#,
            matches: true
        ),
        Case(
            name: "anything-but wildcard list excluded",
            pattern: #"{"d": {"s": [{"anything-but": {"wildcard": ["*/init/*", "*/dir/*"]}}]}}"#,
            event: #"{"d": {"s": "dir/init/dir"}}"#,
            matches: false
        ),
        // exists works on leaves only.
        Case(
            name: "exists on object",
            pattern: #"{"detail": {"state": [{"exists": true}]}}"#,
            event: #"{"detail": {"state": {"c1": 100}}}"#,
            matches: false
        ),
        Case(
            name: "exists false deep",
            pattern: #"{"a": {"b": {"c": {"d": [{"exists": false}]}}}}"#,
            event: #"{"a": {"b": {"c": {"d": "v"}}}}"#,
            matches: false
        ),
        Case(
            name: "exists false, parent is a leaf",
            pattern: #"{"a": {"b:": {"c": {"d": [{"exists": false}]}}}}"#,
            event: #"{"a": {"b": "v"}}"#,
            matches: true
        ),
        Case(
            name: "exists in array of objects",
            pattern: #"{"d": {"autos": {"id": [{"exists": true}]}}}"#,
            event: #"{"d": {"autos": [{"k": "v"}, {"id": "x"}]}}"#,
            matches: true
        ),
        Case(
            name: "exists true on object field",
            pattern: #"{"db": {"key": [{"exists": true}]}}"#,
            event: #"{"db": {"key": {"S": "x"}}}"#,
            matches: false
        ),
        Case(
            name: "exists true below it",
            pattern: #"{"db": {"key": {"S": [{"exists": true}]}}}"#,
            event: #"{"db": {"key": {"S": "x"}}}"#,
            matches: true
        ),
        // Keys are dot-joined paths, on both sides.
        Case(
            name: "dotted event key",
            pattern: #"{"detail": {"state": {"status": ["running"]}}}"#,
            event: #"{"detail": {"state.status": "running"}}"#,
            matches: true
        ),
        Case(
            name: "dotted event key deeper",
            pattern: #"{"detail": {"state": {"status": ["running"]}}}"#,
            event: #"{"detail": {"state.status": {"status": "running"}}}"#,
            matches: false
        ),
        Case(
            name: "dotted pattern key",
            pattern: #"{"detail": {"state.status": ["running"]}}"#,
            event: #"{"detail": {"state": {"status": "running"}}}"#,
            matches: true
        ),
        Case(
            name: "dotted pattern key deeper",
            pattern: #"{"detail": {"state.status": {"status": ["running"]}}}"#,
            event: #"{"detail": {"state": {"status": "running"}}}"#,
            matches: false
        ),
        // Keys are case-sensitive; JSON inside a string is a string.
        Case(name: "key case", pattern: #"{"MY_KEY": ["v"]}"#, event: #"{"my_key": "v"}"#, matches: false),
        Case(
            name: "nested JSON string",
            pattern: #"{"detail": {"k": ["v"]}}"#,
            event: #"{"detail": "{\"k\": \"v\"}"}"#,
            matches: false
        ),
        // Several alternatives: any may match (exists together with other tests).
        Case(
            name: "alternatives with exists",
            pattern: #"{"k": [{"exists": true}, {"prefix": "IGNORED"}]}"#,
            event: #"{"k": "v"}"#,
            matches: true
        ),
        Case(
            name: "anything-but or missing",
            pattern: #"{"n": {"h": {"S": [{"anything-but": ["roses"]}, {"exists": false}]}}}"#,
            event: #"{"n": {"h": {"S": "ABCD"}}}"#,
            matches: true
        ),
        Case(
            name: "anything-but or missing, parent missing",
            pattern: #"{"n": {"h": {"S": [{"anything-but": ["roses"]}, {"exists": false}]}}}"#,
            event: #"{"n": {"p": {"N": "789"}}}"#,
            matches: true
        ),
        Case(
            name: "anything-but or missing, field missing",
            pattern: #"{"n": {"h": {"S": [{"anything-but": ["roses"]}, {"exists": false}]}}}"#,
            event: #"{"n": {"h": {"N": "789"}}}"#,
            matches: true
        ),
        Case(
            name: "numeric or anything-but string",
            pattern: #"{"f": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}}"#,
            event: #"{"f": {"N": "42"}}"#,
            matches: true
        ),
        Case(
            name: "numeric or anything-but string, excluded",
            pattern: #"{"f": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}}"#,
            event: #"{"f": {"N": "101"}}"#,
            matches: false
        ),
        // Prefix, suffix, case.
        Case(
            name: "empty prefix",
            pattern: #"{"source": [{"prefix": ""}]}"#,
            event: #"{"source": "anything"}"#,
            matches: true
        ),
        Case(
            name: "empty suffix",
            pattern: #"{"source": [{"suffix": ""}]}"#,
            event: #"{"source": "anything"}"#,
            matches: true
        ),
        Case(
            name: "suffix is case-sensitive",
            pattern: #"{"FileName": [{"suffix": ".PNG"}]}"#,
            event: #"{"FileName": "image.png"}"#,
            matches: false
        ),
        Case(
            name: "prefix ignoring case",
            pattern: #"{"d": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}"#,
            event: #"{"d": {"service": "EvEnTb"}}"#,
            matches: true
        ),
        Case(
            name: "suffix ignoring case",
            pattern: #"{"d": {"f": [{"suffix": {"equals-ignore-case": ".png"}}]}}"#,
            event: #"{"d": {"f": "image.PNG"}}"#,
            matches: true
        ),
        Case(
            name: "equals ignoring case in array",
            pattern: #"{"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}"#,
            event: #"{"detail-type": ["EC2 Instance State-change Notification"]}"#,
            matches: true
        ),
        Case(
            name: "equals ignoring case empty",
            pattern: #"{"d": {"v": [{"equals-ignore-case": ""}]}}"#,
            event: #"{"d": {"v": ""}}"#,
            matches: true
        ),
        Case(
            name: "equals ignoring case empty vs text",
            pattern: #"{"d": {"v": [{"equals-ignore-case": ""}]}}"#,
            event: #"{"d": {"v": "test"}}"#,
            matches: false
        ),
        // Wildcards.
        Case(
            name: "wildcard spans slashes",
            pattern: #"{"F": [{"wildcard": "/Users/*/doc.txt"}]}"#,
            event: #"{"F": "/Users/u/dir/dir/doc.txt"}"#,
            matches: true
        ),
        Case(
            name: "wildcard tail differs",
            pattern: #"{"F": [{"wildcard": "/Users/*/doc.txt"}]}"#,
            event: #"{"F": "/Users/u/dir/notdoc.txt"}"#,
            matches: false
        ),
        Case(
            name: "wildcard repeating",
            pattern: #"{"F": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]}"#,
            event: #"{"F": "/Users/u/dir/dir/dir/dir/dir/doc.txt"}"#,
            matches: true
        ),
        Case(
            name: "wildcard repeating differs",
            pattern: #"{"F": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]}"#,
            event: #"{"F": "/Users/u/dir/dir/dir/dir/other/doc.txt"}"#,
            matches: false
        ),
        Case(
            name: "wildcard arn",
            pattern: #"{"A": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}"#,
            event: #"{"A": "arn:aws:events:us-east-1:123456789012:event-bus/b"}"#,
            matches: true
        ),
        Case(name: "empty wildcard", pattern: #"{"A": [{"wildcard": ""}]}"#, event: #"{"A": "x"}"#, matches: false),
        Case(
            name: "wildcard escapes",
            pattern: #"{"d": {"star": [{"wildcard": "\\*"}], "slash": [{"wildcard": "\\\\"}]}}"#,
            event: #"{"d": {"star": "*", "slash": "\\"}}"#,
            matches: true
        ),
        // CIDR, IPv4 and IPv6; non-strings never match.
        Case(
            name: "cidr v4",
            pattern: #"{"d": {"ip": [{"cidr": "10.0.0.0/24"}]}}"#,
            event: #"{"d": {"ip": "10.0.0.255"}}"#,
            matches: true
        ),
        Case(
            name: "cidr v4 not an address",
            pattern: #"{"d": {"ip": [{"cidr": "10.0.0.0/24"}]}}"#,
            event: #"{"d": {"ip": "10.0.0.256"}}"#,
            matches: false
        ),
        Case(
            name: "cidr v4 number",
            pattern: #"{"d": {"ip": [{"cidr": "10.0.0.0/24"}]}}"#,
            event: #"{"d": {"ip": 123}}"#,
            matches: false
        ),
        Case(
            name: "cidr v6",
            pattern: #"{"d": {"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}}"#,
            event: #"{"d": {"ip": "2001:0db8:1234:1a00:0000:0000:0000:0000"}}"#,
            matches: true
        ),
        Case(
            name: "cidr v6 outside",
            pattern: #"{"d": {"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}}"#,
            event: #"{"d": {"ip": "2001:0db8:123f:1a01:0000:0000:0000:0000"}}"#,
            matches: false
        ),
        // $or.
        Case(
            name: "$or any",
            pattern:
                #"{"detail": {"$or": [{"c": [{"numeric": [">", 0, "<=", 5]}]}, {"d": [{"numeric": ["<", 10]}]}, {"x": [{"numeric": ["=", 301.8]}]}]}}"#,
            event: #"{"detail": {"c": 0, "d": 0, "x": 901.8}}"#,
            matches: true
        ),
        Case(
            name: "$or none",
            pattern:
                #"{"detail": {"$or": [{"c": [{"numeric": [">", 0, "<=", 5]}]}, {"d": [{"numeric": ["<", 10]}]}, {"x": [{"numeric": ["=", 301.8]}]}]}}"#,
            event: #"{"detail": {"c": 0, "d": 10, "x": 901.8}}"#,
            matches: false
        ),
        // A repeated key replaces the earlier one (AWS: prefix "us-" then anything-but "us-east"; eu-central-1 matches).
        Case(
            name: "duplicate key overrides",
            pattern: #"{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}"#,
            event: #"{"detail": {"location": "eu-central-1"}}"#,
            matches: true
        ),
        // Strings compare exactly, emoji and trailing spaces included.
        Case(
            name: "exact unicode",
            pattern: #"{"s": ["A CamelCase string with an emoji 🚀 and trailing whitespace "]}"#,
            event: #"{"s": "A CamelCase string with an emoji 🚀 and trailing whitespace "}"#,
            matches: true
        ),
    ]

    @Test(arguments: cases)
    func recordedVerdict(_ testCase: Case) throws {
        #expect(try matches(testCase.pattern, testCase.event) == testCase.matches)
    }
}
