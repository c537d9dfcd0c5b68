/// The status line and headers of an HTTP/1.x response.
struct HTTPResponseHead: Sendable {
    /// The status code, e.g. 200.
    var status: Int
    /// `true` for `HTTP/1.0` responses.
    var isHTTP10: Bool
    /// Headers in arrival order; names are lowercased, values have surrounding whitespace removed.
    var headers: [(name: String, value: String)]

    /// The first value of the header named `lowercasedName`.
    func value(of lowercasedName: String) -> String? {
        self.headers.first { $0.name == lowercasedName }?.value
    }

    /// Whether the connection may carry another request after this response.
    var allowsReuse: Bool {
        let connection = self.value(of: "connection")?.lowercased()
        if self.isHTTP10 {
            return connection == "keep-alive"
        }
        return connection != "close"
    }

    /// Whether the body uses `Transfer-Encoding: chunked`.
    var isChunked: Bool {
        guard let encoding = self.value(of: "transfer-encoding") else { return false }
        return encoding.lowercased().contains("chunked")
    }

    /// Parses a response head: everything before the blank line, without the final CRLF CRLF.
    ///
    /// - Throws: ``RuntimeClientError`` with code `malformedResponse`.
    init(parsing bytes: ArraySlice<UInt8>) throws {
        var lines = Self.splitLines(bytes)
        guard !lines.isEmpty else {
            throw RuntimeClientError(.malformedResponse, "empty response head")
        }
        let statusLine = lines.removeFirst()
        // "HTTP/1.1 200 OK": version, space, three digits, then an optional reason.
        let prefix: [UInt8] = Array("HTTP/1.".utf8)
        guard statusLine.count >= 12, statusLine.starts(with: prefix),
            statusLine[statusLine.startIndex + 8] == UInt8(ascii: " ")
        else {
            throw RuntimeClientError(
                .malformedResponse,
                "bad status line '\(String(decoding: statusLine, as: UTF8.self))'"
            )
        }
        var status = 0
        for byte in statusLine[(statusLine.startIndex + 9)..<(statusLine.startIndex + 12)] {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                throw RuntimeClientError(.malformedResponse, "bad status code")
            }
            status = status * 10 + Int(byte - UInt8(ascii: "0"))
        }
        self.status = status
        self.isHTTP10 = statusLine[statusLine.startIndex + 7] == UInt8(ascii: "0")
        self.headers = []
        self.headers.reserveCapacity(lines.count)
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw RuntimeClientError(.malformedResponse, "bad header line")
            }
            let name = String(decoding: line[line.startIndex..<colon].map(Self.lowercased), as: UTF8.self)
            let value = String(decoding: Self.trimmed(line[(colon + 1)...]), as: UTF8.self)
            self.headers.append((name: name, value: value))
        }
    }

    private static func splitLines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "\n") {
                var end = index
                if end > start && bytes[end - 1] == UInt8(ascii: "\r") {
                    end -= 1
                }
                lines.append(bytes[start..<end])
                start = index + 1
            }
            index += 1
        }
        if start < bytes.endIndex {
            var end = bytes.endIndex
            if bytes[end - 1] == UInt8(ascii: "\r") {
                end -= 1
            }
            lines.append(bytes[start..<end])
        }
        return lines
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
            let last = bytes.lastIndex(where: { !isSpace($0) })
        else {
            return bytes[bytes.startIndex..<bytes.startIndex]
        }
        return bytes[first...last]
    }
}

/// A complete HTTP response: head plus the decoded body.
struct HTTPResponse: Sendable {
    /// Status line and headers.
    var head: HTTPResponseHead
    /// The body, with any chunked framing removed.
    var body: [UInt8]

    /// The status code.
    var status: Int { self.head.status }

    /// Whether the status is 2xx.
    var isSuccess: Bool { (200..<300).contains(self.head.status) }
}
