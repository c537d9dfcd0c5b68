import Foundation
import Testing

@testable import NimbusCore
@testable import NimbusStore

/// The resource-based policy every trigger is checked against: statements as AWS records them, and evaluation.
@Suite struct ResourcePolicyTests {
    static let arn = "arn:aws:lambda:us-east-1:000000000000:function:fn"

    @Test func principalsParseAsAWSWritesThem() {
        #expect(PolicyStatement.principal(parsing: "*") == .anyone)
        #expect(PolicyStatement.principal(parsing: "s3.amazonaws.com") == .service("s3.amazonaws.com"))
        #expect(PolicyStatement.principal(parsing: "123456789012") == .aws("arn:aws:iam::123456789012:root"))
        #expect(
            PolicyStatement.principal(parsing: "arn:aws:iam::123456789012:user/alice")
                == .aws("arn:aws:iam::123456789012:user/alice"))
        #expect(PolicyStatement.principal(parsing: "not a principal") == nil)
        #expect(PolicyStatement.principal(parsing: "12345") == nil)
        #expect(PolicyStatement.principal(parsing: "invalid.nonamazonaws.com") == nil)
        #expect(PolicyStatement.principal(parsing: "alexa-appkit.amazon.com") == .service("alexa-appkit.amazon.com"))
    }

    @Test func statementDocumentHasAWSShape() {
        let statement = PolicyStatement(
            sid: "s3", principal: .service("s3.amazonaws.com"), action: "lambda:InvokeFunction", resource: Self.arn,
            conditions: [
                .init("StringEquals", "AWS:SourceAccount", "111111111111"),
                .init("ArnLike", "AWS:SourceArn", "arn:aws:s3:::bucket"),
            ])
        #expect(
            statement.document == [
                "Sid": "s3", "Effect": "Allow", "Principal": ["Service": "s3.amazonaws.com"],
                "Action": "lambda:InvokeFunction", "Resource": .string(Self.arn),
                "Condition": [
                    "StringEquals": ["AWS:SourceAccount": "111111111111"],
                    "ArnLike": ["AWS:SourceArn": "arn:aws:s3:::bucket"],
                ],
            ])
        let policy = ResourcePolicy(statements: [statement], revisionID: "r")
        #expect(policy.document["Version"] == "2012-10-17")
        #expect(policy.document["Id"] == "default")
    }

    @Test func servicePrincipalNeedsMatchingServiceActionAndConditions() {
        let policy = ResourcePolicy(
            statements: [
                PolicyStatement(
                    sid: "apigw", principal: .service("apigateway.amazonaws.com"), action: "lambda:InvokeFunction",
                    resource: Self.arn, conditions: [.init("ArnLike", "AWS:SourceArn", "arn:aws:execute-api:us-east-1:000000000000:abc/*/GET/items")])
            ], revisionID: "r")
        let source = "arn:aws:execute-api:us-east-1:000000000000:abc/$default/GET/items"
        func request(_ principal: PolicyRequest.Caller, action: String = "lambda:InvokeFunction", source: String? = source)
            -> PolicyRequest
        {
            PolicyRequest(principal: principal, action: action, context: source.map { ["AWS:SourceArn": $0] } ?? [:])
        }
        #expect(policy.allows(request(.service("apigateway.amazonaws.com"))))
        #expect(!policy.allows(request(.service("s3.amazonaws.com"))))
        #expect(!policy.allows(request(.service("apigateway.amazonaws.com"), action: "lambda:GetFunction")))
        #expect(!policy.allows(request(.service("apigateway.amazonaws.com"), source: nil)))
        #expect(
            !policy.allows(request(.service("apigateway.amazonaws.com"), source: "arn:aws:execute-api:us-east-1:000000000000:xyz/$default/GET/items")))
        #expect(!policy.allows(request(.anonymous)))
    }

    @Test func publicURLStatementAllowsAnonymousCallersOnlyForItsAuthType() {
        let policy = ResourcePolicy(
            statements: [
                PolicyStatement(
                    sid: "url", principal: .anyone, action: "lambda:InvokeFunctionUrl", resource: Self.arn,
                    conditions: [.init("StringEquals", "lambda:FunctionUrlAuthType", "NONE")])
            ], revisionID: "r")
        #expect(
            policy.allows(
                PolicyRequest(principal: .anonymous, action: "lambda:InvokeFunctionUrl", context: ["lambda:FunctionUrlAuthType": "NONE"])))
        #expect(
            !policy.allows(
                PolicyRequest(principal: .anonymous, action: "lambda:InvokeFunctionUrl", context: ["lambda:FunctionUrlAuthType": "AWS_IAM"])))
        #expect(!policy.allows(PolicyRequest(principal: .anonymous, action: "lambda:InvokeFunction", context: ["lambda:FunctionUrlAuthType": "NONE"])))
    }

    @Test func accountPrincipalsAndWildcardActions() {
        let policy = ResourcePolicy(
            statements: [
                PolicyStatement(sid: "acct", principal: .aws("arn:aws:iam::111111111111:root"), action: "lambda:*", resource: Self.arn),
                PolicyStatement(sid: "user", principal: .aws("arn:aws:iam::222222222222:user/bob"), action: "*", resource: Self.arn),
            ], revisionID: "r")
        #expect(policy.allows(PolicyRequest(principal: .account("111111111111", arn: "arn:aws:iam::111111111111:user/x"), action: "lambda:InvokeFunctionUrl")))
        #expect(policy.allows(PolicyRequest(principal: .account("222222222222", arn: "arn:aws:iam::222222222222:user/bob"), action: "lambda:InvokeFunction")))
        #expect(!policy.allows(PolicyRequest(principal: .account("222222222222", arn: "arn:aws:iam::222222222222:user/eve"), action: "lambda:InvokeFunction")))
        #expect(!policy.allows(PolicyRequest(principal: .account("333333333333", arn: nil), action: "lambda:InvokeFunction")))
    }

    @Test func arnLikeGlobs() {
        #expect(PolicyStatement.glob("arn:aws:s3:::bucket", matches: "arn:aws:s3:::bucket"))
        #expect(PolicyStatement.glob("arn:aws:execute-api:*:*:abc/*", matches: "arn:aws:execute-api:us-east-1:1:abc/$default/GET/x"))
        #expect(PolicyStatement.glob("a?c", matches: "abc"))
        #expect(PolicyStatement.glob("*", matches: ""))
        #expect(!PolicyStatement.glob("arn:aws:s3:::bucket", matches: "arn:aws:s3:::bucket2"))
        #expect(!PolicyStatement.glob("a*b*c", matches: "aXbY"))
        #expect(PolicyStatement.glob("a*b*c", matches: "aXbYc"))
    }

    /// Policies and URLs survive a reopen of the database and go with their function.
    @Test func policiesAndURLsPersistAndCascade() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-policy-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = "\(root)/nimbus.sqlite"
        let store = SQLiteFunctionStore(database: try NimbusDatabase(path: path))
        try await store.insert(StoredFunction(configuration: FunctionStoreTests.configuration("fn", revision: "r1"), tags: [:]))
        let policy = ResourcePolicy(
            statements: [PolicyStatement(sid: "a", principal: .anyone, action: "lambda:InvokeFunctionUrl", resource: Self.arn)],
            revisionID: "p1")
        let url = FunctionURLConfig(
            urlID: String(repeating: "a", count: 32), functionName: "fn", qualifier: nil, authType: "NONE",
            cors: ["AllowOrigins": ["*"]], invokeMode: nil, creationMillis: 1, lastModifiedMillis: 2)
        try await store.putPolicy(function: "fn", qualifier: "", policy)
        try await store.putPolicy(function: "fn", qualifier: "live", policy)
        try await store.putPolicy(function: "fn", qualifier: "live", nil)
        try await store.putURL(function: "fn", qualifier: "", url)
        let reopened = SQLiteFunctionStore(database: try NimbusDatabase(path: path))
        let loaded = try await reopened.loadPoliciesAndURLs()
        #expect(loaded.policies == ["fn": ["": policy]])
        #expect(loaded.urls == ["fn": ["": url]])
        try await reopened.delete(name: "fn")
        let after = try await reopened.loadPoliciesAndURLs()
        #expect(after.policies.isEmpty && after.urls.isEmpty)
    }
}

extension ResourcePolicyTests {
    /// The text keeps AWS's key order and parses to the same document.
    @Test func textKeepsAWSOrder() throws {
        let statement = PolicyStatement(
            sid: "u\"rl", principal: .anyone, action: "lambda:InvokeFunctionUrl", resource: Self.arn,
            conditions: [
                .init("StringEquals", "AWS:SourceAccount", "111111111111"), .init("ArnLike", "AWS:SourceArn", "arn:aws:s3:::b"),
                .init("StringEquals", "lambda:FunctionUrlAuthType", "NONE"),
            ])
        let text = statement.text
        #expect(text.hasPrefix(#"{"Sid":"u\"rl","Effect":"Allow","Principal":"*","Action":"#))
        #expect(text.contains(#""Condition":{"StringEquals":{"AWS:SourceAccount":"111111111111","lambda:FunctionUrlAuthType":"NONE"},"ArnLike""#))
        #expect(JSONValue.parse(Array(text.utf8)) == statement.document)
        let policy = ResourcePolicy(statements: [statement, statement], revisionID: "r")
        #expect(policy.text.hasPrefix(#"{"Version":"2012-10-17","Id":"default","Statement":[{"Sid""#))
        #expect(JSONValue.parse(Array(policy.text.utf8)) == policy.document)
    }
}
