import Foundation
import Testing

@testable import NimbusS3

/// A deterministic generator for generated Ids (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9e37_79b9_7f4a_7c15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

@Suite struct NotificationConfigurationParsingTests {
    /// Exactly what botocore 1.43.11 serialises for `put_bucket_notification_configuration` with a
    /// LambdaFunctionConfigurations entry (Id, prefix and suffix filter), a QueueConfigurations entry without Id, and
    /// an empty EventBridgeConfiguration (generated with botocore's rest-xml serializer).
    static let botoBody =
        #"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CloudFunctionConfiguration><Id>thumbnails</Id><CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:thumbnail</CloudFunction><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>images/</Value></FilterRule><FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter></CloudFunctionConfiguration><QueueConfiguration><Queue>arn:aws:sqs:us-east-1:000000000000:deletions</Queue><Event>s3:ObjectRemoved:Delete</Event><Event>s3:ObjectRemoved:DeleteMarkerCreated</Event></QueueConfiguration><EventBridgeConfiguration /></NotificationConfiguration>"#

    static func parse(_ text: String, skip: Bool = false) throws(S3Error) -> NotificationConfiguration {
        var generator = SeededGenerator(state: 42)
        return try NotificationConfiguration.parse(Array(text.utf8), skipDestinationValidation: skip, using: &generator)
    }

    /// A body with the given configurations inside the root.
    static func body(_ inner: String) -> String {
        #"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"# + inner
            + "</NotificationConfiguration>"
    }

    static func queue(
        _ name: String = "q",
        id: String? = nil,
        events: [String] = ["s3:ObjectCreated:*"],
        prefix: String? = nil,
        suffix: String? = nil
    ) -> String {
        var xml = "<QueueConfiguration>"
        if let id { xml += "<Id>\(id)</Id>" }
        xml += "<Queue>arn:aws:sqs:us-east-1:000000000000:\(name)</Queue>"
        for event in events { xml += "<Event>\(event)</Event>" }
        xml += Self.filter(prefix: prefix, suffix: suffix)
        return xml + "</QueueConfiguration>"
    }

    static func function(
        _ name: String = "f",
        id: String? = nil,
        events: [String] = ["s3:ObjectCreated:*"],
        prefix: String? = nil,
        suffix: String? = nil
    ) -> String {
        var xml = "<CloudFunctionConfiguration>"
        if let id { xml += "<Id>\(id)</Id>" }
        xml += "<CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:\(name)</CloudFunction>"
        for event in events { xml += "<Event>\(event)</Event>" }
        xml += Self.filter(prefix: prefix, suffix: suffix)
        return xml + "</CloudFunctionConfiguration>"
    }

    static func filter(prefix: String?, suffix: String?) -> String {
        guard prefix != nil || suffix != nil else { return "" }
        var xml = "<Filter><S3Key>"
        if let prefix { xml += "<FilterRule><Name>prefix</Name><Value>\(prefix)</Value></FilterRule>" }
        if let suffix { xml += "<FilterRule><Name>suffix</Name><Value>\(suffix)</Value></FilterRule>" }
        return xml + "</S3Key></Filter>"
    }

    @Test func parsesWhatBoto3Sends() throws {
        let configuration = try Self.parse(Self.botoBody)
        #expect(configuration.eventBridgeEnabled)
        #expect(configuration.configurations.count == 2)
        // Get's order: queues before functions, whatever the document's order.
        let queue = configuration.configurations[0]
        let function = configuration.configurations[1]
        #expect(queue.kind == .queue)
        #expect(queue.arn == "arn:aws:sqs:us-east-1:000000000000:deletions")
        #expect(queue.events == ["s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated"])
        #expect(queue.filterRules.isEmpty)
        #expect(function.kind == .function)
        #expect(function.id == "thumbnails")
        #expect(function.arn == "arn:aws:lambda:us-east-1:000000000000:function:thumbnail")
        #expect(function.events == ["s3:ObjectCreated:*"])
        #expect(function.filterRules == [.init(.prefix, "images/"), .init(.suffix, ".jpg")])
        #expect(function.prefix == "images/")
        #expect(function.suffix == ".jpg")
        #expect(configuration.functionARNs == ["arn:aws:lambda:us-east-1:000000000000:function:thumbnail"])
        #expect(configuration.queueARNs == ["arn:aws:sqs:us-east-1:000000000000:deletions"])
    }

    @Test func generatesIdsShapedLikeS3s() throws {
        let configuration = try Self.parse(Self.botoBody)
        let id = configuration.configurations[0].id
        #expect(id.utf8.count == 48)
        let decoded = String(decoding: try #require(Data(base64Encoded: id)), as: UTF8.self)
        let groups = decoded.split(separator: "-").map(\.count)
        #expect(groups == [8, 4, 4, 4, 12])
        #expect(decoded.allSatisfy { "0123456789abcdef-".contains($0) })
        #expect(Array(decoded)[14] == "4")  // version 4
        // A different draw gives a different Id.
        var other = SeededGenerator(state: 7)
        #expect(NotificationConfiguration.generatedID(using: &other) != id)
        // An empty Id is generated too.
        let emptyID = try Self.parse(Self.body(Self.queue(id: "")))
        #expect(emptyID.configurations[0].id.utf8.count == 48)
    }

    @Test(arguments: [
        "", "   \n", #"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/" />"#,
        "<NotificationConfiguration></NotificationConfiguration>",
    ])
    func emptyBodiesClear(_ body: String) throws {
        let configuration = try Self.parse(body)
        #expect(configuration.isEmpty)
        #expect(configuration.destinations(for: "ObjectCreated:Put", key: "a").isEmpty)
    }

    @Test(arguments: [
        ("<NotificationConfiguration>", "not well-formed"),
        ("<Other/>", "wrong root"),
        (NotificationConfigurationParsingTests.body("<Unknown/>"), "unknown member"),
        (
            NotificationConfigurationParsingTests.body(
                "<QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
            ), "no Queue"
        ),
        (
            NotificationConfigurationParsingTests.body(
                "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue></QueueConfiguration>"
            ), "no Event"
        ),
        (
            NotificationConfigurationParsingTests.body(
                "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
            ), "two Queues"
        ),
        (
            NotificationConfigurationParsingTests.body(
                "<QueueConfiguration><Id>a</Id><Id>b</Id><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
            ), "two Ids"
        ),
        (
            NotificationConfigurationParsingTests.body(
                "<QueueConfiguration><CloudFunction>arn:aws:lambda:us-east-1:0:function:f</CloudFunction><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
            ), "a function element in a queue configuration"
        ),
        (
            NotificationConfigurationParsingTests.body(
                "<CloudFunctionConfiguration><LambdaFunctionArn>arn:aws:lambda:us-east-1:0:function:f</LambdaFunctionArn><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration>"
            ), "the SDK's member name instead of the wire name"
        ),
        (NotificationConfigurationParsingTests.body("<LambdaFunctionConfiguration/>"), "the SDK's list name"),
        (
            NotificationConfigurationParsingTests.body(
                "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name></FilterRule></S3Key></Filter></QueueConfiguration>"
            ), "a rule without Value"
        ),
        (
            NotificationConfigurationParsingTests.body(
                "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Value>a</Value></FilterRule></S3Key></Filter></QueueConfiguration>"
            ), "a rule without Name"
        ),
        (
            NotificationConfigurationParsingTests.body(
                "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event><Filter><Key/></Filter></QueueConfiguration>"
            ), "Key instead of S3Key"
        ),
        (
            NotificationConfigurationParsingTests.body("<EventBridgeConfiguration/><EventBridgeConfiguration/>"),
            "EventBridge twice"
        ),
        (
            NotificationConfigurationParsingTests.body("<EventBridgeConfiguration><X/></EventBridgeConfiguration>"),
            "EventBridge with members"
        ),
        (#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><NotificationConfiguration/>"#, "a DTD"),
    ])
    func malformedBodies(_ body: String, _ why: String) {
        #expect(throws: S3Error.malformedXML, "\(why)") { try Self.parse(body) }
    }

    @Test func unparsableARNsNameTheirElement() throws {
        #expect(throws: S3Error.invalidArgument("The ARN could not be parsed", name: "Queue", value: "invalid-queue")) {
            try Self.parse(
                Self.body(
                    "<QueueConfiguration><Queue>invalid-queue</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
                )
            )
        }
        let lambda = "arn:aws:lambda:us-east-1:000000000000:f"
        #expect(throws: S3Error.invalidArgument("The ARN could not be parsed", name: "CloudFunction", value: lambda)) {
            try Self.parse(
                Self.body(
                    "<CloudFunctionConfiguration><CloudFunction>\(lambda)</CloudFunction><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration>"
                )
            )
        }
        #expect(
            throws: S3Error.invalidArgument(
                "The ARN could not be parsed",
                name: "Topic",
                value: "arn:aws:sqs:us-east-1:0:q"
            )
        ) {
            try Self.parse(
                Self.body(
                    "<TopicConfiguration><Topic>arn:aws:sqs:us-east-1:0:q</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>"
                )
            )
        }
        // A qualified function ARN is an ARN.
        _ = try Self.parse(
            Self.body(
                "<CloudFunctionConfiguration><CloudFunction>arn:aws:lambda:us-east-1:0:function:f:live</CloudFunction><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration>"
            )
        )
    }

    @Test(arguments: [
        "notarealeventname", "s3:ObjectCreated", "s3:ObjectCreated:Delete", "s3:objectcreated:*", "ObjectCreated:Put",
        "s3:*",
    ])
    func unsupportedEvents(_ event: String) {
        let error = S3Error.invalidArgument("The event is not supported for notifications", name: "Event", value: event)
        #expect(throws: error) { try Self.parse(Self.body(Self.queue(events: ["s3:ObjectCreated:*", event]))) }
    }

    @Test func acceptsEveryDocumentedEvent() throws {
        // One configuration per event, each on its own prefix so that none overlaps.
        let inner = NotificationConfiguration.supportedEvents.enumerated().map { index, event in
            Self.queue(id: "c\(index)", events: [event], prefix: "p\(index)/")
        }.joined()
        let configuration = try Self.parse(Self.body(inner))
        #expect(configuration.configurations.map { $0.events[0] } == NotificationConfiguration.supportedEvents)
        for required in [
            "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
            "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete",
            "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectTagging:*", "s3:ObjectTagging:Put",
            "s3:ObjectTagging:Delete",
        ] {
            #expect(NotificationConfiguration.isSupportedEvent(required))
        }
    }

    @Test func filterRuleNames() throws {
        // Any case is accepted, and kept in the order sent.
        let body = Self.body(
            "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>suffix</Name><Value>.txt</Value></FilterRule><FilterRule><Name>PREFIX</Name><Value>notif-</Value></FilterRule></S3Key></Filter></QueueConfiguration>"
        )
        let configuration = try Self.parse(body)
        #expect(configuration.configurations[0].filterRules == [.init(.suffix, ".txt"), .init(.prefix, "notif-")])

        let invalid = Self.body(
            "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>INVALID</Name><Value>does not matter</Value></FilterRule></S3Key></Filter></QueueConfiguration>"
        )
        #expect(
            throws: S3Error.invalidArgument(
                "filter rule name must be either prefix or suffix",
                name: "FilterRule.Name",
                value: "INVALID"
            )
        ) { try Self.parse(invalid) }
    }

    @Test func duplicateRulesInOneFilter() {
        let twoPrefixes = Self.body(
            "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>a</Value></FilterRule><FilterRule><Name>Prefix</Name><Value>b</Value></FilterRule></S3Key></Filter></QueueConfiguration>"
        )
        #expect(throws: S3Error.invalidArgument("Cannot specify more than one prefix rule in a filter.")) {
            try Self.parse(twoPrefixes)
        }
        let twoSuffixes = Self.body(
            "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>suffix</Name><Value>a</Value></FilterRule><FilterRule><Name>suffix</Name><Value>b</Value></FilterRule></S3Key></Filter></QueueConfiguration>"
        )
        #expect(throws: S3Error.invalidArgument("Cannot specify more than one suffix rule in a filter.")) {
            try Self.parse(twoSuffixes)
        }
    }

    @Test func filterValueLength() throws {
        let atLimit = String(repeating: "a", count: 1024)
        _ = try Self.parse(Self.body(Self.queue(prefix: atLimit)))
        #expect(throws: S3Error.filterRuleValueTooLong) { try Self.parse(Self.body(Self.queue(prefix: atLimit + "a"))) }
    }

    @Test func checksFollowDocumentOrder() {
        // The first configuration's bad event is reported, not the second one's bad ARN.
        let body = Self.body(
            Self.queue("one", events: ["s3:Nope"])
                + "<CloudFunctionConfiguration><CloudFunction>bad</CloudFunction><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration>"
        )
        #expect(throws: S3Error.unsupportedEvent("s3:Nope")) { try Self.parse(body) }
        // Within a configuration: the ARN before the events.
        let both = Self.body("<QueueConfiguration><Queue>bad</Queue><Event>s3:Nope</Event></QueueConfiguration>")
        #expect(throws: S3Error.unparsableARN(element: "Queue", value: "bad")) { try Self.parse(both) }
    }

    @Test func duplicateIDs() {
        let body = Self.body(
            Self.queue("a", id: "same", events: ["s3:ObjectCreated:*"])
                + Self.function("f", id: "same", events: ["s3:ObjectRemoved:*"])
        )
        #expect(throws: S3Error.invalidArgument("Same ID used for multiple configurations. IDs must be unique.")) {
            try Self.parse(body)
        }
    }

    @Test func topicsAreRefusedAsUnreachable() throws {
        let body = Self.body(
            "<TopicConfiguration><Topic>arn:aws:sns:us-east-1:000000000000:t</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>"
                + "<TopicConfiguration><Topic>arn:aws:sns:us-east-1:000000000000:u</Topic><Event>s3:ObjectRemoved:*</Event></TopicConfiguration>"
        )
        let expected = S3Error(
            "InvalidArgument",
            status: 400,
            "Unable to validate the following destination configurations",
            fields: [
                ("ArgumentName1", "arn:aws:sns:us-east-1:000000000000:t"),
                ("ArgumentValue1", "The destination topic does not exist"),
                ("ArgumentName2", "arn:aws:sns:us-east-1:000000000000:u"),
                ("ArgumentValue2", "The destination topic does not exist"),
            ]
        )
        #expect(throws: expected) { try Self.parse(body) }

        // Skipping destination validation keeps them; they never fire.
        let kept = try Self.parse(body, skip: true)
        #expect(kept.topicARNs == ["arn:aws:sns:us-east-1:000000000000:t", "arn:aws:sns:us-east-1:000000000000:u"])
        #expect(kept.destinations(for: "ObjectCreated:Put", key: "k").isEmpty)
    }

    @Test func destinationFailureShapes() {
        let error = S3Error.unableToValidateDestinations([
            .queueDoesNotExist("arn:aws:sqs:us-east-1:111111111111:my-queue"),
            .functionNotAuthorized("arn:aws:lambda:us-east-1:111111111111:function:my-lambda"),
        ])
        #expect(error.code == "InvalidArgument")
        #expect(error.message == "Unable to validate the following destination configurations")
        #expect(error.fields.map(\.0) == ["ArgumentName1", "ArgumentValue1", "ArgumentName2", "ArgumentValue2"])
        #expect(
            error.fields.map(\.1) == [
                "arn:aws:sqs:us-east-1:111111111111:my-queue", "The destination queue does not exist",
                "arn:aws:lambda:us-east-1:111111111111:function:my-lambda, null",
                "Not authorized to invoke function [arn:aws:lambda:us-east-1:111111111111:function:my-lambda]",
            ]
        )
    }
}

@Suite struct NotificationConfigurationOverlapTests {
    typealias P = NotificationConfigurationParsingTests

    static let overlap = S3Error.invalidArgument(
        "Configurations overlap. Configurations on the same bucket cannot share a common event type."
    )
    static let ambiguous = S3Error.ambiguousConfigurations

    @Test func unfilteredConfigurationsSharingAnEventType() {
        // Same family through a wildcard, across destination kinds.
        #expect(throws: Self.overlap) {
            try P.parse(P.body(P.queue(events: ["s3:ObjectCreated:*"]) + P.function(events: ["s3:ObjectCreated:Put"])))
        }
        // Two identical configurations for one destination.
        #expect(throws: Self.overlap) { try P.parse(P.body(P.queue("q") + P.queue("q"))) }
        // Two wildcards of one family.
        #expect(throws: Self.overlap) {
            try P.parse(
                P.body(
                    P.function("a", events: ["s3:ObjectRemoved:*"]) + P.function("b", events: ["s3:ObjectRemoved:*"])
                )
            )
        }
    }

    @Test func differentEventTypesDoNotOverlap() throws {
        _ = try P.parse(
            P.body(
                P.queue(events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"])
                    + P.queue(events: ["s3:ObjectTagging:*"])
                    + P.function(events: ["s3:ObjectRemoved:DeleteMarkerCreated"])
                    + P.function("g", events: ["s3:LifecycleExpiration:Delete"], prefix: "x")
            )
        )
        // Put and Copy are different types of one family.
        _ = try P.parse(
            P.body(P.queue(events: ["s3:ObjectCreated:Put"]) + P.function(events: ["s3:ObjectCreated:Copy"]))
        )
    }

    @Test func awsValidExamples() throws {
        // Non-overlapping prefixes.
        _ = try P.parse(P.body(P.queue("a", prefix: "images/") + P.queue("b", prefix: "logs/")))
        // Non-overlapping suffixes (same last letter does not matter).
        _ = try P.parse(P.body(P.function("a", suffix: ".jpg") + P.function("b", suffix: ".png")))
        // Overlapping prefixes with non-overlapping suffixes.
        _ = try P.parse(
            P.body(
                P.function("a", prefix: "images", suffix: ".jpg") + P.function("b", prefix: "images", suffix: ".png")
            )
        )
        // Overlapping filters on different event types.
        _ = try P.parse(
            P.body(
                P.queue(events: ["s3:ObjectCreated:Put"], prefix: "image/")
                    + P.queue(events: ["s3:ObjectRemoved:*"], prefix: "image/")
            )
        )
    }

    @Test func awsInvalidExamples() {
        // The root prefix (no filter) overlaps every prefix.
        #expect(throws: Self.ambiguous) { try P.parse(P.body(P.queue("a") + P.queue("b", prefix: "images"))) }
        // Overlapping suffixes: a key can end with both "jpg" and "pg".
        #expect(throws: Self.ambiguous) {
            try P.parse(
                P.body(
                    P.queue("a", events: ["s3:ObjectCreated:*"], suffix: "jpg")
                        + P.queue("b", events: ["s3:ObjectCreated:Put"], suffix: "pg")
                )
            )
        }
        // Prefix+suffix against the same suffix alone.
        #expect(throws: Self.ambiguous) {
            try P.parse(P.body(P.queue("a", prefix: "images", suffix: "jpg") + P.queue("b", suffix: "jpg")))
        }
        // Overlapping prefixes, one starting with the other.
        #expect(throws: Self.ambiguous) {
            try P.parse(P.body(P.function("a", prefix: "images/") + P.function("b", prefix: "images/raw/")))
        }
    }

    @Test func overlapIsCheckedAfterEveryConfigurationsForm() {
        // A later configuration's bad event is reported before an earlier overlap.
        let body = P.body(P.queue("a") + P.queue("b") + P.queue("c", events: ["s3:Nope"]))
        #expect(throws: S3Error.unsupportedEvent("s3:Nope")) { try P.parse(body) }
    }
}

@Suite struct NotificationConfigurationMatchingTests {
    typealias P = NotificationConfigurationParsingTests

    @Test func wildcardAndExactEvents() throws {
        let configuration = try P.parse(
            P.body(
                P.function("created", id: "c", events: ["s3:ObjectCreated:*"])
                    + P.queue("put", id: "p", events: ["s3:ObjectRemoved:Delete"])
            )
        )
        let created = configuration.destinations(for: "ObjectCreated:Put", key: "a.txt")
        #expect(
            created == [
                .init(
                    kind: .function,
                    configurationID: "c",
                    arn: "arn:aws:lambda:us-east-1:000000000000:function:created"
                )
            ]
        )
        #expect(configuration.destinations(for: "s3:ObjectCreated:CompleteMultipartUpload", key: "a") == created)
        let removed = configuration.destinations(for: "ObjectRemoved:Delete", key: "a")
        #expect(removed == [.init(kind: .queue, configurationID: "p", arn: "arn:aws:sqs:us-east-1:000000000000:put")])
        #expect(configuration.destinations(for: "ObjectRemoved:DeleteMarkerCreated", key: "a").isEmpty)
        #expect(configuration.destinations(for: "ObjectTagging:Put", key: "a").isEmpty)
    }

    @Test func prefixAndSuffixFilters() throws {
        let configuration = try P.parse(P.body(P.function(id: "img", prefix: "images/", suffix: ".jpg")))
        #expect(configuration.destinations(for: "ObjectCreated:Put", key: "images/cat.jpg").count == 1)
        #expect(configuration.destinations(for: "ObjectCreated:Put", key: "images/cat.png").isEmpty)
        #expect(configuration.destinations(for: "ObjectCreated:Put", key: "other/cat.jpg").isEmpty)
        #expect(configuration.destinations(for: "ObjectCreated:Put", key: "Images/cat.jpg").isEmpty)
        #expect(configuration.destinations(for: "ObjectCreated:Put", key: "images/cat.JPG").isEmpty)
    }

    @Test func filtersCompareWithTheEncodedKey() throws {
        // AWS: a space in a filter value is written "+", other special characters percent-encoded.
        let configuration = try P.parse(
            P.body(
                P.function("a", id: "space", prefix: "my+photos/") + P.queue("b", id: "raw", prefix: "service=worker/")
                    + P.queue("c", id: "encoded", prefix: "service%3Dworker/")
            )
        )
        #expect(
            configuration.destinations(for: "ObjectCreated:Put", key: "my photos/x.jpg").map(\.configurationID) == [
                "space"
            ]
        )
        #expect(
            configuration.destinations(for: "ObjectCreated:Put", key: "service=worker/x").map(\.configurationID) == [
                "encoded"
            ]
        )
        // A literal "+" in a key is "%2B" in the record, so a "+" filter does not take it.
        #expect(configuration.destinations(for: "ObjectCreated:Put", key: "my+photos/x.jpg").isEmpty)
    }

    @Test func eventBridgeReceivesEverything() throws {
        let configuration = try P.parse(P.body(P.queue(id: "q", prefix: "in/") + "<EventBridgeConfiguration/>"))
        #expect(
            configuration.destinations(for: "ObjectCreated:Put", key: "in/a") == [
                .init(kind: .queue, configurationID: "q", arn: "arn:aws:sqs:us-east-1:000000000000:q"),
                .init(kind: .eventBridge, configurationID: "", arn: ""),
            ]
        )
        #expect(
            configuration.destinations(for: "ObjectTagging:Put", key: "elsewhere") == [
                .init(kind: .eventBridge, configurationID: "", arn: "")
            ]
        )
    }

    @Test func distinctARNs() throws {
        let configuration = try P.parse(
            P.body(
                P.queue("q", events: ["s3:ObjectCreated:*"]) + P.queue("q", events: ["s3:ObjectRemoved:*"])
                    + P.function("f", events: ["s3:ObjectTagging:*"])
            )
        )
        #expect(configuration.queueARNs == ["arn:aws:sqs:us-east-1:000000000000:q"])
        #expect(configuration.functionARNs == ["arn:aws:lambda:us-east-1:000000000000:function:f"])
        #expect(configuration.destinations(for: "ObjectRemoved:Delete", key: "k").count == 1)
    }
}

@Suite struct NotificationConfigurationXMLTests {
    typealias P = NotificationConfigurationParsingTests

    @Test func getBodyInS3sOrderAndSpelling() throws {
        let sent = P.body(
            P.function("f", id: "fn", events: ["s3:ObjectCreated:*"], prefix: "in/")
                + "<EventBridgeConfiguration/>"
                + "<QueueConfiguration><Id>q1</Id><Filter><S3Key><FilterRule><Name>SUFFIX</Name><Value>.csv</Value></FilterRule></S3Key></Filter><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectRemoved:*</Event></QueueConfiguration>"
                + "<TopicConfiguration><Id>t1</Id><Topic>arn:aws:sns:us-east-1:0:t</Topic><Event>s3:ObjectTagging:*</Event></TopicConfiguration>"
        )
        let configuration = try P.parse(sent, skip: true)
        let expected =
            #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
            + #"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
            + "<TopicConfiguration><Id>t1</Id><Topic>arn:aws:sns:us-east-1:0:t</Topic><Event>s3:ObjectTagging:*</Event></TopicConfiguration>"
            + "<QueueConfiguration><Id>q1</Id><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectRemoved:*</Event><Filter><S3Key><FilterRule><Name>Suffix</Name><Value>.csv</Value></FilterRule></S3Key></Filter></QueueConfiguration>"
            + "<CloudFunctionConfiguration><Id>fn</Id><CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:f</CloudFunction><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>Prefix</Name><Value>in/</Value></FilterRule></S3Key></Filter></CloudFunctionConfiguration>"
            + "<EventBridgeConfiguration></EventBridgeConfiguration>"
            + "</NotificationConfiguration>"
        #expect(String(decoding: configuration.xml, as: UTF8.self) == expected)
    }

    @Test func emptyGetBody() {
        #expect(
            String(decoding: NotificationConfiguration().xml, as: UTF8.self)
                == #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
                + #"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></NotificationConfiguration>"#
        )
    }

    @Test func storageRoundTrips() throws {
        let configuration = try P.parse(P.botoBody)
        let stored = configuration.storageString
        let restored = try NotificationConfiguration(storageString: stored)
        #expect(restored == configuration)
        // Generated Ids survive: they are stored.
        #expect(restored.configurations[0].id == configuration.configurations[0].id)
        // Topics kept by skipped validation survive too.
        let withTopic = try P.parse(
            P.body(
                "<TopicConfiguration><Topic>arn:aws:sns:us-east-1:0:t</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>"
            ),
            skip: true
        )
        #expect(try NotificationConfiguration(storageString: withTopic.storageString) == withTopic)
        #expect(try NotificationConfiguration(storageString: NotificationConfiguration().storageString).isEmpty)
    }

    @Test func specialCharactersRoundTrip() throws {
        let configuration = NotificationConfiguration(configurations: [
            .init(
                id: "a&b<c>\"'",
                kind: .queue,
                arn: "arn:aws:sqs:us-east-1:0:q",
                events: ["s3:ObjectCreated:*"],
                filterRules: [.init(.prefix, "x&y<z")]
            )
        ])
        #expect(try NotificationConfiguration(storageString: configuration.storageString) == configuration)
    }
}
