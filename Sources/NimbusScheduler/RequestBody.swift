import Foundation
import NIOCore
import NimbusCore

/// A rest-json request body (or one of its structures), read member by member with the model's types. The edge does
/// not decode rest-json bodies; a member of the wrong type is a `ValidationException`, members Nimbus does not know
/// are ignored (as AWS ignores them).
struct RequestBody {
    let members: [String: JSONValue]
    /// Where this structure sits in the request (`target.retryPolicy.`), for messages.
    let path: String

    /// - Throws: `ValidationException` when the body is not a JSON object (an empty body is an empty object).
    init(_ body: ByteBuffer) throws(SchedulerError) {
        self.path = ""
        if body.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            self.members = [:]
            return
        }
        guard let document = JSONValue.parse(body.readableBytesView), let object = document.objectValue else {
            throw .validation("Could not parse the request body: it is not a JSON object.")
        }
        self.members = object
    }

    init(members: [String: JSONValue], path: String = "") {
        self.members = members
        self.path = path
    }

    /// `Target.RetryPolicy` → `target.retryPolicy`, as AWS's validation messages name members.
    func memberPath(_ name: String) -> String {
        self.path + name.prefix(1).lowercased() + name.dropFirst()
    }

    func string(_ name: String) throws(SchedulerError) -> String? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw self.wrongType(name, "a string") }
        return text
    }

    func integer(_ name: String) throws(SchedulerError) -> Int? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let number = value.numberValue, number.rounded() == number, abs(number) < 1e15 else {
            throw self.wrongType(name, "an integer")
        }
        return Int(number)
    }

    /// A timestamp: epoch seconds (what botocore and the CLI send for rest-json) or an ISO 8601 text; milliseconds.
    func timestamp(_ name: String) throws(SchedulerError) -> Int64? {
        guard let value = self.members[name], !value.isNull else { return nil }
        if let seconds = value.numberValue, seconds.isFinite, abs(seconds) < 1e13 {
            return Int64((seconds * 1000).rounded())
        }
        if let text = value.stringValue {
            if let seconds = Double(text), seconds.isFinite, abs(seconds) < 1e13 {
                return Int64((seconds * 1000).rounded())
            }
            if let date = Self.iso8601(text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        throw self.wrongType(name, "a timestamp")
    }

    func object(_ name: String) throws(SchedulerError) -> RequestBody? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let object = value.objectValue else { throw self.wrongType(name, "a structure") }
        return RequestBody(members: object, path: self.memberPath(name) + ".")
    }

    func array(_ name: String) throws(SchedulerError) -> [JSONValue]? {
        guard let value = self.members[name], !value.isNull else { return nil }
        guard let array = value.arrayValue else { throw self.wrongType(name, "a list") }
        return array
    }

    func wrongType(_ name: String, _ expected: String) -> SchedulerError {
        .validation("Invalid value at '\(self.memberPath(name))': expected \(expected).")
    }

    static func iso8601(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}

/// AWS's validation of a request's members against the model's constraints, gathered and reported together in its
/// words: `1 validation error detected: Value 'x y' at 'name' failed to satisfy constraint: Member must satisfy
/// regular expression pattern: ^[0-9a-zA-Z-_.]+$`.
struct Violations {
    var messages: [String] = []

    mutating func add(_ value: String?, at path: String, _ constraint: String) {
        let shown = value.map { "'\($0)'" } ?? "null"
        self.messages.append("Value \(shown) at '\(path)' failed to satisfy constraint: Member must \(constraint)")
    }

    /// A string's length and pattern; nil values are not checked (required members are checked by ``required``).
    mutating func check(
        _ value: String?,
        at path: String,
        length: ClosedRange<Int>,
        pattern: Pattern? = nil
    ) {
        guard let value else { return }
        if !length.contains(value.count) {
            let bound =
                length.upperBound == Int.max
                ? "greater than or equal to \(length.lowerBound)"
                : value.count > length.upperBound
                    ? "less than or equal to \(length.upperBound)"
                    : "greater than or equal to \(length.lowerBound)"
            self.add(value, at: path, "have length \(bound)")
        } else if let pattern, !pattern.matches(value) {
            self.add(value, at: path, "satisfy regular expression pattern: \(pattern.text)")
        }
    }

    mutating func check(_ value: Int?, at path: String, range: ClosedRange<Int>) {
        guard let value, !range.contains(value) else { return }
        if value < range.lowerBound {
            self.add(String(value), at: path, "have value greater than or equal to \(range.lowerBound)")
        } else {
            self.add(String(value), at: path, "have value less than or equal to \(range.upperBound)")
        }
    }

    mutating func required(_ value: Any?, at path: String) {
        if value == nil { self.add(nil, at: path, "not be null") }
    }

    mutating func oneOf(_ value: String?, at path: String, _ allowed: [String]) {
        guard let value, !allowed.contains(value) else { return }
        self.add(value, at: path, "satisfy enum value set: [\(allowed.joined(separator: ", "))]")
    }

    func check() throws(SchedulerError) {
        guard !self.messages.isEmpty else { return }
        throw .validation(NimbusError.validationMessage(self.messages))
    }
}

/// A pattern of the model: its text (for messages) and a predicate that matches what it matches.
struct Pattern: Sendable {
    let text: String
    let matches: @Sendable (String) -> Bool

    init(_ text: String, _ matches: @escaping @Sendable (String) -> Bool) {
        self.text = text
        self.matches = matches
    }
}

/// The model's patterns, as predicates (no regular-expression engine on the request path).
enum Patterns {
    /// `^[0-9a-zA-Z-_.]+$`: schedule and group names, name prefixes.
    static let name = Pattern("^[0-9a-zA-Z-_.]+$", { (s: String) in s.unicodeScalars.allSatisfy(Self.isNameScalar) })
    /// `^[a-zA-Z0-9-_]+$`: client tokens.
    static let clientToken = Pattern(
        "^[a-zA-Z0-9-_]+$",
        { (s: String) in s.unicodeScalars.allSatisfy { Self.isNameScalar($0) && $0 != "." } }
    )
    /// `^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@\/-]+$`: the target's execution role.
    static let roleARN = Pattern(
        #"^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@\/-]+$"#,
        { (s: String) in
            guard let rest = Self.partition(s, service: "iam") else { return false }
            let parts = rest.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].isEmpty, Self.isAccount(parts[1]), parts[2].hasPrefix("role/") else {
                return false
            }
            let path = parts[2].dropFirst(5)
            return !path.isEmpty
                && path.unicodeScalars.allSatisfy { Self.isWord($0) || "+=,.@/-".unicodeScalars.contains($0) }
        }
    )
    /// `^arn:aws(-[a-z]+)?:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+$`: dead-letter queues.
    static let queueARN = Pattern(
        #"^arn:aws(-[a-z]+)?:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+$"#,
        { (s: String) in
            guard let rest = Self.partition(s, service: "sqs") else { return false }
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count == 3 && Self.isRegion(parts[0]) && Self.isAccount(parts[1]) && !parts[2].isEmpty
                && parts[2].unicodeScalars.allSatisfy { Self.isNameScalar($0) && $0 != "." }
        }
    )
    /// `^arn:aws(-[a-z]+)?:kms:[a-z0-9\-]+:\d{12}:(key|alias)\/[0-9a-zA-Z-_]*$`.
    static let kmsKeyARN = Pattern(
        #"^arn:aws(-[a-z]+)?:kms:[a-z0-9\-]+:\d{12}:(key|alias)\/[0-9a-zA-Z-_]*$"#,
        { (s: String) in
            guard let rest = Self.partition(s, service: "kms") else { return false }
            let parts = rest.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, Self.isRegion(parts[0]), Self.isAccount(parts[1]) else { return false }
            let resource = parts[2]
            let id: Substring
            if resource.hasPrefix("key/") {
                id = resource.dropFirst(4)
            } else if resource.hasPrefix("alias/") {
                id = resource.dropFirst(6)
            } else {
                return false
            }
            return id.unicodeScalars.allSatisfy { Self.isNameScalar($0) && $0 != "." }
        }
    )
    /// `^arn:aws(-[a-z]+)?:scheduler:[a-z0-9\-]+:\d{12}:schedule-group\/[0-9a-zA-Z-_.]+$`: what tags apply to.
    static let groupARN = Pattern(
        #"^arn:aws(-[a-z]+)?:scheduler:[a-z0-9\-]+:\d{12}:schedule-group\/[0-9a-zA-Z-_.]+$"#,
        { (s: String) in ScheduleARN.group(s) != nil }
    )

    static func isNameScalar(_ c: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(c) || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "-" || c == "_"
            || c == "."
    }

    static func isWord(_ c: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(c) || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_"
    }

    static func isAccount(_ s: Substring) -> Bool {
        s.count == 12 && s.allSatisfy(\.isASCII) && s.allSatisfy(\.isNumber)
    }

    static func isRegion(_ s: Substring) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// What follows `arn:aws(-x)?:<service>:`, or nil.
    static func partition(_ s: String, service: String) -> Substring? {
        guard s.hasPrefix("arn:aws") else { return nil }
        var rest = s.dropFirst(7)
        if rest.hasPrefix("-") {
            rest = rest.dropFirst()
            let letters = rest.prefix { ("a"..."z").contains($0) }
            guard !letters.isEmpty else { return nil }
            rest = rest.dropFirst(letters.count)
        }
        guard rest.hasPrefix(":\(service):") else { return nil }
        return rest.dropFirst(service.count + 2)
    }
}
