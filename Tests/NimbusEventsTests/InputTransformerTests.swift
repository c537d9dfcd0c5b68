import NimbusCore
import Testing

@testable import NimbusEvents

/// Target input: Input, InputPath and InputTransformer, with the examples of AWS's documentation
/// ("Amazon EventBridge input transformation") and what EventBridge answered in recorded tests.
@Suite struct InputTransformerTests {
    static let namespace = AccountContext(region: "us-east-1", accountID: "123456789012")

    /// AWS's example EC2 event.
    static let event = Event(
        id: "7bf73129-1428-4cd3-a780-95db273d1602",
        detailType: "EC2 Instance State-change Notification",
        source: "aws.ec2",
        namespace: namespace,
        timeMillis: 1_447_277_394_000,
        resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
        detail: #"{"instance-id":"i-0123456789","state":"RUNNING"}"#,
        ingestionMillis: 1_447_277_395_000
    )

    static let rule = RuleState(
        namespace: namespace,
        bus: "default",
        name: "example",
        definition: RuleDefinition(state: "ENABLED", createdBy: "123456789012"),
        createdMillis: 0
    )

    static let paths = ["timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"]

    func render(_ template: String, paths: [String: String] = Self.paths, event: Event = Self.event) -> String? {
        let target = TargetDefinition(
            id: "t",
            arn: "arn:aws:lambda:us-east-1:123456789012:function:f",
            transformer: .init(pathsMap: paths, template: template)
        )
        return TargetInput.render(target, event: event, rule: Self.rule)
    }

    @Test func documentedExamples() {
        #expect(render(#""instance <instance> is in <state>""#) == #""instance i-0123456789 is in RUNNING""#)
        #expect(
            render(#""instance \"<instance>\" is in <state>""#) == #""instance \"i-0123456789\" is in RUNNING""#
        )
        #expect(
            render(#"{"instance" : <instance>, "state": <state>}"#)
                == #"{"instance" : "i-0123456789", "state": "RUNNING"}"#
        )
        #expect(
            render(
                #"{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"}"#
            )
                == #"{"instance" : "i-0123456789", "state": "RUNNING", "instanceStatus": "instance \"i-0123456789\" is in RUNNING"}"#
        )
        #expect(
            render(#"{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}"#)
                == #"{"instance" : "i-0123456789", "state": [ 9, "RUNNING", true ], "Transformed" : "Yes"}"#
        )
        #expect(
            render(#"{"ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>}"#)
                == #"{"ruleArn" : "arn:aws:events:us-east-1:123456789012:rule/example", "ruleName" : "example"}"#
        )
        #expect(render(#""<aws.events.rule-name> triggered""#) == #""example triggered""#)
        let original = render(#"{"originalEvent": <aws.events.event.json>}"#)
        #expect(
            original.flatMap { JSONValue.parse(Array($0.utf8)) }?["originalEvent"]?["detail"]?["state"] == "RUNNING"
        )
    }

    @Test func recordedQuotingRules() {
        let detail =
            #"{"payload":{"acc_id":"0a787ecb-4015","sf_id":"baz"},"listsingle":["HIGH"],"listmulti":["ACTIVE","INACTIVE"],"valid":true}"#
        let event = Event(
            id: "e",
            detailType: "t",
            source: "s",
            namespace: Self.namespace,
            timeMillis: 0,
            resources: [],
            detail: detail,
            ingestionMillis: 0
        )
        let paths = [
            "userId": "$.detail.payload.acc_id", "payload": "$.detail.payload", "systemstring": "$.detail.awsAccountId",
            "listsingle": "$.detail.listsingle", "listmulti": "$.detail.listmulti", "valid": "$.detail.valid",
        ]
        func render(_ template: String) -> String? { self.render(template, paths: paths, event: event) }
        #expect(render(#"{"id" : <userId>}"#) == #"{"id" : "0a787ecb-4015"}"#)
        #expect(render(#"{"id" : "<userId>"}"#) == #"{"id" : "0a787ecb-4015"}"#)
        #expect(
            render(#"{"method": "PUT", "path": "users-service/users/<userId>", "bod": <payload>}"#)
                == #"{"method": "PUT", "path": "users-service/users/0a787ecb-4015", "bod": {"acc_id":"0a787ecb-4015","sf_id":"baz"}}"#
        )
        #expect(
            render(#""Payload of <payload> with path users-service/users/<userId> and <userId>""#)
                == #""Payload of {acc_id:0a787ecb-4015,sf_id:baz} with path users-service/users/0a787ecb-4015 and 0a787ecb-4015""#
        )
        #expect(
            render(#""<listsingle> single list item <listmulti> multiple list items <systemstring> system account id""#)
                == #""[HIGH] single list item [ACTIVE,INACTIVE] multiple list items  system account id""#
        )
        #expect(render(#"{"singlelistitem": <listsingle>}"#) == #"{"singlelistitem": ["HIGH"]}"#)
        #expect(
            render(#"{"multi_replacement": "users/<userId>/second/<userId>"}"#)
                == #"{"multi_replacement": "users/0a787ecb-4015/second/0a787ecb-4015"}"#
        )
        #expect(render(#""Command is <valid>!""#) == #""Command is true!""#)
        // A variable whose path reaches nothing.
        #expect(render(#"{"command": <systemstring>}"#) == #"{"command": ""}"#)
        // Objects and lists inside a string of a JSON template: EventBridge delivers nothing.
        #expect(render(#"{"payload": "<payload>"}"#) == nil)
        #expect(render(#"{"singlelistitem": "<listsingle>"}"#) == nil)
        #expect(render(#"{"not_valid": "users-service/users/<payload>", "bod": <payload>}"#) == nil)
    }

    @Test func placeholders() {
        #expect(InputTemplate.placeholders(#"{"a": <x>, "b": "<y> and <x>", "c": "a < b > c"}"#) == ["x", "y"])
    }

    @Test func inputAndInputPath() {
        var target = TargetDefinition(id: "t", arn: "arn:aws:lambda:us-east-1:123456789012:function:f")
        #expect(TargetInput.render(target, event: Self.event, rule: Self.rule) == Self.event.text)
        target.input = #"{"constant": true}"#
        #expect(TargetInput.render(target, event: Self.event, rule: Self.rule) == #"{"constant": true}"#)
        target.input = nil
        for (path, expected) in [
            ("$", Self.event.text), ("$.detail", #"{"instance-id":"i-0123456789","state":"RUNNING"}"#),
            ("$.detail.state", #""RUNNING""#),
            ("$.resources[0]", #""arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111""#),
            ("$.detail-type", #""EC2 Instance State-change Notification""#),
            ("$.resources[*]", #"["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"]"#),
        ] {
            target.inputPath = path
            #expect(TargetInput.render(target, event: Self.event, rule: Self.rule) == expected, "\(path)")
        }
        target.inputPath = "$.detail.missing"
        #expect(TargetInput.render(target, event: Self.event, rule: Self.rule) == nil)
    }

    @Test func jsonPaths() {
        #expect(JSONPath("$")?.steps == [])
        #expect(JSONPath("$.a.b[2].c")?.steps == [.key("a"), .key("b"), .index(2), .key("c")])
        #expect(JSONPath("$.a[*]")?.steps == [.key("a"), .any])
        #expect(JSONPath("a.b") == nil)
        #expect(JSONPath("$.") == nil)
        #expect(JSONPath("$.a[x]") == nil)
        #expect(JSONPath("$.a.b")?.evaluate(#"{"a":{"b":[1,{"c":"}"}],"d":2}}"#) == #"[1,{"c":"}"}]"#)
        #expect(JSONPath("$.a[1].c")?.evaluate(#"{"a":[1,{"c":"x\"y"}]}"#) == #""x\"y""#)
    }

    @Test func scheduledEventShape() {
        let event = Event.scheduled(rule: Self.rule, scheduledMillis: 1_767_225_600_000, now: 1_767_225_600_120)
        let value = JSONValue.parse(Array(event.text.utf8))
        #expect(value?["version"] == "0")
        #expect(value?["detail-type"] == "Scheduled Event")
        #expect(value?["source"] == "aws.events")
        #expect(value?["account"] == "123456789012")
        #expect(value?["time"] == "2026-01-01T00:00:00Z")
        #expect(value?["region"] == "us-east-1")
        #expect(value?["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/example"])
        #expect(value?["detail"] == [:])
        // The same firing is the same event.
        #expect(Event.scheduled(rule: Self.rule, scheduledMillis: 1_767_225_600_000, now: 9).id == event.id)
    }
}
