import NimbusCore
import NimbusEdge
import Testing

@testable import NimbusAPIGateway

/// The control plane's shapes, defaults and AWS's errors, through the operations as the edge calls them.
@Suite struct ControlPlaneTests {
    let h = Harness()

    @Test func createApiHasAWSShape() async throws {
        let (status, api) = try await h.call(
            "CreateApi", body: ["name": "shop", "protocolType": "HTTP", "description": "d", "tags": ["team": "a"]])
        #expect(status == 201)
        let id = try #require(api["apiId"]?.stringValue)
        #expect(Identifiers.isWellFormed(id, length: 10))
        #expect(api["apiEndpoint"] == .string("http://\(id).execute-api.localhost:9000"))
        #expect(api["protocolType"] == "HTTP")
        #expect(api["routeSelectionExpression"] == "${request.method} ${request.path}")
        #expect(api["apiKeySelectionExpression"] == "$request.header.x-api-key")
        #expect(api["disableExecuteApiEndpoint"] == false)
        #expect(api["tags"] == ["team": "a"])
        #expect(api["description"] == "d")
        let created = try #require(api["createdDate"]?.stringValue)
        #expect(created.hasSuffix("Z") && created.count == 20)
        #expect(try await h.call("GetApi", labels: ["apiId": id]).document == api)
    }

    @Test func createApiValidation() async {
        let websocket = await h.failure("CreateApi", body: ["name": "ws", "protocolType": "WEBSOCKET"])
        #expect(websocket?.code == "BadRequestException")
        #expect(websocket?.status == 400)
        #expect(websocket?.message.contains("WebSocket") == true)
        #expect(await h.failure("CreateApi", body: ["protocolType": "HTTP"])?.code == "BadRequestException")
        #expect(await h.failure("CreateApi", body: ["name": "x"])?.code == "BadRequestException")
        #expect(await h.failure("CreateApi", body: ["name": 5, "protocolType": "HTTP"])?.code == "BadRequestException")
        #expect(
            await h.failure("CreateApi", body: ["name": "x", "protocolType": "HTTP", "routeKey": "GET /"])?.code
                == "BadRequestException")
        #expect(
            await h.failure("CreateApi", body: ["name": "x", "protocolType": "HTTP", "target": "https://example.com"])?
                .code == "BadRequestException")
        #expect(
            await h.failure(
                "CreateApi",
                body: [
                    "name": "x", "protocolType": "HTTP",
                    "corsConfiguration": ["allowOrigins": ["*"], "allowCredentials": true],
                ])?.code
                == "BadRequestException")
        #expect(
            await h.failure(
                "CreateApi", body: ["name": "x", "protocolType": "HTTP", "corsConfiguration": ["maxAge": 86401]])?.code
                == "BadRequestException")
    }

    @Test func malformedBody() async throws {
        let op = try #require(h.service.definition.operations.first { $0.name == "CreateApi" })
        let request = ServiceRequest(
            operation: "CreateApi", namespace: h.namespace,
            caller: Caller(kind: .anonymous, accessKeyID: "", account: "1"),
            requestID: "r", body: .init(string: "{not json"))
        await #expect {
            try await op.handler(request)
        } throws: { ($0 as? APIGatewayError)?.code == .badRequest }
    }

    @Test func quickCreate() async throws {
        let (_, api) = try await h.call(
            "CreateApi",
            body: ["name": "q", "protocolType": "HTTP", "target": .string(Harness.function), "routeKey": "GET /hello"])
        let id = try #require(api["apiId"]?.stringValue)
        let integrations =
            try await h.call("GetIntegrations", labels: ["apiId": id]).document["items"]?.arrayValue ?? []
        #expect(integrations.count == 1)
        #expect(integrations.first?["integrationType"] == "AWS_PROXY")
        #expect(integrations.first?["payloadFormatVersion"] == "2.0")
        #expect(integrations.first?["apiGatewayManaged"] == true)
        #expect(integrations.first?["timeoutInMillis"] == 30000)
        let integrationID = try #require(integrations.first?["integrationId"]?.stringValue)
        let routes = try await h.call("GetRoutes", labels: ["apiId": id]).document["items"]?.arrayValue ?? []
        #expect(routes.map { $0["routeKey"] } == ["GET /hello"])
        #expect(routes.first?["target"] == .string("integrations/\(integrationID)"))
        let stage = try await h.call("GetStage", labels: ["apiId": id, "stageName": "$default"]).document
        #expect(stage["autoDeploy"] == true)
        #expect(stage["apiGatewayManaged"] == true)

        // UpdateApi moves the managed route and integration.
        try await h.call(
            "UpdateApi", labels: ["apiId": id],
            body: ["routeKey": "POST /bye", "target": "arn:aws:lambda:us-east-1:123456789012:function:other"])
        let moved = try await h.call("GetRoutes", labels: ["apiId": id]).document["items"]?.arrayValue ?? []
        #expect(moved.map { $0["routeKey"] } == ["POST /bye"])
        let retargeted = try await h.call("GetIntegration", labels: ["apiId": id, "integrationId": integrationID])
            .document
        #expect(retargeted["integrationUri"] == "arn:aws:lambda:us-east-1:123456789012:function:other")
    }

    @Test func quickCreateWithoutRouteKeyIsDefault() async throws {
        let (_, api) = try await h.call(
            "CreateApi", body: ["name": "q", "protocolType": "HTTP", "target": .string(Harness.function)])
        let id = try #require(api["apiId"]?.stringValue)
        let routes = try await h.call("GetRoutes", labels: ["apiId": id]).document["items"]?.arrayValue ?? []
        #expect(routes.map { $0["routeKey"] } == ["$default"])
    }

    @Test func unknownAPIInAWSWords() async throws {
        let error = await h.failure("GetApi", labels: ["apiId": "abcdefghij"])
        #expect(error?.code == "NotFoundException")
        #expect(error?.status == 404)
        #expect(error?.message == "Invalid API identifier specified 123456789012:abcdefghij")
        #expect(error?.fields["resourceType"] == "Api")
        #expect(error?.messageMember == "message")
    }

    @Test func apisAreConfinedToTheirNamespace() async throws {
        let id =
            try await h.call("CreateApi", body: ["name": "a", "protocolType": "HTTP"]).document["apiId"]?.stringValue
            ?? ""
        var other = h
        other.namespace = AccountContext(region: "eu-west-1", accountID: "123456789012")
        #expect(await other.failure("GetApi", labels: ["apiId": id])?.code == "NotFoundException")
        #expect(try await other.call("GetApis").document["items"] == [])
        #expect(try await h.call("GetApis").document["items"]?.arrayValue?.count == 1)
    }

    @Test func getApisPages() async throws {
        for i in 0..<5 { try await h.call("CreateApi", body: ["name": .string("api\(i)"), "protocolType": "HTTP"]) }
        let first = try await h.call("GetApis", query: [("maxResults", "2")]).document
        #expect(first["items"]?.arrayValue?.map { $0["name"] } == ["api0", "api1"])
        let token = try #require(first["nextToken"]?.stringValue)
        let second = try await h.call("GetApis", query: [("maxResults", "2"), ("nextToken", token)]).document
        #expect(second["items"]?.arrayValue?.map { $0["name"] } == ["api2", "api3"])
        let last = try await h.call(
            "GetApis", query: [("maxResults", "2"), ("nextToken", second["nextToken"]?.stringValue ?? "")]
        ).document
        #expect(last["items"]?.arrayValue?.map { $0["name"] } == ["api4"])
        #expect(last["nextToken"] == nil)
        #expect(await h.failure("GetApis", query: [("maxResults", "zero")])?.code == "BadRequestException")
    }

    @Test func updateAndDeleteApiAndCors() async throws {
        let id =
            try await h.call(
                "CreateApi",
                body: [
                    "name": "a", "protocolType": "HTTP", "corsConfiguration": ["allowOrigins": ["https://example.com"]],
                ]
            ).document["apiId"]?.stringValue ?? ""
        let updated = try await h.call("UpdateApi", labels: ["apiId": id], body: ["name": "b", "version": "2"]).document
        #expect(updated["name"] == "b")
        #expect(updated["version"] == "2")
        #expect(updated["corsConfiguration"] == ["allowOrigins": ["https://example.com"]])
        #expect(try await h.call("DeleteCorsConfiguration", labels: ["apiId": id]).status == 204)
        #expect(try await h.call("GetApi", labels: ["apiId": id]).document["corsConfiguration"] == nil)
        #expect(
            await h.failure("UpdateApi", labels: ["apiId": id], body: ["target": .string(Harness.function)])?.code
                == "BadRequestException")
        #expect(try await h.call("DeleteApi", labels: ["apiId": id]).status == 204)
        #expect(await h.failure("GetApi", labels: ["apiId": id])?.code == "NotFoundException")
        #expect(await h.failure("DeleteApi", labels: ["apiId": id])?.code == "NotFoundException")
    }

    @Test func integrationValidation() async throws {
        let id =
            try await h.call("CreateApi", body: ["name": "a", "protocolType": "HTTP"]).document["apiId"]?.stringValue
            ?? ""
        let labels = ["apiId": id]
        func create(_ body: JSONValue) async -> ServiceError? {
            await h.failure("CreateIntegration", labels: labels, body: body)
        }
        let fn = JSONValue.string(Harness.function)
        #expect(await create(["integrationUri": fn, "payloadFormatVersion": "2.0"])?.code == "BadRequestException")
        #expect(
            await create([
                "integrationType": "HTTP_PROXY", "integrationUri": "https://x", "payloadFormatVersion": "1.0",
            ])?.code == "BadRequestException")
        #expect(
            await create(["integrationType": "AWS_PROXY", "payloadFormatVersion": "2.0"])?.code == "BadRequestException"
        )
        #expect(await create(["integrationType": "AWS_PROXY", "integrationUri": fn])?.code == "BadRequestException")
        #expect(
            await create(["integrationType": "AWS_PROXY", "integrationUri": fn, "payloadFormatVersion": "3.0"])?.code
                == "BadRequestException")
        #expect(
            await create([
                "integrationType": "AWS_PROXY", "integrationUri": "arn:aws:s3:::bucket", "payloadFormatVersion": "2.0",
            ])?.code == "BadRequestException")
        for timeout in [49, 30001, -1] {
            #expect(
                await create([
                    "integrationType": "AWS_PROXY", "integrationUri": fn, "payloadFormatVersion": "2.0",
                    "timeoutInMillis": .number(Double(timeout)),
                ])?.code
                    == "BadRequestException")
        }
        // The invocation-URI form CloudFormation and Terraform use, with an alias.
        let invokeARN =
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\(Harness.function):live/invocations"
        let created = try await h.call(
            "CreateIntegration", labels: labels,
            body: [
                "integrationType": "AWS_PROXY", "integrationUri": .string(invokeARN), "payloadFormatVersion": "1.0",
                "timeoutInMillis": 50, "integrationMethod": "POST",
            ])
        #expect(created.status == 201)
        #expect(created.document["integrationUri"] == .string(invokeARN))
        #expect(created.document["timeoutInMillis"] == 50)
        #expect(created.document["connectionType"] == "INTERNET")
        let integrationID = try #require(created.document["integrationId"]?.stringValue)
        #expect(Identifiers.isWellFormed(integrationID, length: 7))
        let state = try h.service.catalog.state(id, in: h.namespace)
        #expect(state.integrations.first?.function == "\(Harness.function):live")

        let updated = try await h.call(
            "UpdateIntegration", labels: ["apiId": id, "integrationId": integrationID],
            body: ["payloadFormatVersion": "2.0", "timeoutInMillis": 30000])
        #expect(updated.document["payloadFormatVersion"] == "2.0")
        #expect(updated.document["timeoutInMillis"] == 30000)
        #expect(
            await h.failure(
                "UpdateIntegration", labels: ["apiId": id, "integrationId": integrationID],
                body: ["timeoutInMillis": 10])?.code
                == "BadRequestException")
        let missing = await h.failure("GetIntegration", labels: ["apiId": id, "integrationId": "nope123"])
        #expect(missing?.code == "NotFoundException")
        #expect(missing?.fields["resourceType"] == "Integration")
    }

    @Test func routeValidationAndConflicts() async throws {
        let (api, integration) = try await h.api(routes: ["GET /items/{id}"], stage: false)
        let labels = ["apiId": api]
        let target = JSONValue.string("integrations/\(integration)")
        let duplicate = await h.failure(
            "CreateRoute", labels: labels, body: ["routeKey": "GET /items/{id}", "target": target])
        #expect(duplicate?.code == "ConflictException")
        #expect(duplicate?.status == 409)
        #expect(duplicate?.message == "Route with key GET /items/{id} already exists for this API")
        let renamed = await h.failure("CreateRoute", labels: labels, body: ["routeKey": "DELETE /items/{itemId}"])
        #expect(renamed?.code == "ConflictException")
        #expect(renamed?.message.contains("conflicting variable on the same hierarchical level") == true)
        #expect(
            await h.failure("CreateRoute", labels: labels, body: ["routeKey": "GET items"])?.code
                == "BadRequestException")
        #expect(await h.failure("CreateRoute", labels: labels, body: [:])?.code == "BadRequestException")
        #expect(
            await h.failure(
                "CreateRoute", labels: labels, body: ["routeKey": "GET /x", "target": "integrations/nope123"])?.code
                == "BadRequestException")
        #expect(
            await h.failure("CreateRoute", labels: labels, body: ["routeKey": "GET /x", "target": "lambda"])?.code
                == "BadRequestException")
        #expect(
            await h.failure("CreateRoute", labels: labels, body: ["routeKey": "GET /x", "authorizationType": "JWT"])?
                .code == "BadRequestException")
        #expect(
            await h.failure("CreateRoute", labels: labels, body: ["routeKey": "GET /x", "apiKeyRequired": true])?.code
                == "BadRequestException")

        let created = try await h.call(
            "CreateRoute", labels: labels, body: ["routeKey": "ANY /{proxy+}", "authorizationType": "AWS_IAM"])
        #expect(created.status == 201)
        #expect(created.document["authorizationType"] == "AWS_IAM")
        #expect(created.document["target"] == nil)
        let routeID = try #require(created.document["routeId"]?.stringValue)
        // Updating a route to its own key is not a duplicate; to another route's key is.
        try await h.call(
            "UpdateRoute", labels: ["apiId": api, "routeId": routeID],
            body: ["routeKey": "ANY /{proxy+}", "target": target])
        #expect(
            await h.failure(
                "UpdateRoute", labels: ["apiId": api, "routeId": routeID], body: ["routeKey": "GET /items/{id}"])?.code
                == "ConflictException")
        // An integration a route targets cannot go.
        let inUse = await h.failure("DeleteIntegration", labels: ["apiId": api, "integrationId": integration])
        #expect(inUse?.code == "ConflictException")
        #expect(try await h.call("DeleteRoute", labels: ["apiId": api, "routeId": routeID]).status == 204)
        #expect(await h.failure("GetRoute", labels: ["apiId": api, "routeId": routeID])?.code == "NotFoundException")
    }

    @Test func stagesDeploymentsAndTags() async throws {
        let (api, _) = try await h.api(routes: [], stage: false)
        let labels = ["apiId": api]
        let noRoutes = await h.failure("CreateDeployment", labels: labels, body: [:])
        #expect(noRoutes?.code == "BadRequestException")
        #expect(noRoutes?.message == "Unable to deploy API because no routes exist in this API")
        try await h.call("CreateRoute", labels: labels, body: ["routeKey": "GET /a"])

        #expect(
            await h.failure("CreateStage", labels: labels, body: ["stageName": "bad name"])?.code
                == "BadRequestException")
        #expect(
            await h.failure(
                "CreateStage", labels: labels, body: ["stageName": "dev", "stageVariables": ["bad-name": "x"]])?.code
                == "BadRequestException")
        #expect(
            await h.failure("CreateStage", labels: labels, body: ["stageName": "dev", "deploymentId": "nope123"])?.code
                == "NotFoundException")
        let stage = try await h.call(
            "CreateStage", labels: labels,
            body: ["stageName": "dev", "stageVariables": ["color": "blue"], "tags": ["k": "v"]])
        #expect(stage.status == 201)
        #expect(stage.document["autoDeploy"] == false)
        #expect(stage.document["stageVariables"] == ["color": "blue"])
        #expect(await h.failure("CreateStage", labels: labels, body: ["stageName": "dev"])?.code == "ConflictException")

        let deployment = try await h.call(
            "CreateDeployment", labels: labels, body: ["stageName": "dev", "description": "first"])
        #expect(deployment.status == 201)
        #expect(deployment.document["deploymentStatus"] == "DEPLOYED")
        let deploymentID = try #require(deployment.document["deploymentId"]?.stringValue)
        #expect(
            try await h.call("GetStage", labels: ["apiId": api, "stageName": "dev"]).document["deploymentId"]
                == .string(deploymentID))
        let inUse = await h.failure("DeleteDeployment", labels: ["apiId": api, "deploymentId": deploymentID])
        #expect(inUse?.code == "BadRequestException")
        #expect(try await h.call("GetDeployments", labels: labels).document["items"]?.arrayValue?.count == 1)

        let updated = try await h.call(
            "UpdateStage", labels: ["apiId": api, "stageName": "dev"],
            body: ["autoDeploy": true, "stageVariables": ["color": "red"]])
        #expect(updated.document["autoDeploy"] == true)
        #expect(updated.document["stageVariables"] == ["color": "red"])

        // Tags on the API and on the stage, by ARN.
        let apiARN = "arn:aws:apigateway:us-east-1::/apis/\(api)"
        #expect(
            try await h.call("TagResource", labels: ["resource-arn": apiARN], body: ["tags": ["a": "1", "b": "2"]])
                .status == 201)
        try await h.call("UntagResource", labels: ["resource-arn": apiARN], query: [("tagKeys", "a")])
        #expect(try await h.call("GetTags", labels: ["resource-arn": apiARN]).document == ["tags": ["b": "2"]])
        #expect(try await h.call("GetApi", labels: labels).document["tags"] == ["b": "2"])
        let stageARN = apiARN + "/stages/dev"
        #expect(try await h.call("GetTags", labels: ["resource-arn": stageARN]).document == ["tags": ["k": "v"]])
        #expect(
            await h.failure("GetTags", labels: ["resource-arn": "arn:aws:apigateway:us-east-1::/apis/abcdefghij"])?.code
                == "NotFoundException")
        #expect(
            await h.failure("GetTags", labels: ["resource-arn": "arn:aws:lambda:us-east-1:1:function:f"])?.code
                == "BadRequestException")
        #expect(
            await h.failure("TagResource", labels: ["resource-arn": apiARN], body: ["tags": ["aws:x": "1"]])?.code
                == "BadRequestException")

        #expect(try await h.call("DeleteStage", labels: ["apiId": api, "stageName": "dev"]).status == 204)
        #expect(
            try await h.call("DeleteDeployment", labels: ["apiId": api, "deploymentId": deploymentID]).status == 204)
        let missing = await h.failure("GetStage", labels: ["apiId": api, "stageName": "dev"])
        #expect(missing?.code == "NotFoundException")
        #expect(missing?.fields["resourceType"] == "Stage")
    }

    @Test func quotas() async throws {
        let (api, _) = try await h.api(routes: [], stage: false)
        for i in 0..<10 {
            try await h.call("CreateStage", labels: ["apiId": api], body: ["stageName": .string("s\(i)")])
        }
        #expect(
            await h.failure("CreateStage", labels: ["apiId": api], body: ["stageName": "s10"])?.code
                == "BadRequestException")
        let tags = JSONValue.object(
            Dictionary(uniqueKeysWithValues: (0..<51).map { ("k\($0)", JSONValue.string("v")) }))
        #expect(
            await h.failure("CreateApi", body: ["name": "x", "protocolType": "HTTP", "tags": tags])?.code
                == "BadRequestException")
    }

    @Test func concurrentChangesOfOneAPIConflict() async throws {
        let (api, _) = try await h.api(routes: [], stage: false)
        _ = try h.service.catalog.begin(api, in: h.namespace)
        let error = await h.failure("CreateRoute", labels: ["apiId": api], body: ["routeKey": "GET /x"])
        #expect(error?.code == "ConflictException")
        #expect(
            error?.message == "Unable to complete operation due to concurrent modification. Please try again later.")
        h.service.catalog.abandon(api)
        #expect(try await h.call("CreateRoute", labels: ["apiId": api], body: ["routeKey": "GET /x"]).status == 201)
    }

    @Test func endpointPort() {
        #expect(APIGatewayService.endpoint("abc", host: "127.0.0.1:9000") == "http://abc.execute-api.localhost:9000")
        #expect(APIGatewayService.endpoint("abc", host: "localhost") == "http://abc.execute-api.localhost")
        #expect(APIGatewayService.endpoint("abc", host: "[::1]:8080") == "http://abc.execute-api.localhost:8080")
        #expect(APIGatewayService.endpoint("abc", host: "[::1]") == "http://abc.execute-api.localhost")
    }
}
