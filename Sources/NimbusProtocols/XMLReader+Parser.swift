/// The cursor behind ``XMLReader``: a byte-level, iterative parser over input already checked to be UTF-8 made of
/// XML characters, so markup is found by its ASCII bytes and names are decoded only to check their characters.
struct XMLParserState {
    let bytes: [UInt8]
    let limits: XMLReader.Limits
    var offset = 0
    var elementCount = 0

    init(bytes: [UInt8], limits: XMLReader.Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// An element whose end tag has not been read yet, with its character data so far.
    struct OpenElement {
        var element: XML.Element
        var text: [UInt8] = []
    }

    mutating func parseDocument() throws(WireFormatError) -> XML.Element {
        try self.checkCharacters()
        if self.bytes.starts(with: [0xef, 0xbb, 0xbf]) { self.offset = 3 }
        try self.parseDeclaration()
        try self.skipMisc()
        guard self.offset < self.bytes.count else { throw self.error("no root element") }
        guard self.bytes[self.offset] == UInt8(ascii: "<") else { throw self.error("text before the root element") }
        let root = try self.parseElementTree()
        try self.skipMisc()
        guard self.offset == self.bytes.count else { throw self.error("content after the root element") }
        return root
    }

    // MARK: Errors and positions

    func error(_ what: String, at offset: Int? = nil) -> WireFormatError {
        let position = min(offset ?? self.offset, self.bytes.count)
        var line = 1
        var lineStart = 0
        for (index, byte) in self.bytes[..<position].enumerated() where byte == 0x0a {
            line += 1
            lineStart = index + 1
        }
        return WireFormatError(.malformedXML, "\(what) (line \(line), column \(position - lineStart + 1))")
    }

    func limitError(_ what: String) -> WireFormatError { WireFormatError(.limitExceeded, what) }

    /// Every byte sequence is UTF-8 and every scalar an XML `Char`.
    func checkCharacters() throws(WireFormatError) {
        var iterator = self.bytes.makeIterator()
        var decoder = UTF8()
        var position = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                guard XML.isCharacter(scalar) else {
                    throw self.error(
                        "character U+\(String(scalar.value, radix: 16, uppercase: true)) is not allowed in XML",
                        at: position
                    )
                }
                position += UTF8.width(scalar)
            case .emptyInput: return
            case .error: throw self.error("the document is not valid UTF-8", at: position)
            }
        }
    }

    // MARK: Low-level scanning

    func isAt(_ literal: String) -> Bool {
        self.bytes[self.offset...].starts(with: literal.utf8)
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d }

    /// Skips XML whitespace; whether there was any.
    @discardableResult
    mutating func skipSpace() -> Bool {
        let start = self.offset
        while self.offset < self.bytes.count, Self.isSpace(self.bytes[self.offset]) { self.offset += 1 }
        return self.offset > start
    }

    mutating func expect(_ literal: String, _ what: String) throws(WireFormatError) {
        guard self.isAt(literal) else { throw self.error("expected \(what)") }
        self.offset += literal.utf8.count
    }

    /// The scalar at `index`, and its length in bytes; the input is known to be valid UTF-8.
    func scalar(at index: Int) -> (Unicode.Scalar, Int) {
        let lead = UInt32(self.bytes[index])
        let (length, initial): (Int, UInt32) =
            switch lead {
            case 0..<0x80: (1, lead)
            case 0xc0..<0xe0: (2, lead & 0x1f)
            case 0xe0..<0xf0: (3, lead & 0x0f)
            default: (4, lead & 0x07)
            }
        var value = initial
        for continuation in self.bytes[(index + 1)..<(index + length)] {
            value = value << 6 | UInt32(continuation & 0x3f)
        }
        // Valid UTF-8 decodes only to scalar values.
        return (Unicode.Scalar(value) ?? "\u{fffd}", length)
    }

    mutating func parseName(_ what: String) throws(WireFormatError) -> String {
        let start = self.offset
        guard self.offset < self.bytes.count, XML.isNameStart(self.scalar(at: self.offset).0) else {
            throw self.error("expected \(what)")
        }
        while self.offset < self.bytes.count {
            let (scalar, length) = self.scalar(at: self.offset)
            guard XML.isNameCharacter(scalar) else { break }
            self.offset += length
        }
        return String(decoding: self.bytes[start..<self.offset], as: UTF8.self)
    }

    // MARK: Prolog and misc

    /// `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`, if the document starts with one.
    mutating func parseDeclaration() throws(WireFormatError) {
        guard self.isAt("<?xml"), self.offset + 5 < self.bytes.count, Self.isSpace(self.bytes[self.offset + 5]) else {
            return
        }
        self.offset += 5
        var seen: [String: String] = [:]
        while true {
            let hadSpace = self.skipSpace()
            if self.isAt("?>") {
                self.offset += 2
                break
            }
            guard hadSpace else { throw self.error("expected whitespace in the XML declaration") }
            let name = try self.parseName("a pseudo-attribute of the XML declaration")
            guard ["version", "encoding", "standalone"].contains(name), seen[name] == nil else {
                throw self.error("unexpected \(name) in the XML declaration")
            }
            self.skipSpace()
            try self.expect("=", "\"=\" after \(name)")
            self.skipSpace()
            seen[name] = try self.parseAttributeValue()
        }
        guard let version = seen["version"], version.hasPrefix("1.") else {
            throw self.error("the XML declaration must give version 1.x")
        }
        if let encoding = seen["encoding"], encoding.lowercased() != "utf-8" {
            throw self.error("only UTF-8 documents are accepted; this one declares encoding \(encoding)")
        }
    }

    /// Whitespace, comments and processing instructions between the declaration, the root and the end.
    mutating func skipMisc() throws(WireFormatError) {
        while true {
            self.skipSpace()
            if self.isAt("<!--") {
                try self.skipComment()
            } else if self.isAt("<?") {
                try self.skipProcessingInstruction()
            } else if self.isAt("<!") {
                try self.refuseDeclaration()
            } else {
                return
            }
        }
    }

    func refuseDeclaration() throws(WireFormatError) -> Never {
        if self.isAt("<!DOCTYPE") {
            throw self.error(
                "DOCTYPE declarations are not allowed: no DTD, entity declaration or external entity is processed"
            )
        }
        for keyword in ["<!ENTITY", "<!ELEMENT", "<!ATTLIST", "<!NOTATION"] where self.isAt(keyword) {
            throw self.error("markup declarations (\(keyword.dropFirst(2))) are not allowed")
        }
        throw self.error("unexpected markup \"<!\"")
    }

    mutating func skipComment() throws(WireFormatError) {
        let start = self.offset
        self.offset += 4
        while self.offset < self.bytes.count {
            if self.isAt("--") {
                guard self.isAt("-->") else { throw self.error("\"--\" is not allowed inside a comment") }
                self.offset += 3
                return
            }
            self.offset += 1
        }
        throw self.error("unterminated comment", at: start)
    }

    mutating func skipProcessingInstruction() throws(WireFormatError) {
        let start = self.offset
        self.offset += 2
        let target = try self.parseName("a processing instruction target")
        guard target.lowercased() != "xml" else { throw self.error("the XML declaration must come first", at: start) }
        guard self.isAt("?>") || self.skipSpace() else { throw self.error("expected whitespace after \(target)") }
        while self.offset < self.bytes.count {
            if self.isAt("?>") {
                self.offset += 2
                return
            }
            self.offset += 1
        }
        throw self.error("unterminated processing instruction", at: start)
    }

    // MARK: Elements

    /// The element starting at `<`, with everything inside it, iteratively.
    mutating func parseElementTree() throws(WireFormatError) -> XML.Element {
        var stack: [OpenElement] = []
        let (root, rootIsEmpty) = try self.parseStartTag(depth: 1)
        if rootIsEmpty { return root }
        stack.append(OpenElement(element: root))
        while let top = stack.indices.last {
            guard self.offset < self.bytes.count else {
                throw self.error("unexpected end of the document: <\(stack[top].element.name)> is not closed")
            }
            switch self.bytes[self.offset] {
            case UInt8(ascii: "<"):
                if self.isAt("</") {
                    let closed = try self.parseEndTag(of: stack.removeLast())
                    if stack.isEmpty { return closed }
                    stack[top - 1].element.children.append(closed)
                } else if self.isAt("<!--") {
                    try self.skipComment()
                } else if self.isAt("<![CDATA[") {
                    try self.readCDATA(into: &stack[top].text)
                } else if self.isAt("<?") {
                    try self.skipProcessingInstruction()
                } else if self.isAt("<!") {
                    try self.refuseDeclaration()
                } else {
                    let (child, isEmpty) = try self.parseStartTag(depth: stack.count + 1)
                    if isEmpty {
                        stack[top].element.children.append(child)
                    } else {
                        stack.append(OpenElement(element: child))
                    }
                }
            case UInt8(ascii: "&"):
                stack[top].text += String(try self.parseReference()).utf8
            default:
                try self.readCharacterData(into: &stack[top].text)
            }
        }
        preconditionFailure("the loop returns when the root element closes")
    }

    /// `<name attr="value" …>` or `<name …/>`: the element (without content) and whether it was empty-element form.
    mutating func parseStartTag(depth: Int) throws(WireFormatError) -> (XML.Element, isEmpty: Bool) {
        guard depth <= self.limits.maximumDepth else {
            throw self.limitError("XML elements nested deeper than \(self.limits.maximumDepth) levels")
        }
        self.elementCount += 1
        guard self.elementCount <= self.limits.maximumElements else {
            throw self.limitError("more than \(self.limits.maximumElements) XML elements")
        }
        self.offset += 1
        var element = XML.Element(try self.parseName("an element name after \"<\""))
        var attributeNames = Set<String>()
        while true {
            let hadSpace = self.skipSpace()
            if self.isAt("/>") {
                self.offset += 2
                return (element, true)
            }
            if self.isAt(">") {
                self.offset += 1
                return (element, false)
            }
            guard hadSpace, self.offset < self.bytes.count else {
                throw self.error("expected whitespace, \">\" or \"/>\" in <\(element.name)>")
            }
            let nameStart = self.offset
            let name = try self.parseName("an attribute name")
            self.skipSpace()
            try self.expect("=", "\"=\" after attribute \(name)")
            self.skipSpace()
            let value = try self.parseAttributeValue()
            guard attributeNames.insert(name).inserted else {
                throw self.error("attribute \(name) appears twice in <\(element.name)>", at: nameStart)
            }
            element.attributes.append(XML.Attribute(name, value))
        }
    }

    /// `</name>` matching `open`; the finished element.
    mutating func parseEndTag(of open: OpenElement) throws(WireFormatError) -> XML.Element {
        let start = self.offset
        self.offset += 2
        let name = try self.parseName("an element name after \"</\"")
        self.skipSpace()
        try self.expect(">", "\">\" to end </\(name)>")
        guard name == open.element.name else {
            throw self.error("end tag </\(name)> does not match <\(open.element.name)>", at: start)
        }
        var element = open.element
        let text = String(decoding: open.text, as: UTF8.self)
        let isWhitespace = open.text.allSatisfy(Self.isSpace)
        element.text = element.children.isEmpty || !isWhitespace ? text : ""
        return element
    }

    /// A quoted attribute value, references replaced and whitespace normalised to spaces.
    mutating func parseAttributeValue() throws(WireFormatError) -> String {
        guard self.offset < self.bytes.count, self.bytes[self.offset] == 0x22 || self.bytes[self.offset] == 0x27 else {
            throw self.error("expected a quoted attribute value")
        }
        let quote = self.bytes[self.offset]
        self.offset += 1
        var value: [UInt8] = []
        while self.offset < self.bytes.count {
            let byte = self.bytes[self.offset]
            switch byte {
            case quote:
                self.offset += 1
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "<"):
                throw self.error("\"<\" is not allowed in an attribute value")
            case UInt8(ascii: "&"):
                value += String(try self.parseReference()).utf8
            case 0x0d:
                self.offset += self.isAt("\r\n") ? 2 : 1
                value.append(0x20)
            case 0x09, 0x0a:
                self.offset += 1
                value.append(0x20)
            default:
                self.offset += 1
                value.append(byte)
            }
        }
        throw self.error("unterminated attribute value")
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&#N;` `&#xH;`.
    mutating func parseReference() throws(WireFormatError) -> Unicode.Scalar {
        let start = self.offset
        self.offset += 1
        if self.isAt("#") {
            self.offset += 1
            let hex = self.isAt("x")
            if hex { self.offset += 1 }
            let digitsStart = self.offset
            while self.offset < self.bytes.count, self.offset - digitsStart <= 8,
                self.bytes[self.offset] != UInt8(ascii: ";")
            {
                self.offset += 1
            }
            let digits = String(decoding: self.bytes[digitsStart..<self.offset], as: UTF8.self)
            guard self.isAt(";"), let value = UInt32(digits, radix: hex ? 16 : 10), value != 0,
                let scalar = Unicode.Scalar(value), !digits.hasPrefix("+")
            else {
                throw self.error("invalid character reference", at: start)
            }
            self.offset += 1
            return scalar
        }
        let name = try self.parseName("an entity name after \"&\"")
        guard self.isAt(";") else { throw self.error("expected \";\" after &\(name)", at: start) }
        self.offset += 1
        switch name {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default:
            throw self.error(
                "undefined entity &\(name); (no DTD is read, so only the five predefined entities exist)",
                at: start
            )
        }
    }

    /// Character data up to the next `<` or `&`, line ends normalised.
    mutating func readCharacterData(into text: inout [UInt8]) throws(WireFormatError) {
        while self.offset < self.bytes.count {
            let byte = self.bytes[self.offset]
            switch byte {
            case UInt8(ascii: "<"), UInt8(ascii: "&"):
                return
            case UInt8(ascii: "]") where self.isAt("]]>"):
                throw self.error("\"]]>\" is not allowed in character data")
            case 0x0d:
                self.offset += self.isAt("\r\n") ? 2 : 1
                text.append(0x0a)
            default:
                self.offset += 1
                text.append(byte)
            }
        }
    }

    /// `<![CDATA[…]]>`: the content verbatim, line ends normalised.
    mutating func readCDATA(into text: inout [UInt8]) throws(WireFormatError) {
        let start = self.offset
        self.offset += 9
        while self.offset < self.bytes.count {
            if self.isAt("]]>") {
                self.offset += 3
                return
            }
            if self.bytes[self.offset] == 0x0d {
                self.offset += self.isAt("\r\n") ? 2 : 1
                text.append(0x0a)
            } else {
                text.append(self.bytes[self.offset])
                self.offset += 1
            }
        }
        throw self.error("unterminated CDATA section", at: start)
    }
}
