import NimbusCore
import Testing

@testable import NimbusEdge

/// Routing by what the SDKs send: virtual hosts, X-Amz-Target, the rpc-v2 path, the SigV4 scope and rest paths.
@Suite struct RouterTests {
    static func op(_ name: String, _ method: String? = nil, _ uri: String? = nil) -> ServiceOperation {
        ServiceOperation(name, method.map { HTTPBinding($0, uri!) }) { _ in .empty(200) }
    }

    static let lambda = ServiceDefinition(
        name: "lambda", signingNames: ["lambda"], wire: .restJSON,
        operations: [
            op("ListFunctions", "GET", "/2015-03-31/functions"),
            op("GetFunction", "GET", "/2015-03-31/functions/{FunctionName}"),
            op("Invoke", "POST", "/2015-03-31/functions/{FunctionName}/invocations"),
            op("GetProvisionedConcurrencyConfig", "GET", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency"),
            op("ListProvisionedConcurrencyConfigs", "GET", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency?List=ALL"),
        ])
    static let logs = ServiceDefinition(
        name: "logs", signingNames: ["logs"], wire: .json(version: "1.1"), targetPrefix: "Logs_20140328",
        operations: [op("FilterLogEvents")])
    static let sts = ServiceDefinition(
        name: "sts", signingNames: ["sts"], wire: .query, apiVersion: "2011-06-15", operations: [op("GetCallerIdentity")])
    static let cloudwatch = ServiceDefinition(
        name: "cloudwatch", signingNames: ["monitoring"], wire: .rpcV2CBOR, rpcServiceName: "GraniteServiceVersion20100801",
        operations: [op("PutMetricData")])
    static let urls = ServiceDefinition(
        name: "lambda-url", signingNames: [], wire: .restJSON, hostRules: [HostRule("{UrlId}.lambda-url.{Region}")],
        operations: [op("InvokeURL", "GET", "/{Path+}")])
    static let admin = ServiceDefinition(
        name: "nimbus", signingNames: [], wire: .restJSON, exposure: .outsideOnly,
        operations: [op("Health", "GET", "/_nimbus/health")])

    let router = Router(services: [Self.admin, Self.urls, Self.lambda, Self.logs, Self.sts, Self.cloudwatch])

    func head(
        _ method: String, _ path: String, query: [(String, String)] = [], host: String = "127.0.0.1:9000",
        target: String? = nil, signing: String? = nil, sandbox: Bool = false
    ) -> Router.Head {
        Router.Head(
            method: method, segments: path.split(separator: "/").map(String.init), query: query, host: host,
            target: target, signingName: signing, isSandbox: sandbox)
    }

    func routed(_ head: Router.Head) -> (String, String?, [String: String])? {
        guard case .success(let route) = self.router.route(head) else { return nil }
        return (route.service.name, route.operation?.name, route.labels)
    }

    @Test func restPathsWithLabels() {
        let r = self.routed(self.head("POST", "/2015-03-31/functions/hello/invocations", signing: "lambda"))
        #expect(r?.0 == "lambda")
        #expect(r?.1 == "Invoke")
        #expect(r?.2 == ["FunctionName": "hello"])
        #expect(self.routed(self.head("GET", "/2015-03-31/functions"))?.1 == "ListFunctions")
    }

    @Test func aLiteralQueryConstraintWins() {
        let path = "/2019-09-30/functions/f/provisioned-concurrency"
        #expect(self.routed(self.head("GET", path, query: [("List", "ALL")]))?.1 == "ListProvisionedConcurrencyConfigs")
        #expect(self.routed(self.head("GET", path, query: [("Qualifier", "1")]))?.1 == "GetProvisionedConcurrencyConfig")
    }

    @Test func targetsNameJSONOperations() {
        let r = self.routed(self.head("POST", "/", target: "Logs_20140328.FilterLogEvents", signing: "logs"))
        #expect(r?.0 == "logs")
        #expect(r?.1 == "FilterLogEvents")
    }

    @Test func anUnknownTargetIsAnUnknownOperation() {
        guard case .failure(.unknownOperation(let service, _)) = self.router.route(
            self.head("POST", "/", target: "Logs_20140328.PutDestination", signing: "logs"))
        else { Issue.record("expected unknownOperation"); return }
        #expect(service == "logs")
        guard case .failure(.unknownOperation) = self.router.route(self.head("POST", "/", target: "Nope_1.X")) else {
            Issue.record("expected unknownOperation")
            return
        }
    }

    func failure(_ head: Router.Head) -> Router.Failure? {
        guard case .failure(let failure) = self.router.route(head) else { return nil }
        return failure
    }

    @Test func aScopeNamingAnotherServiceIsRefusedWithItsName() {
        #expect(self.failure(self.head("POST", "/", signing: "dynamodb")) == .unknownService("dynamodb"))
        #expect(
            self.failure(self.head("POST", "/", target: "DynamoDB_20120810.ListTables", signing: "dynamodb"))
                == .unknownService("dynamodb"))
    }

    @Test func queryServicesByScopeOrVersion() {
        #expect(self.routed(self.head("POST", "/", signing: "sts"))?.0 == "sts")
        #expect(self.routed(self.head("POST", "/", signing: "sts"))?.1 == nil)  // the Action is in the body
        #expect(self.routed(self.head("GET", "/", query: [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]))?.0 == "sts")
    }

    @Test func rpcV2Paths() {
        let r = self.routed(self.head("POST", "/service/GraniteServiceVersion20100801/operation/PutMetricData"))
        #expect(r?.0 == "cloudwatch")
        #expect(r?.1 == "PutMetricData")
    }

    @Test func virtualHostsWin() {
        let r = self.routed(self.head("GET", "/a/b", host: "abc123.lambda-url.us-east-1.localhost:9000"))
        #expect(r?.0 == "lambda-url")
        #expect(r?.2 == ["UrlId": "abc123", "Region": "us-east-1", "Path": "a/b"])
        #expect(HostRule("{UrlId}.lambda-url.{Region}").match("lambda-url.us-east-1.localhost") == nil)
        #expect(HostRule("{UrlId}.lambda-url.{Region}").match("127.0.0.1:9000") == nil)
    }

    @Test func adminRoutesAreNotReachableFromSandboxes() {
        #expect(self.routed(self.head("GET", "/_nimbus/health"))?.0 == "nimbus")
        #expect(self.routed(self.head("GET", "/_nimbus/health", signing: "lambda"))?.0 == "nimbus")
        #expect(self.routed(self.head("GET", "/_nimbus/health", signing: "lambda", sandbox: true)) == nil)
    }

    @Test func unknownPathsAreUnknownOperations() {
        guard case .failure(.unknownOperation(_, let description)) = self.router.route(self.head("GET", "/nothing/here"))
        else { Issue.record("expected unknownOperation"); return }
        #expect(description == "GET /nothing/here")
    }

    @Test func greedyLabelsAndTemplatesMatchExactly() {
        let t = URITemplate("/{Bucket}/{Key+}")
        #expect(t.match(["b", "a", "b", "c.txt"], query: []) == ["Bucket": "b", "Key": "a/b/c.txt"])
        #expect(t.match(["b"], query: []) == nil)
        let fn = URITemplate("/2015-03-31/functions/{FunctionName}")
        #expect(fn.match(["2015-03-31", "functions", "f", "extra"], query: []) == nil)
        #expect(fn.match(["2015-03-31", "functions"], query: []) == nil)
    }
}

extension Router.Failure: CustomStringConvertible {
    public var description: String {
        switch self {
        case .unknownService(let s): "unknownService(\(s))"
        case .unknownOperation(let s, let d): "unknownOperation(\(s), \(d))"
        }
    }
}
