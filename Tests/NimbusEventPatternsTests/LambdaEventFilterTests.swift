import Foundation
import NimbusCore
import Testing

@testable import NimbusEventPatterns

/// Lambda's FilterCriteria on SQS records, following "Filtering for Amazon SQS" (with-sqs-filtering) and the
/// body-format table of "Control which events Lambda sends to your function".
@Suite struct LambdaEventFilterTests {
    static func record(body: String, receiveCount: String = "1") -> JSONValue {
        [
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": .string(body),
            "attributes": [
                "ApproximateReceiveCount": .string(receiveCount), "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185",
            ],
            "messageAttributes": [:],
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:my-queue",
            "awsRegion": "us-west-2",
        ]
    }

    static func passes(_ record: JSONValue, _ patterns: String...) throws -> Bool {
        LambdaEventFilter.matches(record: record, patterns: try patterns.map { try EventPattern(json: $0) })
    }

    @Test func theDocumentedRequestCodeExample() throws {
        let filter = #"{ "body" : { "RequestCode" : [ "BBBB" ] } }"#
        let matching =
            "{\n \"RecordNumber\": 1234,\n \"TimeStamp\": \"yyyy-mm-ddThh:mm:ss\",\n \"RequestCode\": \"BBBB\"\n}"
        #expect(try Self.passes(Self.record(body: matching), filter))
        #expect(try !Self.passes(Self.record(body: matching.replacingOccurrences(of: "BBBB", with: "AAAA")), filter))
    }

    /// The operators EventBridge's table marks as unsupported by Pipes (and Lambda's table omits) are refused;
    /// everything else parses as for EventBridge.
    @Test func lambdaFlavourOfTheGrammar() throws {
        for json in [
            #"{"body": {"f": [{"wildcard": "*.png"}]}}"#,
            #"{"body": {"f": [{"anything-but": {"prefix": "a"}}]}}"#,
            #"{"body": {"f": [{"anything-but": {"suffix": "a"}}]}}"#,
            #"{"body": {"f": [{"anything-but": {"equals-ignore-case": "a"}}]}}"#,
            #"{"$or": [{"a": [1]}, {"body": {"f": [{"anything-but": {"wildcard": "a*"}}]}}]}"#,
        ] {
            #expect(throws: EventPatternError.self, "\(json)") { try LambdaEventFilter.pattern(json) }
        }
        for json in [
            #"{"body": {"f": [{"suffix": {"equals-ignore-case": ".png"}}], "g": [{"anything-but": ["a", "b"]}]}}"#,
            #"{"body": {"n": [{"numeric": [">", 1]}], "ip": [{"cidr": "10.0.0.0/8"}]}, "$or": [{"a": [1]}, {"b": [2]}]}"#,
        ] {
            _ = try LambdaEventFilter.pattern(json)
        }
        #expect(throws: EventPatternError.self) { try LambdaEventFilter.pattern(#"{"body": "x"}"#) }
    }

    @Test func noFiltersPassEverything() {
        #expect(LambdaEventFilter.matches(record: Self.record(body: "x"), patterns: []))
    }

    @Test func anyFilterPasses() throws {
        let record = Self.record(body: #"{"kind": "b"}"#)
        #expect(try Self.passes(record, #"{"body": {"kind": ["a"]}}"#, #"{"body": {"kind": ["b"]}}"#))
        #expect(try !Self.passes(record, #"{"body": {"kind": ["a"]}}"#, #"{"body": {"kind": ["c"]}}"#))
    }

    // The six rows of the body-format table.

    @Test func plainBodyPlainFilter() throws {
        #expect(try Self.passes(Self.record(body: "plain-string"), #"{"body": ["plain-string"]}"#))
        #expect(try !Self.passes(Self.record(body: "other-string"), #"{"body": ["plain-string"]}"#))
        #expect(try Self.passes(Self.record(body: "plain-string"), #"{"body": [{"prefix": "plain"}]}"#))
    }

    @Test func plainBodyMetadataFilter() throws {
        #expect(
            try Self.passes(Self.record(body: "plain-string"), #"{"attributes": {"ApproximateReceiveCount": ["1"]}}"#)
        )
        #expect(
            try !Self.passes(
                Self.record(body: "plain-string", receiveCount: "2"),
                #"{"attributes": {"ApproximateReceiveCount": ["1"]}}"#
            )
        )
    }

    @Test func plainBodyJSONFilterIsDropped() throws {
        #expect(try !Self.passes(Self.record(body: "plain-string"), #"{"body": {"k": ["v"]}}"#))
        // Even a filter that a missing field would satisfy.
        #expect(try !Self.passes(Self.record(body: "plain-string"), #"{"body": {"k": [{"exists": false}]}}"#))
    }

    @Test func jsonBodyPlainFilterIsDropped() throws {
        #expect(try !Self.passes(Self.record(body: #"{"k": "v"}"#), #"{"body": [{"prefix": "{"}]}"#))
        #expect(try !Self.passes(Self.record(body: #"{"k": "v"}"#), #"{"body": [{"exists": false}]}"#))
    }

    @Test func jsonBodyMetadataFilter() throws {
        #expect(try Self.passes(Self.record(body: #"{"k": "v"}"#), #"{"eventSource": ["aws:sqs"]}"#))
    }

    @Test func jsonBodyJSONFilter() throws {
        let record = Self.record(body: #"{"order": {"total": 42, "items": [{"sku": "a"}, {"sku": "b"}]}}"#)
        #expect(
            try Self.passes(
                record,
                #"{"body": {"order": {"total": [{"numeric": [">", 40]}], "items": {"sku": ["b"]}}}}"#
            )
        )
        #expect(try !Self.passes(record, #"{"body": {"order": {"total": [{"numeric": [">", 50]}]}}}"#))
    }

    /// Only a JSON object is a JSON body; other JSON (a number, an array, a quoted string) is matched as text.
    @Test func nonObjectJSONBodiesAreStrings() throws {
        #expect(try Self.passes(Self.record(body: "42"), #"{"body": ["42"]}"#))
        #expect(try Self.passes(Self.record(body: "[1, 2]"), #"{"body": [{"prefix": "["}]}"#))
        #expect(try !Self.passes(Self.record(body: "[1, 2]"), #"{"body": {"k": [{"exists": false}]}}"#))
        #expect(try Self.passes(Self.record(body: "{not json"), #"{"body": [{"prefix": "{"}]}"#))
    }

    /// A record whose body the caller already parsed into an object is treated as a JSON body.
    @Test func preParsedBodies() throws {
        guard case .object(var fields) = Self.record(body: "") else { return }
        fields["body"] = ["RequestCode": "BBBB"]
        let record = JSONValue.object(fields)
        #expect(try Self.passes(record, #"{"body": {"RequestCode": ["BBBB"]}}"#))
        #expect(try !Self.passes(record, #"{"body": [{"exists": false}]}"#))
    }

    /// A pattern whose $or alternatives use both forms is applied as written.
    @Test func mixedFormsFollowThePattern() throws {
        let pattern = #"{"$or": [{"body": ["ping"]}, {"body": {"type": ["ping"]}}]}"#
        #expect(try Self.passes(Self.record(body: "ping"), pattern))
        #expect(try Self.passes(Self.record(body: #"{"type": "ping"}"#), pattern))
        #expect(try !Self.passes(Self.record(body: "pong"), pattern))
    }

    @Test func bodyAndMetadataTogether() throws {
        let pattern = #"{"eventSourceARN": [{"suffix": ":my-queue"}], "body": {"RequestCode": ["AAAA"]}}"#
        #expect(try Self.passes(Self.record(body: #"{"RequestCode": "AAAA"}"#), pattern))
        #expect(try !Self.passes(Self.record(body: #"{"RequestCode": "BBBB"}"#), pattern))
    }
}
