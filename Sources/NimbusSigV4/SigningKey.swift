import Crypto
import FoundationEssentials

/// The key a secret derives for one scope (day, region, service): `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date),
/// region), service), "aws4_request")`. It signs the request and every chunk and trailer of its body.
public struct SigningKey: Sendable {
    /// The scope the key was derived for; its access key id is the one it signs as.
    public let scope: CredentialScope
    /// The derived key's bytes (`SymmetricKey` is not `Sendable`).
    private let key: [UInt8]

    /// Derives the key of `scope` from the secret access key.
    public init(secretAccessKey: String, scope: CredentialScope) {
        var key = Array("AWS4\(secretAccessKey)".utf8)
        for element in [scope.date, scope.region, scope.service, SigV4.scopeTerminator] {
            key = Self.hmac(key: key, Array(element.utf8))
        }
        self.scope = scope
        self.key = key
    }

    /// The hex signature of a string to sign.
    public func signature(of stringToSign: String) -> String {
        Hex.encode(Self.hmac(key: self.key, Array(stringToSign.utf8)))
    }

    /// Whether `provided` is the signature of `stringToSign`, compared in constant time.
    func isSignature(_ provided: String, of stringToSign: String) -> Bool {
        Self.constantTimeEquals(Array(provided.utf8), Array(self.signature(of: stringToSign).utf8))
    }

    private static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// Compares every byte whatever the first difference, so the time taken does not tell where it is.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

/// The hex SHA-256 of bytes, as canonical requests and strings to sign carry it.
func sha256Hex(_ bytes: some DataProtocol) -> String {
    Hex.encode(SHA256.hash(data: bytes))
}
