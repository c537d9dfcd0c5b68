/// One keep-alive HTTP/1.1 client connection: writes a request, reads the matching response.
///
/// Responses are framed by `Content-Length`, by `Transfer-Encoding: chunked`, or by the end of the stream.
/// Interim 1xx responses are skipped. There is no read timeout: `/next` long-polls.
final class HTTPConnection {
    /// The largest response head accepted (status line plus headers).
    static let maximumHeadSize = 64 * 1024
    /// The largest body accepted; far above the Runtime API's 6 MB payload limit.
    static let maximumBodySize = 1 << 30
    /// Bodies at most this large are sent in the same write as the head.
    private static let coalescingLimit = 64 * 1024

    private let socket: TCPSocket
    /// Bytes received but not yet consumed live in `pending[pendingStart...]`.
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    /// `false` once the server asked to close, or the last body was delimited by the end of the stream.
    private(set) var isReusable = true

    /// Opens a TCP connection to `endpoint`.
    ///
    /// - Throws: ``RuntimeClientError`` with code `connectFailed`.
    init(endpoint: RuntimeAPIEndpoint) throws {
        self.socket = try TCPSocket.connected(to: endpoint)
        self.pending.reserveCapacity(self.scratch.count)
    }

    /// Sends one request and reads its response.
    ///
    /// - Parameters:
    ///   - head: the request line and headers, including the blank line.
    ///   - body: the request body (its `Content-Length` must be in `head`).
    /// - Throws: ``RuntimeClientError``; code `connectionClosed` means no byte of a response arrived, so the
    ///   request can be retried on a new connection.
    func roundTrip(head: [UInt8], body: [UInt8]) throws -> HTTPResponse {
        if body.isEmpty {
            try self.socket.writeAll(head)
        } else if body.count <= Self.coalescingLimit {
            try self.socket.writeAll(head + body)
        } else {
            try self.socket.writeAll(head, more: true)
            try self.socket.writeAll(body)
        }
        return try self.readResponse()
    }

    private func readResponse() throws -> HTTPResponse {
        var isFirstHead = true
        while true {
            let head = try self.readHead(isFirst: isFirstHead)
            isFirstHead = false
            if head.status >= 100 && head.status < 200 {
                continue
            }
            if !head.allowsReuse {
                self.isReusable = false
            }
            let body = try self.readBody(for: head)
            return HTTPResponse(head: head, body: body)
        }
    }

    // MARK: Framing

    private func readHead(isFirst: Bool) throws -> HTTPResponseHead {
        var searchFrom = self.pendingStart
        while true {
            if let end = self.findHeadEnd(from: searchFrom) {
                let head = try HTTPResponseHead(parsing: self.pending[self.pendingStart..<end])
                self.consume(upTo: end + 4)
                return head
            }
            // The terminator may straddle the next read, so rescan the last three bytes.
            searchFrom = max(self.pendingStart, self.pending.count - 3)
            guard self.pending.count - self.pendingStart <= Self.maximumHeadSize else {
                throw RuntimeClientError(.malformedResponse, "response head larger than \(Self.maximumHeadSize) bytes")
            }
            if try !self.fill() {
                if isFirst && self.pending.count == self.pendingStart {
                    throw RuntimeClientError(.connectionClosed, "server closed the connection")
                }
                throw RuntimeClientError(.ioFailed, "connection closed in the middle of a response head")
            }
        }
    }

    private func findHeadEnd(from start: Int) -> Int? {
        let count = self.pending.count
        guard count >= 4 else { return nil }
        var index = start
        while index + 3 < count {
            if self.pending[index] == 13 && self.pending[index + 1] == 10 && self.pending[index + 2] == 13
                && self.pending[index + 3] == 10
            {
                return index
            }
            index += 1
        }
        return nil
    }

    private func readBody(for head: HTTPResponseHead) throws -> [UInt8] {
        if head.status == 204 || head.status == 304 {
            return []
        }
        if head.isChunked {
            return try self.readChunkedBody()
        }
        if let lengthText = head.value(of: "content-length") {
            guard let length = Int(lengthText), length >= 0, length <= Self.maximumBodySize else {
                throw RuntimeClientError(.malformedResponse, "bad Content-Length '\(lengthText)'")
            }
            return try self.readExactly(length)
        }
        self.isReusable = false
        return try self.readToEnd()
    }

    private func readChunkedBody() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let sizeLine = try self.readLine()
            let sizeText = sizeLine.prefix { $0 != UInt8(ascii: ";") }
            guard let size = Int(String(decoding: sizeText, as: UTF8.self).trimmingASCIIWhitespace(), radix: 16),
                size >= 0, size <= Self.maximumBodySize - body.count
            else {
                throw RuntimeClientError(.malformedResponse, "bad chunk size line")
            }
            if size == 0 {
                // Trailer fields, if any, end with an empty line.
                while try !self.readLine().isEmpty {}
                return body
            }
            body += try self.readExactly(size)
            guard try self.readLine().isEmpty else {
                throw RuntimeClientError(.malformedResponse, "chunk not followed by CRLF")
            }
        }
    }

    /// Reads one line ending in LF and returns it without the CR LF.
    private func readLine() throws -> ArraySlice<UInt8> {
        var searchFrom = self.pendingStart
        while true {
            if let newline = self.pending[searchFrom...].firstIndex(of: 10) {
                var end = newline
                if end > self.pendingStart && self.pending[end - 1] == 13 {
                    end -= 1
                }
                let line = self.pending[self.pendingStart..<end]
                self.consume(upTo: newline + 1)
                return line
            }
            searchFrom = self.pending.count
            guard self.pending.count - self.pendingStart <= 4096 else {
                throw RuntimeClientError(.malformedResponse, "chunk framing line too long")
            }
            guard try self.fill() else {
                throw RuntimeClientError(.ioFailed, "connection closed in the middle of a chunked body")
            }
        }
    }

    private func readExactly(_ length: Int) throws -> [UInt8] {
        let buffered = min(length, self.pending.count - self.pendingStart)
        if buffered == length {
            let bytes = Array(self.pending[self.pendingStart..<(self.pendingStart + length)])
            self.consume(upTo: self.pendingStart + length)
            return bytes
        }
        // Large body: copy what is buffered, then read the rest straight into the result.
        return try [UInt8](unsafeUninitializedCapacity: length) { destination, initialized in
            initialized = 0
            guard let base = destination.baseAddress else { return }
            self.pending.withUnsafeBufferPointer { source in
                if let sourceBase = source.baseAddress {
                    base.initialize(from: sourceBase + self.pendingStart, count: buffered)
                }
            }
            initialized = buffered
            self.consume(upTo: self.pendingStart + buffered)
            while initialized < length {
                let window = UnsafeMutableRawBufferPointer(
                    start: base + initialized,
                    count: length - initialized
                )
                switch try self.socket.read(into: window) {
                case .bytes(let count):
                    initialized += count
                case .endOfStream:
                    throw RuntimeClientError(
                        .ioFailed,
                        "connection closed after \(initialized) of \(length) body bytes"
                    )
                }
            }
        }
    }

    private func readToEnd() throws -> [UInt8] {
        while try self.fill() {}
        let bytes = Array(self.pending[self.pendingStart...])
        self.consume(upTo: self.pending.count)
        return bytes
    }

    // MARK: Buffer

    /// Reads once from the socket into `pending`. Returns `false` at the end of the stream.
    private func fill() throws -> Bool {
        let result = try self.scratch.withUnsafeMutableBytes { try self.socket.read(into: $0) }
        switch result {
        case .bytes(let count):
            self.pending.append(contentsOf: self.scratch[0..<count])
            return true
        case .endOfStream:
            self.isReusable = false
            return false
        }
    }

    private func consume(upTo index: Int) {
        self.pendingStart = index
        if self.pendingStart == self.pending.count {
            self.pending.removeAll(keepingCapacity: true)
            self.pendingStart = 0
        } else if self.pendingStart > 32 * 1024 {
            self.pending.removeFirst(self.pendingStart)
            self.pendingStart = 0
        }
    }
}
