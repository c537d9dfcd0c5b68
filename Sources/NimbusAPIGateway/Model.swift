import NimbusCore

/// An HTTP API's own settings (the `Api` shape without its children). Stored as the API's document.
struct HTTPAPI: Codable, Sendable, Equatable {
    var id: String
    var name: String
    var description: String?
    var version: String?
    var corsConfiguration: CorsConfiguration?
    var tags: [String: String]
    var createdMillis: Int64
    var disableExecuteApiEndpoint: Bool
    var disableSchemaValidation: Bool?
    var apiKeySelectionExpression: String
    var routeSelectionExpression: String
    var ipAddressType: String

    /// The `Api` / `CreateApiResponse` members.
    func document(endpoint: String) -> JSONValue {
        var out: [String: JSONValue] = [
            "apiEndpoint": .string(endpoint),
            "apiId": .string(self.id),
            "apiKeySelectionExpression": .string(self.apiKeySelectionExpression),
            "createdDate": .string(Wire.date(self.createdMillis)),
            "disableExecuteApiEndpoint": .bool(self.disableExecuteApiEndpoint),
            "ipAddressType": .string(self.ipAddressType),
            "name": .string(self.name),
            "protocolType": "HTTP",
            "routeSelectionExpression": .string(self.routeSelectionExpression),
            "tags": Wire.map(self.tags),
        ]
        if let description { out["description"] = .string(description) }
        if let version { out["version"] = .string(version) }
        if let corsConfiguration { out["corsConfiguration"] = corsConfiguration.document }
        if let disableSchemaValidation { out["disableSchemaValidation"] = .bool(disableSchemaValidation) }
        return .object(out)
    }
}

/// The `Cors` shape: what the platform answers preflight requests with and adds to responses.
struct CorsConfiguration: Codable, Sendable, Equatable {
    var allowCredentials: Bool?
    var allowHeaders: [String]?
    var allowMethods: [String]?
    var allowOrigins: [String]?
    var exposeHeaders: [String]?
    var maxAge: Int?

    var document: JSONValue {
        var out: [String: JSONValue] = [:]
        if let allowCredentials { out["allowCredentials"] = .bool(allowCredentials) }
        if let allowHeaders { out["allowHeaders"] = .array(allowHeaders.map { .string($0) }) }
        if let allowMethods { out["allowMethods"] = .array(allowMethods.map { .string($0) }) }
        if let allowOrigins { out["allowOrigins"] = .array(allowOrigins.map { .string($0) }) }
        if let exposeHeaders { out["exposeHeaders"] = .array(exposeHeaders.map { .string($0) }) }
        if let maxAge { out["maxAge"] = .number(Double(maxAge)) }
        return .object(out)
    }
}

/// An `AWS_PROXY` integration: the function a route hands its requests to, in which payload format, with what
/// timeout.
struct Integration: Codable, Sendable, Equatable {
    var id: String
    var integrationType: String
    /// As given: a function ARN, or the `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`
    /// form CloudFormation and Terraform pass.
    var integrationUri: String
    var integrationMethod: String?
    var payloadFormatVersion: String
    var timeoutInMillis: Int
    var description: String?
    var connectionType: String
    /// Created by quick create (`apiGatewayManaged`).
    var managed: Bool

    /// The function the integration invokes: the function ARN inside the URI.
    var function: String { FunctionTarget.functionARN(fromIntegrationURI: self.integrationUri) ?? self.integrationUri }

    var document: JSONValue {
        var out: [String: JSONValue] = [
            "apiGatewayManaged": .bool(self.managed),
            "connectionType": .string(self.connectionType),
            "integrationId": .string(self.id),
            "integrationType": .string(self.integrationType),
            "integrationUri": .string(self.integrationUri),
            "payloadFormatVersion": .string(self.payloadFormatVersion),
            "timeoutInMillis": .number(Double(self.timeoutInMillis)),
        ]
        if let integrationMethod { out["integrationMethod"] = .string(integrationMethod) }
        if let description { out["description"] = .string(description) }
        return .object(out)
    }
}

/// A route: a key and the integration it targets (`integrations/<id>`).
struct Route: Codable, Sendable, Equatable {
    var id: String
    var routeKey: String
    var target: String?
    var authorizationType: String
    var apiKeyRequired: Bool
    var operationName: String?
    var managed: Bool

    /// The integration id of `integrations/<id>`.
    var integrationID: String? {
        guard let target, target.hasPrefix("integrations/") else { return nil }
        return String(target.dropFirst("integrations/".count))
    }

    var document: JSONValue {
        var out: [String: JSONValue] = [
            "apiGatewayManaged": .bool(self.managed),
            "apiKeyRequired": .bool(self.apiKeyRequired),
            "authorizationType": .string(self.authorizationType),
            "routeId": .string(self.id),
            "routeKey": .string(self.routeKey),
        ]
        if let target { out["target"] = .string(target) }
        if let operationName { out["operationName"] = .string(operationName) }
        return .object(out)
    }
}

/// A stage: `$default` (served at the root of the invoke host) or a name (served under `/<name>/`).
struct Stage: Codable, Sendable, Equatable {
    var stageName: String
    var autoDeploy: Bool
    var deploymentId: String?
    var description: String?
    var stageVariables: [String: String]
    var tags: [String: String]
    var createdMillis: Int64
    var lastUpdatedMillis: Int64
    var managed: Bool
    /// Accepted and echoed, not enforced (Nimbus neither throttles per route nor writes access logs).
    var defaultRouteSettings: JSONValue?
    var routeSettings: JSONValue?
    var accessLogSettings: JSONValue?

    var document: JSONValue {
        var out: [String: JSONValue] = [
            "apiGatewayManaged": .bool(self.managed),
            "autoDeploy": .bool(self.autoDeploy),
            "createdDate": .string(Wire.date(self.createdMillis)),
            "defaultRouteSettings": self.defaultRouteSettings ?? ["detailedMetricsEnabled": false],
            "lastUpdatedDate": .string(Wire.date(self.lastUpdatedMillis)),
            "routeSettings": self.routeSettings ?? .object([:]),
            "stageName": .string(self.stageName),
            "stageVariables": Wire.map(self.stageVariables),
            "tags": Wire.map(self.tags),
        ]
        if let deploymentId { out["deploymentId"] = .string(deploymentId) }
        if let description { out["description"] = .string(description) }
        if let accessLogSettings { out["accessLogSettings"] = accessLogSettings }
        return .object(out)
    }
}

/// A deployment: a snapshot of the API's routes and integrations, which a stage without auto-deploy serves.
struct Deployment: Codable, Sendable, Equatable {
    var id: String
    var description: String?
    var createdMillis: Int64
    var autoDeployed: Bool
    var routes: [Route]
    var integrations: [Integration]

    var document: JSONValue {
        var out: [String: JSONValue] = [
            "autoDeployed": .bool(self.autoDeployed),
            "createdDate": .string(Wire.date(self.createdMillis)),
            "deploymentId": .string(self.id),
            "deploymentStatus": "DEPLOYED",
        ]
        if let description { out["description"] = .string(description) }
        return .object(out)
    }
}

/// One API with all its children: the unit the catalog holds and a change replaces.
struct APIState: Sendable, Equatable {
    var namespace: AccountContext
    var api: HTTPAPI
    var integrations: [Integration] = []
    var routes: [Route] = []
    var stages: [Stage] = []
    var deployments: [Deployment] = []

    func integration(_ id: String) -> Integration? { self.integrations.first { $0.id == id } }
    func route(_ id: String) -> Route? { self.routes.first { $0.id == id } }
    func stage(_ name: String) -> Stage? { self.stages.first { $0.stageName == name } }
    func deployment(_ id: String) -> Deployment? { self.deployments.first { $0.id == id } }

    /// Every child id of that kind (ids are drawn per API).
    func childIDs() -> Set<String> {
        Set(self.integrations.map(\.id) + self.routes.map(\.id) + self.deployments.map(\.id))
    }
}

/// Wire formatting shared by the shapes.
enum Wire {
    /// `__timestampIso8601`: `2024-05-06T07:08:09Z` (AWS sends whole seconds).
    static func date(_ millis: Int64) -> String {
        let iso = Timestamp.isoString(millis: millis - millis % 1000)
        // `…:09.000Z` → `…:09Z`
        return iso.hasSuffix(".000Z") ? String(iso.dropLast(5)) + "Z" : iso
    }

    static func map(_ values: [String: String]) -> JSONValue {
        .object(values.mapValues { .string($0) })
    }
}

/// Reading the function out of an integration URI.
enum FunctionTarget {
    /// The function ARN of an integration URI: the URI itself when it is a function ARN
    /// (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`), or the ARN inside API Gateway's
    /// invocation URI (`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations`).
    /// Nil for anything else.
    static func functionARN(fromIntegrationURI uri: String) -> String? {
        if self.isFunctionARN(uri) { return uri }
        guard uri.hasPrefix("arn:aws:apigateway:"), let start = uri.range(of: ":lambda:path/2015-03-31/functions/"),
            uri.hasSuffix("/invocations")
        else { return nil }
        let inner = String(uri[start.upperBound..<uri.index(uri.endIndex, offsetBy: -"/invocations".count)])
        return self.isFunctionARN(inner) ? inner : nil
    }

    /// `arn:aws:lambda:<region>:<12-digit account>:function:<name>[:<qualifier>]`.
    static func isFunctionARN(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 7 || parts.count == 8, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "lambda",
            !parts[3].isEmpty, parts[4].count == 12, parts[4].allSatisfy(\.isNumber), parts[5] == "function",
            !parts[6].isEmpty
        else { return false }
        return parts.count == 7 || !parts[7].isEmpty
    }
}
