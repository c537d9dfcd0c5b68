import NIOCore
import NimbusCore
import NimbusProtocols
import Testing

@testable import NimbusEdge

/// Each protocol's response and error shapes, as botocore's parsers read them.
@Suite struct WireProtocolTests {
    static func service(_ wire: WireProtocol, namespace: String? = nil) -> ServiceDefinition {
        ServiceDefinition(name: "s", signingNames: ["s"], wire: wire, xmlNamespace: namespace, operations: [])
    }

    func header(_ encoded: WireProtocol.Encoded, _ name: String) -> String? {
        encoded.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    func text(_ encoded: WireProtocol.Encoded) -> String { String(buffer: encoded.body) }

    let error = ServiceError(
        code: "ResourceNotFoundException", status: 404, message: "Function not found: x", messageMember: "Message",
        fields: ["Type": "User"], headers: [("Retry-After", "1")], queryCode: "AWS.SimpleQueueService.NonExistentQueue")

    @Test func restJSONErrorsNameTheTypeInAHeader() {
        let e = WireProtocol.restJSON.encode(self.error, service: nil, requestID: "r1")
        #expect(e.status == 404)
        #expect(self.header(e, "x-amzn-ErrorType") == "ResourceNotFoundException")
        #expect(self.header(e, "x-amzn-RequestId") == "r1")
        #expect(self.header(e, "Retry-After") == "1")
        #expect(JSONValue.parse(e.body.readableBytesView) == ["Type": "User", "Message": "Function not found: x"])
    }

    @Test func jsonErrorsCarryTypeInTheBodyAndTheQueryCodeWhenCompatible() {
        let plain = WireProtocol.json(version: "1.1").encode(self.error, service: nil, requestID: "r")
        #expect(self.header(plain, "Content-Type") == "application/x-amz-json-1.1")
        #expect(JSONValue.parse(plain.body.readableBytesView)?["__type"] == "ResourceNotFoundException")
        #expect(self.header(plain, "x-amzn-query-error") == nil)
        let sqs = WireProtocol.json(version: "1.0", queryCompatible: true).encode(self.error, service: nil, requestID: "r")
        #expect(self.header(sqs, "x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender")
    }

    @Test func queryErrorsAndResponsesAreXML() throws {
        let service = Self.service(.query, namespace: "https://sts.amazonaws.com/doc/2011-06-15/")
        let e = WireProtocol.query.encode(self.error, service: service, requestID: "r2")
        let root = try XMLReader().read(e.body.readableBytesView)
        #expect(root.name == "ErrorResponse")
        #expect(root[attribute: "xmlns"] == "https://sts.amazonaws.com/doc/2011-06-15/")
        #expect(root.first("Error")?.first("Type")?.text == "Sender")
        #expect(root.first("Error")?.first("Code")?.text == "AWS.SimpleQueueService.NonExistentQueue")
        #expect(root.first("RequestId")?.text == "r2")

        let ok = WireProtocol.query.encode(
            .document(200, ["Account": "1", "Arn": "arn:aws:iam::1:root"]), operation: "GetCallerIdentity",
            service: service, requestID: "r3")
        let response = try XMLReader().read(ok.body.readableBytesView)
        #expect(response.name == "GetCallerIdentityResponse")
        #expect(response.first("GetCallerIdentityResult")?.first("Arn")?.text == "arn:aws:iam::1:root")
        #expect(response.first("ResponseMetadata")?.first("RequestId")?.text == "r3")
    }

    @Test func restXMLErrorsAreS3sErrorElement() throws {
        let e = WireProtocol.restXML.encode(
            ServiceError(code: "NoSuchBucket", status: 404, message: "The specified bucket does not exist", fields: ["BucketName": "b"]),
            service: nil, requestID: "r4")
        let root = try XMLReader().read(e.body.readableBytesView)
        #expect(root.name == "Error")
        #expect(root.children.map(\.name) == ["Code", "Message", "BucketName", "RequestId", "HostId"])
        #expect(root.first("BucketName")?.text == "b")
        #expect(root.first("HostId")?.text == WireProtocol.hostID)
        // S3's id headers, not the JSON services' x-amzn-RequestId.
        #expect(self.header(e, "x-amz-request-id") == "r4")
        #expect(self.header(e, "x-amz-id-2") == WireProtocol.hostID)
        #expect(self.header(e, "x-amzn-RequestId") == nil)
    }

    @Test func rpcV2CBORErrorsAreCBORMaps() throws {
        let e = WireProtocol.rpcV2CBOR.encode(self.error, service: nil, requestID: "r5")
        #expect(self.header(e, "smithy-protocol") == "rpc-v2-cbor")
        #expect(self.header(e, "Content-Type") == "application/cbor")
        let decoded = try CBORDecoder().decode(e.body.readableBytesView).jsonValue()
        #expect(decoded["__type"] == "ResourceNotFoundException")
        #expect(decoded["Message"] == "Function not found: x")
    }

    @Test func bytesPassThroughWithTheirContentType() {
        let e = WireProtocol.restJSON.encode(
            .bytes(200, ByteBuffer(string: "raw"), contentType: "application/zip", headers: [("X-Amz-Executed-Version", "1")]),
            operation: "X", service: Self.service(.restJSON), requestID: "r")
        #expect(self.text(e) == "raw")
        #expect(self.header(e, "Content-Type") == "application/zip")
        #expect(self.header(e, "X-Amz-Executed-Version") == "1")
    }

    @Test func inputsDecodePerProtocolAndMalformedBodiesAreSerializationErrors() throws {
        #expect(try WireProtocol.json(version: "1.1").decodeInput(ByteBuffer(string: #"{"a":1}"#), form: []) == ["a": 1])
        #expect(try WireProtocol.json(version: "1.1").decodeInput(ByteBuffer(), form: []) == .object([:]))
        #expect(try WireProtocol.restJSON.decodeInput(ByteBuffer(string: "{"), form: []) == nil)
        let cbor = CBORValue.map([.init("Namespace", "App")]).encoded()
        #expect(try WireProtocol.rpcV2CBOR.decodeInput(ByteBuffer(bytes: cbor), form: []) == ["Namespace": "App"])
        let form = try WireProtocol.query.decodeInput(
            ByteBuffer(), form: [("Action", "SendMessage"), ("MessageAttribute.1.Name", "a"), ("MessageAttribute.1.Value.StringValue", "b")])
        #expect(form?["MessageAttribute"]?.arrayValue?.first?["Name"] == "a")
        for (wire, body) in [(WireProtocol.json(version: "1.0"), Array("{nope".utf8)), (.rpcV2CBOR, [0xbf, 0xff, 0x00, 0x61])] {
            do {
                _ = try wire.decodeInput(ByteBuffer(bytes: body), form: [])
                Issue.record("\(wire) accepted a malformed body")
            } catch let error as ServiceError {
                #expect(error.code == "SerializationException")
                #expect(error.status == 400)
            }
        }
    }
}
