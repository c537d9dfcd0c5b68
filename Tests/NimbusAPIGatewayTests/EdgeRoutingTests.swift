import Logging
import NimbusCore
import Testing

@testable import NimbusAPIGateway
@testable import NimbusEdge

/// The definitions as the edge's router sees them: botocore's URIs reach their operations (signed as `apigateway`
/// or unsigned), and invoke hosts reach the invoke endpoint with the API id.
@Suite struct EdgeRoutingTests {
    let service = Harness().service

    var router: Router { Router(services: [self.service.invokeDefinition, self.service.definition]) }

    func route(
        _ method: String, _ segments: [String], host: String = "127.0.0.1:9000", signing: String? = "apigateway"
    )
        -> (String, [String: String])?
    {
        let head = Router.Head(
            method: method, segments: segments, query: [], host: host, target: nil, signingName: signing,
            isSandbox: false)
        guard case .success(let route) = self.router.route(head), let operation = route.operation else { return nil }
        return (operation.name, route.labels)
    }

    @Test(arguments: [
        ("POST", "/v2/apis", "CreateApi"), ("GET", "/v2/apis", "GetApis"), ("GET", "/v2/apis/a1", "GetApi"),
        ("PATCH", "/v2/apis/a1", "UpdateApi"), ("DELETE", "/v2/apis/a1", "DeleteApi"),
        ("DELETE", "/v2/apis/a1/cors", "DeleteCorsConfiguration"),
        ("POST", "/v2/apis/a1/integrations", "CreateIntegration"),
        ("GET", "/v2/apis/a1/integrations", "GetIntegrations"),
        ("GET", "/v2/apis/a1/integrations/i1", "GetIntegration"),
        ("PATCH", "/v2/apis/a1/integrations/i1", "UpdateIntegration"),
        ("DELETE", "/v2/apis/a1/integrations/i1", "DeleteIntegration"),
        ("POST", "/v2/apis/a1/routes", "CreateRoute"), ("GET", "/v2/apis/a1/routes", "GetRoutes"),
        ("GET", "/v2/apis/a1/routes/r1", "GetRoute"), ("PATCH", "/v2/apis/a1/routes/r1", "UpdateRoute"),
        ("DELETE", "/v2/apis/a1/routes/r1", "DeleteRoute"),
        ("POST", "/v2/apis/a1/stages", "CreateStage"), ("GET", "/v2/apis/a1/stages", "GetStages"),
        ("GET", "/v2/apis/a1/stages/$default", "GetStage"), ("PATCH", "/v2/apis/a1/stages/dev", "UpdateStage"),
        ("DELETE", "/v2/apis/a1/stages/dev", "DeleteStage"),
        ("POST", "/v2/apis/a1/deployments", "CreateDeployment"), ("GET", "/v2/apis/a1/deployments", "GetDeployments"),
        ("GET", "/v2/apis/a1/deployments/d1", "GetDeployment"),
        ("DELETE", "/v2/apis/a1/deployments/d1", "DeleteDeployment"),
        ("POST", "/v2/tags/arn", "TagResource"), ("DELETE", "/v2/tags/arn", "UntagResource"),
        ("GET", "/v2/tags/arn", "GetTags"),
    ])
    func controlPlaneOperations(_ method: String, _ path: String, _ operation: String) {
        let segments = path.split(separator: "/").map(String.init)
        #expect(self.route(method, segments)?.0 == operation)
        #expect(self.route(method, segments, signing: nil)?.0 == operation)
    }

    @Test func tagARNIsOneLabel() {
        // botocore percent-encodes the ARN's slashes; the edge decodes each segment after splitting.
        let arn = "arn:aws:apigateway:us-east-1::/apis/abcdefghij/stages/dev"
        #expect(self.route("GET", ["v2", "tags", arn])?.1 == ["resource-arn": arn])
    }

    @Test func invokeHosts() {
        let routed = self.route("POST", ["items", "1"], host: "abcdefghij.execute-api.localhost:9000", signing: nil)
        #expect(routed?.0 == "Invoke")
        #expect(routed?.1 == ["ApiId": "abcdefghij"])
        // Signed for any service, an invoke host is still the invoke endpoint (IAM routes check the scope).
        #expect(self.route("GET", [], host: "abcdefghij.execute-api.localhost", signing: "execute-api")?.0 == "Invoke")
        #expect(
            self.route("GET", [], host: "abcdefghij.execute-api.us-east-1.localhost:9000", signing: nil)?.0 == "Invoke")
    }
}
