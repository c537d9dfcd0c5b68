import NimbusCore

/// An `application/x-www-form-urlencoded` body or a query string, as the `query` protocol (STS, SNS, SQS's older
/// protocol) sends its parameters: `Action=SendMessage&Version=2012-11-05&MessageAttribute.1.Name=a&…`.
///
/// ``parameters`` is the flat, ordered list, repeated names kept. ``structured()`` is the view a service reads members
/// from: dotted names become nested objects and the `.N` index segments become arrays ordered by N, so
/// `Tags.member.1.Key=a` reads as `{"Tags":{"member":[{"Key":"a"}]}}`. Values are always strings: only the model
/// knows which are numbers.
public struct QueryForm: Sendable, Hashable {
    /// One decoded `name=value` pair.
    public struct Parameter: Sendable, Hashable {
        /// The decoded name, e.g. `MessageAttribute.1.Name`.
        public var name: String
        /// The decoded value; empty for a bare `name`.
        public var value: String

        /// The pair `name=value`.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Bounds on what a form may hold.
    public struct Limits: Sendable, Hashable {
        /// The most parameters in one form (SQS's SendMessageBatch with ten messages of ten attributes needs ~500).
        public var maximumParameters: Int
        /// The largest `.N` index in ``QueryForm/structured()``. Arrays hold only the indices present, so this is a
        /// sanity bound, not an allocation size.
        public var maximumIndex: Int
        /// The most dotted segments in one parameter name.
        public var maximumDepth: Int

        /// Limits generous for every AWS query-protocol request.
        public init(maximumParameters: Int = 10_000, maximumIndex: Int = 10_000, maximumDepth: Int = 16) {
            self.maximumParameters = maximumParameters
            self.maximumIndex = maximumIndex
            self.maximumDepth = maximumDepth
        }
    }

    /// The pairs in their order in the form.
    public var parameters: [Parameter]
    /// The limits ``structured()`` applies (decoding has applied `maximumParameters` already).
    public var limits: Limits

    /// A form of already-decoded parameters.
    public init(_ parameters: [Parameter], limits: Limits = Limits()) {
        self.parameters = parameters
        self.limits = limits
    }

    /// Decodes a form: pairs separated by `&` (empty ones skipped), `name=value` or a bare `name` (empty value),
    /// percent-escapes decoded and `+` read as a space, the result required to be UTF-8.
    /// - Throws: ``WireFormatError`` `malformedForm` for a bad escape or invalid UTF-8, `limitExceeded` for too many
    ///   parameters.
    public init(decoding form: some Collection<UInt8>, limits: Limits = Limits()) throws {
        let bytes = Array(form)
        var parameters: [Parameter] = []
        var start = 0
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.count
            defer { start = end + 1 }
            guard end > start else { continue }
            guard parameters.count < limits.maximumParameters else {
                throw WireFormatError(.limitExceeded, "the form has more than \(limits.maximumParameters) parameters")
            }
            let pair = bytes[start..<end]
            let separator = pair.firstIndex(of: UInt8(ascii: "="))
            let position = parameters.count + 1
            let name = try Self.percentDecoded(pair[..<(separator ?? end)], position: position)
            let value = try separator.map { try Self.percentDecoded(pair[($0 + 1)...], position: position) } ?? ""
            parameters.append(Parameter(name, value))
        }
        self.init(parameters, limits: limits)
    }

    /// The value of the first parameter with this name.
    public subscript(name: String) -> String? { self.parameters.first { $0.name == name }?.value }

    /// The values of every parameter with this name, in order.
    public func values(named name: String) -> [String] { self.parameters.filter { $0.name == name }.map(\.value) }

    static func percentDecoded(_ bytes: some Collection<UInt8>, position: Int) throws(WireFormatError) -> String {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                decoded.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Self.hexValue),
                    let low = iterator.next().flatMap(Self.hexValue)
                else {
                    throw WireFormatError(
                        .malformedForm,
                        "parameter \(position) has a \"%\" not followed by two hex digits"
                    )
                }
                decoded.append(high << 4 | low)
            default:
                decoded.append(byte)
            }
        }
        guard let text = String(validating: decoded, as: UTF8.self) else {
            throw WireFormatError(.malformedForm, "parameter \(position) is not valid UTF-8 once decoded")
        }
        return text
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
