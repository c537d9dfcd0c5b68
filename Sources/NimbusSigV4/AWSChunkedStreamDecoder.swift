import Crypto
import FoundationEssentials

/// The aws-chunked parser, as a state machine fed the framed body in pieces of any size: the one implementation
/// behind ``AWSChunkedDecoder/decode(_:)`` (the whole body in one piece) and ``StreamingBodyVerifier`` (the body as
/// it arrives). See ``AWSChunkedDecoder`` for the format and the signatures.
///
/// It holds at most one chunk-size or trailer line (``maximumLineLength``), the trailing headers (at most
/// ``maximumTrailerCount``) and fixed-size hash states: chunk data is handed on as it is read, never kept. Errors
/// are the ones a parse of the complete body raises, at the same offsets and in the same order. After an error the
/// decoder must be dropped.
struct AWSChunkedStreamDecoder: Sendable {
    let configuration: AWSChunkedDecoder
    private var state: State = .chunkHeader
    /// The offset in the framed body of the next byte to read.
    private(set) var offset = 0
    /// The payload bytes read so far.
    private(set) var decodedCount = 0
    private var line = Line(start: 0)
    /// The current chunk's index from 0 (the final empty chunk counts).
    private var chunk = 0
    /// The signature the current chunk's chains from: the request's, then each verified chunk's.
    private var previousSignature: String
    /// The current chunk's `chunk-signature` and the SHA-256 of its data so far, when signatures are verified.
    private var chunkSignature: String?
    private var chunkHash: StreamingHash<SHA256>?
    /// The checksums computed over the payload as it passes: those `x-amz-trailer` declares.
    private var checksums: [IncrementalChecksum]
    private var trailers: [(name: String, value: String)] = []
    /// Where each of ``trailers`` starts, for errors.
    private var trailerOffsets: [Int] = []
    private var trailerSignature: String?

    /// The longest chunk-size or trailer line accepted, CRLF excluded: a size of 16 hex digits,
    /// `;chunk-signature=` and 64 hex digits, with room.
    static let maximumLineLength = 256
    /// The most trailing headers accepted: clients send one checksum; the bound keeps a hostile trailer from growing
    /// without end.
    static let maximumTrailerCount = 64

    private static let signatureExtension = Array("chunk-signature=".utf8)
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let lineFeed = UInt8(ascii: "\n")

    private enum State: Sendable {
        /// Reading `<hex size>[;chunk-signature=<signature>]`.
        case chunkHeader
        /// Reading a chunk's data, which began at `start`.
        case chunkData(start: Int, remaining: Int)
        /// Reading the CRLF that ends a chunk's data, at `start`; `first` is its first byte once read.
        case chunkEnd(start: Int, first: UInt8?)
        /// Reading trailing headers, up to the empty line.
        case trailers
        /// Without trailers: the optional CRLF (the empty trailer section) after the final chunk.
        case finalCRLF(start: Int, first: UInt8?)
        /// The body is complete: nothing may follow.
        case end
    }

    /// The line being read, up to its CRLF.
    private struct Line: Sendable {
        /// Where the line starts in the body.
        var start: Int
        var bytes: [UInt8] = []
        /// The CR is read; the next byte must be LF.
        var sawCarriageReturn = false
        /// ``maximumLineLength`` bytes went by without a CR: the next byte makes the line an error.
        var isOverlong = false

        var isUntouched: Bool { self.bytes.isEmpty && !self.sawCarriageReturn && !self.isOverlong }
    }

    /// - Parameter tracking: the checksums to compute over the payload as it passes (each once).
    init(_ configuration: AWSChunkedDecoder, tracking: [ChecksumAlgorithm]) {
        self.configuration = configuration
        self.previousSignature = configuration.seedSignature
        var algorithms: [ChecksumAlgorithm] = []
        for algorithm in tracking where !algorithms.contains(algorithm) { algorithms.append(algorithm) }
        self.checksums = algorithms.map { IncrementalChecksum($0) }
        self.line.bytes.reserveCapacity(Self.maximumLineLength)
    }

    /// The checksums `x-amz-trailer` names (any this module knows), which the trailer will carry.
    static func declaredChecksums(_ trailer: String?) -> [ChecksumAlgorithm] {
        (trailer ?? "").split(separator: ",").compactMap {
            ChecksumAlgorithm(headerName: AWSChunkedDecoder.trimmed($0))
        }
    }

    /// Reads the next piece of the framed body, handing each run of payload bytes to `payload` as it is read.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, payload: (UnsafeRawBufferPointer) -> Void) throws(SigV4Error) {
        var index = 0
        while index < bytes.count {
            switch self.state {
            case .chunkData(let start, let remaining):
                let count = min(remaining, bytes.count - index)
                let data = UnsafeRawBufferPointer(rebasing: bytes[index..<index + count])
                self.chunkHash?.update(data)
                for checksum in self.checksums.indices { self.checksums[checksum].update(data) }
                payload(data)
                index += count
                self.offset += count
                self.decodedCount += count
                if count == remaining {
                    try self.verifyChunkSignature()
                    self.state = .chunkEnd(start: self.offset, first: nil)
                } else {
                    self.state = .chunkData(start: start, remaining: remaining - count)
                }
            case .chunkEnd(let start, let first):
                let byte = bytes[index]
                index += 1
                self.offset += 1
                guard let first else {
                    self.state = .chunkEnd(start: start, first: byte)
                    continue
                }
                guard first == Self.carriageReturn, byte == Self.lineFeed else {
                    throw .malformedChunkedBody(.missingCRLF(offset: start))
                }
                self.chunk += 1
                self.startLine(.chunkHeader)
            case .finalCRLF(let start, let first):
                let byte = bytes[index]
                index += 1
                self.offset += 1
                guard let first else {
                    self.state = .finalCRLF(start: start, first: byte)
                    continue
                }
                guard first == Self.carriageReturn, byte == Self.lineFeed else {
                    throw .malformedChunkedBody(.missingCRLF(offset: start))
                }
                self.state = .end
            case .end:
                throw .malformedChunkedBody(.trailingData(offset: self.offset))
            case .chunkHeader:
                guard try self.readLine(bytes, at: &index, problem: .invalidChunkSize(offset: self.line.start)) else {
                    continue
                }
                try self.startChunk()
            case .trailers:
                guard try self.readLine(bytes, at: &index, problem: .malformedTrailer(offset: self.line.start)) else {
                    continue
                }
                try self.readTrailer()
            }
        }
    }

    /// At the end of the body: checks it is complete, its declared length and its trailing checksums, and returns
    /// the trailing headers and the checksums verified.
    /// - Parameter untrackedDigest: the digest of the payload for a trailing checksum that was not computed as it
    ///   passed (one `x-amz-trailer` did not declare), or nil when it cannot be known.
    mutating func finish(
        untrackedDigest: (ChecksumAlgorithm) -> [UInt8]?
    ) throws(SigV4Error) -> (trailers: [(name: String, value: String)], verified: [ChecksumAlgorithm]) {
        switch self.state {
        case .chunkHeader:
            throw .malformedChunkedBody(.truncated(offset: self.offset))
        case .chunkData(let start, _), .chunkEnd(let start, _):
            throw .malformedChunkedBody(.truncated(offset: start))
        case .trailers:
            // Some clients end the body after the last trailer, without the empty line.
            guard self.line.isUntouched else { throw .malformedChunkedBody(.truncated(offset: self.offset)) }
            try self.verifyTrailerSignature()
        case .finalCRLF(let start, let first):
            guard first == nil else { throw .malformedChunkedBody(.truncated(offset: start)) }
        case .end:
            break
        }
        self.state = .end
        if let declared = self.configuration.decodedContentLength, declared != self.decodedCount {
            throw .malformedChunkedBody(.decodedContentLengthMismatch(declared: declared, decoded: self.decodedCount))
        }
        return (self.trailers, try self.verifyChecksums(untrackedDigest: untrackedDigest))
    }

    // MARK: Lines

    private mutating func startLine(_ state: State) {
        self.line.start = self.offset
        self.line.bytes.removeAll(keepingCapacity: true)
        self.line.sawCarriageReturn = false
        self.line.isOverlong = false
        self.state = state
    }

    /// Reads bytes into ``line`` up to its CRLF: true once the line is complete. As a parse of the whole body does,
    /// a line with no CR among its first ``maximumLineLength`` bytes is `problem` once a byte follows the one after
    /// them (the body may yet end there, which is truncation), and so is a CR not followed by LF.
    private mutating func readLine(
        _ bytes: UnsafeRawBufferPointer, at index: inout Int, problem: ChunkedBodyProblem
    ) throws(SigV4Error) -> Bool {
        while index < bytes.count {
            let byte = bytes[index]
            guard !self.line.isOverlong else { throw .malformedChunkedBody(problem) }
            index += 1
            self.offset += 1
            if self.line.sawCarriageReturn {
                guard byte == Self.lineFeed else { throw .malformedChunkedBody(problem) }
                return true
            }
            if self.line.bytes.count == Self.maximumLineLength {
                self.line.isOverlong = true
            } else if byte == Self.carriageReturn {
                self.line.sawCarriageReturn = true
            } else {
                self.line.bytes.append(byte)
            }
        }
        return false
    }

    // MARK: Chunks

    /// The chunk-size line is read: checks it, and the chunk's size against the declared length.
    private mutating func startChunk() throws(SigV4Error) {
        let line = self.line.bytes[...]
        let start = self.line.start
        let semicolon = line.firstIndex(of: UInt8(ascii: ";")) ?? line.endIndex
        let digits = line[line.startIndex..<semicolon]
        // 15 hex digits cannot overflow an Int; no body comes near that size.
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy({ Hex.value(of: $0) != nil }) else {
            throw .malformedChunkedBody(.invalidChunkSize(offset: start))
        }
        let size = digits.reduce(0) { $0 << 4 | Int(Hex.value(of: $1) ?? 0) }
        self.chunkSignature = nil
        if self.configuration.mode.hasChunkSignatures {
            let extensions = line[semicolon...].dropFirst()
            guard extensions.starts(with: Self.signatureExtension) else {
                throw .malformedChunkedBody(.missingChunkSignature(offset: start))
            }
            self.chunkSignature = String(
                decoding: extensions.dropFirst(Self.signatureExtension.count), as: UTF8.self)
        }
        if let declared = self.configuration.decodedContentLength, size > declared - self.decodedCount {
            throw .malformedChunkedBody(.exceedsDecodedContentLength(declared: declared))
        }
        let verifies = self.chunkSignature != nil && self.configuration.signingKey != nil
        self.chunkHash = verifies ? StreamingHash() : nil
        if size > 0 {
            self.state = .chunkData(start: self.offset, remaining: size)
            return
        }
        try self.verifyChunkSignature()
        if self.configuration.mode.hasTrailer {
            self.startLine(.trailers)
        } else {
            self.state = .finalCRLF(start: self.offset, first: nil)
        }
    }

    /// The current chunk's data is read: its signature must chain from the previous one.
    private mutating func verifyChunkSignature() throws(SigV4Error) {
        guard let signature = self.chunkSignature, let key = self.configuration.signingKey, let hash = self.chunkHash
        else { return }
        let stringToSign =
            "AWS4-HMAC-SHA256-PAYLOAD\n\(self.configuration.timestamp.basic)\n\(key.scope.scope)\n"
            + "\(self.previousSignature)\n\(SigV4.emptyPayloadSHA256)\n\(hash.hex())"
        guard key.isSignature(signature, of: stringToSign) else {
            throw .chunkSignatureMismatch(ChunkSignatureMismatch(chunk: self.chunk, signatureProvided: signature))
        }
        self.previousSignature = signature
    }

    // MARK: Trailers

    /// A trailer line is read: `name:value` (name lower-cased, both trimmed), or the empty line that ends them.
    private mutating func readTrailer() throws(SigV4Error) {
        let line = self.line.bytes[...]
        let start = self.line.start
        if line.isEmpty {
            try self.verifyTrailerSignature()
            self.state = .end
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .malformedChunkedBody(.malformedTrailer(offset: start))
        }
        let name = AWSChunkedDecoder.trimmed(String(decoding: line[..<colon], as: UTF8.self)).lowercased()
        let value = AWSChunkedDecoder.trimmed(String(decoding: line[(colon + 1)...], as: UTF8.self))
        guard !name.isEmpty else { throw .malformedChunkedBody(.malformedTrailer(offset: start)) }
        if name == "x-amz-trailer-signature" {
            self.trailerSignature = value
        } else {
            guard self.trailers.count < Self.maximumTrailerCount else {
                throw .malformedChunkedBody(.malformedTrailer(offset: start))
            }
            self.trailers.append((name, value))
            self.trailerOffsets.append(start)
        }
        self.startLine(.trailers)
    }

    /// The trailers are read: with signed chunks, `x-amz-trailer-signature` must sign them, chained from the final
    /// chunk's signature.
    private func verifyTrailerSignature() throws(SigV4Error) {
        guard self.configuration.mode.hasChunkSignatures else { return }
        guard let signature = self.trailerSignature else {
            throw .malformedChunkedBody(.malformedTrailer(offset: self.offset))
        }
        guard let key = self.configuration.signingKey else { return }
        let canonical = self.trailers.map { "\($0.name):\($0.value)\n" }.joined()
        let stringToSign =
            "AWS4-HMAC-SHA256-TRAILER\n\(self.configuration.timestamp.basic)\n\(key.scope.scope)\n"
            + "\(self.previousSignature)\n\(sha256Hex(Array(canonical.utf8)))"
        guard key.isSignature(signature, of: stringToSign) else {
            throw .chunkSignatureMismatch(ChunkSignatureMismatch(chunk: nil, signatureProvided: signature))
        }
    }

    /// Every trailer `x-amz-trailer` names must be present; every `x-amz-checksum-*` trailer must match.
    private func verifyChecksums(
        untrackedDigest: (ChecksumAlgorithm) -> [UInt8]?
    ) throws(SigV4Error) -> [ChecksumAlgorithm] {
        for declared in (self.configuration.trailer ?? "").split(separator: ",") {
            let name = AWSChunkedDecoder.trimmed(declared).lowercased()
            guard self.trailers.contains(where: { $0.name == name }) else {
                throw .invalidChecksum(.missing(name: name))
            }
        }
        var verified: [ChecksumAlgorithm] = []
        for (index, (name, value)) in self.trailers.enumerated() where name.hasPrefix("x-amz-checksum-") {
            guard let algorithm = ChecksumAlgorithm(headerName: name) else {
                throw .invalidChecksum(.unsupportedAlgorithm(name: name))
            }
            guard let provided = Data(base64Encoded: value), provided.count == algorithm.digestSize else {
                throw .invalidChecksum(.malformedValue(name: name, value: value))
            }
            let tracked = self.checksums.first { $0.algorithm == algorithm }?.finalize()
            guard let digest = tracked ?? untrackedDigest(algorithm) else {
                throw .malformedChunkedBody(.undeclaredTrailer(name: name, offset: self.trailerOffsets[index]))
            }
            guard provided.elementsEqual(digest) else {
                throw .checksumMismatch(
                    ChecksumMismatch(
                        algorithm: algorithm, provided: value, computed: Data(digest).base64EncodedString()))
            }
            verified.append(algorithm)
        }
        return verified
    }
}
