import NimbusCore

/// The JSONPath subset EventBridge evaluates in `InputPath` and `InputPathsMap`: `$`, dot notation with names of any
/// characters but `.` and `[` (dashes, underscores, slashes), array indices `[0]`, and wildcards `.*` / `[*]`.
///
/// Paths are evaluated on the event's JSON text and answer the value's text as it appears there, so an extracted
/// object keeps the producer's key order and numbers their spelling. A path through a wildcard answers the list of
/// what it reached.
struct JSONPath: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        case key(String)
        case index(Int)
        case any
    }

    let steps: [Step]

    /// Nil when `text` is not a path of the subset.
    init?(_ text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard rest.first == "$" else { return nil }
        rest = rest.dropFirst()
        var steps: [Step] = []
        while let first = rest.first {
            if first == "." {
                rest = rest.dropFirst()
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                let name = rest[..<end]
                guard !name.isEmpty else { return nil }
                steps.append(name == "*" ? .any : .key(String(name)))
                rest = rest[end...]
            } else if first == "[" {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                if inside == "*" {
                    steps.append(.any)
                } else if let index = Int(inside), index >= 0 {
                    steps.append(.index(index))
                } else {
                    return nil
                }
                rest = rest[rest.index(after: close)...]
            } else {
                return nil
            }
        }
        self.steps = steps
    }

    /// The JSON text of what the path reaches in `json` (valid, minified JSON), or nil when it reaches nothing.
    func evaluate(_ json: String) -> String? {
        let bytes = Array(json.utf8)
        let wildcard = self.steps.contains(.any)
        var found: [Range<Int>] = []
        var scanner = JSONScanner(bytes: bytes)
        scanner.collect(self.steps[...], at: 0, into: &found)
        if wildcard {
            return "[" + found.map { String(decoding: bytes[$0], as: UTF8.self) }.joined(separator: ",") + "]"
        }
        guard let range = found.first else { return nil }
        return String(decoding: bytes[range], as: UTF8.self)
    }
}

/// Walks minified JSON text by byte offsets.
struct JSONScanner {
    let bytes: [UInt8]

    /// Appends the ranges of the values `steps` reach from the value at `offset`.
    mutating func collect(_ steps: ArraySlice<Step>, at offset: Int, into found: inout [Range<Int>]) {
        guard let end = self.end(of: offset) else { return }
        guard let step = steps.first else {
            found.append(offset..<end)
            return
        }
        let rest = steps.dropFirst()
        switch (step, self.bytes[offset]) {
        case (.key(let name), UInt8(ascii: "{")):
            for (key, value) in self.members(offset) where key == name {
                self.collect(rest, at: value, into: &found)
            }
        case (.any, UInt8(ascii: "{")):
            for (_, value) in self.members(offset) { self.collect(rest, at: value, into: &found) }
        case (.index(let index), UInt8(ascii: "[")):
            let elements = self.elements(offset)
            if index < elements.count { self.collect(rest, at: elements[index], into: &found) }
        case (.any, UInt8(ascii: "[")):
            for element in self.elements(offset) { self.collect(rest, at: element, into: &found) }
        default:
            return
        }
    }

    typealias Step = JSONPath.Step

    /// An object's members: decoded key and the offset of its value. Of a key given twice, the last counts.
    func members(_ offset: Int) -> [(String, Int)] {
        var result: [(String, Int)] = []
        var i = offset + 1
        while i < self.bytes.count, self.bytes[i] != UInt8(ascii: "}") {
            if self.bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard let keyEnd = self.end(of: i) else { return result }
            let key = Self.decodeString(self.bytes[i..<keyEnd])
            let value = keyEnd + 1  // past ':'
            guard let valueEnd = self.end(of: value) else { return result }
            if let existing = result.firstIndex(where: { $0.0 == key }) { result.remove(at: existing) }
            result.append((key, value))
            i = valueEnd
        }
        return result
    }

    /// An array's elements' offsets.
    func elements(_ offset: Int) -> [Int] {
        var result: [Int] = []
        var i = offset + 1
        while i < self.bytes.count, self.bytes[i] != UInt8(ascii: "]") {
            if self.bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard let end = self.end(of: i) else { return result }
            result.append(i)
            i = end
        }
        return result
    }

    /// The offset just past the value starting at `offset`.
    func end(of offset: Int) -> Int? {
        guard offset < self.bytes.count else { return nil }
        switch self.bytes[offset] {
        case UInt8(ascii: "\""):
            var i = offset + 1
            while i < self.bytes.count {
                if self.bytes[i] == UInt8(ascii: "\\") {
                    i += 2
                } else if self.bytes[i] == UInt8(ascii: "\"") {
                    return i + 1
                } else {
                    i += 1
                }
            }
            return nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = offset
            while i < self.bytes.count {
                switch self.bytes[i] {
                case UInt8(ascii: "\""):
                    guard let end = self.end(of: i) else { return nil }
                    i = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return nil
        default:
            var i = offset
            while i < self.bytes.count {
                switch self.bytes[i] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"): return i
                default: i += 1
                }
            }
            return i
        }
    }

    static func decodeString(_ bytes: ArraySlice<UInt8>) -> String {
        if !bytes.contains(UInt8(ascii: "\\")) { return String(decoding: bytes.dropFirst().dropLast(), as: UTF8.self) }
        return JSONValue.parse(bytes)?.stringValue ?? ""
    }
}
