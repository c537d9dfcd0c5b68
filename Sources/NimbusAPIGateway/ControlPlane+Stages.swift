import NimbusCore
import NimbusEdge

/// Stages, deployments and tags.
extension APIGatewayService {
    // MARK: Stages

    func createStage(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        guard let name = try body.string("stageName") else {
            throw APIGatewayError.badRequest("StageName is required: $default or a name.")
        }
        try Validation.stageName(name)
        let now = Timestamp.nowMillis()
        var stage = Stage(
            stageName: name, autoDeploy: false, stageVariables: [:], tags: [:], createdMillis: now,
            lastUpdatedMillis: now,
            managed: false)
        try Self.applyStageSettings(body, to: &stage)
        if let tags = try body.stringMap("tags") {
            try Validation.tags(tags)
            stage.tags = tags
        }
        let created = try await self.change(request.label("apiId"), in: request.namespace) {
            state throws(APIGatewayError) in
            guard state.stage(name) == nil else { throw .conflict("Stage already exists") }
            guard state.stages.count < Validation.maximumStages else {
                throw .badRequest("An HTTP API has at most \(Validation.maximumStages) stages.")
            }
            try Self.checkDeployment(stage.deploymentId, in: state)
            state.stages.append(stage)
            return stage
        }
        return .document(201, created.document)
    }

    /// The members CreateStage and UpdateStage share.
    static func applyStageSettings(_ body: RequestBody, to stage: inout Stage) throws(APIGatewayError) {
        if let auto = try body.bool("autoDeploy") { stage.autoDeploy = auto }
        if let id = try body.string("deploymentId") { stage.deploymentId = id }
        if let description = try body.string("description", length: 0...1024) { stage.description = description }
        if let variables = try body.stringMap("stageVariables") {
            try Validation.stageVariables(variables)
            stage.stageVariables = variables
        }
        if let settings = try body.document("defaultRouteSettings") { stage.defaultRouteSettings = settings }
        if let settings = try body.document("routeSettings") { stage.routeSettings = settings }
        if let settings = try body.document("accessLogSettings") { stage.accessLogSettings = settings }
    }

    static func checkDeployment(_ id: String?, in state: APIState) throws(APIGatewayError) {
        guard let id else { return }
        guard state.deployment(id) != nil else { throw .deploymentNotFound(id) }
    }

    func getStages(_ request: ServiceRequest) throws -> ServiceResponse {
        let state = try self.catalog.state(request.label("apiId"), in: request.namespace)
        return .document(200, try Self.page(state.stages.map(\.document), request))
    }

    func getStage(_ request: ServiceRequest) throws -> ServiceResponse {
        let state = try self.catalog.state(request.label("apiId"), in: request.namespace)
        let name = request.label("stageName")
        guard let stage = state.stage(name) else { throw APIGatewayError.stageNotFound(name) }
        return .document(200, stage.document)
    }

    func updateStage(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        let name = request.label("stageName")
        let updated = try await self.change(request.label("apiId"), in: request.namespace) {
            state throws(APIGatewayError) in
            guard let index = state.stages.firstIndex(where: { $0.stageName == name }) else {
                throw .stageNotFound(name)
            }
            var stage = state.stages[index]
            try Self.applyStageSettings(body, to: &stage)
            try Self.checkDeployment(stage.deploymentId, in: state)
            stage.lastUpdatedMillis = Timestamp.nowMillis()
            state.stages[index] = stage
            return stage
        }
        return .document(200, updated.document)
    }

    func deleteStage(_ request: ServiceRequest) async throws -> ServiceResponse {
        let name = request.label("stageName")
        try await self.change(request.label("apiId"), in: request.namespace) { state throws(APIGatewayError) in
            guard state.stage(name) != nil else { throw .stageNotFound(name) }
            state.stages.removeAll { $0.stageName == name }
        }
        return .empty(204)
    }

    // MARK: Deployments

    func createDeployment(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        let description = try body.string("description", length: 0...1024)
        let stageName = try body.string("stageName", length: 1...128)
        let created = try await self.change(request.label("apiId"), in: request.namespace) {
            state throws(APIGatewayError) in
            guard !state.routes.isEmpty else {
                throw .badRequest("Unable to deploy API because no routes exist in this API")
            }
            var stageIndex: Int?
            if let stageName {
                guard let index = state.stages.firstIndex(where: { $0.stageName == stageName }) else {
                    throw .stageNotFound(stageName)
                }
                stageIndex = index
            }
            let taken = state.childIDs()
            let deployment = Deployment(
                id: Identifiers.fresh(length: Identifiers.childLength) { taken.contains($0) }, description: description,
                createdMillis: Timestamp.nowMillis(), autoDeployed: false, routes: state.routes,
                integrations: state.integrations)
            state.deployments.append(deployment)
            if let stageIndex {
                state.stages[stageIndex].deploymentId = deployment.id
                state.stages[stageIndex].lastUpdatedMillis = deployment.createdMillis
            }
            return deployment
        }
        return .document(201, created.document)
    }

    func getDeployments(_ request: ServiceRequest) throws -> ServiceResponse {
        let state = try self.catalog.state(request.label("apiId"), in: request.namespace)
        return .document(200, try Self.page(state.deployments.map(\.document), request))
    }

    func getDeployment(_ request: ServiceRequest) throws -> ServiceResponse {
        let state = try self.catalog.state(request.label("apiId"), in: request.namespace)
        let id = request.label("deploymentId")
        guard let deployment = state.deployment(id) else { throw APIGatewayError.deploymentNotFound(id) }
        return .document(200, deployment.document)
    }

    func deleteDeployment(_ request: ServiceRequest) async throws -> ServiceResponse {
        let id = request.label("deploymentId")
        try await self.change(request.label("apiId"), in: request.namespace) { state throws(APIGatewayError) in
            guard state.deployment(id) != nil else { throw .deploymentNotFound(id) }
            if state.stages.contains(where: { $0.deploymentId == id }) {
                throw .badRequest("Active stages pointing to this deployment must be moved or deleted")
            }
            state.deployments.removeAll { $0.id == id }
        }
        return .empty(204)
    }

    // MARK: Tags

    /// What a tag operation's ARN names: an API (`arn:aws:apigateway:<region>::/apis/<id>`) or one of its stages
    /// (`…/apis/<id>/stages/<name>`).
    struct TaggedResource {
        var apiID: String
        var stageName: String?
    }

    /// - Throws: `BadRequestException` for an ARN that names no taggable resource, `NotFoundException` for one in
    ///   another region (it cannot exist here).
    static func taggedResource(_ arn: String, _ namespace: AccountContext) throws(APIGatewayError) -> TaggedResource {
        let prefix = "arn:aws:apigateway:"
        guard arn.hasPrefix(prefix), let path = arn.range(of: "::/apis/") else {
            throw .badRequest(
                "Invalid resource ARN \"\(arn)\": arn:aws:apigateway:<region>::/apis/<api id>[/stages/<stage name>].")
        }
        let region = String(arn[arn.index(arn.startIndex, offsetBy: prefix.count)..<path.lowerBound])
        let parts = arn[path.upperBound...].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let apiID = parts.first, !apiID.isEmpty else {
            throw .badRequest("Invalid resource ARN \"\(arn)\": it names no API.")
        }
        guard region == namespace.region else { throw .apiNotFound(apiID, namespace) }
        switch parts.count {
        case 1: return TaggedResource(apiID: apiID)
        case 3 where parts[1] == "stages" && !parts[2].isEmpty: return TaggedResource(apiID: apiID, stageName: parts[2])
        default:
            throw .badRequest("Nimbus tags APIs and stages only; \"\(arn)\" names neither.")
        }
    }

    /// Reads or edits the tags of the resource an ARN names.
    func withTags<T>(
        _ request: ServiceRequest, _ body: (inout [String: String]) throws(APIGatewayError) -> T
    ) async throws -> T {
        let resource = try Self.taggedResource(request.label("resource-arn"), request.namespace)
        return try await self.change(resource.apiID, in: request.namespace) { state throws(APIGatewayError) in
            guard let name = resource.stageName else { return try body(&state.api.tags) }
            guard let index = state.stages.firstIndex(where: { $0.stageName == name }) else {
                throw .stageNotFound(name)
            }
            return try body(&state.stages[index].tags)
        }
    }

    func tagResource(_ request: ServiceRequest) async throws -> ServiceResponse {
        let body = try RequestBody(request.body)
        let tags = try body.stringMap("tags") ?? [:]
        try await self.withTags(request) { current throws(APIGatewayError) in
            let merged = current.merging(tags) { _, new in new }
            try Validation.tags(merged)
            current = merged
        }
        return .document(201, .object([:]))
    }

    func untagResource(_ request: ServiceRequest) async throws -> ServiceResponse {
        let keys = request.queryValues("tagKeys")
        try await self.withTags(request) { current throws(APIGatewayError) in
            for key in keys { current[key] = nil }
        }
        return .empty(204)
    }

    func getTags(_ request: ServiceRequest) throws -> ServiceResponse {
        let resource = try Self.taggedResource(request.label("resource-arn"), request.namespace)
        let state = try self.catalog.state(resource.apiID, in: request.namespace)
        var tags = state.api.tags
        if let name = resource.stageName {
            guard let stage = state.stage(name) else { throw APIGatewayError.stageNotFound(name) }
            tags = stage.tags
        }
        return .document(200, ["tags": Wire.map(tags)])
    }
}
