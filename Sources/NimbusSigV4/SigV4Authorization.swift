/// A request's SigV4 signature as the client gave it, in the `Authorization` header or in a presigned URL's query.
/// Parsing needs no secret: the edge reads the ``scope`` to route the request and to pick the account, region and
/// secret, then hands this value to ``SigV4Verifier``.
public struct SigV4Authorization: Sendable, Equatable {
    /// Where the signature was given.
    public enum Form: Sendable, Equatable {
        /// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
        case header
        /// `X-Amz-Algorithm=…&X-Amz-Credential=…&…&X-Amz-Signature=…`, valid for `expiresIn` seconds.
        case presigned(expiresIn: Int)
    }

    public var form: Form
    public var scope: CredentialScope
    /// The signed headers' names, in the client's order (lower-case, sorted, when the client is right).
    public var signedHeaders: [String]
    /// The hex signature.
    public var signature: String
    /// `X-Amz-Date` (or the `Date` header's time): the second line of the string to sign.
    public var timestamp: SigV4Timestamp
    /// `X-Amz-Security-Token` (query of a presigned URL, else header): temporary credentials' session token.
    public var sessionToken: String?

    public init(
        form: Form, scope: CredentialScope, signedHeaders: [String], signature: String, timestamp: SigV4Timestamp,
        sessionToken: String? = nil
    ) {
        self.form = form
        self.scope = scope
        self.signedHeaders = signedHeaders
        self.signature = signature
        self.timestamp = timestamp
        self.sessionToken = sessionToken
    }

    /// The access key id that signed.
    public var accessKeyID: String { self.scope.accessKeyID }

    /// Whether the signature came in a presigned URL.
    public var isPresigned: Bool {
        if case .presigned = self.form { return true }
        return false
    }

    /// The signature of `request`.
    /// - Throws: ``SigV4Error/missingAuthentication`` when the request carries none,
    ///   ``SigV4Error/malformedAuthorization(_:)`` when it is incomplete or malformed.
    public init(parsing request: SigV4Request) throws(SigV4Error) {
        let header = request.header("Authorization")
        let query = request.queryParameters
        let isPresigned = query.contains { Self.presignedMarkers.contains($0.name) }
        switch (header, isPresigned) {
        case (nil, false):
            throw .missingAuthentication
        case (let header?, true):
            throw .malformedAuthorization(
                MalformedAuthorization(form: .header, problems: [.conflictingMechanisms], authorization: header))
        case (let header?, false):
            self = try Self.parseHeader(header, of: request)
        case (nil, true):
            self = try Self.parseQuery(query, of: request)
        }
    }

    private static let presignedMarkers: Set<String> = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"]

    // MARK: Authorization header

    private static func parseHeader(_ header: String, of request: SigV4Request) throws(SigV4Error) -> Self {
        func malformed(_ problems: [MalformedAuthorization.Problem]) -> SigV4Error {
            .malformedAuthorization(MalformedAuthorization(form: .header, problems: problems, authorization: header))
        }
        let (algorithm, rest) = Self.splitAlgorithm(header)
        if algorithm != SigV4.algorithm && algorithm.hasPrefix("AWS4-") {
            throw malformed([.unsupportedAlgorithm(String(algorithm))])
        }
        // Anything but SigV4 (`Bearer …`, SigV2's `AWS key:signature`) reads as a header missing every parameter,
        // which is how AWS answers it.
        var parameters: [Substring: Substring] = [:]
        if algorithm == SigV4.algorithm {
            for element in rest.split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
                guard let equals = element.firstIndex(of: "=") else {
                    throw malformed([.notKeyValuePair(String(element))])
                }
                let name = element[..<equals]
                if parameters[name] == nil { parameters[name] = element[element.index(after: equals)...] }
            }
        }
        var problems: [MalformedAuthorization.Problem] = []
        for name in ["Credential", "Signature", "SignedHeaders"] where parameters[Substring(name)] == nil {
            problems.append(.missingParameter(name))
        }
        let timestamp = Self.timestamp(of: request, problems: &problems)
        guard problems.isEmpty, let credential = parameters["Credential"], let signature = parameters["Signature"],
            let signedHeaders = parameters["SignedHeaders"], let timestamp
        else { throw malformed(problems) }
        let (scope, names) = try Self.validate(
            credential: String(credential), signedHeaders: String(signedHeaders), timestamp: timestamp,
            malformed: malformed)
        return Self(
            form: .header, scope: scope, signedHeaders: names, signature: String(signature), timestamp: timestamp,
            sessionToken: request.header("X-Amz-Security-Token"))
    }

    /// `X-Amz-Date`, else the `Date` header; a problem when neither is there or the one there does not parse.
    private static func timestamp(
        of request: SigV4Request, problems: inout [MalformedAuthorization.Problem]
    ) -> SigV4Timestamp? {
        if let amzDate = request.header("X-Amz-Date") {
            guard let timestamp = SigV4Timestamp(basic: amzDate) else {
                problems.append(.malformedDate(amzDate))
                return nil
            }
            return timestamp
        }
        guard let date = request.header("Date") else {
            problems.append(.missingDate)
            return nil
        }
        guard let timestamp = SigV4Timestamp(httpDate: date) else {
            problems.append(.malformedDate(date))
            return nil
        }
        return timestamp
    }

    /// The first word of the header and what follows it.
    private static func splitAlgorithm(_ header: String) -> (Substring, Substring) {
        let trimmed = header.drop(while: \.isWhitespace)
        guard let space = trimmed.firstIndex(where: \.isWhitespace) else { return (trimmed, "") }
        return (trimmed[..<space], trimmed[space...])
    }

    // MARK: Presigned query

    private static func parseQuery(
        _ query: [(name: String, value: String)], of request: SigV4Request
    ) throws(SigV4Error) -> Self {
        func malformed(_ problems: [MalformedAuthorization.Problem]) -> SigV4Error {
            .malformedAuthorization(
                MalformedAuthorization(form: .query, problems: problems, authorization: request.query ?? ""))
        }
        func parameter(_ name: String) -> String? { query.first { $0.name == name }?.value }
        let required = [
            "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders",
            "X-Amz-Expires",
        ]
        let missing = required.filter { parameter($0) == nil }
        guard missing.isEmpty, let algorithm = parameter("X-Amz-Algorithm"),
            let credential = parameter("X-Amz-Credential"), let signature = parameter("X-Amz-Signature"),
            let date = parameter("X-Amz-Date"), let signedHeaders = parameter("X-Amz-SignedHeaders"),
            let expires = parameter("X-Amz-Expires")
        else { throw malformed(missing.map { .missingParameter($0) }) }
        guard algorithm == SigV4.algorithm else { throw malformed([.unsupportedAlgorithm(algorithm)]) }
        guard let timestamp = SigV4Timestamp(basic: date) else { throw malformed([.malformedDate(date)]) }
        guard let expiresIn = Int(expires), (1...SigV4.maximumPresignedExpiry).contains(expiresIn) else {
            throw malformed([.invalidExpires(expires)])
        }
        let (scope, names) = try Self.validate(
            credential: credential, signedHeaders: signedHeaders, timestamp: timestamp, malformed: malformed)
        return Self(
            form: .presigned(expiresIn: expiresIn), scope: scope, signedHeaders: names, signature: signature,
            timestamp: timestamp,
            sessionToken: parameter("X-Amz-Security-Token") ?? request.header("X-Amz-Security-Token"))
    }

    // MARK: Both forms

    /// The scope (terminated by `aws4_request`, dated the request's day) and the signed headers (`host` among them).
    private static func validate(
        credential: String, signedHeaders: String, timestamp: SigV4Timestamp,
        malformed: ([MalformedAuthorization.Problem]) -> SigV4Error
    ) throws(SigV4Error) -> (CredentialScope, [String]) {
        let scope = try CredentialScope.parse(credential, malformed: malformed)
        guard scope.date == timestamp.day else {
            throw malformed([.scopeDateMismatch(scopeDate: scope.date, requestTimestamp: timestamp.basic)])
        }
        let names = signedHeaders.split(separator: ";").map(String.init)
        guard names.contains(where: { $0.lowercased() == "host" || $0 == ":authority" }) else {
            throw malformed([.hostNotSigned])
        }
        return (scope, names)
    }
}
