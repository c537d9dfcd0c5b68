import NimbusCore

/// A request's input document, read with the json protocol's checks: a member of the wrong JSON type is a
/// `SerializationException`. Constraint violations (lengths, patterns, enums, required members) are collected by
/// ``Constraints`` and reported together, as AWS's front end does.
struct Input: Sendable {
    let document: [String: JSONValue]

    init(_ value: JSONValue?) throws(EventsError) {
        guard let object = value?.objectValue else { throw .serialization("The request body is not a JSON object.") }
        self.document = object
    }

    init(object: [String: JSONValue]) {
        self.document = object
    }

    subscript(name: String) -> JSONValue? {
        guard let value = self.document[name], !value.isNull else { return nil }
        return value
    }

    func string(_ name: String) throws(EventsError) -> String? {
        guard let value = self[name] else { return nil }
        guard let text = value.stringValue else { throw .serialization("\(name) must be a string.") }
        return text
    }

    func integer(_ name: String) throws(EventsError) -> Int? {
        guard let value = self[name] else { return nil }
        guard let number = value.numberValue, number.rounded() == number, abs(number) < 1e15 else {
            throw .serialization("\(name) must be an integer.")
        }
        return Int(number)
    }

    func bool(_ name: String) throws(EventsError) -> Bool? {
        guard let value = self[name] else { return nil }
        guard let flag = value.boolValue else { throw .serialization("\(name) must be a boolean.") }
        return flag
    }

    func list(_ name: String) throws(EventsError) -> [JSONValue]? {
        guard let value = self[name] else { return nil }
        guard let list = value.arrayValue else { throw .serialization("\(name) must be a list.") }
        return list
    }

    func strings(_ name: String) throws(EventsError) -> [String]? {
        guard let list = try self.list(name) else { return nil }
        var strings: [String] = []
        for item in list {
            guard let text = item.stringValue else { throw .serialization("\(name) must be a list of strings.") }
            strings.append(text)
        }
        return strings
    }

    func structure(_ name: String) throws(EventsError) -> Input? {
        guard let value = self[name] else { return nil }
        guard let object = value.objectValue else { throw .serialization("\(name) must be a structure.") }
        return Input(object: object)
    }

    func stringMap(_ name: String) throws(EventsError) -> [String: String]? {
        guard let value = self[name] else { return nil }
        guard let object = value.objectValue else { throw .serialization("\(name) must be a map.") }
        var map: [String: String] = [:]
        for (key, item) in object {
            guard let text = item.stringValue else { throw .serialization("\(name) values must be strings.") }
            map[key] = text
        }
        return map
    }
}

/// AWS's constraint violations, in its words: `Value 'x' at 'targets.1.member.id' failed to satisfy constraint: Member
/// must …`. Checks append; ``check()`` throws them all as one `ValidationException`.
struct Constraints {
    private(set) var violations: [String] = []

    /// The character classes of the model's patterns, as AWS prints them.
    static let namePattern = #"[\.\-_A-Za-z0-9]+"#
    static let busNamePattern = #"[/\.\-_A-Za-z0-9]+"#
    static let busNameOrARNPattern =
        #"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+"#
    static let nonPartnerBusNameOrARNPattern =
        #"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[\.\-_A-Za-z0-9]+"#
    static let pathKeyPattern = #"[A-Za-z0-9\_\-]+"#

    mutating func add(_ value: String?, at path: String, _ constraint: String) {
        let shown = value.map { "'\($0)'" } ?? "null"
        self.violations.append("Value \(shown) at '\(path)' failed to satisfy constraint: Member \(constraint)")
    }

    mutating func required(_ value: Any?, at path: String) {
        if value == nil { self.add(nil, at: path, "must not be null") }
    }

    /// Length in UTF-16 units (what Java's String.length counts).
    mutating func length(_ value: String?, at path: String, min: Int? = nil, max: Int? = nil) {
        guard let value else { return }
        let count = value.utf16.count
        if let min, count < min { self.add(value, at: path, "must have length greater than or equal to \(min)") }
        if let max, count > max { self.add(value, at: path, "must have length less than or equal to \(max)") }
    }

    mutating func pattern(_ value: String?, at path: String, _ pattern: String, _ matches: (String) -> Bool) {
        guard let value else { return }
        if !matches(value) { self.add(value, at: path, "must satisfy regular expression pattern: \(pattern)") }
    }

    mutating func enumeration(_ value: String?, at path: String, _ members: [String]) {
        guard let value else { return }
        if !members.contains(value) {
            self.add(value, at: path, "must satisfy enum value set: [\(members.joined(separator: ", "))]")
        }
    }

    mutating func range(_ value: Int?, at path: String, min: Int? = nil, max: Int? = nil) {
        guard let value else { return }
        if let min, value < min { self.add(String(value), at: path, "must have value greater than or equal to \(min)") }
        if let max, value > max { self.add(String(value), at: path, "must have value less than or equal to \(max)") }
    }

    /// A rule or target name: 1–64 of `[.-_A-Za-z0-9]`.
    mutating func name(_ value: String?, at path: String, max: Int = 64) {
        // AWS reports the pattern before the length (recorded answers).
        self.pattern(value, at: path, Self.namePattern, Names.isNameText)
        self.length(value, at: path, min: 1, max: max)
    }

    func check() throws(EventsError) {
        if !self.violations.isEmpty { throw .constraints(self.violations) }
    }
}
