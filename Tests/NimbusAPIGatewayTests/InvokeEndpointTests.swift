import NIOCore
import NimbusCore
import NimbusEdge
import Testing

@testable import NimbusAPIGateway

/// The invoke endpoint: stage and route selection, the event the function gets, what the caller gets back, and
/// API Gateway's own answers.
@Suite struct InvokeEndpointTests {
    let h = Harness()

    func event(_ index: Int = -1) throws -> JSONValue {
        let calls = h.functions.invocations
        let call = try #require(index < 0 ? calls.last : calls[index])
        return try #require(JSONValue.parse(call.payload.readableBytesView))
    }

    @Test func routesToTheFunctionWithAWSEvent() async throws {
        let (api, _) = try await h.api(routes: ["GET /items/{id}", "ANY /{proxy+}"])
        let response = await h.invoke("GET", "/items/42", apiID: api, query: "a=1&a=2")
        #expect(response.status == 200)
        #expect(response.bodyText == "ok")
        #expect(response.header("apigw-requestid")?.hasSuffix("=") == true)

        let call = try #require(h.functions.invocations.last)
        #expect(call.function == Harness.function)
        #expect(call.principal == "apigateway.amazonaws.com")
        #expect(call.action == "lambda:InvokeFunction")
        #expect(call.sourceARN == "arn:aws:execute-api:us-east-1:123456789012:\(api)/$default/GET/items/{id}")
        #expect(call.sourceAccount == "123456789012")
        #expect(call.namespace == h.namespace)

        let event = try self.event()
        #expect(event["version"] == "2.0")
        #expect(event["routeKey"] == "GET /items/{id}")
        #expect(event["rawPath"] == "/items/42")
        #expect(event["rawQueryString"] == "a=1&a=2")
        #expect(event["pathParameters"] == ["id": "42"])
        #expect(event["requestContext"]?["apiId"] == .string(api))
        #expect(event["requestContext"]?["stage"] == "$default")
        #expect(event["requestContext"]?["accountId"] == "123456789012")
        #expect(event["requestContext"]?["domainName"] == .string("\(api).execute-api.localhost"))
        #expect(event["requestContext"]?["http"]?["sourceIp"] == "192.0.2.7")
        #expect(event["requestContext"]?["requestId"] == .string(response.header("apigw-requestid") ?? ""))

        _ = await h.invoke("DELETE", "/anything/else", apiID: api)
        let greedy = try self.event()
        #expect(greedy["routeKey"] == "ANY /{proxy+}")
        #expect(greedy["pathParameters"] == ["proxy": "anything/else"])
        #expect(
            h.functions.invocations.last?.sourceARN
                == "arn:aws:execute-api:us-east-1:123456789012:\(api)/$default/ANY/{proxy+}")
    }

    @Test func namedStageWithVariablesAndPayload1() async throws {
        let (api, _) = try await h.api(routes: ["GET /items/{id}"], payload: "1.0", stage: false)
        try await h.call(
            "CreateStage", labels: ["apiId": api],
            body: ["stageName": "dev", "autoDeploy": true, "stageVariables": ["color": "blue"]])
        let response = await h.invoke("GET", "/dev/items/a%20b", apiID: api)
        #expect(response.status == 200)
        let event = try self.event()
        #expect(event["version"] == "1.0")
        #expect(event["resource"] == "/items/{id}")
        #expect(event["httpMethod"] == "GET")
        #expect(event["pathParameters"] == ["id": "a b"])
        #expect(event["stageVariables"] == ["color": "blue"])
        #expect(event["requestContext"]?["stage"] == "dev")
        #expect(
            h.functions.invocations.last?.sourceARN
                == "arn:aws:execute-api:us-east-1:123456789012:\(api)/dev/GET/items/{id}")
        // No $default stage: a path without the stage prefix is not found.
        #expect(await h.invoke("GET", "/items/1", apiID: api).status == 404)
    }

    @Test func defaultRouteAndNotFound() async throws {
        let (api, _) = try await h.api(routes: ["GET /a"])
        let missing = await h.invoke("GET", "/b", apiID: api)
        #expect(missing.status == 404)
        #expect(missing.bodyText == #"{"message":"Not Found"}"#)
        #expect(await h.invoke("GET", "/a", apiID: "zzzzzzzzzz").status == 404)
        let fallback = try await h.call(
            "CreateRoute", labels: ["apiId": api],
            body: [
                "routeKey": "$default",
                "target": .string("integrations/\(h.service.catalog.state(api, in: h.namespace).integrations[0].id)"),
            ])
        #expect(fallback.status == 201)
        #expect(await h.invoke("POST", "/b/c", apiID: api).status == 200)
        let event = try self.event()
        #expect(event["routeKey"] == "$default")
        #expect(event["pathParameters"] == nil)
        #expect(
            h.functions.invocations.last?.sourceARN
                == "arn:aws:execute-api:us-east-1:123456789012:\(api)/$default/$default")
    }

    @Test func stageWithoutAutoDeployServesItsDeployment() async throws {
        let (api, integration) = try await h.api(routes: ["GET /v1"], stage: false)
        try await h.call("CreateStage", labels: ["apiId": api], body: ["stageName": "prod"])
        // Not deployed yet.
        #expect(await h.invoke("GET", "/prod/v1", apiID: api).status == 404)
        try await h.call("CreateDeployment", labels: ["apiId": api], body: ["stageName": "prod"])
        #expect(await h.invoke("GET", "/prod/v1", apiID: api).status == 200)
        // A route added later is live only after the next deployment.
        try await h.call(
            "CreateRoute", labels: ["apiId": api],
            body: ["routeKey": "GET /v2", "target": .string("integrations/\(integration)")])
        #expect(await h.invoke("GET", "/prod/v2", apiID: api).status == 404)
        try await h.call("CreateDeployment", labels: ["apiId": api], body: ["stageName": "prod"])
        #expect(await h.invoke("GET", "/prod/v2", apiID: api).status == 200)
    }

    @Test func corsPreflightIsAnsweredWithoutTheFunction() async throws {
        let (api, _) = try await h.api(
            routes: ["GET /a"],
            cors: ["allowOrigins": ["https://example.com"], "allowMethods": ["GET", "POST"], "maxAge": 300])
        let preflight = await h.invoke(
            "OPTIONS", "/a", apiID: api,
            headers: [("origin", "https://example.com"), ("access-control-request-method", "POST")])
        #expect(preflight.status == 204)
        #expect(preflight.header("access-control-allow-origin") == "https://example.com")
        #expect(preflight.header("access-control-max-age") == "300")
        #expect(h.functions.invocations.isEmpty)
        let actual = await h.invoke("GET", "/a", apiID: api, headers: [("origin", "https://example.com")])
        #expect(actual.status == 200)
        #expect(actual.header("access-control-allow-origin") == "https://example.com")
        let notFound = await h.invoke("GET", "/zzz", apiID: api, headers: [("origin", "https://example.com")])
        #expect(notFound.status == 404)
        #expect(notFound.header("access-control-allow-origin") == "https://example.com")
    }

    @Test func failuresAreAPIGatewaysAnswers() async throws {
        let (api, _) = try await h.api(routes: ["GET /a"])
        func status(_ behaviour: FakeFunctions.Behaviour) async -> (Int, String) {
            h.functions.behaviour.withLock { $0 = behaviour }
            let response = await h.invoke("GET", "/a", apiID: api)
            return (response.status, response.bodyText)
        }
        let internalError = #"{"message":"Internal Server Error"}"#
        #expect(await status(.functionError(type: "Runtime.ExitError")) == (500, internalError))
        #expect(await status(.functionError(type: "Sandbox.Timedout")) == (500, internalError))
        #expect(await status(.error(NimbusError(.accessDenied, "no"))) == (500, internalError))
        #expect(await status(.error(NimbusError(.resourceNotFound, "gone"))) == (500, internalError))
        #expect(
            await status(
                .error(
                    NimbusError(
                        .tooManyRequests, "Rate Exceeded.",
                        extra: ["Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"]))) == (
                    500, internalError
                ))
        #expect(await status(.payload(#"{"statusCode":"abc"}"#)) == (500, internalError))
        #expect(await status(.payload(#"{"statusCode":201,"body":"made","headers":{"x-a":"1"}}"#)) == (201, "made"))
    }

    @Test func integrationTimeoutIs503() async throws {
        let (api, integration) = try await h.api(routes: ["GET /slow"])
        try await h.call(
            "UpdateIntegration", labels: ["apiId": api, "integrationId": integration], body: ["timeoutInMillis": 50])
        // The function hangs for an hour: an answer at all is the integration timeout's (no timed assertion, which a
        // loaded machine would break).
        h.functions.behaviour.withLock { $0 = .hang }
        let response = await h.invoke("GET", "/slow", apiID: api)
        #expect(response.status == 503)
        #expect(response.bodyText == #"{"message":"Service Unavailable"}"#)
    }

    @Test func iamRoutesNeedAValidSignature() async throws {
        let (api, integration) = try await h.api(routes: [])
        try await h.call(
            "CreateRoute", labels: ["apiId": api],
            body: [
                "routeKey": "GET /private", "target": .string("integrations/\(integration)"),
                "authorizationType": "AWS_IAM",
            ])
        let unsigned = await h.invoke("GET", "/private", apiID: api)
        #expect(unsigned.status == 403)
        #expect(unsigned.bodyText == #"{"message":"Forbidden"}"#)
        let tampered = await h.invoke(
            "GET", "/private", apiID: api,
            signature: .invalid(ServiceError(code: "InvalidSignatureException", message: "no")))
        #expect(tampered.status == 403)
        let signed = await h.invoke(
            "GET", "/private", apiID: api,
            headers: [
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=x"
                )
            ],
            signature: .valid(service: "execute-api", region: "us-east-1"))
        #expect(signed.status == 200)
        #expect(try self.event()["requestContext"]?["authorizer"]?["iam"]?["accessKey"] != nil)
        #expect(h.functions.invocations.count == 1)
    }

    @Test func disabledEndpointAndOversizedHeaders() async throws {
        let (api, _) = try await h.api(routes: ["GET /a"])
        let big = String(repeating: "x", count: 10_300)
        #expect(await h.invoke("GET", "/a", apiID: api, headers: [("x-big", big)]).status == 431)
        try await h.call("UpdateApi", labels: ["apiId": api], body: ["disableExecuteApiEndpoint": true])
        let disabled = await h.invoke("GET", "/a", apiID: api)
        #expect(disabled.status == 403)
        #expect(h.functions.invocations.isEmpty)
    }

    @Test func apiIDIsCaseInsensitive() async throws {
        let (api, _) = try await h.api(routes: ["GET /a"])
        #expect(await h.invoke("GET", "/a", apiID: api.uppercased()).status == 200)
    }

    @Test func requestIDShape() {
        for _ in 0..<100 {
            let id = APIGatewayService.makeRequestID()
            #expect(id.count == 16)
            #expect(id.hasSuffix("="))
        }
    }
}
