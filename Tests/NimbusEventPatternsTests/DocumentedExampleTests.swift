import Foundation
import NimbusCore
import Testing

@testable import NimbusEventPatterns

/// The examples of AWS's "Content filtering in Amazon EventBridge event patterns", "Comparison operators for use in
/// event patterns", "Creating Amazon EventBridge event patterns", "Arrays in event patterns" and "Matching events
/// on event field values" pages, and of Lambda's "Control which events Lambda sends to your function", each with an
/// event the page says it matches and one it does not.
@Suite struct DocumentedExampleTests {
    static let ec2Event = #"""
        {
          "version": "0",
          "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
          "detail-type": "EC2 Instance State-change Notification",
          "source": "aws.ec2",
          "account": "111122223333",
          "time": "2017-12-22T18:43:48Z",
          "region": "us-west-1",
          "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
          "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
        }
        """#

    @Test func creatingEventPatternsSelectsTerminatedInstances() throws {
        let pattern = #"""
            {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
             "detail": {"state": ["terminated"]}}
            """#
        #expect(try matches(pattern, Self.ec2Event))
        #expect(try !matches(pattern, Self.ec2Event.replacingOccurrences(of: "terminated", with: "running")))
    }

    // MARK: Content filtering

    @Test func prefixMatching() throws {
        let pattern = #"{"time": [{"prefix": "2017-10-02"}]}"#
        #expect(try matches(pattern, #"{"time": "2017-10-02T18:43:48Z"}"#))
        #expect(try !matches(pattern, #"{"time": "2017-10-03T18:43:48Z"}"#))
    }

    @Test func prefixMatchingIgnoringCase() throws {
        let pattern = #"{"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}"#
        for service in ["EventBridge", "EVENTBRIDGE", "eventbus"] {
            #expect(try matches(pattern, #"{"detail": {"service": "\#(service)"}}"#))
        }
        #expect(try !matches(pattern, #"{"detail": {"service": "Event"}}"#))
    }

    @Test func suffixMatching() throws {
        let pattern = #"{"FileName": [{"suffix": ".png"}]}"#
        #expect(try matches(pattern, #"{"FileName": "image.png"}"#))
        #expect(try !matches(pattern, #"{"FileName": "image.jpg"}"#))
    }

    @Test func suffixMatchingIgnoringCase() throws {
        let pattern = #"{"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}"#
        #expect(try matches(pattern, #"{"detail": {"FileName": "image.png"}}"#))
        #expect(try matches(pattern, #"{"detail": {"FileName": "image.PNG"}}"#))
        #expect(try !matches(pattern, #"{"detail": {"FileName": "image.png.bak"}}"#))
    }

    @Test func anythingButMatching() throws {
        #expect(
            try matches(
                #"{"detail": {"state": [{"anything-but": "initializing"}]}}"#,
                #"{"detail": {"state": "running"}}"#
            )
        )
        #expect(
            try !matches(
                #"{"detail": {"state": [{"anything-but": "initializing"}]}}"#,
                #"{"detail": {"state": "initializing"}}"#
            )
        )
        #expect(try matches(#"{"detail": {"x-limit": [{"anything-but": 123}]}}"#, #"{"detail": {"x-limit": 301.8}}"#))
        #expect(try !matches(#"{"detail": {"x-limit": [{"anything-but": 123}]}}"#, #"{"detail": {"x-limit": 123}}"#))
        let strings = #"{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}"#
        #expect(try matches(strings, #"{"detail": {"state": "running"}}"#))
        #expect(try !matches(strings, #"{"detail": {"state": "overloaded"}}"#))
        let numbers = #"{"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}"#
        #expect(try matches(numbers, #"{"detail": {"x-limit": 301.8}}"#))
        #expect(try !matches(numbers, #"{"detail": {"x-limit": 200}}"#))
        let prefix = #"{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}"#
        #expect(try matches(prefix, #"{"detail": {"state": "running"}}"#))
        #expect(try !matches(prefix, #"{"detail": {"state": "initializing"}}"#))
        let prefixes = #"{"detail": {"state": [{"anything-but": {"prefix": ["init", "error"]}}]}}"#
        #expect(try !matches(prefixes, #"{"detail": {"state": "error-42"}}"#))
        let suffix = #"{"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}}"#
        #expect(try matches(suffix, #"{"detail": {"FileName": "notes.md"}}"#))
        #expect(try !matches(suffix, #"{"detail": {"FileName": "notes.txt"}}"#))
        let suffixes = #"{"detail": {"instance-id": [{"anything-but": {"suffix": ["1234", "6789"]}}]}}"#
        #expect(try !matches(suffixes, #"{"detail": {"instance-id": "i-6789"}}"#))
        let ignoringCase =
            #"{"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}}"#
        #expect(try matches(ignoringCase, #"{"detail": {"state": "running"}}"#))
        #expect(try !matches(ignoringCase, #"{"detail": {"state": "STOPPED"}}"#))
        let wildcard = #"{"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}"#
        #expect(try matches(wildcard, #"{"detail": {"FilePath": "/usr/bin/tool"}}"#))
        #expect(try !matches(wildcard, #"{"detail": {"FilePath": "/usr/lib/libc.so"}}"#))
        let wildcards = #"{"detail": {"state": [{"anything-but": {"wildcard": ["*/bin/*.jar", "*/bin/*.class"]}}]}}"#
        #expect(try !matches(wildcards, #"{"detail": {"state": "/opt/bin/app.class"}}"#))
        #expect(try matches(wildcards, #"{"detail": {"state": "/opt/lib/app.class"}}"#))
        // "all events except those from AWS services"
        let notAWS = #"{"source": [{"anything-but": {"prefix": "aws."}}]}"#
        #expect(try matches(notAWS, #"{"source": "com.example.orders"}"#))
        #expect(try !matches(notAWS, #"{"source": "aws.ec2"}"#))
    }

    @Test func numericMatching() throws {
        let pattern = #"""
            {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}],
                        "x-limit": [{"numeric": ["=", 3.018e2]}]}}
            """#
        #expect(try matches(pattern, #"{"detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8}}"#))
        #expect(try !matches(pattern, #"{"detail": {"c-count": 0, "d-count": 3, "x-limit": 301.8}}"#))
        #expect(try !matches(pattern, #"{"detail": {"c-count": 5, "d-count": 10, "x-limit": 301.8}}"#))
        #expect(try !matches(pattern, #"{"detail": {"c-count": 5, "d-count": 3, "x-limit": 301.9}}"#))
    }

    @Test func ipAddressMatching() throws {
        let v4 = #"{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}"#
        #expect(try matches(v4, #"{"detail": {"sourceIPAddress": "10.0.0.24"}}"#))
        #expect(try !matches(v4, #"{"detail": {"sourceIPAddress": "10.0.1.24"}}"#))
        let v6 = #"{"detail": {"sourceIPAddress": [{"cidr": "2001:db8::/64"}]}}"#
        #expect(try matches(v6, #"{"detail": {"sourceIPAddress": "2001:db8::1"}}"#))
        #expect(try !matches(v6, #"{"detail": {"sourceIPAddress": "2001:db8:0:1::1"}}"#))
    }

    @Test func existsMatching() throws {
        let absent = #"{"detail": {"c-count": [{"exists": false}]}}"#
        // Both of the page's example events match: c-count is missing, or not a leaf.
        #expect(try matches(absent, #"{"detail-type": ["EC2"], "detail": {"state": ["initializing", "running"]}}"#))
        #expect(
            try matches(absent, #"{"detail-type": ["EC2"], "detail": {"state": ["running"], "c-count": {"c1": 100}}}"#)
        )
        #expect(try !matches(absent, #"{"detail": {"c-count": 5}}"#))
        let present = #"{"detail": {"c-count": [{"exists": true}]}}"#
        #expect(try matches(present, #"{"detail": {"c-count": 5}}"#))
        #expect(try !matches(present, #"{"detail": {"state": "running"}}"#))
    }

    @Test func equalsIgnoreCaseMatching() throws {
        let pattern = #"{"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}"#
        #expect(try matches(pattern, #"{"detail-type": "EC2 Instance State-change Notification"}"#))
        #expect(try !matches(pattern, #"{"detail-type": "EC2 Instance Launch"}"#))
    }

    @Test func wildcardMatching() throws {
        let pattern = #"{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}"#
        #expect(try matches(pattern, #"{"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/orders"}"#))
        #expect(try !matches(pattern, #"{"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/orders"}"#))
        let file = #"{"FileName": [{"wildcard": "dir/*.png"}]}"#
        #expect(try matches(file, #"{"FileName": "dir/a/b.png"}"#))
        #expect(try !matches(file, #"{"FileName": "other/b.png"}"#))
        // \* is a literal star, \\ a literal backslash.
        #expect(try matches(#"{"k": [{"wildcard": "a\\*b"}]}"#, #"{"k": "a*b"}"#))
        #expect(try !matches(#"{"k": [{"wildcard": "a\\*b"}]}"#, #"{"k": "axb"}"#))
        #expect(try matches(#"{"k": [{"wildcard": "a\\\\*"}]}"#, #"{"k": "a\\tail"}"#))
    }

    @Test func complexExampleWithMultipleMatching() throws {
        let pattern = #"""
            {"time": [{"prefix": "2017-10-02"}],
             "detail": {"state": [{"anything-but": "initializing"}], "c-count": [{"numeric": [">", 0, "<=", 5]}],
                        "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"anything-but": [100, 200, 300]}]}}
            """#
        let event = #"""
            {"time": "2017-10-02T16:24:49Z",
             "detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33", "state": "running"}}
            """#
        #expect(try matches(pattern, event))
        #expect(try !matches(pattern, event.replacingOccurrences(of: "running", with: "initializing")))
    }

    @Test func aRepeatedKeyKeepsOnlyTheLastDefinition() throws {
        let pattern = #"{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}"#
        #expect(try matches(pattern, #"{"detail": {"location": "eu-central-1"}}"#))
        #expect(try !matches(pattern, #"{"detail": {"location": "us-east"}}"#))
    }

    @Test func orMatching() throws {
        // "Effect of source && (metricName || namespace)"
        let normal = #"""
            {"source": ["aws.cloudwatch"],
             "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}]}
            """#
        #expect(try matches(normal, #"{"source": "aws.cloudwatch", "namespace": "AWS/ES"}"#))
        #expect(try matches(normal, #"{"source": "aws.cloudwatch", "metricName": "ReadLatency"}"#))
        #expect(try !matches(normal, #"{"source": "aws.cloudwatch", "metricName": "Other"}"#))
        #expect(try !matches(normal, #"{"source": "aws.ec2", "namespace": "AWS/ES"}"#))
        // Parallel $or: (metricName || namespace) && (detail.source || detail.detail-type)
        let parallel = #"""
            {"$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
             "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["CloudWatch Alarm State Change"]}]}}
            """#
        #expect(
            try matches(
                parallel,
                #"{"namespace": "AWS/EC2", "detail": {"detail-type": "CloudWatch Alarm State Change"}}"#
            )
        )
        #expect(try !matches(parallel, #"{"namespace": "AWS/EC2", "detail": {"source": "aws.ec2"}}"#))
        // Nested $or and And: source && (metricName || (metricType && namespace && (metricId || spaceId)) || scope)
        let nested = #"""
            {"source": ["aws.cloudwatch"],
             "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]},
                     {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"],
                      "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]},
                     {"scope": ["Service"]}]}
            """#
        #expect(
            try matches(
                nested,
                #"{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/ES", "spaceId": 1000}"#
            )
        )
        #expect(
            try !matches(
                nested,
                #"{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/ES", "spaceId": 1001}"#
            )
        )
        #expect(try matches(nested, #"{"source": "aws.cloudwatch", "scope": "Service"}"#))
        // The User Notifications sample.
        let states = #"{"detail": {"$or": [{"state": ["running"]}, {"state": ["terminated"]}]}}"#
        #expect(try matches(states, Self.ec2Event))
    }

    // MARK: Comparison operators table

    @Test(arguments: [
        (
            #"{"Location": ["New York"], "Day": ["Monday"]}"#, #"{"Location": "New York", "Day": "Monday"}"#,
            #"{"Location": "New York", "Day": "Tuesday"}"#
        ),
        (#"{"state": [{"anything-but": "initializing"}]}"#, #"{"state": "running"}"#, #"{"state": "initializing"}"#),
        (
            #"{"Region": [{"anything-but": {"prefix": "us-"}}]}"#, #"{"Region": "eu-west-1"}"#,
            #"{"Region": "us-east-1"}"#
        ),
        (
            #"{"FileName": [{"anything-but": {"suffix": ".png"}}]}"#, #"{"FileName": "a.jpg"}"#,
            #"{"FileName": "a.png"}"#
        ),
        (
            #"{"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}"#, #"{"state": "running"}"#,
            #"{"state": "INITIALIZING"}"#
        ),
        (
            #"{"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}"#, #"{"FilePath": "/bin/sh"}"#,
            #"{"FilePath": "/usr/lib/x"}"#
        ),
        (#"{"Region": [{"prefix": "us-"}]}"#, #"{"Region": "us-east-1"}"#, #"{"Region": "eu-west-1"}"#),
        (
            #"{"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}"#, #"{"service": "EventBridge"}"#,
            #"{"service": "Lambda"}"#
        ),
        (#"{"LastName": [""]}"#, #"{"LastName": ""}"#, #"{"LastName": "Doe"}"#),
        (#"{"Name": ["Alice"]}"#, #"{"Name": "Alice"}"#, #"{"Name": "alice"}"#),
        (#"{"Name": [{"equals-ignore-case": "alice"}]}"#, #"{"Name": "Alice"}"#, #"{"Name": "Bob"}"#),
        (#"{"FileName": [{"suffix": ".png"}]}"#, #"{"FileName": "a.png"}"#, #"{"FileName": "a.PNG"}"#),
        (
            #"{"service": [{"suffix": {"equals-ignore-case": "tBridge"}}]}"#, #"{"service": "EVENTBRIDGE"}"#,
            #"{"service": "Lambda"}"#
        ),
        (#"{"ProductName": [{"exists": true}]}"#, #"{"ProductName": "x"}"#, #"{"Other": "x"}"#),
        (#"{"ProductName": [{"exists": false}]}"#, #"{"Other": "x"}"#, #"{"ProductName": "x"}"#),
        (#"{"Weather": [{"anything-but": ["Raining"]}]}"#, #"{"Weather": "Sunny"}"#, #"{"Weather": "Raining"}"#),
        (#"{"UserID": [null]}"#, #"{"UserID": null}"#, #"{"UserID": "u1"}"#),
        (#"{"Price": [{"numeric": ["=", 100]}]}"#, #"{"Price": 100}"#, #"{"Price": 101}"#),
        (#"{"Price": [{"numeric": [">", 10, "<=", 20]}]}"#, #"{"Price": 20}"#, #"{"Price": 10}"#),
        (#"{"PaymentType": ["Credit", "Debit"]}"#, #"{"PaymentType": "Debit"}"#, #"{"PaymentType": "Cash"}"#),
        (
            #"{"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}"#, #"{"Location": "Paris", "Day": "Monday"}"#,
            #"{"Location": "Paris", "Day": "Sunday"}"#
        ),
        (#"{"FileName": [{"wildcard": "dir/*.png"}]}"#, #"{"FileName": "dir/x.png"}"#, #"{"FileName": "dir/x.jpg"}"#),
    ])
    func comparisonOperator(pattern: String, matching: String, notMatching: String) throws {
        #expect(try matches(pattern, matching))
        #expect(try !matches(pattern, notMatching))
    }

    // MARK: Arrays, null and empty values

    @Test func arraysMatchWhenTheyIntersect() throws {
        let pattern =
            #"{"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}"#
        let event = #"""
            {"resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate",
                           "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}
            """#
        #expect(try matches(pattern, event))
        #expect(try !matches(pattern, #"{"resources": ["arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}"#))
    }

    /// Ruler's documented array consistency: fields under an array of objects match within one element.
    @Test func arraysOfObjectsMatchWithinOneElement() throws {
        let event = #"""
            {"employees": [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"},
                           {"firstName": "Peter", "lastName": "Jones"}]}
            """#
        #expect(try matches(#"{"employees": {"firstName": ["Anna"]}}"#, event))
        #expect(try matches(#"{"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}"#, event))
        #expect(try !matches(#"{"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}"#, event))
        let nested = #"""
            {"employees": [[{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
                           [{"firstName": "Peter", "lastName": "Jones"}]]}
            """#
        #expect(try matches(#"{"employees": {"firstName": ["Peter"]}}"#, nested))
        #expect(try !matches(#"{"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}"#, nested))
    }

    @Test func nullAndEmptyValues() throws {
        let event = #"""
            {"version": "0", "id": "3e3c153a-8339-4e30-8c35-687ebef853fe", "detail-type": "EC2 Instance Launch Successful",
             "source": "aws.autoscaling", "account": "123456789012", "time": "2015-11-11T21:31:47Z",
             "region": "us-east-1", "resources": [], "detail": {"eventVersion": "", "responseElements": null}}
            """#
        #expect(try matches(#"{"source": ["aws.autoscaling"], "detail": {"responseElements": [null]}}"#, event))
        #expect(try matches(#"{"detail": {"eventVersion": [""]}}"#, event))
        #expect(try !matches(#"{"detail": {"eventVersion": [null]}}"#, event))
        #expect(try !matches(#"{"detail": {"responseElements": [""]}}"#, event))
    }

    // MARK: Lambda event filtering

    @Test func lambdaFilterRuleSyntaxExamples() throws {
        let kinesis = #"""
            {"partitionKey": "1", "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
             "data": {"City": "Seattle", "State": "WA", "Temperature": 46, "Month": "December", "Location": "Los Angeles"}}
            """#
        #expect(try matches(#"{"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}"#, kinesis))
        #expect(try !matches(#"{"partitionKey": ["2"], "data": {"Location": ["Los Angeles"]}}"#, kinesis))
        #expect(try matches(#"{"data": {"Temperature": [{"numeric": [">", 40, "<=", 60]}]}}"#, kinesis))
        #expect(try !matches(#"{"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}"#, kinesis))
        let dynamodb = #"""
            {"dynamodb": {"Keys": {"Id": {"N": "101"}}, "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
                          "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
            """#
        #expect(try matches(#"{"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}"#, dynamodb))
        #expect(try !matches(#"{"dynamodb": {"Keys": {"Id": {"N": ["102"]}}}}"#, dynamodb))
        // The console example: field a equal to 1 or 2.
        #expect(try matches(#"{ "a" : [ 1, 2 ] }"#, #"{"a": 2}"#))
        #expect(try !matches(#"{ "a" : [ 1, 2 ] }"#, #"{"a": 3}"#))
    }
}
