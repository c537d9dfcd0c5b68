import NIOCore
import NimbusCore

/// A request body an operation reads as it arrives (S3's PutObject and UploadPart), for operations declared with
/// ``ServiceOperation/streamsBody``: aws-chunked framing removed and every signature, digest and trailing checksum
/// checked chunk by chunk, so that a 5 GiB upload never sits in memory. A body that fails a check, ends early or
/// exceeds the operation's limit throws from ``next()``; the operation must then discard what it wrote.
public final class RequestBodyStream: @unchecked Sendable {
    /// One task reads a body; the class only lets the request value carry it.
    private var source: Source
    private var done = false
    /// The payload bytes handed out so far.
    public private(set) var received: Int64 = 0
    /// Trailing headers of an aws-chunked body (`x-amz-checksum-crc32`…), lower-cased; complete once ``next()``
    /// returned nil.
    public private(set) var trailers: [(String, String)] = []
    let limit: Int64

    enum Source {
        case buffer(ByteBuffer?)
        case pull(
            next: () async throws -> ByteBuffer?, feed: (ByteBuffer) throws -> ByteBuffer?,
            finish: () throws -> [(String, String)])
    }

    /// A body already in memory (tests, in-process callers).
    public init(_ buffer: ByteBuffer) {
        self.source = .buffer(buffer)
        self.limit = .max
    }

    /// - Parameters:
    ///   - next: the raw body's next buffer from the connection, nil at its end.
    ///   - feed: decodes and verifies a raw buffer, returning the payload bytes it completes (nil: none yet).
    ///   - finish: checks the body is complete at its end and returns its trailing headers.
    init(
        limit: Int64, next: @escaping () async throws -> ByteBuffer?,
        feed: @escaping (ByteBuffer) throws -> ByteBuffer?, finish: @escaping () throws -> [(String, String)]
    ) {
        self.source = .pull(next: next, feed: feed, finish: finish)
        self.limit = limit
    }

    /// The next run of payload bytes; nil once the body ended and checked out.
    public func next() async throws -> ByteBuffer? {
        guard !self.done else { return nil }
        switch self.source {
        case .buffer(let buffer):
            self.source = .buffer(nil)
            guard let buffer, buffer.readableBytes > 0 else {
                self.done = true
                return nil
            }
            self.received += Int64(buffer.readableBytes)
            return buffer
        case .pull(let next, let feed, let finish):
            while true {
                guard let raw = try await next() else {
                    self.trailers = try finish()
                    self.done = true
                    return nil
                }
                guard let payload = try feed(raw), payload.readableBytes > 0 else { continue }
                self.received += Int64(payload.readableBytes)
                if self.received > self.limit {
                    throw ServiceError(
                        code: "EntityTooLarge", status: 400, message: "Your proposed upload exceeds the maximum allowed size",
                        messageMember: "Message")
                }
                return payload
            }
        }
    }
}
