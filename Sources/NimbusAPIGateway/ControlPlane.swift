import NIOCore
import NimbusCore
import NimbusEdge

extension APIGatewayService {
    /// The control plane as the edge serves it: rest-json, signing name `apigateway`, each operation with botocore's
    /// `http.method`, `http.requestUri` and `responseCode` (`apigatewayv2/2018-11-29/service-2.json`).
    public var definition: ServiceDefinition {
        typealias Handler = @Sendable (APIGatewayService, ServiceRequest) async throws -> ServiceResponse
        func op(_ name: String, _ method: String, _ uri: String, _ handler: @escaping Handler) -> ServiceOperation {
            ServiceOperation(name, HTTPBinding(method, uri)) { [self] request in try await handler(self, request) }
        }
        let api = "/v2/apis/{apiId}"
        return ServiceDefinition(
            name: "apigateway", signingNames: ["apigateway"], wire: .restJSON,
            operations: [
                op("CreateApi", "POST", "/v2/apis") { try await $0.createAPI($1) },
                op("GetApis", "GET", "/v2/apis") { try $0.getAPIs($1) },
                op("GetApi", "GET", api) { try $0.getAPI($1) },
                op("UpdateApi", "PATCH", api) { try await $0.updateAPI($1) },
                op("DeleteApi", "DELETE", api) { try await $0.deleteAPI($1) },
                op("DeleteCorsConfiguration", "DELETE", api + "/cors") { try await $0.deleteCors($1) },
                op("CreateIntegration", "POST", api + "/integrations") { try await $0.createIntegration($1) },
                op("GetIntegrations", "GET", api + "/integrations") { try $0.getIntegrations($1) },
                op("GetIntegration", "GET", api + "/integrations/{integrationId}") { try $0.getIntegration($1) },
                op("UpdateIntegration", "PATCH", api + "/integrations/{integrationId}") {
                    try await $0.updateIntegration($1)
                },
                op("DeleteIntegration", "DELETE", api + "/integrations/{integrationId}") {
                    try await $0.deleteIntegration($1)
                },
                op("CreateRoute", "POST", api + "/routes") { try await $0.createRoute($1) },
                op("GetRoutes", "GET", api + "/routes") { try $0.getRoutes($1) },
                op("GetRoute", "GET", api + "/routes/{routeId}") { try $0.getRoute($1) },
                op("UpdateRoute", "PATCH", api + "/routes/{routeId}") { try await $0.updateRoute($1) },
                op("DeleteRoute", "DELETE", api + "/routes/{routeId}") { try await $0.deleteRoute($1) },
                op("CreateStage", "POST", api + "/stages") { try await $0.createStage($1) },
                op("GetStages", "GET", api + "/stages") { try $0.getStages($1) },
                op("GetStage", "GET", api + "/stages/{stageName}") { try $0.getStage($1) },
                op("UpdateStage", "PATCH", api + "/stages/{stageName}") { try await $0.updateStage($1) },
                op("DeleteStage", "DELETE", api + "/stages/{stageName}") { try await $0.deleteStage($1) },
                op("CreateDeployment", "POST", api + "/deployments") { try await $0.createDeployment($1) },
                op("GetDeployments", "GET", api + "/deployments") { try $0.getDeployments($1) },
                op("GetDeployment", "GET", api + "/deployments/{deploymentId}") { try $0.getDeployment($1) },
                op("DeleteDeployment", "DELETE", api + "/deployments/{deploymentId}") {
                    try await $0.deleteDeployment($1)
                },
                op("TagResource", "POST", "/v2/tags/{resource-arn}") { try await $0.tagResource($1) },
                op("UntagResource", "DELETE", "/v2/tags/{resource-arn}") { try await $0.untagResource($1) },
                op("GetTags", "GET", "/v2/tags/{resource-arn}") { try $0.getTags($1) },
            ])
    }

    // MARK: APIs

    static let routeSelectionExpression = "${request.method} ${request.path}"
    static let apiKeySelectionExpressions: Set<String> = [
        "$request.header.x-api-key", "$context.authorizer.usageIdentifierKey",
    ]

    func createAPI(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        guard let name = try body.string("name", length: 1...128) else {
            throw APIGatewayError.badRequest("Name is required: CreateApi needs the API's name.")
        }
        switch try body.string("protocolType") {
        case "HTTP": break
        case "WEBSOCKET":
            throw APIGatewayError.badRequest(
                "Nimbus implements HTTP APIs only: WebSocket APIs (ProtocolType WEBSOCKET) are not supported.")
        case nil:
            throw APIGatewayError.badRequest("ProtocolType is required: CreateApi takes ProtocolType HTTP.")
        case let other?:
            throw APIGatewayError.badRequest("Invalid ProtocolType \"\(other)\": it is HTTP or WEBSOCKET.")
        }
        var api = HTTPAPI(
            id: "", name: name, tags: [:], createdMillis: Timestamp.nowMillis(), disableExecuteApiEndpoint: false,
            apiKeySelectionExpression: "$request.header.x-api-key",
            routeSelectionExpression: Self.routeSelectionExpression,
            ipAddressType: "ipv4")
        try Self.applyAPISettings(body, to: &api)
        if let tags = try body.stringMap("tags") {
            try Validation.tags(tags)
            api.tags = tags
        }
        let target = try body.string("target", length: 1...2048)
        let routeKey = try body.string("routeKey")
        if routeKey != nil, target == nil {
            throw APIGatewayError.badRequest(
                "RouteKey is used with Target only (quick create): give both, or create routes with CreateRoute.")
        }
        if let target { try Validation.integrationURI(target) }
        let key = try RouteKey.parse(routeKey ?? RouteKey.defaultKey)
        let namespace = request.namespace
        let state = try await self.create { id throws(APIGatewayError) in
            api.id = id
            var state = APIState(namespace: namespace, api: api)
            if let target {
                // Quick create, as AWS does it: an AWS_PROXY integration (payload 2.0), the route, and the $default
                // stage with auto-deploy, all marked as managed by API Gateway.
                var taken: Set<String> = []
                let integrationID = Identifiers.fresh(length: Identifiers.childLength) { !taken.insert($0).inserted }
                let routeID = Identifiers.fresh(length: Identifiers.childLength) { !taken.insert($0).inserted }
                state.integrations.append(Self.managedIntegration(integrationID, target: target))
                state.routes.append(
                    Route(
                        id: routeID, routeKey: key.raw, target: "integrations/\(integrationID)",
                        authorizationType: "NONE",
                        apiKeyRequired: false, managed: true))
                state.stages.append(
                    Stage(
                        stageName: Validation.defaultStage, autoDeploy: true, stageVariables: [:], tags: [:],
                        createdMillis: api.createdMillis, lastUpdatedMillis: api.createdMillis, managed: true))
            }
            return state
        }
        return .document(201, state.api.document(endpoint: Self.endpoint(state.api.id, host: request.host)))
    }

    static func managedIntegration(_ id: String, target: String) -> Integration {
        Integration(
            id: id, integrationType: "AWS_PROXY", integrationUri: target, integrationMethod: "POST",
            payloadFormatVersion: "2.0", timeoutInMillis: Validation.defaultTimeoutMillis, connectionType: "INTERNET",
            managed: true)
    }

    /// The members CreateApi and UpdateApi share.
    static func applyAPISettings(_ body: RequestBody, to api: inout HTTPAPI) throws(APIGatewayError) {
        if let name = try body.string("name", length: 1...128) { api.name = name }
        if let description = try body.string("description", length: 0...1024) { api.description = description }
        if let version = try body.string("version", length: 1...64) { api.version = version }
        if let cors = try body.object("corsConfiguration") { api.corsConfiguration = try Validation.readCors(cors) }
        if let disable = try body.bool("disableExecuteApiEndpoint") { api.disableExecuteApiEndpoint = disable }
        if let disable = try body.bool("disableSchemaValidation") { api.disableSchemaValidation = disable }
        if let expression = try body.string("routeSelectionExpression") {
            guard expression == Self.routeSelectionExpression else {
                throw .badRequest(
                    "Invalid RouteSelectionExpression \"\(expression)\": HTTP APIs route on ${request.method} ${request.path}."
                )
            }
        }
        if let expression = try body.string("apiKeySelectionExpression") {
            guard Self.apiKeySelectionExpressions.contains(expression) else {
                throw .badRequest(
                    "Invalid ApiKeySelectionExpression \"\(expression)\": it is $request.header.x-api-key or $context.authorizer.usageIdentifierKey."
                )
            }
            api.apiKeySelectionExpression = expression
        }
        if let type = try body.string("ipAddressType") {
            guard type == "ipv4" || type == "dualstack" else {
                throw .badRequest("Invalid IpAddressType \"\(type)\": it is ipv4 or dualstack.")
            }
            api.ipAddressType = type
        }
    }

    func getAPI(_ request: ServiceRequest) throws -> ServiceResponse {
        let state = try self.catalog.state(request.label("apiId"), in: request.namespace)
        return .document(200, state.api.document(endpoint: Self.endpoint(state.api.id, host: request.host)))
    }

    func getAPIs(_ request: ServiceRequest) throws -> ServiceResponse {
        let apis = self.catalog.list(request.namespace).map {
            $0.api.document(endpoint: Self.endpoint($0.api.id, host: request.host))
        }
        return .document(200, try Self.page(apis, request))
    }

    func updateAPI(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        let target = try body.string("target", length: 1...2048)
        if let target { try Validation.integrationURI(target) }
        let routeKey = try body.string("routeKey").map { raw throws(APIGatewayError) in try RouteKey.parse(raw) }
        let state = try await self.change(request.label("apiId"), in: request.namespace) {
            state throws(APIGatewayError) in
            try Self.applyAPISettings(body, to: &state.api)
            guard target != nil || routeKey != nil else { return state }
            // Quick create's resources follow UpdateApi's Target and RouteKey, as on AWS.
            guard let route = state.routes.firstIndex(where: \.managed),
                let integration = state.integrations.firstIndex(where: \.managed)
            else {
                throw .badRequest(
                    "Target and RouteKey update the route and integration quick create made; this API was not quick-created."
                )
            }
            if let target { state.integrations[integration].integrationUri = target }
            if let routeKey {
                try Self.checkRouteKey(routeKey, in: state, except: state.routes[route].id)
                state.routes[route].routeKey = routeKey.raw
            }
            return state
        }
        return .document(200, state.api.document(endpoint: Self.endpoint(state.api.id, host: request.host)))
    }

    func deleteAPI(_ request: ServiceRequest) async throws -> ServiceResponse {
        try await self.delete(request.label("apiId"), in: request.namespace)
        return .empty(204)
    }

    func deleteCors(_ request: ServiceRequest) async throws -> ServiceResponse {
        try await self.change(request.label("apiId"), in: request.namespace) { state throws(APIGatewayError) in
            state.api.corsConfiguration = nil
        }
        return .empty(204)
    }

    // MARK: Paging

    /// `{"items": […], "nextToken": …}` of list operations: `maxResults` (a string, as the model has it) per page,
    /// `nextToken` the offset of the next page.
    static func page(_ items: [JSONValue], _ request: ServiceRequest) throws(APIGatewayError) -> JSONValue {
        var size = items.count
        if let text = request.queryValue("maxResults") {
            guard let value = Int(text), value >= 1 else {
                throw .badRequest("Invalid MaxResults \"\(text)\": a positive number.")
            }
            size = value
        }
        var start = 0
        if let token = request.queryValue("nextToken") {
            guard let offset = Int(token), (0...items.count).contains(offset) else {
                throw .badRequest("Invalid NextToken \"\(token)\".")
            }
            start = offset
        }
        let end = min(items.count, start + size)
        var out: [String: JSONValue] = ["items": .array(Array(items[start..<end]))]
        if end < items.count { out["nextToken"] = .string(String(end)) }
        return .object(out)
    }
}
