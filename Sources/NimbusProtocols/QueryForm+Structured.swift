import NimbusCore

extension QueryForm {
    /// The parameters as one JSON object: each name is split at `.`; a segment of digits is a 1-based index into an
    /// array (elements ordered by index; gaps close up), any other segment a member of an object; every value is a
    /// string.
    ///
    /// `MessageAttribute.1.Name=a&MessageAttribute.1.Value.StringValue=b&Attribute.1.Name=VisibilityTimeout` reads as
    /// `{"MessageAttribute":[{"Name":"a","Value":{"StringValue":"b"}}],"Attribute":[{"Name":"VisibilityTimeout"}]}`.
    /// botocore sends an empty list as a bare `Name=`, which reads as the empty string.
    ///
    /// - Throws: ``WireFormatError`` `malformedForm` when names disagree — a name given twice, a name that is both a
    ///   value and a prefix (`A=1&A.B=2`), a segment used both as index and member — or a segment is empty, an index is
    ///   0, signed or has leading zeros; `limitExceeded` when an index exceeds ``Limits/maximumIndex`` or a name has
    ///   more than ``Limits/maximumDepth`` segments.
    public func structured() throws -> JSONValue {
        let root = QueryNode()
        for parameter in self.parameters {
            try self.insert(parameter, into: root)
        }
        return root.json()
    }

    private func insert(_ parameter: Parameter, into root: QueryNode) throws(WireFormatError) {
        let segments = parameter.name.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count <= self.limits.maximumDepth else {
            throw WireFormatError(
                .limitExceeded,
                "parameter \(parameter.name) has more than \(self.limits.maximumDepth) dotted segments"
            )
        }
        var node = root
        for segment in segments {
            let key = try self.key(for: segment, in: parameter.name)
            guard node.value == nil, node.kind(accepts: key) else { throw Self.conflict(parameter.name) }
            node = node.child(key)
        }
        guard node.value == nil, node.isEmpty else { throw Self.conflict(parameter.name) }
        node.value = parameter.value
    }

    private func key(for segment: Substring, in name: String) throws(WireFormatError) -> QueryNode.Key {
        guard let first = segment.utf8.first else {
            throw WireFormatError(.malformedForm, "parameter name \"\(name)\" has an empty segment")
        }
        let isDigits = { (text: Substring) in
            text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
        if first == UInt8(ascii: "-") || first == UInt8(ascii: "+"), segment.count > 1, isDigits(segment.dropFirst()) {
            throw WireFormatError(.malformedForm, "parameter \(name) has a signed index \(segment); indices start at 1")
        }
        guard isDigits(segment) else { return .member(String(segment)) }
        guard first != UInt8(ascii: "0") else {
            throw WireFormatError(
                .malformedForm,
                "parameter \(name) has index \(segment); indices start at 1 and have no leading zeros"
            )
        }
        guard segment.utf8.count <= 18, let index = Int(segment), index <= self.limits.maximumIndex else {
            throw WireFormatError(
                .limitExceeded,
                "parameter \(name) has index \(segment), above the limit of \(self.limits.maximumIndex)"
            )
        }
        return .index(index)
    }

    private static func conflict(_ name: String) -> WireFormatError {
        WireFormatError(
            .malformedForm,
            "parameter \(name) conflicts with another parameter (given twice, or both a value and a structure)"
        )
    }
}

/// One node of the tree ``QueryForm/structured()`` builds: a value, or members, or indexed elements.
private final class QueryNode {
    enum Key: Hashable {
        case member(String)
        case index(Int)
    }

    var value: String?
    private var members: [String: QueryNode] = [:]
    private var elements: [Int: QueryNode] = [:]

    var isEmpty: Bool { self.members.isEmpty && self.elements.isEmpty }

    /// Whether a key of this kind can be added: a node holds members or elements, never both.
    func kind(accepts key: Key) -> Bool {
        switch key {
        case .member: self.elements.isEmpty
        case .index: self.members.isEmpty
        }
    }

    func child(_ key: Key) -> QueryNode {
        switch key {
        case .member(let name):
            if let existing = self.members[name] { return existing }
            let node = QueryNode()
            self.members[name] = node
            return node
        case .index(let index):
            if let existing = self.elements[index] { return existing }
            let node = QueryNode()
            self.elements[index] = node
            return node
        }
    }

    /// Recursion is bounded by ``QueryForm/Limits/maximumDepth``.
    func json() -> JSONValue {
        if let value = self.value { return .string(value) }
        if !self.elements.isEmpty {
            return .array(self.elements.keys.sorted().map { self.elements[$0]?.json() ?? .null })
        }
        return .object(self.members.mapValues { $0.json() })
    }
}
