import Testing

@testable import NimbusEventPatterns

/// Refusals whose wording and location AWS returned for these exact patterns (TestEventPattern's
/// InvalidEventPatternException, recorded against real EventBridge in localstack's AWS-validated snapshot
/// `tests/aws/services/events/test_events_patterns.snapshot.json`, and in the GitHub issues cited).
@Suite struct RecordedRefusalTests {
    @Test(arguments: [
        (#"{"int": 42}"#, #""int" must be an object or an array"#, 11),
        (#"{"string": "my-value"}"#, #""string" must be an object or an array"#, 13),
        (#"{"resources": []}"#, "Empty arrays are not allowed", 17),
        (#"{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}"#, "Unrecognized match type NUMERIC", 36),
        (#"{"my_key": [{"EXISTS": true}]}"#, "Unrecognized match type EXISTS", 28),
        (#"{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}"#, "Bad numeric range operator: >", 49),
        (#"{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}"#, "Value of < must be numeric", 50),
        (#"{"detail": {"c-count": [{"numeric": 10}]}}"#, "Value of numeric must be an array.", 39),
        (
            #"{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}"#,
            "Consecutive wildcard characters at pos 26", 72
        ),
        (
            #"{"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]}"#,
            "equals-ignore-case match pattern must be a string", 42
        ),
        (
            #"{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}"#,
            "equals-ignore-case match pattern must be a string", 42
        ),
        (
            #"{"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}}"#,
            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.", 66
        ),
        (#"{"EventBusArn": [{"wildcard": 123}]}"#, "wildcard match pattern must be a string", 34),
        (
            #"{"EventBusArn": [{"wildcard": ["arn:aws:events:us-east-1:**:event-bus/*"]}]}"#,
            "wildcard match pattern must be a string", 32
        ),
        (
            #"{"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}}"#,
            "wildcard match pattern must be a string", 59
        ),
        (
            #"{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}"#,
            "prefix/suffix match pattern must be a string", 57
        ),
        (
            #"{"detail": {"state": [{"anything-but": {"prefix": 123}}]}}"#,
            "prefix/suffix match pattern must be a string", 54
        ),
        (#"{"time": [{"prefix": ["2022-07-13"]}]}"#, "prefix match pattern must be a string", 23),
        (#"{"time": [{"prefix": 123}]}"#, "prefix match pattern must be a string", 25),
        (#"{"FileName": [{"suffix": 123}]}"#, "suffix match pattern must be a string", 29),
        (#"{"FileName": [{"suffix": [".png"]}]}"#, "suffix match pattern must be a string", 27),
        (
            #"{"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}}"#,
            "Value of anything-but must be an array or single string/number value.", 55
        ),
        (
            #"{"detail": {"FileName": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]}}"#,
            "Value of anything-but must be an array or single string/number value.", 55
        ),
        (
            #"{"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}"#,
            "prefix match pattern must be a string", 43
        ),
        (#"{"detail": {"FileName": [{"anything-but": {"prefix": ""}}]}}"#, "Null prefix/suffix not allowed", 56),
        (#"{"detail": {"FileName": [{"anything-but": {"suffix": ""}}]}}"#, "Null prefix/suffix not allowed", 56),
        (
            #"{"detail": {"state": [{"anything-but": null}]}}"#,
            "Value of anything-but must be an array or single string/number value.", 44
        ),
        (#"["not", "a", "dict", "but valid json"]"#, "Filter is not an object", 2),
        (
            #"this is valid json but not a dict"#,
            "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
            5
        ),
        (
            #"{'bad': 'quotation'}"#,
            "Unexpected character (''' (code 39)): was expecting double-quote to start field name", 2
        ),
        (
            #"{"not": closed mark""#,
            "Unrecognized token 'closed': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
            15
        ),
        (#"{"source": ["aws.health"], "detail": {}}"#, "Empty objects are not allowed", 40),
    ])
    func refusedWithAWSReasonAndLocation(pattern: String, reason: String, column: Int) {
        #expect(refusal(pattern) == reason + at(pattern, column: column))
    }

    /// Failures inside an anything-but list carry the location twice, as AWS's messages do.
    @Test(arguments: [
        (
            #"{"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}}"#,
            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.", 67
        ),
        (
            #"{"detail": {"state": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}}"#,
            "wildcard match pattern must be a string", 57
        ),
        (
            #"{"detail": {"FileName": [{"anything-but": {"suffix": [123, ".txt"]}}]}}"#,
            "prefix/suffix match pattern must be a string", 58
        ),
        (
            #"{"detail": {"state": [{"anything-but": {"prefix": [123, "test"]}}]}}"#,
            "prefix/suffix match pattern must be a string", 55
        ),
        (
            #"{"detail": {"state": [{"anything-but": ["stopped", null]}]}}"#,
            "Inside anything but list, start|null|boolean is not supported.", 56
        ),
        (
            #"{"detail": {"FileName": [{"anything-but": {"suffix": [null, ".txt"]}}]}}"#,
            "prefix/suffix match pattern must be a string", 59
        ),
    ])
    func listFailuresRepeatTheLocation(pattern: String, reason: String, column: Int) {
        let location = at(pattern, column: column)
        #expect(refusal(pattern) == reason + location + location)
    }

    /// CIDR and complexity failures come from outside the JSON reader: no location.
    @Test(arguments: [
        (#"{"detail": {"sourceIPAddress": [{"cidr": "bad-filter"}]}}"#, "Malformed CIDR, one '/' required"),
        (
            #"{"detail": {"sourceIPAddress": [{"cidr": "bad-/64filter"}]}}"#,
            "Malformed CIDR, mask bits must be an integer"
        ),
        (#"{"detail": {"sourceIPAddress": [{"cidr": "xx.11.xx/8"}]}}"#, "Nonstandard IP address: xx.11.xx"),
        (
            #"{"detail": {"sourceIPAddress": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}}"#,
            "Nonstandard IP address: xxxx:db8:1234:1a00::"
        ),
        (
            #"{"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}"#,
            "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"
        ),
    ])
    func refusedWithoutLocation(pattern: String, reason: String) {
        #expect(refusal(pattern) == reason)
    }

    /// From GitHub issues quoting AWS (buildkite/docs#896, a multi-line pattern; cloud-custodian#6507).
    @Test func multiLineLocation() {
        let pattern = """
            {
              "detail-type": [ "Build Started", "Build Finished" ],
              "detail": {
                "pipeline": {
                  "slug": "some-pipeline"
                }
              }
            }
            """
        #expect(refusal(pattern) == #""slug" must be an object or an array"# + at(pattern, line: 5, column: 16))
    }

    @Test func messagesAreWrappedAsEventBridgeAndLambdaWordThem() throws {
        do {
            _ = try EventPattern(json: #"{"source": "aws.ec2"}"#)
            Issue.record("accepted an invalid pattern")
        } catch {
            #expect(error.code == .invalid)
            #expect(
                error.message.hasPrefix("Event pattern is not valid. Reason: \"source\" must be an object or an array")
            )
            #expect(EventPatternError.lambdaMessage == "Invalid filter pattern definition.")
        }
    }
}
