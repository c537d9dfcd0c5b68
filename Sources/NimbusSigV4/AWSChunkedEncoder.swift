/// Frames a payload as an aws-chunked body, the way the SDKs upload to S3: fixed-size chunks, the final empty
/// chunk, then (trailer modes) a checksum trailer. Signed modes sign each chunk chained from the request's
/// signature, and the trailer; see ``AWSChunkedDecoder`` for the format.
public struct AWSChunkedEncoder: Sendable {
    public var mode: StreamingPayload
    /// The request's signature (ignored for unsigned chunks).
    public var seedSignature: String
    public var signingKey: SigningKey
    public var timestamp: SigV4Timestamp

    public init(mode: StreamingPayload, seedSignature: String, signingKey: SigningKey, timestamp: SigV4Timestamp) {
        self.mode = mode
        self.seedSignature = seedSignature
        self.signingKey = signingKey
        self.timestamp = timestamp
    }

    /// The framed body of `payload`, cut in chunks of `chunkSize` bytes, with a `checksum` trailer in trailer modes.
    public func encode(_ payload: [UInt8], chunkSize: Int, checksum: ChecksumAlgorithm? = nil) -> [UInt8] {
        precondition(chunkSize > 0, "aws-chunked chunks need a positive size")
        var body: [UInt8] = []
        body.reserveCapacity(
            Self.encodedLength(payloadLength: payload.count, chunkSize: chunkSize, mode: self.mode, checksum: checksum))
        var previousSignature = self.seedSignature
        var start = 0
        while true {
            let chunk = payload[start..<min(start + chunkSize, payload.count)]
            body.append(contentsOf: String(chunk.count, radix: 16).utf8)
            if self.mode.hasChunkSignatures {
                previousSignature = self.signingKey.signature(
                    of: "AWS4-HMAC-SHA256-PAYLOAD\n\(self.timestamp.basic)\n\(self.signingKey.scope.scope)\n"
                        + "\(previousSignature)\n\(SigV4.emptyPayloadSHA256)\n\(sha256Hex(chunk))")
                body.append(contentsOf: ";chunk-signature=\(previousSignature)".utf8)
            }
            body.append(contentsOf: Self.crlf)
            // The final chunk is the empty one; its CRLF is the end of the (possibly empty) trailer section.
            if chunk.isEmpty { break }
            body.append(contentsOf: chunk)
            body.append(contentsOf: Self.crlf)
            start += chunk.count
        }
        if self.mode.hasTrailer, let checksum {
            let trailer = "\(checksum.headerName):\(checksum.base64Digest(of: payload))"
            body.append(contentsOf: "\(trailer)\r\n".utf8)
            if self.mode.hasChunkSignatures {
                let signature = self.signingKey.signature(
                    of: "AWS4-HMAC-SHA256-TRAILER\n\(self.timestamp.basic)\n\(self.signingKey.scope.scope)\n"
                        + "\(previousSignature)\n\(sha256Hex(Array("\(trailer)\n".utf8)))")
                body.append(contentsOf: "x-amz-trailer-signature:\(signature)\r\n".utf8)
            }
        }
        body.append(contentsOf: Self.crlf)
        return body
    }

    /// The length of ``encode(_:chunkSize:checksum:)``'s result, known before signing so that `Content-Length`
    /// can be signed.
    public static func encodedLength(
        payloadLength: Int, chunkSize: Int, mode: StreamingPayload, checksum: ChecksumAlgorithm? = nil
    ) -> Int {
        let signatureLength = mode.hasChunkSignatures ? ";chunk-signature=".utf8.count + 64 : 0
        func chunkLength(_ size: Int) -> Int {
            String(size, radix: 16).utf8.count + signatureLength + 2 + size + (size > 0 ? 2 : 0)
        }
        let fullChunks = payloadLength / chunkSize
        let remainder = payloadLength % chunkSize
        var length = fullChunks * chunkLength(chunkSize) + (remainder > 0 ? chunkLength(remainder) : 0) + chunkLength(0)
        if mode.hasTrailer, let checksum {
            let digestLength = (checksum.digestSize + 2) / 3 * 4
            length += checksum.headerName.utf8.count + 1 + digestLength + 2
            if mode.hasChunkSignatures { length += "x-amz-trailer-signature:".utf8.count + 64 + 2 }
        }
        return length + 2
    }

    private static let crlf: [UInt8] = [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
}
