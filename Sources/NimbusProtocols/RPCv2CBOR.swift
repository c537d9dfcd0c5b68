/// The fixed parts of the `smithy-rpc-v2-cbor` protocol (Smithy's `smithy.protocols#rpcv2Cbor`), as botocore speaks
/// it for CloudWatch: requests are `POST {prefix}/service/{ServiceName}/operation/{OperationName}` with a CBOR body;
/// responses, successful (200) or not, carry the same `smithy-protocol` header and a CBOR body.
public enum RPCv2CBOR {
    /// The header every request and response carries…
    public static let protocolHeaderName = "smithy-protocol"
    /// …with this value.
    public static let protocolHeaderValue = "rpc-v2-cbor"
    /// The `Content-Type` (and `Accept`) of buffered bodies.
    public static let contentType = "application/cbor"

    /// An error body: a map of `__type` (the error's absolute shape ID, e.g.
    /// `com.amazonaws.cloudwatch#ResourceNotFound`) followed by the error's members in the order given. Clients take
    /// the error code from `__type` (botocore keeps what follows `#`) and the message from `message` or `Message`;
    /// `X-Amzn-ErrorType` is not used by this protocol.
    public static func errorBody(type shapeID: String, members: [(name: String, value: CBORValue)]) -> [UInt8] {
        let entries =
            [CBORValue.Entry("__type", .text(shapeID))] + members.map { CBORValue.Entry(.text($0.name), $0.value) }
        return CBORValue.map(entries).encoded()
    }
}
