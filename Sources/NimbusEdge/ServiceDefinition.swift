import NimbusCore

/// A service as the edge sees it: how requests reach it (signing names, JSON target prefix, RPC v2 name, virtual
/// hosts), which protocol it speaks, and its operations. Each service module builds one; the composition root
/// hands them all to ``ServiceEdge``.
public struct ServiceDefinition: Sendable {
    /// The service's name in messages (`lambda`, `logs`, `sts`).
    public var name: String
    /// SigV4 credential-scope service names that address this service.
    public var signingNames: [String]
    public var wire: WireProtocol
    /// `X-Amz-Target` prefix of json-protocol services (`Logs_20140328`).
    public var targetPrefix: String?
    /// The service shape name of rpc-v2-cbor services (`/service/<name>/operation/<op>`).
    public var rpcServiceName: String?
    /// The API version query-protocol requests carry (`Version=2011-06-15`).
    public var apiVersion: String?
    /// XML namespace of query-protocol responses.
    public var xmlNamespace: String?
    /// Virtual hosts (`<id>.lambda-url.<region>.<domain>`) that address this service whatever the path.
    public var hostRules: [HostRule]
    /// Where the service is reachable: admin routes never from inside a sandbox.
    public var exposure: Exposure
    /// The largest body any operation accepts before its operation is known (query protocol, unknown routes).
    public var defaultBodyLimit: Int
    public var operations: [ServiceOperation]

    public enum Exposure: Sendable {
        case everywhere
        case outsideOnly
    }

    public init(
        name: String, signingNames: [String], wire: WireProtocol, targetPrefix: String? = nil,
        rpcServiceName: String? = nil, apiVersion: String? = nil, xmlNamespace: String? = nil,
        hostRules: [HostRule] = [], exposure: Exposure = .everywhere, defaultBodyLimit: Int = 1_048_576,
        operations: [ServiceOperation]
    ) {
        self.name = name
        self.signingNames = signingNames
        self.wire = wire
        self.targetPrefix = targetPrefix
        self.rpcServiceName = rpcServiceName
        self.apiVersion = apiVersion
        self.xmlNamespace = xmlNamespace
        self.hostRules = hostRules
        self.exposure = exposure
        self.defaultBodyLimit = defaultBodyLimit
        self.operations = operations
    }

    func operation(named name: String) -> ServiceOperation? {
        self.operations.first { $0.name == name }
    }
}

/// One operation: its name, its HTTP binding for rest protocols, the largest body it accepts, and its handler.
public struct ServiceOperation: Sendable {
    public var name: String
    /// `(method, URI template)` for rest-json and rest-xml; nil for target- and action-addressed protocols.
    public var binding: HTTPBinding?
    public var bodyLimit: Int
    /// The operation name AWS's "Request must be smaller than … bytes for the X operation" uses, when it differs
    /// (Lambda's Invoke says `InvokeFunction`).
    public var limitName: String?
    /// Run the handler on the connection's event loop (Invoke: it suspends while the function runs and resumes
    /// where the response is written).
    public var onConnectionLoop: Bool
    /// The answer to a body over `bodyLimit`, for front doors whose own answer is not the AWS error (API Gateway's
    /// `413 {"message":"Request Entity Too Large"}`); nil for `RequestEntityTooLargeException`.
    public var tooLarge: ServiceResponse?
    /// The body is handed over as it arrives (``ServiceRequest/bodyStream``), verified as it streams, instead of
    /// collected first; `bodyLimit` then bounds the payload's size (S3's 5 GiB objects and parts).
    public var streamsBody: Bool
    public var handler: @Sendable (ServiceRequest) async throws -> ServiceResponse

    public init(
        _ name: String, _ binding: HTTPBinding? = nil, bodyLimit: Int = 1_048_576, limitName: String? = nil,
        onConnectionLoop: Bool = false, tooLarge: ServiceResponse? = nil, streamsBody: Bool = false,
        handler: @escaping @Sendable (ServiceRequest) async throws -> ServiceResponse
    ) {
        self.tooLarge = tooLarge
        self.streamsBody = streamsBody
        self.name = name
        self.binding = binding
        self.bodyLimit = bodyLimit
        self.limitName = limitName
        self.onConnectionLoop = onConnectionLoop
        self.handler = handler
    }
}

/// A rest operation's method and URI template, as botocore's `http.method` and `http.requestUri` declare them.
public struct HTTPBinding: Sendable {
    public var method: String
    public var template: URITemplate

    public init(_ method: String, _ template: String) {
        self.method = method
        self.template = URITemplate(template)
    }
}

/// Matches a Host header such as `abc123.lambda-url.us-east-1.localhost:9000`: a pattern of dot-separated labels,
/// `{name}` capturing one label, literal labels matched case-insensitively, any domain after the pattern.
public struct HostRule: Sendable {
    public var labels: [String]
    /// The captured label that stands for the path's first segment (S3's virtual-hosted `<bucket>.s3.<domain>/key`
    /// routes as path-style `/<bucket>/key`); nil for hosts that address the whole service (function URLs).
    public var pathLabel: String?

    public init(_ pattern: String, pathLabel: String? = nil) {
        self.labels = pattern.split(separator: ".").map(String.init)
        self.pathLabel = pathLabel
    }

    /// The captured labels when the host matches.
    public func match(_ host: String) -> [String: String]? {
        let name = host.split(separator: ":", maxSplits: 1).first.map(String.init) ?? host
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > self.labels.count else { return nil }
        var captured: [String: String] = [:]
        for (pattern, part) in zip(self.labels, parts) {
            if pattern.hasPrefix("{"), pattern.hasSuffix("}") {
                guard !part.isEmpty else { return nil }
                captured[String(pattern.dropFirst().dropLast())] = part
            } else if pattern.lowercased() != part.lowercased() {
                return nil
            }
        }
        return captured
    }
}
