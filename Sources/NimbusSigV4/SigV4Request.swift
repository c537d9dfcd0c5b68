/// What signing and verification need of an HTTP request, exactly as it travels: nothing decoded, nothing
/// normalised. The edge builds one from the request it received (after collecting the body); the signer builds one
/// from the request it is about to send.
public struct SigV4Request: Sendable {
    /// `GET`, `PUT`, ….
    public var method: String
    /// The request-target's path as received, still percent-encoded (`/examplebucket/my%20photo.jpg`).
    public var path: String
    /// The raw query string as received, without the `?`; nil when the target has none.
    public var query: String?
    /// The header fields in order, repeated names kept, names as sent (any case).
    public var headers: [(name: String, value: String)]
    /// The complete body as received: for aws-chunked uploads, the framed bytes.
    public var body: [UInt8]

    public init(
        method: String, path: String, query: String? = nil, headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// A request whose target (`/path?query`) is split at its first `?`.
    public init(
        method: String, target: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) {
        if let mark = target.firstIndex(of: "?") {
            self.init(
                method: method, path: String(target[..<mark]), query: String(target[target.index(after: mark)...]),
                headers: headers, body: body)
        } else {
            self.init(method: method, path: target, headers: headers, body: body)
        }
    }

    /// The request-target: the path, then `?` and the query when there is one.
    public var target: String {
        guard let query = self.query else { return self.path }
        return "\(self.path)?\(query)"
    }

    /// Every value of the header `name` (case-insensitive), in order.
    public func headerValues(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return self.headers.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// The first value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return self.headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// The query's parameters, percent-decoded (`+` read as a space), in order, repeated names kept.
    public var queryParameters: [(name: String, value: String)] {
        guard let query = self.query else { return [] }
        return query.utf8.split(separator: UInt8(ascii: "&")).map { component in
            let (name, value) = PercentEncoding.splitPair(component)
            return (PercentEncoding.decodedString(name), PercentEncoding.decodedString(value))
        }
    }

    /// Appends a header field.
    public mutating func addHeader(_ name: String, _ value: String) {
        self.headers.append((name, value))
    }

    /// Removes every field of the header `name` (case-insensitive).
    public mutating func removeHeader(_ name: String) {
        let lowered = name.lowercased()
        self.headers.removeAll { $0.name.lowercased() == lowered }
    }
}
