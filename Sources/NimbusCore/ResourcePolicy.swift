import Foundation

/// A function's resource-based policy (one per function qualifier): the statements `AddPermission` adds, as AWS keeps
/// them, and the evaluation every trigger goes through before it may invoke (API Gateway, function URLs, and later S3,
/// EventBridge and the pollers). Pure: no I/O.
public struct ResourcePolicy: Sendable, Equatable, Codable {
    public var statements: [PolicyStatement]
    /// Changes with every `AddPermission` and `RemovePermission` (`GetPolicy`'s `RevisionId`).
    public var revisionID: String

    public init(statements: [PolicyStatement] = [], revisionID: String) {
        self.statements = statements
        self.revisionID = revisionID
    }

    /// `GetPolicy`'s `Policy`: `{"Version":"2012-10-17","Id":"default","Statement":[…]}`.
    public var document: JSONValue {
        [
            "Version": "2012-10-17", "Id": "default",
            "Statement": .array(self.statements.map(\.document)),
        ]
    }

    /// `GetPolicy`'s `Policy` text, keys in AWS's order (`Version`, `Id`, `Statement`).
    public var text: String {
        #"{"Version":"2012-10-17","Id":"default","Statement":["# + self.statements.map(\.text).joined(separator: ",") + "]}"
    }

    public func statement(_ sid: String) -> PolicyStatement? {
        self.statements.first { $0.sid == sid }
    }

    /// Whether some statement allows the request. Statements only allow (AddPermission cannot add a Deny), so
    /// the policy allows exactly when one statement matches.
    public func allows(_ request: PolicyRequest) -> Bool {
        self.statements.contains { $0.allows(request) }
    }
}

/// One statement `AddPermission` made.
public struct PolicyStatement: Sendable, Equatable, Codable {
    public var sid: String
    public var principal: Principal
    /// `lambda:InvokeFunction`, `lambda:InvokeFunctionUrl`, `lambda:GetFunction`, `lambda:*`…
    public var action: String
    /// The function ARN, with the qualifier the policy belongs to.
    public var resource: String
    public var conditions: [Condition]

    /// Who a statement names.
    public enum Principal: Sendable, Equatable, Codable {
        /// `"*"`: anyone (usually narrowed by conditions).
        case anyone
        /// `{"Service": "s3.amazonaws.com"}`.
        case service(String)
        /// `{"AWS": "arn:aws:iam::123456789012:root"}` (an account) or the ARN of a user or role.
        case aws(String)
    }

    /// A condition AddPermission writes: an operator (`StringEquals`, `ArnLike`, `Bool`), a key and one value.
    public struct Condition: Sendable, Equatable, Codable {
        public var operation: String
        public var key: String
        public var value: String

        public init(_ operation: String, _ key: String, _ value: String) {
            self.operation = operation
            self.key = key
            self.value = value
        }
    }

    public init(sid: String, principal: Principal, action: String, resource: String, conditions: [Condition] = []) {
        self.sid = sid
        self.principal = principal
        self.action = action
        self.resource = resource
        self.conditions = conditions
    }

    /// The statement as `AddPermission` answers it and `GetPolicy` lists it (`Condition` only when there is one).
    public var document: JSONValue {
        var statement: [String: JSONValue] = [
            "Sid": .string(self.sid), "Effect": "Allow", "Action": .string(self.action),
            "Resource": .string(self.resource),
        ]
        switch self.principal {
        case .anyone: statement["Principal"] = "*"
        case .service(let name): statement["Principal"] = ["Service": .string(name)]
        case .aws(let arn): statement["Principal"] = ["AWS": .string(arn)]
        }
        if !self.conditions.isEmpty {
            var blocks: [String: [String: JSONValue]] = [:]
            for condition in self.conditions {
                blocks[condition.operation, default: [:]][condition.key] = .string(condition.value)
            }
            statement["Condition"] = .object(blocks.mapValues { .object($0) })
        }
        return .object(statement)
    }

    /// The statement as AWS writes it (`AddPermission`'s `Statement`, an element of `GetPolicy`'s): keys in AWS's
    /// order, `Sid`, `Effect`, `Principal`, `Action`, `Resource`, `Condition`; condition operators in the order their
    /// first condition was added.
    public var text: String {
        func string(_ value: String) -> String { String(decoding: JSONValue.string(value).serialized(), as: UTF8.self) }
        let principal: String
        switch self.principal {
        case .anyone: principal = string("*")
        case .service(let name): principal = #"{"Service":\#(string(name))}"#
        case .aws(let arn): principal = #"{"AWS":\#(string(arn))}"#
        }
        var out = #"{"Sid":\#(string(self.sid)),"Effect":"Allow","Principal":\#(principal),"Action":\#(string(self.action)),"Resource":\#(string(self.resource))"#
        if !self.conditions.isEmpty {
            var operations: [String] = []
            for condition in self.conditions where !operations.contains(condition.operation) {
                operations.append(condition.operation)
            }
            let blocks = operations.map { operation in
                let entries = self.conditions.filter { $0.operation == operation }.map { "\(string($0.key)):\(string($0.value))" }
                return "\(string(operation)):{\(entries.joined(separator: ","))}"
            }
            out += #","Condition":{"# + blocks.joined(separator: ",") + "}"
        }
        return out + "}"
    }

    /// AddPermission's `Principal` parameter as AWS reads it: `*`, a service principal (`s3.amazonaws.com`), an
    /// account id, or an IAM ARN; nil for anything else ("The provided principal was invalid…").
    public static func principal(parsing raw: String) -> Principal? {
        if raw == "*" { return .anyone }
        if raw.count == 12, raw.allSatisfy(\.isASCIIDigit) { return .aws("arn:aws:iam::\(raw):root") }
        if raw.hasPrefix("arn:aws:iam::") || raw.hasPrefix("arn:aws:sts::") { return .aws(raw) }
        // Service principals are AWS's own names: `s3.amazonaws.com`, `alexa-appkit.amazon.com`.
        guard let domain = [".amazonaws.com", ".amazon.com", ".amazonaws.com.cn"].first(where: { raw.hasSuffix($0) }) else {
            return nil
        }
        let service = raw.dropLast(domain.count)
        guard !service.isEmpty, service.allSatisfy({ $0.isASCIILetterOrDigit || $0 == "-" || $0 == "." }) else { return nil }
        return .service(raw)
    }

    func allows(_ request: PolicyRequest) -> Bool {
        guard Self.actionMatches(self.action, request.action) else { return false }
        switch (self.principal, request.principal) {
        case (.anyone, _): break
        case (.service(let name), .service(let caller)) where name == caller: break
        case (.aws(let arn), .account(let account, let callerARN)):
            guard arn == "arn:aws:iam::\(account):root" || arn == callerARN else { return false }
        default: return false
        }
        return self.conditions.allSatisfy { condition in
            guard let value = request.context[condition.key] else { return false }
            switch condition.operation {
            case "ArnLike": return Self.glob(condition.value, matches: value)
            case "StringEquals": return condition.value == value
            case "Bool": return condition.value.lowercased() == value.lowercased()
            default: return false
            }
        }
    }

    static func actionMatches(_ pattern: String, _ action: String) -> Bool {
        pattern == "*" || pattern == "lambda:*" || pattern.lowercased() == action.lowercased()
    }

    /// IAM's `ArnLike`: `*` matches any run of characters, `?` one character, everything else itself.
    static func glob(_ pattern: String, matches value: String) -> Bool {
        let p = Array(pattern.utf8)
        let v = Array(value.utf8)
        var (i, j) = (0, 0)
        var star: (p: Int, v: Int)?
        while j < v.count {
            if i < p.count, p[i] == UInt8(ascii: "?") || p[i] == v[j] {
                i += 1
                j += 1
            } else if i < p.count, p[i] == UInt8(ascii: "*") {
                star = (i, j)
                i += 1
            } else if let s = star {
                i = s.p + 1
                j = s.v + 1
                star = (s.p, s.v + 1)
            } else {
                return false
            }
        }
        while i < p.count, p[i] == UInt8(ascii: "*") { i += 1 }
        return i == p.count
    }
}

/// What a trigger asks a policy: who calls, which action, and the condition keys of the request.
public struct PolicyRequest: Sendable {
    public enum Caller: Sendable, Equatable {
        /// A service principal (`apigateway.amazonaws.com`).
        case service(String)
        /// A signed caller of an account (its ARN when known); `*` statements match anyone.
        case account(String, arn: String?)
        /// An unauthenticated caller (a function URL with `AuthType: NONE`): only `*` statements match.
        case anonymous
    }

    public var principal: Caller
    public var action: String
    /// Condition keys and their values: `AWS:SourceArn`, `AWS:SourceAccount`, `lambda:FunctionUrlAuthType`,
    /// `lambda:InvokedViaFunctionUrl`.
    public var context: [String: String]

    public init(principal: Caller, action: String, context: [String: String] = [:]) {
        self.principal = principal
        self.action = action
        self.context = context
    }
}

extension Character {
    var isASCIIDigit: Bool { self.isASCII && self.isNumber }
    var isASCIILetterOrDigit: Bool { self.isASCII && (self.isLetter || self.isNumber) }
}
