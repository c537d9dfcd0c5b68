import FoundationEssentials

/// Decodes an aws-chunked body (`Content-Encoding: aws-chunked`), verifying what it carries:
///
/// ```
/// <hex size>;chunk-signature=<signature>\r\n<data>\r\n     (signed chunks; unsigned ones are just <hex size>\r\n)
/// …
/// 0;chunk-signature=<signature>\r\n                       (the final, empty chunk)
/// <trailer name>:<value>\r\n …                            (trailer modes: the checksum named by x-amz-trailer)
/// x-amz-trailer-signature:<signature>\r\n                (signed trailers)
/// \r\n
/// ```
///
/// Each chunk signature signs `AWS4-HMAC-SHA256-PAYLOAD`, the timestamp, the scope, the previous signature (the
/// request's for the first chunk), the empty string's SHA-256 and the chunk's SHA-256; the trailer signature signs
/// `AWS4-HMAC-SHA256-TRAILER`, the timestamp, the scope, the final chunk's signature and the SHA-256 of the
/// trailing headers. Works on the complete body; it never allocates more than the body's size.
public struct AWSChunkedDecoder: Sendable {
    public var mode: StreamingPayload
    /// The request's signature, which the first chunk signature chains from.
    public var seedSignature: String
    /// The key chunk and trailer signatures are checked with; nil reads them unchecked (``unverified(for:)``), and
    /// then ``seedSignature`` and ``timestamp`` are not used.
    public var signingKey: SigningKey?
    /// The request's `X-Amz-Date`, the second line of every chunk's string to sign.
    public var timestamp: SigV4Timestamp
    /// `x-amz-trailer`: the trailing header(s) the body must end with, comma-separated.
    public var trailer: String?
    /// `x-amz-decoded-content-length`: the payload's length, when the client declared it.
    public var decodedContentLength: Int?

    public init(
        mode: StreamingPayload, seedSignature: String, signingKey: SigningKey?, timestamp: SigV4Timestamp,
        trailer: String? = nil, decodedContentLength: Int? = nil
    ) {
        self.mode = mode
        self.seedSignature = seedSignature
        self.signingKey = signingKey
        self.timestamp = timestamp
        self.trailer = trailer
        self.decodedContentLength = decodedContentLength
    }

    /// A decoder of `request`'s aws-chunked body that checks its framing, declared length and checksums but no
    /// signature: for requests accepted without verification. Nil when the payload is not streaming.
    public static func unverified(for request: SigV4Request) throws(SigV4Error) -> AWSChunkedDecoder? {
        guard let declared = request.header("X-Amz-Content-SHA256"), let mode = StreamingPayload(rawValue: declared)
        else { return nil }
        return try Self(
            mode: mode, seedSignature: "", signingKey: nil, timestamp: SigV4Timestamp(secondsSince1970: 0),
            headersOf: request)
    }

    /// A decoder that reads `x-amz-trailer` and `x-amz-decoded-content-length` from the request's headers.
    init(
        mode: StreamingPayload, seedSignature: String, signingKey: SigningKey?, timestamp: SigV4Timestamp,
        headersOf request: SigV4Request
    ) throws(SigV4Error) {
        var decodedContentLength: Int?
        if let declared = request.header("X-Amz-Decoded-Content-Length") {
            guard let length = Int(declared), length >= 0 else {
                throw .malformedChunkedBody(.invalidDecodedContentLength(declared))
            }
            decodedContentLength = length
        }
        self.init(
            mode: mode, seedSignature: seedSignature, signingKey: signingKey, timestamp: timestamp,
            trailer: request.header("X-Amz-Trailer"), decodedContentLength: decodedContentLength)
    }

    /// The payload and trailing headers of `body`, every signature (with a ``signingKey``) and checksum verified.
    public func decode(_ body: [UInt8]) throws(SigV4Error) -> DecodedPayload {
        var reader = ChunkReader(body: body)
        var payload: [UInt8] = []
        payload.reserveCapacity(min(self.decodedContentLength ?? body.count, body.count))
        var previousSignature = self.seedSignature
        var chunk = 0
        while true {
            let (size, signature) = try reader.readChunkHeader(signed: self.mode.hasChunkSignatures)
            if let declared = self.decodedContentLength, size > declared - payload.count {
                throw .malformedChunkedBody(.exceedsDecodedContentLength(declared: declared))
            }
            let data = try reader.readBytes(size)
            if let signature, let signingKey = self.signingKey {
                let stringToSign = self.chunkStringToSign(
                    previousSignature: previousSignature, data: data, key: signingKey)
                guard signingKey.isSignature(signature, of: stringToSign) else {
                    throw .chunkSignatureMismatch(ChunkSignatureMismatch(chunk: chunk, signatureProvided: signature))
                }
                previousSignature = signature
            }
            payload.append(contentsOf: data)
            if size == 0 { break }
            try reader.expectCRLF()
            chunk += 1
        }
        let trailers = self.mode.hasTrailer ? try self.readTrailers(&reader, previousSignature: previousSignature) : []
        try reader.expectEnd(allowingFinalCRLF: !self.mode.hasTrailer)
        if let declared = self.decodedContentLength, declared != payload.count {
            throw .malformedChunkedBody(.decodedContentLengthMismatch(declared: declared, decoded: payload.count))
        }
        let checksums = try self.verifyChecksums(trailers, of: payload)
        return DecodedPayload(data: payload, trailers: trailers, verifiedChecksums: checksums)
    }

    private func chunkStringToSign(previousSignature: String, data: ArraySlice<UInt8>, key: SigningKey) -> String {
        "AWS4-HMAC-SHA256-PAYLOAD\n\(self.timestamp.basic)\n\(key.scope.scope)\n\(previousSignature)\n"
            + "\(SigV4.emptyPayloadSHA256)\n\(sha256Hex(data))"
    }

    /// The trailing headers up to the empty line (or the end of the body), their signature verified when signed.
    private func readTrailers(
        _ reader: inout ChunkReader, previousSignature: String
    ) throws(SigV4Error) -> [(name: String, value: String)] {
        var trailers: [(name: String, value: String)] = []
        var signature: String?
        while let (name, value) = try reader.readTrailerLine() {
            if name == "x-amz-trailer-signature" {
                signature = value
            } else {
                trailers.append((name, value))
            }
        }
        guard self.mode.hasChunkSignatures else { return trailers }
        guard let signature else { throw .malformedChunkedBody(.malformedTrailer(offset: reader.offset)) }
        guard let signingKey = self.signingKey else { return trailers }
        let canonical = trailers.map { "\($0.name):\($0.value)\n" }.joined()
        let stringToSign = "AWS4-HMAC-SHA256-TRAILER\n\(self.timestamp.basic)\n\(signingKey.scope.scope)\n"
            + "\(previousSignature)\n\(sha256Hex(Array(canonical.utf8)))"
        guard signingKey.isSignature(signature, of: stringToSign) else {
            throw .chunkSignatureMismatch(ChunkSignatureMismatch(chunk: nil, signatureProvided: signature))
        }
        return trailers
    }

    /// Every trailer `x-amz-trailer` names must be present; every `x-amz-checksum-*` trailer must match.
    private func verifyChecksums(
        _ trailers: [(name: String, value: String)], of payload: [UInt8]
    ) throws(SigV4Error) -> [ChecksumAlgorithm] {
        for declared in (self.trailer ?? "").split(separator: ",") {
            let name = Self.trimmed(declared).lowercased()
            guard trailers.contains(where: { $0.name == name }) else { throw .invalidChecksum(.missing(name: name)) }
        }
        var verified: [ChecksumAlgorithm] = []
        for (name, value) in trailers where name.hasPrefix("x-amz-checksum-") {
            guard let algorithm = ChecksumAlgorithm(headerName: name) else {
                throw .invalidChecksum(.unsupportedAlgorithm(name: name))
            }
            guard let provided = Data(base64Encoded: value), provided.count == algorithm.digestSize else {
                throw .invalidChecksum(.malformedValue(name: name, value: value))
            }
            let digest = algorithm.digest(of: payload)
            guard provided.elementsEqual(digest) else {
                throw .checksumMismatch(
                    ChecksumMismatch(
                        algorithm: algorithm, provided: value, computed: Data(digest).base64EncodedString()))
            }
            verified.append(algorithm)
        }
        return verified
    }

    fileprivate static func trimmed(_ text: some StringProtocol) -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(text.drop(while: isBlank).reversed().drop(while: isBlank).reversed())
    }
}

/// An aws-chunked body's content.
public struct DecodedPayload: Sendable {
    /// The payload, chunks concatenated.
    public var data: [UInt8]
    /// The trailing headers (names lower-cased), `x-amz-trailer-signature` left out.
    public var trailers: [(name: String, value: String)]
    /// The trailing checksums that were verified against ``data``.
    public var verifiedChecksums: [ChecksumAlgorithm]

    /// The value of the trailer `name` (case-insensitive).
    public func trailer(_ name: String) -> String? {
        let lowered = name.lowercased()
        return self.trailers.first { $0.name == lowered }?.value
    }
}

/// A cursor over the framed body. Every read checks the remaining length first, so a size or a line can never make
/// it read (or allocate) past the body.
private struct ChunkReader {
    let body: [UInt8]
    var offset = 0

    /// The longest chunk-size line accepted: 16 hex digits, `;chunk-signature=` and 64 hex digits, with room.
    static let maximumLineLength = 256
    static let signatureExtension = Array("chunk-signature=".utf8)

    init(body: [UInt8]) {
        self.body = body
    }

    /// `<hex size>[;chunk-signature=<signature>]\r\n`: the size, and the signature of a signed chunk.
    mutating func readChunkHeader(signed: Bool) throws(SigV4Error) -> (Int, String?) {
        let start = self.offset
        let line = try self.readLine(problem: .invalidChunkSize(offset: start))
        let semicolon = line.firstIndex(of: UInt8(ascii: ";")) ?? line.endIndex
        let digits = line[line.startIndex..<semicolon]
        // 15 hex digits cannot overflow an Int; no body comes near that size.
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy({ Hex.value(of: $0) != nil }) else {
            throw .malformedChunkedBody(.invalidChunkSize(offset: start))
        }
        let size = digits.reduce(0) { $0 << 4 | Int(Hex.value(of: $1) ?? 0) }
        guard signed else { return (size, nil) }
        let extensions = line[semicolon...].dropFirst()
        guard extensions.starts(with: Self.signatureExtension) else {
            throw .malformedChunkedBody(.missingChunkSignature(offset: start))
        }
        return (size, String(decoding: extensions.dropFirst(Self.signatureExtension.count), as: UTF8.self))
    }

    /// The next `count` bytes.
    mutating func readBytes(_ count: Int) throws(SigV4Error) -> ArraySlice<UInt8> {
        guard count <= self.body.count - self.offset else {
            throw .malformedChunkedBody(.truncated(offset: self.offset))
        }
        defer { self.offset += count }
        return self.body[self.offset..<self.offset + count]
    }

    mutating func expectCRLF() throws(SigV4Error) {
        guard self.body.count - self.offset >= 2 else { throw .malformedChunkedBody(.truncated(offset: self.offset)) }
        guard self.body[self.offset] == UInt8(ascii: "\r"), self.body[self.offset + 1] == UInt8(ascii: "\n") else {
            throw .malformedChunkedBody(.missingCRLF(offset: self.offset))
        }
        self.offset += 2
    }

    /// `name:value\r\n` (name lower-cased, value trimmed), or nil at the empty line or the end of the body.
    mutating func readTrailerLine() throws(SigV4Error) -> (String, String)? {
        guard self.offset < self.body.count else { return nil }
        let start = self.offset
        let line = try self.readLine(problem: .malformedTrailer(offset: start))
        if line.isEmpty { return nil }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .malformedChunkedBody(.malformedTrailer(offset: start))
        }
        let name = AWSChunkedDecoder.trimmed(String(decoding: line[..<colon], as: UTF8.self))
        let value = AWSChunkedDecoder.trimmed(String(decoding: line[(colon + 1)...], as: UTF8.self))
        guard !name.isEmpty else { throw .malformedChunkedBody(.malformedTrailer(offset: start)) }
        return (name.lowercased(), value)
    }

    /// Nothing may follow the body's end; without trailers, one CRLF (the empty trailer section) may.
    mutating func expectEnd(allowingFinalCRLF: Bool) throws(SigV4Error) {
        if allowingFinalCRLF, self.offset < self.body.count { try self.expectCRLF() }
        guard self.offset == self.body.count else {
            throw .malformedChunkedBody(.trailingData(offset: self.offset))
        }
    }

    /// The bytes up to the next CRLF (not included), which must come within ``maximumLineLength`` bytes.
    private mutating func readLine(problem: ChunkedBodyProblem) throws(SigV4Error) -> ArraySlice<UInt8> {
        let start = self.offset
        let limit = min(self.body.count, start + Self.maximumLineLength)
        var index = start
        while index < limit, self.body[index] != UInt8(ascii: "\r") { index += 1 }
        guard index + 1 < self.body.count else { throw .malformedChunkedBody(.truncated(offset: self.body.count)) }
        guard index < limit, self.body[index + 1] == UInt8(ascii: "\n") else { throw .malformedChunkedBody(problem) }
        self.offset = index + 2
        return self.body[start..<index]
    }
}
