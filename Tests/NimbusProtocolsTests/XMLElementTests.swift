import NimbusProtocols
import Testing

/// Writing XML: declaration, namespace, escaping, determinism.
@Suite struct XMLElementTests {
    @Test func writesADocumentWithDeclarationAndNamespace() {
        let result = XML.Element(
            "ListAllMyBucketsResult",
            children: [
                XML.Element("Owner", children: [XML.Element("ID", text: "abc")]),
                XML.Element("Buckets", children: [XML.Element("Bucket", children: [XML.Element("Name", text: "b1")])]),
                XML.Element("Prefix"),
            ]
        )
        let document = String(
            decoding: result.document(namespace: "http://s3.amazonaws.com/doc/2006-03-01/"),
            as: UTF8.self
        )
        #expect(
            document == """
                <?xml version="1.0" encoding="UTF-8"?>
                <ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>abc</ID></Owner>\
                <Buckets><Bucket><Name>b1</Name></Bucket></Buckets><Prefix></Prefix></ListAllMyBucketsResult>
                """
        )
    }

    @Test func putsTheNamespaceFirstAndReplacesAnExistingOne() {
        let element = XML.Element("R", attributes: [.init("a", "1"), .init("xmlns", "old")])
        let document = String(decoding: element.document(namespace: "urn:new"), as: UTF8.self)
        #expect(document.hasSuffix(#"<R xmlns="urn:new" a="1"></R>"#))
        #expect(String(decoding: element.document(), as: UTF8.self).hasSuffix(#"<R a="1" xmlns="old"></R>"#))
    }

    @Test func escapesTheFiveSpecialCharactersInTextAndAttributes() {
        let element = XML.Element("Key", attributes: [.init("v", #"a&b<c>d"e'f"#)], text: #"a&b<c>d"e'f"#)
        #expect(element.fragment == #"<Key v="a&amp;b&lt;c&gt;d&quot;e&apos;f">a&amp;b&lt;c&gt;d&quot;e&apos;f</Key>"#)
    }

    @Test func writesControlCharactersAsHexReferencesAsS3Does() {
        #expect(XML.escapedText("a\u{1}b\u{1b}c\u{0}d\u{fffe}\u{ffff}") == "a&#x1;b&#x1b;c&#x0;d&#xfffe;&#xffff;")
        #expect(XML.escapedText("tab\tnew\nline\rcr") == "tab\tnew\nline&#xd;cr")
        #expect(XML.escapedAttribute("tab\tnew\nline\rcr") == "tab&#x9;new&#xa;line&#xd;cr")
        #expect(XML.escapedText("ü水𐅑 \u{fffd}") == "ü水𐅑 \u{fffd}")
    }

    @Test func roundTripsEveryEscapedStringThroughTheReader() throws {
        let awkward = "k\u{1}\u{8}\u{b}\u{c}\u{1f}\t\n\r\n\r&<>\"'ü水𐅑]]>\u{fffe}"
        let element = XML.Element("Key", attributes: [.init("a", awkward)], text: awkward)
        let read = try XMLReader().read(element.document())
        #expect(read == element)
    }

    @Test(arguments: [
        ("Key", true), ("s3:Key", true), ("_a-b.c9", true), ("ünï", true), ("9a", false), ("-a", false),
        ("a b", false), ("", false), ("a<", false),
    ])
    func recognisesXMLNames(_ name: String, _ isName: Bool) {
        #expect(XML.isName(name) == isName)
    }

    @Test func readsChildrenAndAttributes() {
        let element = XML.Element(
            "Delete",
            attributes: [.init("id", "7")],
            children: [
                XML.Element("Object", text: "a"), XML.Element("Quiet", text: "true"), XML.Element("Object", text: "b"),
            ]
        )
        #expect(element.first("Quiet")?.text == "true")
        #expect(element.all("Object").map(\.text) == ["a", "b"])
        #expect(element.first("Missing") == nil)
        #expect(element[attribute: "id"] == "7")
    }
}
