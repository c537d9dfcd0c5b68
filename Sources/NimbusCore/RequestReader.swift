/// Reads typed members out of a JSON request body, reporting wrong types and unknown members with AWS-style
/// messages. One reader per request; every accessor records which members were consumed.
public struct RequestReader {
    public let operation: String
    let object: [String: JSONValue]
    /// The request's JSON text, when the edge has it: used where AWS quotes maps in request order.
    public let rawBody: [UInt8]?

    /// - Parameters:
    ///   - known: every member the service model defines for this request (including ones Nimbus ignores).
    public init(_ body: JSONValue, operation: String, known: Set<String>, rawBody: [UInt8]? = nil) throws(NimbusError) {
        guard let object = body.objectValue else {
            throw NimbusError(.invalidRequestContent, "Could not parse request body into json: expected a JSON object")
        }
        self.operation = operation
        self.object = object
        self.rawBody = rawBody
        let unknown = object.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw NimbusError.invalidParameter(
                "Unknown parameter\(unknown.count == 1 ? "" : "s") in \(operation) request: \(unknown.joined(separator: ", ")). Known parameters are: \(known.sorted().joined(separator: ", "))."
            )
        }
    }

    public func has(_ key: String) -> Bool {
        if let v = self.object[key], !v.isNull { return true }
        return false
    }

    static func memberName(_ key: String) -> String { key.prefix(1).lowercased() + key.dropFirst() }

    func typeError(_ key: String, _ expected: String) -> NimbusError {
        NimbusError(
            .invalidParameterValue,
            "Could not parse request body into json: member '\(key)' of \(self.operation) must be \(expected)")
    }

    public func string(_ key: String) throws(NimbusError) -> String? {
        guard let v = self.object[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw self.typeError(key, "a string") }
        return s
    }

    public func int(_ key: String) throws(NimbusError) -> Int? {
        guard let v = self.object[key], !v.isNull else { return nil }
        guard let n = v.numberValue, n.rounded() == n, abs(n) < 1e15 else { throw self.typeError(key, "an integer") }
        return Int(n)
    }

    public func bool(_ key: String) throws(NimbusError) -> Bool? {
        guard let v = self.object[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw self.typeError(key, "a boolean") }
        return b
    }

    public func object(_ key: String) throws(NimbusError) -> [String: JSONValue]? {
        guard let v = self.object[key], !v.isNull else { return nil }
        guard let o = v.objectValue else { throw self.typeError(key, "an object") }
        return o
    }

    public func raw(_ key: String) -> JSONValue? {
        guard let v = self.object[key], !v.isNull else { return nil }
        return v
    }

    public func stringList(_ key: String) throws(NimbusError) -> [String]? {
        guard let v = self.object[key], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw self.typeError(key, "a list of strings") }
        var out: [String] = []
        for item in a {
            guard let s = item.stringValue else { throw self.typeError(key, "a list of strings") }
            out.append(s)
        }
        return out
    }

    public func stringMap(_ key: String) throws(NimbusError) -> [String: String]? {
        guard let o = try self.object(key) else { return nil }
        var out: [String: String] = [:]
        for (k, v) in o {
            guard let s = v.stringValue else { throw self.typeError("\(key).\(k)", "a string") }
            out[k] = s
        }
        return out
    }
}
