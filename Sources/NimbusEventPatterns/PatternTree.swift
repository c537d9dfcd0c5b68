import NimbusCore

/// One sub-rule as a tree of path segments, walked along the event without flattening it.
///
/// EventBridge identifies a field by its dot-joined path, so `{"a": {"b": …}}` and `{"a.b": …}` are the same field,
/// in patterns and in events. Pattern paths are split on dots when the tree is built; event keys that contain dots
/// are found through ``dottedKeys``: at each node, the joined forms of the paths below it (up to
/// ``maximumDottedSegments`` segments) are looked up too.
final class PatternNode: Sendable {
    struct Child: Sendable {
        let key: String
        let node: PatternNode
    }

    /// An event key such as `"b.c"` that reaches, through child `child`, the node at the relative path `rest`.
    struct DottedKey: Sendable {
        let key: String
        let child: Int
        let rest: String
    }

    static let maximumDottedSegments = 6

    /// The alternatives for the value at this node's path, when the pattern names this path as a field. After
    /// ``splittingAbsence(_:)`` a condition is either `[.exists(false)]` (an absence) or holds no `exists: false`.
    let condition: [LeafMatcher]?
    let children: [Child]
    let dottedKeys: [DottedKey]
    /// Whether this node or one below it has a condition other than an absence: only such conditions choose an
    /// element of an array; absences look at every element consistent with the choices already made.
    let hasPositiveCondition: Bool

    private init(condition: [LeafMatcher]?, children: [Child]) {
        self.condition = condition
        self.children = children
        self.hasPositiveCondition =
            (condition.map { !Self.isAbsence($0) } ?? false) || children.contains { $0.node.hasPositiveCondition }
        var dotted: [DottedKey] = []
        for (index, child) in children.enumerated() {
            for rest in child.node.descendantPaths(limit: Self.maximumDottedSegments - 1) {
                dotted.append(DottedKey(key: child.key + "." + rest, child: index, rest: rest))
            }
        }
        self.dottedKeys = dotted
    }

    /// Builds the tree of one sub-rule.
    static func build(_ rule: SubRule) -> PatternNode {
        final class Builder {
            var condition: [LeafMatcher]?
            var children: [String: Builder] = [:]

            func freeze() -> PatternNode {
                PatternNode(
                    condition: condition,
                    children: children.sorted { $0.key < $1.key }.map { Child(key: $0.key, node: $0.value.freeze()) }
                )
            }
        }
        let root = Builder()
        for (path, matchers) in rule {
            var node = root
            for segment in path.split(separator: ".", omittingEmptySubsequences: false) {
                let key = String(segment)
                if let next = node.children[key] {
                    node = next
                } else {
                    let next = Builder()
                    node.children[key] = next
                    node = next
                }
            }
            node.condition = ValueTest.optimized(matchers)
        }
        return root.freeze()
    }

    static func isAbsence(_ condition: [LeafMatcher]) -> Bool {
        condition.allSatisfy { if case .exists(false) = $0 { true } else { false } }
    }

    /// Ruler treats `exists: false` in a field's list as its own alternative: the field matches through one of the
    /// other tests (choosing a value, hence an array element) or through the field's absence (choosing nothing).
    /// Splitting such fields into a positive and an absent variant of the sub-rule keeps the two apart. Beyond
    /// `maximumSplitFields` mixed fields in one sub-rule the rule is kept whole (the absence then counts within the
    /// chosen element).
    static let maximumSplitFields = 8

    static func splittingAbsence(_ rule: SubRule) -> [SubRule] {
        let mixed = rule.filter { _, condition in
            condition.contains { if case .exists(false) = $0 { true } else { false } } && !isAbsence(condition)
        }
        guard !mixed.isEmpty, mixed.count <= maximumSplitFields else { return [rule] }
        var variants = [rule]
        for (path, condition) in mixed {
            let positive = condition.filter { if case .exists(false) = $0 { false } else { true } }
            variants = variants.flatMap { variant -> [SubRule] in
                var withValue = variant
                withValue[path] = positive
                var without = variant
                without[path] = [.exists(false)]
                return [withValue, without]
            }
        }
        return variants
    }

    /// Dot-joined paths of every node below this one, at most `limit` segments long.
    private func descendantPaths(limit: Int) -> [String] {
        guard limit > 0 else { return [] }
        var paths: [String] = []
        for child in children {
            paths.append(child.key)
            for rest in child.node.descendantPaths(limit: limit - 1) {
                paths.append(child.key + "." + rest)
            }
        }
        return paths
    }

    /// Every `(path, matchers)` condition in the tree, for analyses done once at compile time.
    func conditions(prefix: [String] = []) -> [([String], [LeafMatcher])] {
        var result: [([String], [LeafMatcher])] = []
        if let condition { result.append((prefix, condition)) }
        for child in children {
            result.append(contentsOf: child.node.conditions(prefix: prefix + [child.key]))
        }
        return result
    }
}

/// The values an event has at one pattern path: usually one, more only when event keys with dots add some.
/// Kept inline so that the common case allocates nothing.
struct EventView {
    var first: JSONValue?
    var more: [JSONValue] = []

    init() {}
    init(_ value: JSONValue) { first = value }

    mutating func append(_ value: JSONValue) {
        if first == nil { first = value } else { more.append(value) }
    }

    var isEmpty: Bool { first == nil }

    @inline(__always)
    func forEachValue(_ body: (JSONValue) -> Void) {
        guard let first else { return }
        body(first)
        for value in more { body(value) }
    }

    func contains(where predicate: (JSONValue) -> Bool) -> Bool {
        guard let first else { return false }
        if predicate(first) { return true }
        return more.contains(where: predicate)
    }

    /// The first array among the values, with its position.
    func firstArray() -> (position: Int, elements: [JSONValue])? {
        if case .array(let elements)? = first { return (0, elements) }
        for (index, value) in more.enumerated() {
            if case .array(let elements) = value { return (index + 1, elements) }
        }
        return nil
    }

    func replacing(_ position: Int, withAll elements: [JSONValue]) -> EventView {
        var view = EventView()
        var index = 0
        forEachValue { value in
            if index == position {
                for element in elements { view.append(element) }
            } else {
                view.append(value)
            }
            index += 1
        }
        return view
    }

    func replacing(_ position: Int, with value: JSONValue?) -> EventView {
        if position == 0 && more.isEmpty {
            var view = EventView()
            view.first = value
            return view
        }
        var values: [JSONValue] = []
        forEachValue { values.append($0) }
        if let value { values[position] = value } else { values.remove(at: position) }
        var view = EventView()
        for value in values { view.append(value) }
        return view
    }
}

/// Matching a sub-rule's tree against an event, with EventBridge's semantics:
///
/// - a field matches when any of its alternatives matches any leaf value at its path;
/// - an array at a path is a choice of one element for everything below that path (array-consistent matching:
///   two fields never match from different elements of the same array); nested arrays are flattened the same way;
/// - `exists` looks at leaves only (an object-valued or empty-array field does not exist);
/// - a missing field fails every alternative except `exists: false`.
enum PatternMatcher {
    static func matches(
        _ root: PatternNode,
        event: JSONValue,
        replacing key: String? = nil,
        with value: JSONValue? = nil
    )
        -> Bool
    {
        guard case .object(let object) = event else {
            return matches(root, EventView(event))
        }
        if let condition = root.condition, !holds(condition, EventView(event)) { return false }
        for (index, child) in root.children.enumerated() {
            var view = EventView()
            if let key, child.key == key {
                if let value { view.append(value) }
            } else if let found = object[child.key] {
                view.append(found)
            }
            addDotted(for: index, of: root, from: object, to: &view)
            if !matches(child.node, view) { return false }
        }
        return true
    }

    static func matches(_ node: PatternNode, _ view: EventView) -> Bool {
        if let (position, elements) = view.firstArray() {
            if elements.isEmpty {
                return matches(node, view.replacing(position, with: nil))
            }
            guard node.hasPositiveCondition else {
                // Only absences below: no element is chosen, every element must lack the fields.
                return matches(node, view.replacing(position, withAll: elements))
            }
            for element in elements where matches(node, view.replacing(position, with: element)) {
                return true
            }
            return false
        }
        if let condition = node.condition, !holds(condition, view) { return false }
        for (index, child) in node.children.enumerated() {
            var childView = EventView()
            view.forEachValue { value in
                guard case .object(let object) = value else { return }
                if let found = object[child.key] { childView.append(found) }
                addDotted(for: index, of: node, from: object, to: &childView)
            }
            if !matches(child.node, childView) { return false }
        }
        return true
    }

    @inline(__always)
    private static func addDotted(
        for index: Int,
        of node: PatternNode,
        from object: [String: JSONValue],
        to view: inout EventView
    ) {
        for dotted in node.dottedKeys where dotted.child == index {
            if let found = object[dotted.key] {
                view.append(.object([dotted.rest: found]))
            }
        }
    }

    /// Whether any alternative holds for the leaves in `view` (arrays already expanded).
    private static func holds(_ condition: [LeafMatcher], _ view: EventView) -> Bool {
        for matcher in condition {
            switch matcher {
            case .exists(let wanted):
                if view.contains(where: isLeaf) == wanted { return true }
            case .test(let test):
                if view.contains(where: { isLeaf($0) && test.matches($0) }) { return true }
            }
        }
        return false
    }

    @inline(__always)
    private static func isLeaf(_ value: JSONValue) -> Bool {
        switch value {
        case .object, .array: false
        default: true
        }
    }
}
