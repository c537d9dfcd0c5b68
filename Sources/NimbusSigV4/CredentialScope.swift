/// A signature's `Credential`: who signed (the access key id) and for which day, region and service. Readable
/// before any secret is known, so the edge can route the request and pick its account and region first.
public struct CredentialScope: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    /// `yyyyMMdd`, the date part of the request's `X-Amz-Date`.
    public var date: String
    public var region: String
    /// The signing name of the service: `lambda`, `logs`, `sts`, `s3`, `sqs`, ….
    public var service: String

    public init(accessKeyID: String, date: String, region: String, service: String) {
        self.accessKeyID = accessKeyID
        self.date = date
        self.region = region
        self.service = service
    }

    /// `20150830/us-east-1/service/aws4_request`: the third line of the string to sign.
    public var scope: String {
        "\(self.date)/\(self.region)/\(self.service)/\(SigV4.scopeTerminator)"
    }

    /// `AKIDEXAMPLE/20150830/us-east-1/service/aws4_request`: the `Credential` value.
    public var credential: String {
        "\(self.accessKeyID)/\(self.scope)"
    }

    public var description: String { self.credential }

    /// The scope of a `Credential` value, whose terminator must be `aws4_request`.
    static func parse(
        _ credential: String, malformed: ([MalformedAuthorization.Problem]) -> SigV4Error
    ) throws(SigV4Error) -> CredentialScope {
        let elements = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard elements.count == 5, !elements[0...3].contains(where: \.isEmpty) else {
            throw malformed([.malformedCredential(credential)])
        }
        guard elements[4] == SigV4.scopeTerminator else { throw malformed([.invalidTerminator(String(elements[4]))]) }
        return CredentialScope(
            accessKeyID: String(elements[0]), date: String(elements[1]), region: String(elements[2]),
            service: String(elements[3]))
    }
}
