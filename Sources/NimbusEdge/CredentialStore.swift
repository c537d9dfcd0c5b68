import Foundation
import NimbusCore
import Synchronization

/// The access keys the edge accepts: the operator's long-term key pair and the temporary credentials issued to
/// execution environments. Temporary credentials live in memory only: they die with the environments (and the
/// server) they were issued to.
public final class CredentialStore: Sendable {
    /// What a key is.
    public struct Entry: Sendable {
        public var secret: String
        public var caller: Caller
        /// The session token temporary credentials must present.
        public var sessionToken: String?
        public var expires: Date?
        /// The environment temporary credentials were issued to.
        public var environmentID: String?
        /// `<account>/<region>/<function name>`: the function whose role they carry.
        public var functionKey: String?
    }

    /// Temporary credentials as an environment receives them.
    public struct Temporary: Sendable, Equatable {
        public var accessKeyID: String
        public var secretAccessKey: String
        public var sessionToken: String
        public var expiration: Date
    }

    public let operatorKey: OperatorKey
    let entries = Mutex<[String: Entry]>([:])

    public init(operatorKey: OperatorKey) {
        self.operatorKey = operatorKey
        self.entries.withLock {
            $0[operatorKey.accessKeyID] = Entry(
                secret: operatorKey.secretAccessKey,
                caller: Caller(kind: .operatorKey, accessKeyID: operatorKey.accessKeyID, account: operatorKey.account))
        }
    }

    /// The entry for an access key id, if it is known and not expired.
    public func lookup(_ accessKeyID: String, now: Date = Date()) -> Entry? {
        guard let entry = self.entries.withLock({ $0[accessKeyID] }) else { return nil }
        if let expires = entry.expires, expires <= now { return nil }
        return entry
    }

    /// Issues credentials for an environment of a function: its account, its execution role, valid for `lifetime`.
    public func issue(
        function: String, roleARN: String, namespace: AccountContext, environmentID: String,
        lifetime: Duration = CredentialStore.temporaryLifetime, now: Date = Date()
    ) -> Temporary {
        let keyID = "ASIA" + Self.random(alphabet: Self.keyAlphabet, count: 16)
        let temporary = Temporary(
            accessKeyID: keyID, secretAccessKey: Self.random(alphabet: Self.secretAlphabet, count: 40),
            sessionToken: "NIMBUS" + Self.random(alphabet: Self.secretAlphabet, count: 180),
            expiration: now.addingTimeInterval(Double(lifetime.components.seconds)))
        let entry = Entry(
            secret: temporary.secretAccessKey,
            caller: Caller(
                kind: .function(name: function, roleARN: roleARN), accessKeyID: keyID, account: namespace.accountID),
            sessionToken: temporary.sessionToken, expires: temporary.expiration, environmentID: environmentID,
            functionKey: Self.functionKey(function, namespace))
        self.entries.withLock { $0[keyID] = entry }
        return temporary
    }

    /// Forgets the credentials of an environment that is gone.
    public func revoke(environmentID: String) {
        self.entries.withLock { $0 = $0.filter { $0.value.environmentID != environmentID } }
    }

    /// Forgets every credential of a deleted function, whichever environment holds them.
    public func revoke(function: String, namespace: AccountContext) {
        let key = Self.functionKey(function, namespace)
        self.entries.withLock { $0 = $0.filter { $0.value.functionKey != key } }
    }

    /// Environments are replaced before their credentials expire (the invoker retires idle environments after 11 hours).
    public static let temporaryLifetime: Duration = .seconds(12 * 3600)

    static func functionKey(_ function: String, _ namespace: AccountContext) -> String {
        "\(namespace.accountID)/\(namespace.region)/\(function)"
    }

    static let keyAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    static func random(alphabet: [Character], count: Int) -> String {
        Digest.random(from: alphabet, length: count)
    }
}

/// The operator's key pair: given on the command line or in the environment, or generated at first start into the
/// data directory (`credentials.json`, mode 0600) and printed by `serve`.
public struct OperatorKey: Sendable, Equatable, Codable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var account: String

    public init(accessKeyID: String, secretAccessKey: String, account: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.account = account
    }

    /// The key pair stored in `directory/credentials.json`, created with owner-only permissions when missing.
    /// - Returns: the key and whether it was generated now.
    public static func loadOrCreate(directory: String, account: String) throws -> (OperatorKey, created: Bool) {
        let path = "\(directory)/credentials.json"
        if let data = FileManager.default.contents(atPath: path) {
            var key = try JSONDecoder().decode(OperatorKey.self, from: data)
            key.account = account
            return (key, false)
        }
        let key = OperatorKey(
            accessKeyID: "AKIA" + CredentialStore.random(alphabet: CredentialStore.keyAlphabet, count: 16),
            secretAccessKey: CredentialStore.random(alphabet: CredentialStore.secretAlphabet, count: 40),
            account: account)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(key)
        // Created 0600 from the start (no window in which another user could read it), then renamed into place.
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == data.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return (key, true)
    }
}
