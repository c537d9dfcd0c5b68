import NimbusCore
import Testing

@testable import NimbusS3

@Suite struct S3EventRecordTests {
    /// AWS's example message for `s3:ObjectCreated:Put` ("Event message structure"), as its inputs.
    static let put = S3EventRecord(
        eventName: "ObjectCreated:Put",
        eventTimeMillis: 0,
        region: "us-west-2",
        principalID: "AIDAJDPLRKLG7UEXAMPLE",
        sourceIPAddress: "127.0.0.1",
        requestID: "C3D13FE58DE4C810",
        hostID: "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
        bucket: "mybucket",
        bucketOwnerID: "A3NL1KOZZKExample",
        key: "HappyFace.jpg",
        size: 1024,
        eTag: "d41d8cd98f00b204e9800998ecf8427e",
        versionID: "096fKKXTRTtl3on89fVO.nfljtsv6qko",
        sequencer: "0055AED6DCD90281E5"
    )

    static func text(_ record: S3EventRecord, _ configurationID: String = "testConfigRule") -> String {
        String(decoding: record.document(configurationID: configurationID), as: UTF8.self)
    }

    @Test func awsExampleFieldByFieldInOrder() {
        let expected =
            #"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-west-2","eventTime":"1970-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AIDAJDPLRKLG7UEXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},"s3":{"s3SchemaVersion":"1.0","configurationId":"testConfigRule","bucket":{"name":"mybucket","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":"arn:aws:s3:::mybucket"},"object":{"key":"HappyFace.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko","sequencer":"0055AED6DCD90281E5"}}}]}"#
        #expect(Self.text(Self.put) == expected)
        // It is JSON.
        #expect(JSONValue.parse(Self.put.document(configurationID: "x")) != nil)
    }

    @Test func unversionedBucketsHaveNoVersionId() {
        var record = Self.put
        record.versionID = nil
        #expect(
            Self.text(record).hasSuffix(
                #""object":{"key":"HappyFace.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0055AED6DCD90281E5"}}}]}"#
            )
        )
    }

    @Test func removalShapes() {
        var delete = Self.put
        delete.eventName = "s3:ObjectRemoved:Delete"
        delete.size = nil
        delete.eTag = nil
        delete.versionID = nil
        let text = Self.text(delete)
        #expect(text.contains(#""eventName":"ObjectRemoved:Delete""#))
        #expect(text.hasSuffix(#""object":{"key":"HappyFace.jpg","sequencer":"0055AED6DCD90281E5"}}}]}"#))

        var marker = delete
        marker.eventName = "ObjectRemoved:DeleteMarkerCreated"
        marker.eTag = S3EventRecord.deleteMarkerETag
        marker.versionID = "v1"
        #expect(
            Self.text(marker).hasSuffix(
                #""object":{"key":"HappyFace.jpg","eTag":"d41d8cd98f00b204e9800998ecf8427e","versionId":"v1","sequencer":"0055AED6DCD90281E5"}}}]}"#
            )
        )
    }

    @Test func eventVersions() {
        var record = Self.put
        for (name, version) in [
            ("ObjectCreated:Put", "2.1"), ("ObjectRemoved:Delete", "2.1"), ("s3:ObjectCreated:Copy", "2.1"),
            ("ObjectTagging:Put", "2.3"), ("ObjectTagging:Delete", "2.3"), ("ObjectAcl:Put", "2.3"),
            ("LifecycleExpiration:Delete", "2.3"), ("LifecycleTransition", "2.3"), ("IntelligentTiering", "2.3"),
            ("ObjectRestore:Delete", "2.3"), ("ObjectRestore:Post", "2.1"), ("Replication:OperationNotTracked", "2.2"),
        ] {
            record.eventName = name
            #expect(record.eventVersion == version, "\(name)")
        }
        var tagging = Self.put
        tagging.eventName = "ObjectTagging:Put"
        tagging.size = nil
        tagging.versionID = nil
        tagging.sequencer = nil
        let text = Self.text(tagging)
        #expect(text.hasPrefix(#"{"Records":[{"eventVersion":"2.3","#))
        #expect(text.hasSuffix(#""object":{"key":"HappyFace.jpg","eTag":"d41d8cd98f00b204e9800998ecf8427e"}}}]}"#))
    }

    @Test(arguments: [
        ("red flower.jpg", "red+flower.jpg"),
        ("this im + age blah.txt", "this+im+%2B+age+blah.txt"),
        ("a@b", "a%40b"),
        ("testupload/dir1/testfile.txt", "testupload/dir1/testfile.txt"),
        ("service=worker/env=prod/x.log", "service%3Dworker/env%3Dprod/x.log"),
        ("test/10:47:07.log.bz2", "test/10%3A47%3A07.log.bz2"),
        ("100%.txt", "100%25.txt"),
        ("photo (1).jpg", "photo+%281%29.jpg"),
        ("a~b*c-d_e.f", "a%7Eb*c-d_e.f"),
        ("café/日本.txt", "caf%C3%A9/%E6%97%A5%E6%9C%AC.txt"),
        ("emoji😀", "emoji%F0%9F%98%80"),
        ("q?x&y#z", "q%3Fx%26y%23z"),
        ("tab\there\nline", "tab%09here%0Aline"),
        ("quote\"back\\slash", "quote%22back%5Cslash"),
        ("", ""),
    ])
    func keyEncoding(_ key: String, _ encoded: String) {
        #expect(S3EventRecord.encodedKey(key) == encoded)
        var record = Self.put
        record.key = key
        #expect(Self.text(record).contains(#""key":"\#(encoded)""#))
    }

    @Test func stringsAreEscaped() {
        var record = Self.put
        record.principalID = "a\"b\\c\u{1}d\ne"
        record.bucket = "b"
        let text = Self.text(record, "id\"with\tescapes/ünïcode")
        #expect(text.contains(#""principalId":"a\"b\\c\u0001d\ne""#))
        #expect(text.contains(#""configurationId":"id\"with\tescapes/ünïcode""#))
        let parsed = JSONValue.parse(record.document(configurationID: "id\"x"))
        #expect(
            parsed?["Records"]?.arrayValue?.first?["userIdentity"]?["principalId"]?.stringValue == "a\"b\\c\u{1}d\ne"
        )
        #expect(parsed?["Records"]?.arrayValue?.first?["s3"]?["configurationId"]?.stringValue == "id\"x")
    }

    @Test func testEvent() {
        let body = S3EventRecord.testEvent(
            bucket: "bucketname",
            timeMillis: 1_413_215_822_089,
            requestID: "5582815E1AEA5ADF",
            hostID: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"
        )
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z","Bucket":"bucketname","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}"#
        )
    }
}

@Suite struct S3EventSequencerTests {
    @Test func format() {
        #expect(S3EventSequencer.format(millis: 0, counter: 0) == "000000000000000000")
        #expect(S3EventSequencer.format(millis: 1, counter: 0) == "000000000000100000")
        #expect(S3EventSequencer.format(millis: 1_437_521_628_000, counter: 5) == "00" + "14EB2F74B60" + "00005")
        #expect(S3EventSequencer.format(millis: 1_437_521_628_000, counter: 5).utf8.count == 18)
    }

    @Test func strictlyIncreasingWhateverTheClock() {
        var sequencer = S3EventSequencer()
        var previous = ""
        // Forward, standing still, stepping back: every value is greater than the last, at one length.
        for now: Int64 in [
            1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001, 1_699_999_999_000, 1_700_000_000_500,
        ] {
            let value = sequencer.next(nowMillis: now)
            #expect(value.utf8.count == 18)
            #expect(value > previous, "\(value) after \(previous)")
            previous = value
        }
    }

    @Test func counterOverflowMovesTheMillisecondOn() {
        var sequencer = S3EventSequencer(lastMillis: 5, counter: (1 << 20) - 2)
        let last = sequencer.next(nowMillis: 5)
        #expect(last == S3EventSequencer.format(millis: 5, counter: (1 << 20) - 1))
        let carried = sequencer.next(nowMillis: 5)
        #expect(carried == S3EventSequencer.format(millis: 6, counter: 0))
        #expect(carried > last)
        // The clock catching up to the carried millisecond does not repeat it.
        #expect(sequencer.next(nowMillis: 6) > carried)
    }
}
