import NimbusCore

/// One S3 event notification as S3 delivers it to Lambda and SQS: `{"Records":[{…}]}`, field by field and in S3's
/// key order (AWS's "Event message structure", recorded messages agree):
///
/// `eventVersion`, `eventSource` (`aws:s3`), `awsRegion`, `eventTime` (`1970-01-01T00:00:00.000Z`), `eventName`
/// (without `s3:`), `userIdentity.principalId`, `requestParameters.sourceIPAddress`, `responseElements`
/// (`x-amz-request-id`, `x-amz-id-2`), then `s3`: `s3SchemaVersion` (`1.0`), `configurationId`, `bucket` (`name`,
/// `ownerIdentity.principalId`, `arn`) and `object` (`key`, `size`, `eTag`, `versionId`, `sequencer`).
///
/// Which object members an event has is the caller's choice, by leaving them nil, following S3: created events have
/// all but `versionId` (present only in a versioned bucket); `ObjectRemoved:Delete` has only `key` and `sequencer`
/// (and `versionId`); `ObjectRemoved:DeleteMarkerCreated` has `key`, `eTag` (``deleteMarkerETag``), `versionId`,
/// `sequencer`; tagging and ACL events have `key` and `eTag` (and `versionId`) but no `size` nor `sequencer`.
/// `eventVersion` follows from the event name: `2.3` for tagging, ACL, lifecycle, Intelligent-Tiering and
/// restore-delete events, `2.2` for replication, `2.1` otherwise.
///
/// The key is written URL-encoded as S3 writes it (``encodedKey(_:)``). The JSON is written directly, not through
/// `JSONValue` (whose objects do not keep their order).
public struct S3EventRecord: Sendable, Hashable {
    /// The event, with or without `s3:` (`ObjectCreated:Put`); written without it.
    public var eventName: String
    /// When S3 finished processing the request.
    public var eventTimeMillis: Int64
    /// The bucket's region (`awsRegion`, and the bucket ARN's partition is `aws`).
    public var region: String
    /// `userIdentity.principalId`: who caused the event (`AWS:AIDA…` for a user, `AWS:AROA…:session` for a role).
    public var principalID: String
    /// `requestParameters.sourceIPAddress`.
    public var sourceIPAddress: String
    /// `x-amz-request-id` of the request that caused the event.
    public var requestID: String
    /// `x-amz-id-2` of that request.
    public var hostID: String
    /// The bucket's name.
    public var bucket: String
    /// `bucket.ownerIdentity.principalId`: the bucket owner's id.
    public var bucketOwnerID: String
    /// The object key as stored, unencoded; written through ``encodedKey(_:)``.
    public var key: String
    /// `object.size`; nil to leave it out (removals, tagging).
    public var size: Int64?
    /// `object.eTag` without quotes; nil to leave it out (removals).
    public var eTag: String?
    /// `object.versionId`; nil (a bucket that is not versioned) leaves it out.
    public var versionID: String?
    /// `object.sequencer` (``S3EventSequencer``); nil to leave it out (tagging, ACL).
    public var sequencer: String?

    public init(
        eventName: String,
        eventTimeMillis: Int64,
        region: String,
        principalID: String,
        sourceIPAddress: String,
        requestID: String,
        hostID: String,
        bucket: String,
        bucketOwnerID: String,
        key: String,
        size: Int64? = nil,
        eTag: String? = nil,
        versionID: String? = nil,
        sequencer: String? = nil
    ) {
        self.eventName = eventName
        self.eventTimeMillis = eventTimeMillis
        self.region = region
        self.principalID = principalID
        self.sourceIPAddress = sourceIPAddress
        self.requestID = requestID
        self.hostID = hostID
        self.bucket = bucket
        self.bucketOwnerID = bucketOwnerID
        self.key = key
        self.size = size
        self.eTag = eTag
        self.versionID = versionID
        self.sequencer = sequencer
    }

    /// The entity tag S3 reports for a delete marker: the MD5 of no bytes.
    public static let deleteMarkerETag = "d41d8cd98f00b204e9800998ecf8427e"

    /// The event name as written in the record: without `s3:`.
    public var recordEventName: String {
        self.eventName.hasPrefix("s3:") ? String(self.eventName.dropFirst(3)) : self.eventName
    }

    /// `2.1`, or the version S3 uses for the event's family (see the type's documentation).
    public var eventVersion: String {
        let name = self.recordEventName
        if name.hasPrefix("ObjectTagging:") || name.hasPrefix("ObjectAcl:") || name.hasPrefix("LifecycleExpiration:")
            || name == "LifecycleTransition" || name == "IntelligentTiering" || name == "ObjectRestore:Delete"
        {
            return "2.3"
        }
        if name.hasPrefix("Replication:") { return "2.2" }
        return "2.1"
    }

    /// The whole message for the configuration `configurationID` (the matching configuration's `Id`): UTF-8 JSON,
    /// compact, in S3's key order.
    public func document(configurationID: String) -> [UInt8] {
        var json = OrderedJSON()
        json.beginObject()
        json.key("Records")
        json.beginArray()
        self.writeRecord(configurationID: configurationID, into: &json)
        json.endArray()
        json.endObject()
        return json.bytes
    }

    private func writeRecord(configurationID: String, into json: inout OrderedJSON) {
        json.beginObject()
        json.member("eventVersion", self.eventVersion)
        json.member("eventSource", "aws:s3")
        json.member("awsRegion", self.region)
        json.member("eventTime", Timestamp.isoString(millis: self.eventTimeMillis))
        json.member("eventName", self.recordEventName)
        json.key("userIdentity")
        json.beginObject()
        json.member("principalId", self.principalID)
        json.endObject()
        json.key("requestParameters")
        json.beginObject()
        json.member("sourceIPAddress", self.sourceIPAddress)
        json.endObject()
        json.key("responseElements")
        json.beginObject()
        json.member("x-amz-request-id", self.requestID)
        json.member("x-amz-id-2", self.hostID)
        json.endObject()
        json.key("s3")
        json.beginObject()
        json.member("s3SchemaVersion", "1.0")
        json.member("configurationId", configurationID)
        json.key("bucket")
        json.beginObject()
        json.member("name", self.bucket)
        json.key("ownerIdentity")
        json.beginObject()
        json.member("principalId", self.bucketOwnerID)
        json.endObject()
        json.member("arn", "arn:aws:s3:::\(self.bucket)")
        json.endObject()
        json.key("object")
        json.beginObject()
        json.member("key", Self.encodedKey(self.key))
        if let size = self.size {
            json.key("size")
            json.raw(String(size))
        }
        if let eTag = self.eTag { json.member("eTag", eTag) }
        if let versionID = self.versionID { json.member("versionId", versionID) }
        if let sequencer = self.sequencer { json.member("sequencer", sequencer) }
        json.endObject()
        json.endObject()
        json.endObject()
    }

    /// The message S3 sends a queue when a configuration naming it is put:
    /// `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"…","Bucket":"…","RequestId":"…","HostId":"…"}`.
    public static func testEvent(bucket: String, timeMillis: Int64, requestID: String, hostID: String) -> [UInt8] {
        var json = OrderedJSON()
        json.beginObject()
        json.member("Service", "Amazon S3")
        json.member("Event", "s3:TestEvent")
        json.member("Time", Timestamp.isoString(millis: timeMillis))
        json.member("Bucket", bucket)
        json.member("RequestId", requestID)
        json.member("HostId", hostID)
        json.endObject()
        return json.bytes
    }

    /// The key as S3 writes it in records: `application/x-www-form-urlencoded` (AWS: "red flower.jpg" becomes
    /// "red+flower.jpg", and S3 names that content type), except that `/` stays as it is.
    ///
    /// Letters, digits and `*` `-` `.` `_` stay; a space becomes `+`; every other byte of the UTF-8 key becomes `%XX`
    /// (uppercase hex), `+` and `%` and `~` included. Evidence: AWS's page and recorded messages (`a@b` → `a%40b`,
    /// `testupload/dir1/testfile.txt` unchanged), `this im + age blah.txt` → `this+im+%2B+age+blah.txt` reported by
    /// AWS's .NET SDK team, `=` → `%3D` and `:` → `%3A` in user reports, and slashes kept noted against S3 by users
    /// comparing it with MinIO. The unreserved set is the form encoding's (WHATWG, Java's `URLEncoder`).
    public static func encodedKey(_ key: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "/"):
                output.append(byte)
            case UInt8(ascii: " "):
                output.append(UInt8(ascii: "+"))
            default:
                output.append(UInt8(ascii: "%"))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Makes `object.sequencer` values: 18 uppercase hex digits, `00` then the milliseconds since 1970 shifted left by 20
/// bits plus a counter, so that every value is greater than the one before.
///
/// S3 only promises that, for one key, a later event has a greater sequencer (compared as hex strings after padding
/// the shorter with zeros on the right); a strictly increasing sequence across all keys gives that. Equal lengths keep
/// a plain string comparison right. The clock may stand still or step back: the counter then carries on from the last
/// value, and after 2^20 values within one millisecond the millisecond itself moves on. Values stay in 18 digits
/// until the year 2527. A value type: the S3 service keeps one under its lock (a fresh one after a restart starts
/// from the clock, which has moved on).
public struct S3EventSequencer: Sendable, Hashable {
    private var lastMillis: Int64 = 0
    private var counter: Int64 = 0

    public init() {}

    /// A sequencer that last gave `counter` at `lastMillis` (tests start near the counter's end with it).
    init(lastMillis: Int64, counter: Int64) {
        self.lastMillis = lastMillis
        self.counter = counter
    }

    /// The next sequencer, at `nowMillis`.
    public mutating func next(nowMillis: Int64) -> String {
        if nowMillis > self.lastMillis {
            self.lastMillis = nowMillis
            self.counter = 0
        } else {
            self.counter += 1
            if self.counter >= 1 << 20 {
                self.lastMillis += 1
                self.counter = 0
            }
        }
        return Self.format(millis: self.lastMillis, counter: self.counter)
    }

    /// `00` and 16 uppercase hex digits of `millis << 20 | counter` (`counter` below 2^20).
    public static func format(millis: Int64, counter: Int64) -> String {
        let value = UInt64(truncatingIfNeeded: millis) << 20 | UInt64(truncatingIfNeeded: counter & 0xf_ffff)
        let digits = String(value, radix: 16, uppercase: true)
        return "00" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}

/// JSON text written member by member, in the caller's order: the record's layout is fixed, so the builder only
/// tracks where a comma is due and escapes strings (RFC 8259: `"`, `\` and control characters; everything else as
/// UTF-8).
struct OrderedJSON {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    mutating func beginObject() {
        self.separator()
        self.bytes.append(UInt8(ascii: "{"))
        self.needsComma = false
    }

    mutating func endObject() {
        self.bytes.append(UInt8(ascii: "}"))
        self.needsComma = true
    }

    mutating func beginArray() {
        self.separator()
        self.bytes.append(UInt8(ascii: "["))
        self.needsComma = false
    }

    mutating func endArray() {
        self.bytes.append(UInt8(ascii: "]"))
        self.needsComma = true
    }

    /// `"name":`; a value must follow.
    mutating func key(_ name: String) {
        self.separator()
        self.quoted(name)
        self.bytes.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    /// `"name":"value"`.
    mutating func member(_ name: String, _ value: String) {
        self.key(name)
        self.quoted(value)
        self.needsComma = true
    }

    /// A value written as it is (a number).
    mutating func raw(_ text: String) {
        self.separator()
        self.bytes += text.utf8
        self.needsComma = true
    }

    private mutating func separator() {
        if self.needsComma { self.bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func quoted(_ text: String) {
        let hex = Array("0123456789abcdef".utf8)
        self.bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes += #"\""#.utf8
            case UInt8(ascii: "\\"): self.bytes += #"\\"#.utf8
            case 0x0a: self.bytes += #"\n"#.utf8
            case 0x0d: self.bytes += #"\r"#.utf8
            case 0x09: self.bytes += #"\t"#.utf8
            case 0x08: self.bytes += #"\b"#.utf8
            case 0x0c: self.bytes += #"\f"#.utf8
            case 0x00..<0x20:
                self.bytes += #"\u00"#.utf8
                self.bytes.append(hex[Int(byte >> 4)])
                self.bytes.append(hex[Int(byte & 0x0f)])
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }
}
