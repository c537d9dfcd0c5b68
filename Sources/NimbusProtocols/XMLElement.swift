/// XML documents as plain values, for `rest-xml` (S3) and `query` protocol bodies. A namespace, so that ``Element``
/// does not collide with Foundation's `XMLElement` in files that import both.
public enum XML {
    /// One attribute, in the order it is written.
    public struct Attribute: Sendable, Hashable {
        /// The attribute's name, with any prefix (`xmlns`, `xsi:type`).
        public var name: String
        /// The value, unescaped.
        public var value: String

        /// The attribute `name="value"`.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// An element: its name (with any prefix, e.g. `xsi:type`), attributes, character data and child elements.
    ///
    /// The model has no mixed content: ``text`` is all the character data directly inside the element, and is written
    /// before the children. ``XMLReader`` drops whitespace-only text of elements that have children (indentation).
    public struct Element: Sendable, Hashable {
        /// The element's name, with any prefix.
        public var name: String
        /// The attributes, in document order.
        public var attributes: [Attribute]
        /// The character data directly inside the element, unescaped.
        public var text: String
        /// The child elements, in document order.
        public var children: [Element]

        /// An element; `XML.Element("Key", text: "a")` is `<Key>a</Key>`.
        public init(_ name: String, attributes: [Attribute] = [], text: String = "", children: [Element] = []) {
            self.name = name
            self.attributes = attributes
            self.text = text
            self.children = children
        }

        /// The first child element with this name.
        public func first(_ name: String) -> Element? { self.children.first { $0.name == name } }

        /// Every child element with this name, in document order.
        public func all(_ name: String) -> [Element] { self.children.filter { $0.name == name } }

        /// The value of an attribute.
        public subscript(attribute name: String) -> String? { self.attributes.first { $0.name == name }?.value }

        /// The element as a UTF-8 document: `<?xml version="1.0" encoding="UTF-8"?>`, a newline (as S3 writes it),
        /// then the element, compact, with `xmlns` as its first attribute when `namespace` is given (replacing any
        /// `xmlns` attribute it has).
        ///
        /// Output is deterministic: attributes and children in stored order, `<Name></Name>` for an empty element.
        /// Text is escaped as ``XML/escapedText(_:)`` and attribute values as ``XML/escapedAttribute(_:)`` describe.
        /// Names are written as they are: they must be XML names (``XML/isName(_:)``; ``XMLMapping`` checks this).
        public func document(namespace: String? = nil) -> [UInt8] {
            var root = self
            if let namespace {
                root.attributes = [Attribute("xmlns", namespace)] + root.attributes.filter { $0.name != "xmlns" }
            }
            var output = Array(#"<?xml version="1.0" encoding="UTF-8"?>"#.utf8)
            output.append(0x0a)
            root.write(into: &output)
            return output
        }

        /// The element alone, without a declaration: for embedding, logs and tests.
        public var fragment: String {
            var output: [UInt8] = []
            self.write(into: &output)
            return String(decoding: output, as: UTF8.self)
        }

        private func write(into output: inout [UInt8]) {
            output.append(UInt8(ascii: "<"))
            output += self.name.utf8
            for attribute in self.attributes {
                output.append(UInt8(ascii: " "))
                output += attribute.name.utf8
                output += #"=""#.utf8
                XML.escape(attribute.value, inAttribute: true, into: &output)
                output.append(UInt8(ascii: "\""))
            }
            output.append(UInt8(ascii: ">"))
            XML.escape(self.text, inAttribute: false, into: &output)
            for child in self.children { child.write(into: &output) }
            output += "</".utf8
            output += self.name.utf8
            output.append(UInt8(ascii: ">"))
        }
    }
}

// MARK: - Escaping and names

extension XML {
    /// Character data as written: `&` `<` `>` `"` `'` become `&amp;` `&lt;` `&gt;` `&quot;` `&apos;`, a carriage return
    /// becomes `&#xd;` (so that line-end normalisation keeps it), and the characters XML 1.0 does not allow — C0
    /// controls other than tab, newline and carriage return, U+FFFE, U+FFFF — become hexadecimal character references
    /// such as `&#x1b;`, exactly as S3 writes them in listings. Such a reference is outside strict XML 1.0 (strict
    /// parsers reject it; that is why clients ask S3 for `encoding-type=url`), but it keeps the value intact where
    /// dropping the character would corrupt an object key; ``XMLReader`` accepts these references.
    public static func escapedText(_ text: String) -> String {
        var output: [UInt8] = []
        self.escape(text, inAttribute: false, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// An attribute value as written between double quotes: as ``escapedText(_:)``, and tab and newline as `&#x9;`
    /// and `&#xa;` too, so that attribute-value normalisation does not turn them into spaces.
    public static func escapedAttribute(_ value: String) -> String {
        var output: [UInt8] = []
        self.escape(value, inAttribute: true, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    static func escape(_ text: String, inAttribute: Bool, into output: inout [UInt8]) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;".utf8
            case "<": output += "&lt;".utf8
            case ">": output += "&gt;".utf8
            case "\"": output += "&quot;".utf8
            case "'": output += "&apos;".utf8
            case "\t", "\n":
                if inAttribute {
                    Self.writeReference(scalar, into: &output)
                } else {
                    output.append(UInt8(scalar.value))
                }
            case "\r": Self.writeReference(scalar, into: &output)
            default:
                if Self.isCharacter(scalar) {
                    output += String(scalar).utf8
                } else {
                    Self.writeReference(scalar, into: &output)
                }
            }
        }
    }

    private static func writeReference(_ scalar: Unicode.Scalar, into output: inout [UInt8]) {
        output += "&#x\(String(scalar.value, radix: 16));".utf8
    }

    /// XML 1.0's `Char` production: the characters a document may contain literally.
    static func isCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xa, 0xd, 0x20...0xd7ff, 0xe000...0xfffd, 0x1_0000...0x10_ffff: true
        default: false
        }
    }

    /// Whether `name` is an XML 1.0 `Name` (letters, digits, `_`, `:`, `-`, `.` and the production's Unicode ranges,
    /// not starting with a digit, `-` or `.`).
    public static func isName(_ name: String) -> Bool {
        var scalars = name.unicodeScalars.makeIterator()
        guard let first = scalars.next(), Self.isNameStart(first) else { return false }
        while let next = scalars.next() { guard Self.isNameCharacter(next) else { return false } }
        return true
    }

    static func isNameStart(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3a, 0x41...0x5a, 0x5f, 0x61...0x7a, 0xc0...0xd6, 0xd8...0xf6, 0xf8...0x2ff, 0x370...0x37d,
            0x37f...0x1fff, 0x200c...0x200d, 0x2070...0x218f, 0x2c00...0x2fef, 0x3001...0xd7ff, 0xf900...0xfdcf,
            0xfdf0...0xfffd, 0x1_0000...0xe_ffff:
            true
        default: false
        }
    }

    static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2d, 0x2e, 0x30...0x39, 0xb7, 0x300...0x36f, 0x203f...0x2040: true
        default: Self.isNameStart(scalar)
        }
    }
}
