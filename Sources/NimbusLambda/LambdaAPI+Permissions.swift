import Foundation
import NimbusCore
import NimbusEdge

/// `AddPermission`, `RemovePermission`, `GetPolicy`: the function's resource-based policy, per qualifier, with AWS's
/// validation and recorded messages.
extension LambdaAPI {
    /// The qualifier a policy operation acts on (`""` for the unqualified function), checked against the function.
    /// - Parameter notFound: the error for a missing function (AddPermission and RemovePermission word it apart).
    func policyTarget(_ raw: String, qualifier: String?, notFound: (String) -> NimbusError) throws -> (name: String, qualifier: String) {
        let id = try FunctionIdentifier.parse(raw).resolvingQualifier(qualifier)
        try self.checkRegion(id)
        guard let function = self.catalog.get(id.name) else { throw notFound(id.name) }
        guard let q = id.qualifier else { return (id.name, "") }
        if q == "$LATEST" {
            throw NimbusError.invalidParameter("We currently do not support adding policies for $LATEST.")
        }
        if AliasRules.isVersionNumber(q) {
            guard function.version(q) != nil else { throw self.account.notFound(id.name, qualifier: q) }
        } else if function.alias(q) == nil {
            if q.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                throw NimbusError(.resourceNotFound, "Cannot find alias arn: \(self.account.functionARN(id.name, qualifier: q))")
            }
            throw self.account.notFound(id.name, qualifier: q)
        }
        return (id.name, q)
    }

    /// `POST /2015-03-31/functions/{Fn}/policy`.
    func addPermission(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let (body, _) = try Self.jsonBody(p, operation: "AddPermission")
        let r = try RequestReader(
            body, operation: "AddPermission",
            known: [
                "StatementId", "Action", "Principal", "SourceArn", "SourceAccount", "EventSourceToken", "RevisionId",
                "PrincipalOrgID", "FunctionUrlAuthType", "InvokedViaFunctionUrl",
            ])
        let sid = try r.string("StatementId")
        let action = try r.string("Action")
        let principal = try r.string("Principal")
        let sourceARN = try r.string("SourceArn")
        let sourceAccount = try r.string("SourceAccount")
        let token = try r.string("EventSourceToken")
        let orgID = try r.string("PrincipalOrgID")
        let authType = try r.string("FunctionUrlAuthType")
        let viaURL = try r.bool("InvokedViaFunctionUrl")
        var errors: [String] = []
        func require(_ value: String?, _ member: String, pattern: String, matches: (String) -> Bool, max: Int? = nil) {
            guard let value else {
                errors.append("Value null at '\(member)' failed to satisfy constraint: Member must not be null")
                return
            }
            if let max, value.count > max {
                errors.append("Value '\(value)' at '\(member)' failed to satisfy constraint: Member must have length less than or equal to \(max)")
            }
            if !matches(value) {
                errors.append("Value '\(value)' at '\(member)' failed to satisfy constraint: Member must satisfy regular expression pattern: \(pattern)")
            }
        }
        require(sid, "statementId", pattern: "([a-zA-Z0-9-_]+)", matches: { Self.isWord($0) }, max: 100)
        require(action, "action", pattern: "(lambda:[*]|lambda:[a-zA-Z]+|[*])", matches: Self.isAction)
        require(principal, "principal", pattern: #"[^\s]+"#, matches: { !$0.isEmpty && !$0.contains(where: \.isWhitespace) })
        if let sourceAccount, sourceAccount.count != 12 || !sourceAccount.allSatisfy({ $0.isASCII && $0.isNumber }) {
            errors.append(#"Value '\#(sourceAccount)' at 'sourceAccount' failed to satisfy constraint: Member must satisfy regular expression pattern: \d{12}"#)
        }
        if let sourceARN, !sourceARN.hasPrefix("arn:") || sourceARN.split(separator: ":", omittingEmptySubsequences: false).count < 6 {
            errors.append(#"Value '\#(sourceARN)' at 'sourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)"#)
        }
        if let authType, !["NONE", "AWS_IAM"].contains(authType) {
            errors.append("Value '\(authType)' at 'functionUrlAuthType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_IAM, NONE]")
        }
        if !errors.isEmpty { throw NimbusError.validation(errors) }
        guard let sid, let action, let principal else { throw NimbusError.validation(errors) }
        guard let parsedPrincipal = PolicyStatement.principal(parsing: principal) else {
            throw NimbusError.invalidParameter("The provided principal was invalid. Please check the principal and try again.")
        }
        let target = try self.policyTarget(name, qualifier: p.queryValue("Qualifier")) { self.account.notFound($0) }
        var conditions: [PolicyStatement.Condition] = []
        if let sourceAccount { conditions.append(.init("StringEquals", "AWS:SourceAccount", sourceAccount)) }
        if let authType { conditions.append(.init("StringEquals", "lambda:FunctionUrlAuthType", authType)) }
        if let orgID { conditions.append(.init("StringEquals", "aws:PrincipalOrgID", orgID)) }
        if let token { conditions.append(.init("StringEquals", "lambda:EventSourceToken", token)) }
        if let sourceARN { conditions.append(.init("ArnLike", "AWS:SourceArn", sourceARN)) }
        if let viaURL { conditions.append(.init("Bool", "lambda:InvokedViaFunctionUrl", viaURL ? "true" : "false")) }
        let statement = PolicyStatement(
            sid: sid, principal: parsedPrincipal, action: action,
            resource: self.account.functionARN(target.name, qualifier: target.qualifier.isEmpty ? nil : target.qualifier),
            conditions: conditions)
        let added = try await self.registry.addPermission(
            function: target.name, qualifier: target.qualifier, statement, revisionID: try r.string("RevisionId"))
        return .document(201, ["Statement": .string(added.text)])
    }

    /// `DELETE /2015-03-31/functions/{Fn}/policy/{StatementId}`.
    func removePermission(_ p: ServiceRequest, name: String, sid: String) async throws -> ServiceResponse {
        let target = try self.policyTarget(name, qualifier: p.queryValue("Qualifier")) {
            NimbusError(.resourceNotFound, "No policy found for: \(self.account.functionARN($0))")
        }
        try await self.registry.removePermission(
            function: target.name, qualifier: target.qualifier, sid: sid, revisionID: p.queryValue("RevisionId"))
        return .empty(204)
    }

    /// `GET /2015-03-31/functions/{Fn}/policy`.
    func getPolicy(_ p: ServiceRequest, name: String) throws -> ServiceResponse {
        let missing = NimbusError(.resourceNotFound, "The resource you requested does not exist.")
        let id = try FunctionIdentifier.parse(name).resolvingQualifier(p.queryValue("Qualifier"))
        try self.checkRegion(id)
        guard let function = self.catalog.get(id.name) else { throw missing }
        let qualifier = id.qualifier == "$LATEST" ? "" : id.qualifier ?? ""
        guard let policy = function.policies[qualifier] else { throw missing }
        return .document(
            200,
            [
                "Policy": .string(policy.text),
                "RevisionId": .string(policy.revisionID),
            ])
    }

    static func isWord(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func isAction(_ s: String) -> Bool {
        if s == "*" || s == "lambda:*" { return true }
        guard s.hasPrefix("lambda:") else { return false }
        let rest = s.dropFirst("lambda:".count)
        return !rest.isEmpty && rest.allSatisfy { $0.isASCII && $0.isLetter }
    }
}
