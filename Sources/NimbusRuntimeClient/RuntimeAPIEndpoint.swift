/// The Runtime API address taken from `AWS_LAMBDA_RUNTIME_API`: `host:port` with no scheme.
///
/// The host may be an IPv4 literal, a bracketed IPv6 literal (`[::1]:9001`) or a name.
struct RuntimeAPIEndpoint: Sendable, Equatable {
    /// The host without brackets, e.g. `127.0.0.1` or `::1`.
    var host: String
    /// The TCP port.
    var port: UInt16
    /// The value sent in the `Host` header: the variable's text exactly as given.
    var hostHeader: String

    /// Parses `host:port`.
    ///
    /// - Throws: ``RuntimeClientError`` with code `invalidEndpoint` when the text is not `host:port`.
    init(parsing text: String) throws {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.contains("/") else {
            throw RuntimeClientError(
                .invalidEndpoint,
                "AWS_LAMBDA_RUNTIME_API '\(text)' must be host:port with no scheme"
            )
        }
        guard let colon = trimmed.lastIndex(of: ":") else {
            throw RuntimeClientError(.invalidEndpoint, "AWS_LAMBDA_RUNTIME_API '\(text)' is not host:port")
        }
        var host = String(trimmed[trimmed.startIndex..<colon])
        let portText = trimmed[trimmed.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
            host = String(host.dropFirst().dropLast())
        }
        guard !host.isEmpty, let port = UInt16(portText), port != 0 else {
            throw RuntimeClientError(.invalidEndpoint, "AWS_LAMBDA_RUNTIME_API '\(text)' is not host:port")
        }
        self.host = host
        self.port = port
        self.hostHeader = trimmed
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs, CR and LF.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let first = self.firstIndex(where: { !isSpace($0) }),
            let last = self.lastIndex(where: { !isSpace($0) })
        else {
            return ""
        }
        return String(self[first...last])
    }
}
