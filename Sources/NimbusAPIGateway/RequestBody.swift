import NIOCore
import NimbusCore

/// A control-plane request's JSON body, read member by member with the model's types and length constraints.
/// rest-json bodies are not decoded by the edge; a member of the wrong type is a `BadRequestException`, as AWS
/// answers (members Nimbus does not know are ignored, as AWS ignores them).
struct RequestBody {
    let members: [String: JSONValue]

    /// - Throws: `BadRequestException` when the body is not a JSON object (an empty body is an empty object).
    init(_ body: ByteBuffer) throws(APIGatewayError) {
        if body.readableBytes == 0
            || body.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
        {
            self.members = [:]
            return
        }
        guard let document = JSONValue.parse(body.readableBytesView), let object = document.objectValue else {
            throw .badRequest("Could not parse request body into json: the body is not a JSON object.")
        }
        self.members = object
    }

    init(members: [String: JSONValue]) {
        self.members = members
    }

    func has(_ name: String) -> Bool {
        guard let value = self.members[name] else { return false }
        return !value.isNull
    }

    /// A string member; nil when absent or null.
    func string(_ name: String, length: ClosedRange<Int>? = nil) throws(APIGatewayError) -> String? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw Self.wrongType(name, "a string") }
        if let length, !length.contains(text.count) {
            throw .badRequest(
                "Invalid value for \(name): its length must be between \(length.lowerBound) and \(length.upperBound) characters."
            )
        }
        return text
    }

    func bool(_ name: String) throws(APIGatewayError) -> Bool? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let flag = value.boolValue else { throw Self.wrongType(name, "a boolean") }
        return flag
    }

    func integer(_ name: String) throws(APIGatewayError) -> Int? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let number = value.numberValue, number.rounded() == number, abs(number) < 1e15 else {
            throw Self.wrongType(name, "an integer")
        }
        return Int(number)
    }

    func strings(_ name: String) throws(APIGatewayError) -> [String]? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let array = value.arrayValue else { throw Self.wrongType(name, "a list of strings") }
        var out: [String] = []
        for element in array {
            guard let text = element.stringValue else { throw Self.wrongType(name, "a list of strings") }
            out.append(text)
        }
        return out
    }

    func stringMap(_ name: String) throws(APIGatewayError) -> [String: String]? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let object = value.objectValue else { throw Self.wrongType(name, "a map of strings") }
        var out: [String: String] = [:]
        for (key, element) in object {
            guard let text = element.stringValue else { throw Self.wrongType(name, "a map of strings") }
            out[key] = text
        }
        return out
    }

    func object(_ name: String) throws(APIGatewayError) -> RequestBody? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let object = value.objectValue else { throw Self.wrongType(name, "a structure") }
        return RequestBody(members: object)
    }

    /// A structure kept as given (settings Nimbus echoes but does not act on).
    func document(_ name: String) throws(APIGatewayError) -> JSONValue? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard value.objectValue != nil else { throw Self.wrongType(name, "a structure") }
        return value
    }

    static func wrongType(_ name: String, _ expected: String) -> APIGatewayError {
        .badRequest("Invalid value for \(name): expected \(expected).")
    }
}
