import Foundation
import NimbusCore
import NimbusEdge
import NimbusHTTPEvents

/// `Create/Get/Update/Delete/ListFunctionUrlConfigs` (`/2021-10-31/functions/{Fn}/url`): a URL for `$LATEST` or an
/// alias, with AWS's validation and recorded messages. The URL itself is served by ``LambdaService/urlDefinition``.
extension LambdaAPI {
    /// The function and qualifier (`""` for the unqualified function) a URL operation names. Versions and
    /// `$LATEST` are refused by the qualifier's pattern, as on AWS.
    func urlTarget(_ raw: String, qualifier: String?) throws -> (name: String, qualifier: String) {
        let id = try FunctionIdentifier.parse(raw)
        if let q = qualifier ?? id.qualifier { try Self.validateURLQualifier(q) }
        let resolved = try id.resolvingQualifier(qualifier)
        try self.checkRegion(resolved)
        return (resolved.name, resolved.qualifier ?? "")
    }

    static func validateURLQualifier(_ q: String) throws {
        let ok = !q.isEmpty && q.count <= 128 && !AliasRules.isVersionNumber(q) && Self.isWord(q)
        if !ok {
            throw NimbusError.validation([
                #"Value '\#(q)' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\d+$)^[0-9a-zA-Z-_]+$)"#
            ])
        }
    }

    /// The port clients reached this server on (the URL they are given must work as printed).
    static func port(of host: String) -> Int? {
        guard let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") else { return nil }
        return Int(host[host.index(after: colon)...])
    }

    func createURLConfig(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let target = try self.urlTarget(name, qualifier: p.queryValue("Qualifier"))
        let (body, _) = try Self.jsonBody(p, operation: "CreateFunctionUrlConfig")
        let r = try RequestReader(body, operation: "CreateFunctionUrlConfig", known: ["AuthType", "Cors", "InvokeMode"])
        let (authType, cors, mode) = try Self.readURLSettings(r, requireAuthType: true)
        let config = try await self.registry.createURL(
            function: target.name, qualifier: target.qualifier, authType: authType ?? "NONE", cors: cors, invokeMode: mode)
        return .document(201, config.wire(account: self.account, port: Self.port(of: p.host), full: false, includeLastModified: false))
    }

    func getURLConfig(_ p: ServiceRequest, name: String) throws -> ServiceResponse {
        let target = try self.urlTarget(name, qualifier: p.queryValue("Qualifier"))
        guard let config = self.catalog.get(target.name)?.urls[target.qualifier] else {
            throw NimbusError(.resourceNotFound, "The resource you requested does not exist.")
        }
        return .document(200, config.wire(account: self.account, port: Self.port(of: p.host), full: true, includeLastModified: true))
    }

    func updateURLConfig(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let target = try self.urlTarget(name, qualifier: p.queryValue("Qualifier"))
        let (body, _) = try Self.jsonBody(p, operation: "UpdateFunctionUrlConfig")
        let r = try RequestReader(body, operation: "UpdateFunctionUrlConfig", known: ["AuthType", "Cors", "InvokeMode"])
        let (authType, cors, mode) = try Self.readURLSettings(r, requireAuthType: false)
        let config = try await self.registry.updateURL(
            function: target.name, qualifier: target.qualifier, authType: authType, cors: cors, invokeMode: mode)
        return .document(200, config.wire(account: self.account, port: Self.port(of: p.host), full: false, includeLastModified: true))
    }

    func deleteURLConfig(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let target = try self.urlTarget(name, qualifier: p.queryValue("Qualifier"))
        try await self.registry.deleteURL(function: target.name, qualifier: target.qualifier)
        return .empty(204)
    }

    func listURLConfigs(_ p: ServiceRequest, name: String) throws -> ServiceResponse {
        let id = try FunctionIdentifier.parse(name)
        try self.checkRegion(id)
        guard let function = self.catalog.get(id.name) else {
            throw NimbusError(.resourceNotFound, "Function does not exist")
        }
        let maxItems = try Self.maxItems(p, upper: 50) ?? 50
        var configs = function.urls.sorted { $0.key < $1.key }.map(\.value)
        if let marker = p.queryValue("Marker"), !marker.isEmpty {
            guard let after = Self.decodeMarker(marker) else {
                throw NimbusError.invalidParameter("Invalid pagination marker: \(marker)")
            }
            // Markers name the last listed qualifier, `$` for the unqualified function (never an alias name).
            let last = after == "$" ? "" : after
            configs = configs.filter { ($0.qualifier ?? "") > last }
        }
        let page = Array(configs.prefix(maxItems))
        var body: [String: JSONValue] = [
            "FunctionUrlConfigs": .array(
                page.map { $0.wire(account: self.account, port: Self.port(of: p.host), full: true, includeLastModified: true) })
        ]
        if configs.count > page.count, let last = page.last {
            body["NextMarker"] = .string(Self.encodeMarker(last.qualifier ?? "$"))
        }
        return .document(200, .object(body))
    }

    /// `AuthType`, `Cors` and `InvokeMode`, checked against the service model's constraints.
    static func readURLSettings(_ r: RequestReader, requireAuthType: Bool) throws -> (String?, JSONValue?, String?) {
        var errors: [String] = []
        let authType = try r.string("AuthType")
        if let authType, !["NONE", "AWS_IAM"].contains(authType) {
            errors.append("Value '\(authType)' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_IAM, NONE]")
        } else if authType == nil, requireAuthType {
            errors.append("Value null at 'authType' failed to satisfy constraint: Member must not be null")
        }
        let mode = try r.string("InvokeMode")
        if let mode, !["BUFFERED", "RESPONSE_STREAM"].contains(mode) {
            errors.append("Value '\(mode)' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]")
        }
        var cors: JSONValue?
        if let raw = try r.object("Cors") {
            let c = try RequestReader(
                .object(raw), operation: r.operation,
                known: ["AllowCredentials", "AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders", "MaxAge"])
            _ = try c.bool("AllowCredentials")
            for key in ["AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders"] { _ = try c.stringList(key) }
            _ = try c.int("MaxAge")
            cors = .object(raw)
        }
        if !errors.isEmpty { throw NimbusError.validation(errors) }
        if let cors {
            do {
                try Self.corsPolicy(cors).validate()
            } catch {
                throw NimbusError(.validation, error.message)
            }
        }
        return (authType, cors, mode)
    }

    /// A function URL's `Cors` block (type-checked when it was stored) as the policy the platform applies.
    static func corsPolicy(_ cors: JSONValue) -> CORSPolicy {
        let o = cors.objectValue ?? [:]
        func list(_ key: String) -> [String] { o[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        return CORSPolicy(
            frontDoor: .functionURL, allowCredentials: o["AllowCredentials"]?.boolValue ?? false,
            allowHeaders: list("AllowHeaders"), allowMethods: list("AllowMethods"), allowOrigins: list("AllowOrigins"),
            exposeHeaders: list("ExposeHeaders"), maxAge: o["MaxAge"]?.numberValue.map { Int($0) })
    }
}
