import NimbusCore

/// botocore's `rest-xml` and `query` serialisation conventions, applied to a `JSONValue` document without a model.
///
/// A JSON object is a structure (one child element per member, named by the member) unless ``maps`` names it; a JSON
/// array is a list, wrapped or flattened as ``lists`` says (by member name; ``defaultListStyle`` otherwise). Scalars
/// become text: strings as they are, booleans `true`/`false`, whole numbers in the 64-bit integer range as integers, other
/// numbers in Swift's shortest round-trip form, non-finite numbers `NaN`, `Infinity`, `-Infinity` (as botocore writes
/// them). `null` members are omitted. Object members are written in ascending order of their UTF-8 bytes, so output is
/// deterministic (botocore's parser does not depend on member order). Timestamps and blobs are whatever text the
/// document holds: a service answering in XML puts ISO 8601 strings and base64 there.
///
/// A service that needs anything else (attributes, a member order, XML-specific names) builds ``XML/Element`` trees
/// directly, and can mix them with mapped children.
public struct XMLMapping: Sendable {
    /// How a list member is written.
    public enum ListStyle: Sendable, Hashable {
        /// `<Name><member>…</member><member>…</member></Name>`, with the item element's name: botocore's default is
        /// `member`; S3 names it in the model, e.g. `Tag` in `TagSet`.
        case wrapped(member: String)
        /// `<Name>…</Name><Name>…</Name>`: one element per item, named like the list (`Contents` in S3 listings,
        /// `QueueUrl` in SQS's ListQueues).
        case flattened
    }

    /// How a map member is written.
    public enum MapStyle: Sendable, Hashable {
        /// `<Name><entry><key>k</key><value>v</value></entry>…</Name>`.
        case wrapped(entry: String = "entry", key: String = "key", value: String = "value")
        /// `<Name><key>k</key><value>v</value></Name>…`: one element per pair (SQS's `Attribute` with `Name`/`Value`).
        case flattened(key: String = "key", value: String = "value")
    }

    /// The style of list members that ``lists`` does not name.
    public var defaultListStyle: ListStyle
    /// List styles by member name (also applies to the item elements of a list of lists, by their name).
    public var lists: [String: ListStyle]
    /// The member names whose object value is a map rather than a structure, with the map's style.
    public var maps: [String: MapStyle]

    /// A mapping; with the defaults, every list is wrapped in `member` elements and every object is a structure.
    public init(
        defaultListStyle: ListStyle = .wrapped(member: "member"),
        lists: [String: ListStyle] = [:],
        maps: [String: MapStyle] = [:]
    ) {
        self.defaultListStyle = defaultListStyle
        self.lists = lists
        self.maps = maps
    }

    /// The elements of a structure's members: what goes inside e.g. `<SendMessageResult>`.
    /// - Throws: ``WireFormatError`` `unrepresentable` when a member or configured name is not an XML name.
    public func children(of structure: [String: JSONValue]) throws -> [XML.Element] {
        var children: [XML.Element] = []
        for key in structure.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            children += try self.elements(named: key, for: structure[key] ?? .null)
        }
        return children
    }

    /// The elements a member named `name` with this value is written as: none for `null`, several for a flattened list
    /// or map, one otherwise.
    /// - Throws: ``WireFormatError`` `unrepresentable` when a member or configured name is not an XML name.
    public func elements(named name: String, for value: JSONValue) throws -> [XML.Element] {
        try Self.checkName(name)
        switch value {
        case .null:
            return []
        case .bool, .number, .string:
            return [XML.Element(name, text: Self.text(of: value))]
        case .array(let items):
            switch self.lists[name] ?? self.defaultListStyle {
            case .wrapped(let member):
                var children: [XML.Element] = []
                for item in items { children += try self.elements(named: member, for: item) }
                return [XML.Element(name, children: children)]
            case .flattened:
                var elements: [XML.Element] = []
                for item in items { elements += try self.elements(named: name, for: item) }
                return elements
            }
        case .object(let members):
            guard let style = self.maps[name] else {
                return [XML.Element(name, children: try self.children(of: members))]
            }
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            switch style {
            case .wrapped(let entry, let keyName, let valueName):
                var entries: [XML.Element] = []
                for key in keys {
                    let pair =
                        try self.elements(named: keyName, for: .string(key))
                        + self.elements(named: valueName, for: members[key] ?? .null)
                    try Self.checkName(entry)
                    entries.append(XML.Element(entry, children: pair))
                }
                return [XML.Element(name, children: entries)]
            case .flattened(let keyName, let valueName):
                var elements: [XML.Element] = []
                for key in keys {
                    let pair =
                        try self.elements(named: keyName, for: .string(key))
                        + self.elements(named: valueName, for: members[key] ?? .null)
                    elements.append(XML.Element(name, children: pair))
                }
                return elements
            }
        }
    }

    static func checkName(_ name: String) throws(WireFormatError) {
        guard XML.isName(name) else {
            throw WireFormatError(.unrepresentable, "\"\(name)\" is not an XML element name")
        }
    }

    /// The text of a scalar.
    static func text(of value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number(let n):
            if n.isNaN { return "NaN" }
            if n.isInfinite { return n < 0 ? "-Infinity" : "Infinity" }
            if n.rounded() == n, n >= -9_223_372_036_854_775_808, n < 9_223_372_036_854_775_808 {
                return String(Int64(n))
            }
            return String(n)
        default: return ""
        }
    }
}
