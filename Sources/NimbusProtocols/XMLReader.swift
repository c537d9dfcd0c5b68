/// Reads an untrusted XML 1.0 document (a request body) into an ``XML/Element`` tree.
///
/// Security first: there is no DTD processing at all. A `<!DOCTYPE` anywhere, and hence any entity declaration, is
/// refused (S3 answers `MalformedXML`), so no external entity is fetched and no entity expands; the only references
/// are the five predefined entities and character references. Size, depth and element count are bounded by
/// ``Limits``; the reader is iterative, so depth costs no stack.
///
/// The document must be UTF-8 (an optional byte-order mark is skipped; an `encoding` other than UTF-8 is refused) and
/// well-formed: one root element, matching end tags, unique attributes, valid names and characters, no `]]>` in
/// character data, no `--` in comments. Line ends are normalised to `\n`, and attribute whitespace to spaces, as XML
/// requires. As a deliberate leniency, character references may name any Unicode scalar but U+0000 (`&#x1b;`
/// included), so that the object keys ``XML/escapedText(_:)`` and S3 write can be sent back. Namespaces are not
/// interpreted: names keep their prefixes and `xmlns` attributes stay attributes. Comments and processing
/// instructions are skipped.
public struct XMLReader: Sendable {
    /// What the reader accepts before it gives up with `limitExceeded`.
    public struct Limits: Sendable, Hashable {
        /// The largest document, in bytes (default 4 MiB: a 10,000-part CompleteMultipartUpload with checksums fits).
        public var maximumBytes: Int
        /// The deepest element nesting; the root is at depth 1.
        public var maximumDepth: Int
        /// The most elements in the document.
        public var maximumElements: Int

        /// Limits sized for S3's request bodies.
        public init(maximumBytes: Int = 4 << 20, maximumDepth: Int = 32, maximumElements: Int = 100_000) {
            self.maximumBytes = maximumBytes
            self.maximumDepth = maximumDepth
            self.maximumElements = maximumElements
        }
    }

    /// The limits this reader applies.
    public var limits: Limits

    /// A reader with these limits.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The root element of the document in `bytes`.
    /// - Throws: ``WireFormatError`` `malformedXML` (with line and column), or `limitExceeded`.
    public func read(_ bytes: some Collection<UInt8>) throws -> XML.Element {
        guard bytes.count <= self.limits.maximumBytes else {
            throw WireFormatError(
                .limitExceeded,
                "XML document of \(bytes.count) bytes is larger than the limit of \(self.limits.maximumBytes) bytes"
            )
        }
        var parser = XMLParserState(bytes: Array(bytes), limits: self.limits)
        return try parser.parseDocument()
    }
}
