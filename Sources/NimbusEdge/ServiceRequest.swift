import Foundation
import NIOCore
import NimbusCore

/// One call of a service operation, decoded by the edge: what the service may read of the request. Services never
/// see HTTP; they read labels, query parameters, headers and the body through this value.
public struct ServiceRequest: Sendable {
    /// The operation's name as the service declared it (`CreateFunction`, `FilterLogEvents`).
    public var operation: String
    /// The (account, region) the request acts in: the caller's account and the region of its credential scope.
    public var namespace: AccountContext
    /// Who signed the request (or the anonymous caller with `--auth none`).
    public var caller: Caller
    /// `x-amzn-RequestId` of the response.
    public var requestID: String
    /// URI labels of rest protocols (`{FunctionName}` → value, percent-decoded).
    public var labels: [String: String]
    /// Decoded query parameters, in order, repeated names kept.
    public var query: [(String, String)]
    /// Request headers with lower-cased names, in order.
    public var headers: [(String, String)]
    /// The request body, collected up to the operation's limit (and decoded from aws-chunked framing).
    public var body: ByteBuffer
    /// The body as it arrives, for operations that stream it (``ServiceOperation/streamsBody``); ``body`` is then
    /// empty.
    public var bodyStream: RequestBodyStream?
    /// The body as a document, decoded by the protocol: json and rpc-v2-cbor bodies, query-protocol forms (dotted
    /// names nested, `.N` indices as arrays). Nil for rest protocols, whose operations bind their own input.
    public var input: JSONValue?
    /// The `Host` (authority) the client addressed.
    public var host: String
    /// The event loop of the connection the request came on (the invoker prefers environments on it).
    public var eventLoop: (any EventLoop)?
    /// The request as sent, for ``WireProtocol/http`` services (function URLs, API Gateway's invoke endpoints).
    public var http: HTTPExchange?
    /// What the edge found of a signature, for ``WireProtocol/http`` services: they decide whether one is needed.
    /// Every other service's requests were authenticated before they got here (`.notChecked`).
    public var signature: SignatureCheck = .notChecked

    public init(
        operation: String, namespace: AccountContext, caller: Caller, requestID: String,
        labels: [String: String] = [:], query: [(String, String)] = [], headers: [(String, String)] = [],
        body: ByteBuffer = ByteBuffer(), input: JSONValue? = nil, host: String = "127.0.0.1",
        eventLoop: (any EventLoop)? = nil
    ) {
        self.input = input
        self.operation = operation
        self.namespace = namespace
        self.caller = caller
        self.requestID = requestID
        self.labels = labels
        self.query = query
        self.headers = headers
        self.body = body
        self.host = host
        self.eventLoop = eventLoop
    }

    /// The request line and connection of a request to a ``WireProtocol/http`` service.
    public struct HTTPExchange: Sendable {
        public var method: String
        /// The path exactly as sent (still percent-encoded).
        public var rawPath: String
        /// The query string as sent, without `?` (empty when there is none).
        public var rawQuery: String
        /// `HTTP/1.1`.
        public var protocolVersion: String
        /// The peer's address (`127.0.0.1`).
        public var sourceIP: String

        public init(method: String, rawPath: String, rawQuery: String, protocolVersion: String, sourceIP: String) {
            self.method = method
            self.rawPath = rawPath
            self.rawQuery = rawQuery
            self.protocolVersion = protocolVersion
            self.sourceIP = sourceIP
        }
    }

    /// A signature's verdict, whatever `--auth` says: an IAM-authenticated function URL must refuse unsigned and
    /// tampered requests even on a server that accepts any.
    public enum SignatureCheck: Sendable {
        /// Not an ``WireProtocol/http`` service: the edge authenticated the request by `--auth`.
        case notChecked
        /// The request carries no signature.
        case absent
        /// A valid signature of a known key, with its credential scope's service and region;
        /// ``ServiceRequest/caller`` and ``ServiceRequest/namespace`` are its.
        case valid(service: String, region: String)
        /// A signature that does not verify (wrong key, tampered request, expired), in the JSON services' words.
        case invalid(ServiceError)
    }

    public func queryValue(_ name: String) -> String? {
        self.query.first { $0.0 == name }?.1
    }

    public func queryValues(_ name: String) -> [String] {
        self.query.filter { $0.0 == name }.map(\.1)
    }

    /// The first header of that name (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return self.headers.first { $0.0 == lower }?.1
    }

    public func label(_ name: String) -> String {
        self.labels[name] ?? ""
    }

}

/// The principal behind a request's access key.
public struct Caller: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// No signature was checked (`--auth none`).
        case anonymous
        /// The operator's key pair.
        case operatorKey
        /// A function's temporary credentials: its execution role, assumed by the function.
        case function(name: String, roleARN: String)
    }

    public var kind: Kind
    public var accessKeyID: String
    public var account: String

    public init(kind: Kind, accessKeyID: String, account: String) {
        self.kind = kind
        self.accessKeyID = accessKeyID
        self.account = account
    }

    /// The ARN STS `GetCallerIdentity` reports: the account's root for the operator (and anonymous callers), the
    /// assumed role session `arn:aws:sts::<account>:assumed-role/<role name>/<function name>` for a function.
    public var arn: String {
        switch self.kind {
        case .anonymous, .operatorKey:
            return "arn:aws:iam::\(self.account):root"
        case .function(let name, let roleARN):
            let roleName = roleARN.split(separator: "/").last.map(String.init) ?? roleARN
            return "arn:aws:sts::\(self.account):assumed-role/\(roleName)/\(name)"
        }
    }

    /// `UserId` of `GetCallerIdentity`: the account for its root, `<role id>:<session name>` for a role session.
    public var userID: String {
        switch self.kind {
        case .anonymous, .operatorKey: return self.account
        case .function(let name, let roleARN):
            return "AROA\(Caller.roleID(roleARN)):\(name)"
        }
    }

    /// A stable 17-character role id derived from the role ARN (AWS's are random but stable per role).
    static func roleID(_ roleARN: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in roleARN.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var out = ""
        for i in 0..<17 { out.append(alphabet[Int((hash >> UInt64((i * 5) % 60)) & 31)]) }
        return out
    }
}
