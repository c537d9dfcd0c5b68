/// The canonical form of a request, exactly as AWS computes it:
///
/// ```
/// <method>\n<canonical URI>\n<canonical query>\n<canonical headers>\n<signed headers>\n<payload hash>
/// ```
public struct CanonicalRequest: Sendable, Equatable {
    /// The canonical request's text.
    public let text: String

    /// The canonical request of `request`, signing `signedHeaders` (lower-case names, in order) and `payloadHash`.
    /// - Parameter excludedQueryParameter: a parameter left out of the canonical query (`X-Amz-Signature` of a
    ///   presigned URL).
    public init(
        _ request: SigV4Request, signedHeaders: [String], payloadHash: String, options: SigV4.Options,
        excludedQueryParameter: String? = nil
    ) {
        self.text = [
            request.method,
            Self.canonicalURI(request.path, options: options),
            Self.canonicalQuery(request.query, excluding: excludedQueryParameter),
            Self.canonicalHeaders(request, signedHeaders: signedHeaders),
            signedHeaders.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    /// The hex SHA-256 of the text: the last line of the string to sign.
    public var hash: String { sha256Hex(Array(self.text.utf8)) }

    /// `AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hash>`.
    public func stringToSign(timestamp: SigV4Timestamp, scope: CredentialScope) -> String {
        "\(SigV4.algorithm)\n\(timestamp.basic)\n\(scope.scope)\n\(self.hash)"
    }

    // MARK: Canonical URI

    /// The path, normalised and encoded once more (every service but S3), or as sent (S3).
    static func canonicalURI(_ path: String, options: SigV4.Options) -> String {
        var path = path.isEmpty ? "/" : path
        if options.normalizesPath { path = Self.removingDotSegments(path) }
        return options.doubleEncodesPath ? PercentEncoding.encode(path.utf8, keepingSlash: true) : path
    }

    /// RFC 3986's remove_dot_segments plus what AWS adds: empty segments (repeated slashes) dropped too. A leading
    /// slash is kept, and a trailing one when any segment remains.
    static func removingDotSegments(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        let leading = path.hasPrefix("/") ? "/" : ""
        let trailing = path.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return leading + segments.joined(separator: "/") + trailing
    }

    // MARK: Canonical query

    /// Each parameter decoded, then `UriEncode`d (unreserved characters bare, space as `%20`), sorted by name then
    /// value, joined with `&`; a parameter without `=` gets an empty value.
    static func canonicalQuery(_ query: String?, excluding excluded: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        var parameters: [(name: String, value: String)] = []
        for component in query.utf8.split(separator: UInt8(ascii: "&")) {
            let (rawName, rawValue) = PercentEncoding.splitPair(component)
            let name = PercentEncoding.decode(rawName)
            if let excluded, name.elementsEqual(excluded.utf8) { continue }
            parameters.append(
                (
                    PercentEncoding.encode(name, keepingSlash: false),
                    PercentEncoding.encode(PercentEncoding.decode(rawValue), keepingSlash: false)
                ))
        }
        // Encoded names and values are ASCII, so String order is byte order.
        parameters.sort { $0.name == $1.name ? $0.value < $1.value : $0.name < $1.name }
        return parameters.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    // MARK: Canonical headers

    /// `name:value\n` for each signed header: repeated fields joined with `,`, each value trimmed and its inner runs
    /// of whitespace collapsed to one space.
    static func canonicalHeaders(_ request: SigV4Request, signedHeaders: [String]) -> String {
        var lines = ""
        for name in signedHeaders {
            let values = request.headerValues(name).map(Self.trimmingAll)
            lines += "\(name):\(values.joined(separator: ","))\n"
        }
        return lines
    }

    /// SigV4's Trimall: no leading or trailing whitespace, single spaces inside (obsolete line folds included).
    static func trimmingAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
            .joined(separator: " ")
    }
}
