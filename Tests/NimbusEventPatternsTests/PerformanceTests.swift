import Foundation
import NimbusCore
import Testing

@testable import NimbusEventPatterns

/// Matching is on the path of every queue record and every event: these measure it (printed, for the record) and
/// hold generous bounds that only a regression by an order of magnitude would cross. Release builds (measured: about
/// 1 µs per match, 1.5 µs per SQS record including its body's parse, 20 µs per compile) get tight bounds; debug
/// builds, 20-30 times slower and sharing the machine with the other tests, only loose ones.
@Suite struct PerformanceTests {
    #if DEBUG
    static let slack = 50.0
    static let iterations = 1_000
    #else
    static let slack = 1.0
    static let iterations = 20_000
    #endif

    static let ec2Event: JSONValue = [
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "account": "111122223333",
        "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": [
            "instance-id": "i-1234567890abcdef0", "state": "terminated", "c-count": 5,
            "tags": [["key": "team", "value": "payments"], ["key": "env", "value": "prod"]],
        ],
    ]

    static func nanoseconds(_ iterations: Int, _ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        for _ in 0..<iterations { body() }
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        return (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(iterations)
    }

    @Test func matchingAnEvent() throws {
        let pattern = try EventPattern(
            json: #"""
                {"source": ["aws.ec2"], "detail-type": [{"prefix": "EC2 Instance"}],
                 "detail": {"state": [{"anything-but": ["pending", "running"]}], "c-count": [{"numeric": [">", 0]}],
                            "tags": {"key": ["env"], "value": [{"wildcard": "pro*"}]}}}
                """#
        )
        #expect(pattern.matches(Self.ec2Event))
        var count = 0
        let perMatch = Self.nanoseconds(Self.iterations) { if pattern.matches(Self.ec2Event) { count += 1 } }
        print("EventPattern.matches (EC2 event, 5 fields, array of objects): \(Int(perMatch)) ns")
        #expect(count == Self.iterations)
        #expect(perMatch < 20_000 * Self.slack)
    }

    @Test func filteringAnSQSRecord() throws {
        let patterns = [
            try EventPattern(json: #"{"body": {"RequestCode": ["BBBB"], "RecordNumber": [{"numeric": [">", 1000]}]}}"#)
        ]
        let body =
            #"{"RecordNumber": 1234, "TimeStamp": "yyyy-mm-ddThh:mm:ss", "RequestCode": "BBBB", "Items": [1, 2, 3]}"#
        let record: JSONValue = [
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "body": .string(body), "attributes": ["ApproximateReceiveCount": "1"], "messageAttributes": [:],
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:my-queue", "awsRegion": "us-west-2",
        ]
        #expect(LambdaEventFilter.matches(record: record, patterns: patterns))
        let perRecord = Self.nanoseconds(Self.iterations) {
            _ = LambdaEventFilter.matches(record: record, patterns: patterns)
        }
        let perParse = Self.nanoseconds(Self.iterations) { _ = EventJSON.parse(body) }
        let perDecoder = Self.nanoseconds(Self.iterations / 20) { _ = JSONValue.parse(Array(body.utf8)) }
        print("LambdaEventFilter.matches (SQS record, JSON body parsed): \(Int(perRecord)) ns")
        print(
            "EventJSON.parse (100-byte body): \(Int(perParse)) ns; JSONDecoder-based JSONValue.parse: \(Int(perDecoder)) ns"
        )
        #expect(perRecord < 20_000 * Self.slack)
    }

    @Test func compilingAPattern() throws {
        let json = #"""
            {"source": ["aws.ec2"], "$or": [{"detail": {"state": ["stopped"]}}, {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}],
             "detail": {"instance-id": [{"wildcard": "i-*"}], "ip": [{"cidr": "10.0.0.0/8"}]}}
            """#
        let perCompile = Self.nanoseconds(Self.iterations / 10) { _ = try? EventPattern(json: json) }
        print("EventPattern(json:) (2 alternatives, wildcard, cidr): \(Int(perCompile)) ns")
        #expect(perCompile < 500_000 * Self.slack)
    }
}
