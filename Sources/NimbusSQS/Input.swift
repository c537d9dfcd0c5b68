import NimbusCore

/// A request's input document, read with AWS's checks: a member of the wrong JSON type is a `SerializationException`
/// (the json protocol's answer); numbers may come as strings (the query protocol has no other kind).
struct Input: Sendable {
    let document: [String: JSONValue]

    init(_ value: JSONValue?) throws(SQSError) {
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

    func string(_ name: String) throws(SQSError) -> String? {
        guard let value = self[name] else { return nil }
        guard let text = value.stringValue else { throw .serialization("\(name) must be a string.") }
        return text
    }

    func requiredString(_ name: String) throws(SQSError) -> String {
        guard let text = try self.string(name) else { throw .missingParameter(name) }
        return text
    }

    func integer(_ name: String) throws(SQSError) -> Int? {
        guard let value = self[name] else { return nil }
        switch value {
        case .number(let n):
            guard n.rounded() == n, abs(n) < 1e15 else { throw .serialization("\(name) must be an integer.") }
            return Int(n)
        case .string(let s):
            guard let n = Int(s) else {
                throw .invalidValue(s, parameter: name, reason: "Must be an integer.")
            }
            return n
        default:
            throw .serialization("\(name) must be an integer.")
        }
    }

    /// A list of strings (`AttributeNames`), also the query protocol's `""` for an empty list.
    func strings(_ name: String) throws(SQSError) -> [String]? {
        guard let value = self[name] else { return nil }
        if value.stringValue == "" { return [] }
        guard let list = value.arrayValue else { throw .serialization("\(name) must be a list.") }
        var strings: [String] = []
        for item in list {
            guard let text = item.stringValue else { throw .serialization("\(name) must be a list of strings.") }
            strings.append(text)
        }
        return strings
    }

    /// A map of strings (`Attributes`, `Tags`).
    func stringMap(_ name: String) throws(SQSError) -> [String: String]? {
        guard let value = self[name] else { return nil }
        if value.stringValue == "" { return [:] }
        guard let object = value.objectValue else { throw .serialization("\(name) must be a map.") }
        var map: [String: String] = [:]
        for (key, item) in object {
            guard let text = item.stringValue else { throw .serialization("\(name) values must be strings.") }
            map[key] = text
        }
        return map
    }

    func list(_ name: String) throws(SQSError) -> [JSONValue]? {
        guard let value = self[name] else { return nil }
        if value.stringValue == "" { return [] }
        guard let list = value.arrayValue else { throw .serialization("\(name) must be a list.") }
        return list
    }
}
