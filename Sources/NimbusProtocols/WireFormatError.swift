/// Why a wire-format codec refused its input.
///
/// NimbusProtocols owns the wire formats of the AWS protocols other than JSON, as pure values: CBOR for
/// `smithy-rpc-v2-cbor` (``CBORValue``, ``CBORDecoder``), XML for `rest-xml` and `query` responses (``XML/Element``,
/// ``XMLReader``, ``XMLMapping``) and the `query` protocol's form encoding (``QueryForm``). It does no I/O and knows
/// no HTTP: routing, status codes and AWS error shapes belong to the service edge, which maps this error's ``code`` to
/// the AWS error of the protocol at hand (e.g. S3's `MalformedXML`, Smithy's `SerializationException`).
///
/// Every codec entry point throws only this type, and never crashes or allocates in proportion to a length the input
/// merely claims.
public struct WireFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, stable for logs and for the edge's mapping to AWS errors.
    public enum Code: String, Sendable {
        /// The bytes are not well-formed CBOR (RFC 8949), or not valid CBOR (invalid UTF-8, duplicate map keys).
        case malformedCBOR
        /// The bytes are not well-formed XML 1.0, or use something the reader refuses (a DTD, an undefined entity).
        case malformedXML
        /// The form (`application/x-www-form-urlencoded`) is malformed or its parameter names are inconsistent.
        case malformedForm
        /// The input is larger or deeper than the configured limit.
        case limitExceeded
        /// A well-formed value has no representation in the target format (e.g. a CBOR map with integer keys as JSON).
        case unrepresentable
    }

    /// The kind of failure.
    public var code: Code
    /// Operator-facing detail: what was wrong and where (byte offset, line, parameter name or limit).
    public var message: String

    /// An error of kind `code` with an operator-facing `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`, for logs.
    public var description: String { "\(self.code.rawValue): \(self.message)" }
}
