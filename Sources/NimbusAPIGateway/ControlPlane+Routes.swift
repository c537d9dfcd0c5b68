import NimbusCore
import NimbusEdge

/// Integrations and routes.
extension APIGatewayService {
    // MARK: Integrations

    func createIntegration(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        guard let type = try body.string("integrationType") else {
            throw APIGatewayError.badRequest(
                "IntegrationType is required: CreateIntegration takes IntegrationType AWS_PROXY.")
        }
        try Self.checkIntegrationType(type)
        guard let uri = try body.string("integrationUri", length: 1...2048) else {
            throw APIGatewayError.badRequest(
                "IntegrationUri is required for an AWS_PROXY integration: the function's ARN.")
        }
        guard let version = try body.string("payloadFormatVersion") else {
            throw APIGatewayError.badRequest(
                "PayloadFormatVersion is required for an AWS_PROXY integration of an HTTP API: 1.0 or 2.0.")
        }
        var integration = Integration(
            id: "", integrationType: type, integrationUri: uri, payloadFormatVersion: version,
            timeoutInMillis: Validation.defaultTimeoutMillis, connectionType: "INTERNET", managed: false)
        try Self.applyIntegrationSettings(body, to: &integration)
        let created = try await self.change(request.label("apiId"), in: request.namespace) {
            state throws(APIGatewayError) in
            guard state.integrations.count < Validation.maximumIntegrations else {
                throw .badRequest("An HTTP API has at most \(Validation.maximumIntegrations) integrations.")
            }
            let taken = state.childIDs()
            integration.id = Identifiers.fresh(length: Identifiers.childLength) { taken.contains($0) }
            state.integrations.append(integration)
            return integration
        }
        return .document(201, created.document)
    }

    static func checkIntegrationType(_ type: String) throws(APIGatewayError) {
        switch type {
        case "AWS_PROXY": return
        case "HTTP_PROXY", "HTTP", "AWS", "MOCK":
            throw .badRequest(
                "Nimbus implements AWS_PROXY integrations (Lambda proxy) only; IntegrationType \(type) is not supported."
            )
        default:
            throw .badRequest("Invalid IntegrationType \"\(type)\": AWS_PROXY, HTTP_PROXY, HTTP, AWS or MOCK.")
        }
    }

    /// The members CreateIntegration and UpdateIntegration share, validated together with what they leave as is.
    static func applyIntegrationSettings(_ body: RequestBody, to integration: inout Integration) throws(APIGatewayError)
    {
        if let uri = try body.string("integrationUri", length: 1...2048) { integration.integrationUri = uri }
        if let version = try body.string("payloadFormatVersion") { integration.payloadFormatVersion = version }
        if let timeout = try body.integer("timeoutInMillis") { integration.timeoutInMillis = timeout }
        if let method = try body.string("integrationMethod", length: 1...64) {
            guard method == "POST" else {
                throw .badRequest(
                    "Invalid IntegrationMethod \"\(method)\": a Lambda proxy integration is invoked with POST.")
            }
            integration.integrationMethod = method
        }
        if let description = try body.string("description", length: 0...1024) { integration.description = description }
        if let connection = try body.string("connectionType") {
            guard connection == "INTERNET" else {
                throw .badRequest(
                    "Invalid ConnectionType \"\(connection)\": Lambda proxy integrations use INTERNET (VPC links are not supported)."
                )
            }
        }
        try Validation.integrationURI(integration.integrationUri)
        try Validation.payloadFormatVersion(integration.payloadFormatVersion)
        try Validation.timeout(integration.timeoutInMillis)
    }

    func getIntegrations(_ request: ServiceRequest) throws -> ServiceResponse {
        let state = try self.catalog.state(request.label("apiId"), in: request.namespace)
        return .document(200, try Self.page(state.integrations.map(\.document), request))
    }

    func getIntegration(_ request: ServiceRequest) throws -> ServiceResponse {
        let state = try self.catalog.state(request.label("apiId"), in: request.namespace)
        let id = request.label("integrationId")
        guard let integration = state.integration(id) else { throw APIGatewayError.integrationNotFound(id) }
        return .document(200, integration.document)
    }

    func updateIntegration(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        if let type = try body.string("integrationType") { try Self.checkIntegrationType(type) }
        let id = request.label("integrationId")
        let updated = try await self.change(request.label("apiId"), in: request.namespace) {
            state throws(APIGatewayError) in
            guard let index = state.integrations.firstIndex(where: { $0.id == id }) else {
                throw .integrationNotFound(id)
            }
            try Self.applyIntegrationSettings(body, to: &state.integrations[index])
            return state.integrations[index]
        }
        return .document(200, updated.document)
    }

    func deleteIntegration(_ request: ServiceRequest) async throws -> ServiceResponse {
        let id = request.label("integrationId")
        try await self.change(request.label("apiId"), in: request.namespace) { state throws(APIGatewayError) in
            guard state.integration(id) != nil else { throw .integrationNotFound(id) }
            if let route = state.routes.first(where: { $0.integrationID == id }) {
                throw .conflict(
                    "Integration \(id) is the target of route \(route.id) (\(route.routeKey)); change or delete that route first."
                )
            }
            state.integrations.removeAll { $0.id == id }
        }
        return .empty(204)
    }

    // MARK: Routes

    func createRoute(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        guard let raw = try body.string("routeKey") else {
            throw APIGatewayError.badRequest("RouteKey is required: such as \"GET /items/{id}\" or \"$default\".")
        }
        let key = try RouteKey.parse(raw)
        var route = Route(id: "", routeKey: key.raw, authorizationType: "NONE", apiKeyRequired: false, managed: false)
        try Self.applyRouteSettings(body, to: &route)
        let created = try await self.change(request.label("apiId"), in: request.namespace) {
            state throws(APIGatewayError) in
            guard state.routes.count < Validation.maximumRoutes else {
                throw .badRequest("An HTTP API has at most \(Validation.maximumRoutes) routes.")
            }
            try Self.checkRouteKey(key, in: state, except: nil)
            try Self.checkTarget(route.target, in: state)
            let taken = state.childIDs()
            route.id = Identifiers.fresh(length: Identifiers.childLength) { taken.contains($0) }
            state.routes.append(route)
            return route
        }
        return .document(201, created.document)
    }

    /// A key must be new to the API, and its path variables must be named as the routes sharing its resources
    /// name theirs (AWS's two 409s).
    static func checkRouteKey(_ key: RouteKey, in state: APIState, except routeID: String?) throws(APIGatewayError) {
        for route in state.routes where route.id != routeID {
            if route.routeKey == key.raw {
                throw .conflict("Route with key \(key.raw) already exists for this API")
            }
            if let other = try? RouteKey.parse(route.routeKey), key.conflictingVariable(with: other) {
                throw .conflict(
                    "The provided route key \"\(key.raw)\" has a conflicting variable on the same hierarchical level as \"\(other.raw)\""
                )
            }
        }
    }

    /// A route's target is `integrations/<id>` of an integration of the API.
    static func checkTarget(_ target: String?, in state: APIState) throws(APIGatewayError) {
        guard let target else { return }
        guard target.hasPrefix("integrations/"),
            state.integration(String(target.dropFirst("integrations/".count))) != nil
        else {
            throw .badRequest(
                "Invalid Target \"\(target)\": a route's target is integrations/<integration id> of an integration of this API."
            )
        }
    }

    /// The members CreateRoute and UpdateRoute share (the key is handled by each).
    static func applyRouteSettings(_ body: RequestBody, to route: inout Route) throws(APIGatewayError) {
        if body.has("target") { route.target = try body.string("target", length: 1...128) }
        if let name = try body.string("operationName", length: 1...64) { route.operationName = name }
        if let required = try body.bool("apiKeyRequired") {
            guard !required else {
                throw .badRequest("API keys are not supported for HTTP APIs: ApiKeyRequired must be false.")
            }
            route.apiKeyRequired = required
        }
        if let type = try body.string("authorizationType") {
            switch type {
            case "NONE", "AWS_IAM": route.authorizationType = type
            case "JWT", "CUSTOM":
                throw .badRequest(
                    "Nimbus does not implement \(type) authorizers (yet): AuthorizationType is NONE or AWS_IAM.")
            default:
                throw .badRequest("Invalid AuthorizationType \"\(type)\": NONE, AWS_IAM, JWT or CUSTOM.")
            }
        }
        if try body.string("authorizerId") != nil {
            throw .badRequest("Nimbus does not implement authorizers (yet): routes take no AuthorizerId.")
        }
    }

    func getRoutes(_ request: ServiceRequest) throws -> ServiceResponse {
        let state = try self.catalog.state(request.label("apiId"), in: request.namespace)
        return .document(200, try Self.page(state.routes.map(\.document), request))
    }

    func getRoute(_ request: ServiceRequest) throws -> ServiceResponse {
        let state = try self.catalog.state(request.label("apiId"), in: request.namespace)
        let id = request.label("routeId")
        guard let route = state.route(id) else { throw APIGatewayError.routeNotFound(id) }
        return .document(200, route.document)
    }

    func updateRoute(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        let key = try body.string("routeKey").map { raw throws(APIGatewayError) in try RouteKey.parse(raw) }
        let id = request.label("routeId")
        let updated = try await self.change(request.label("apiId"), in: request.namespace) {
            state throws(APIGatewayError) in
            guard let index = state.routes.firstIndex(where: { $0.id == id }) else { throw .routeNotFound(id) }
            var route = state.routes[index]
            if let key {
                try Self.checkRouteKey(key, in: state, except: id)
                route.routeKey = key.raw
            }
            try Self.applyRouteSettings(body, to: &route)
            try Self.checkTarget(route.target, in: state)
            state.routes[index] = route
            return route
        }
        return .document(200, updated.document)
    }

    func deleteRoute(_ request: ServiceRequest) async throws -> ServiceResponse {
        let id = request.label("routeId")
        try await self.change(request.label("apiId"), in: request.namespace) { state throws(APIGatewayError) in
            guard state.route(id) != nil else { throw .routeNotFound(id) }
            state.routes.removeAll { $0.id == id }
        }
        return .empty(204)
    }
}
