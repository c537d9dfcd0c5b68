import Foundation

/// A function reference as clients send it: a bare name, a partial ARN (`123456789012:function:fn`) or a full ARN,
/// each optionally followed by `:qualifier`. Parsed once at the HTTP edge.
public struct FunctionIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// The unqualified function name.
    public var name: String
    /// The qualifier carried in the name itself (`fn:3`, `…:function:fn:alias`), if any.
    public var qualifier: String?
    /// The region named in a full ARN, if any.
    public var region: String?
    /// The account named in an ARN, if any.
    public var account: String?

    public init(name: String, qualifier: String? = nil, region: String? = nil, account: String? = nil) {
        self.name = name
        self.qualifier = qualifier
        self.region = region
        self.account = account
    }

    public var description: String { self.qualifier.map { "\(self.name):\($0)" } ?? self.name }

    /// The pattern AWS reports for read operations (GetFunction, Invoke, …).
    public static let readPattern =
        #"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"#
    /// The pattern AWS reports for CreateFunction.
    public static let createPattern =
        #"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"#

    /// Which operation family the identifier is parsed for; it changes the allowed pattern and length.
    public enum Usage: Sendable {
        case create
        case read
    }

    /// Parses a function name, partial ARN or ARN exactly as AWS validates it.
    /// - Throws: `NimbusError` (`ValidationException`) with AWS's wording when the value does not match.
    public static func parse(_ raw: String, usage: Usage = .read) throws(NimbusError) -> FunctionIdentifier {
        let pattern = usage == .create ? Self.createPattern : Self.readPattern
        var errors: [String] = []
        let maxLength = usage == .create ? 140 : 256
        if raw.count > maxLength {
            errors.append(
                "Value '\(raw)' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to \(maxLength)"
            )
        }
        guard let parsed = Self.match(raw, usage: usage) else {
            errors.append(
                "Value '\(raw)' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: \(pattern)"
            )
            throw NimbusError.validation(errors)
        }
        if !errors.isEmpty { throw NimbusError.validation(errors) }
        if usage == .create && parsed.name.count > 64 {
            throw NimbusError(
                .invalidParameterValue,
                "1 validation error detected: Value '\(parsed.name)' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"
            )
        }
        return parsed
    }

    /// Structural match of the AWS pattern, anchored at both ends. Returns nil when the value does not match.
    static func match(_ raw: String, usage: Usage) -> FunctionIdentifier? {
        if raw.isEmpty { return nil }
        var parts = raw.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var region: String?
        var account: String?
        if parts.first == "arn" {
            // arn:aws:lambda:region:account:function:name[:qualifier]
            guard parts.count >= 7, parts.count <= 8, parts[1].hasPrefix("aws"),
                parts[1].allSatisfy({ $0.isLetter || $0 == "-" }), parts[2] == "lambda", isRegion(parts[3]),
                isAccount(parts[4]), parts[5] == "function"
            else { return nil }
            region = parts[3]
            account = parts[4]
            parts.removeFirst(6)
        } else if parts.count >= 3, isAccount(parts[0]), parts[1] == "function" {
            account = parts[0]
            parts.removeFirst(2)
        } else if parts.count >= 2, parts[0] == "function" {
            parts.removeFirst(1)
        } else if parts.count >= 2, isAccount(parts[0]) {
            account = parts[0]
            parts.removeFirst(1)
        }
        guard parts.count == 1 || parts.count == 2 else { return nil }
        let nameAllowed: (Character) -> Bool = {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || (usage == .read && $0 == "."))
        }
        guard !parts[0].isEmpty, parts[0].allSatisfy(nameAllowed) else { return nil }
        var qualifier: String?
        if parts.count == 2 {
            let q = parts[1]
            let plain = !q.isEmpty && q.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            guard q == "$LATEST" || plain else { return nil }
            qualifier = q
        }
        return FunctionIdentifier(name: parts[0], qualifier: qualifier, region: region, account: account)
    }

    static func isRegion(_ s: String) -> Bool {
        // [a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d
        let pieces = s.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count >= 3, pieces[0].count == 2 || pieces[0] == "eusc" else { return false }
        guard let last = pieces.last, last.count == 1, last.first?.isNumber == true else { return false }
        return pieces.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
    }

    static func isAccount(_ s: String) -> Bool { s.count == 12 && s.allSatisfy { $0.isASCII && $0.isNumber } }

    /// Validates a separately supplied `Qualifier` query parameter (AWS: ≤128, `\$(LATEST…)|[a-zA-Z0-9-_$]+`).
    public static func validateQualifier(_ q: String) throws(NimbusError) {
        if q.count > 128 {
            throw NimbusError.validation([
                "Value '\(q)' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128"
            ])
        }
        let ok = !q.isEmpty && q.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_$".contains($0)) }
        if !ok {
            throw NimbusError.validation([
                #"Value '\#(q)' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"#
            ])
        }
    }

    /// Combines the qualifier in the name with a `Qualifier` parameter as AWS does.
    public func resolvingQualifier(_ parameter: String?) throws(NimbusError) -> FunctionIdentifier {
        guard let parameter else { return self }
        try Self.validateQualifier(parameter)
        if let own = self.qualifier, own != parameter {
            throw NimbusError(
                .invalidParameterValue,
                "The derived qualifier from the function name does not match the specified qualifier."
            )
        }
        var copy = self
        copy.qualifier = parameter
        return copy
    }
}
