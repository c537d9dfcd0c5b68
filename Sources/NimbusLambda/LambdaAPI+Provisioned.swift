import Foundation
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusStore

/// PutProvisionedConcurrencyConfig, GetProvisionedConcurrencyConfig, DeleteProvisionedConcurrencyConfig and
/// ListProvisionedConcurrencyConfigs (`/2019-09-30/functions/{Fn}/provisioned-concurrency`).
extension LambdaAPI {
    /// The `Qualifier` query parameter, required by every operation but List.
    func provisionedQualifier(_ p: ServiceRequest) throws -> String {
        guard let qualifier = p.queryValue("Qualifier"), !qualifier.isEmpty else {
            throw NimbusError.validation([
                "Value null at 'qualifier' failed to satisfy constraint: Member must not be null"
            ])
        }
        return qualifier
    }

    /// `PUT …/provisioned-concurrency?Qualifier=` → 202 with the configuration `IN_PROGRESS`.
    func putProvisioned(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        let qualifier = try self.provisionedQualifier(p)
        let (body, _) = try Self.jsonBody(p, operation: "PutProvisionedConcurrencyConfig")
        let r = try RequestReader(
            body,
            operation: "PutProvisionedConcurrencyConfig",
            known: ["ProvisionedConcurrentExecutions"]
        )
        guard let requested = try r.int("ProvisionedConcurrentExecutions") else {
            throw NimbusError.validation([
                "Value null at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must not be null"
            ])
        }
        if requested < 1 {
            throw NimbusError.validation([
                "Value '\(requested)' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1"
            ])
        }
        let config = try await self.registry.putProvisioned(function: fn, qualifier: qualifier, requested: requested)
        let status = ProvisionedConcurrencyStatus(
            requested: config.requested,
            allocated: 0,
            available: 0,
            status: "IN_PROGRESS",
            reason: nil
        )
        return ServiceResponse.document(202, Self.provisionedWire(config, status))
    }

    /// `GET …/provisioned-concurrency?Qualifier=`, or with `List=ALL` every configuration of the function.
    func getProvisioned(_ p: ServiceRequest, name: String) throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        if p.queryValue("List") == "ALL" { return try self.listProvisioned(p, name: fn) }
        let qualifier = try self.provisionedQualifier(p)
        let function = self.catalog.get(fn)
        _ = try self.registry.provisionedTarget(
            function,
            name: fn,
            qualifier: qualifier,
            latestMessage: FunctionRegistry.notAliasOrVersionMessage
        )
        guard let config = function?.provisioned.first(where: { $0.qualifier == qualifier }),
            let status = self.invoker.provisionedStatus(name: fn, qualifier: qualifier)
        else {
            throw NimbusError(
                .provisionedConcurrencyConfigNotFound,
                "No Provisioned Concurrency Config found for this function"
            )
        }
        return ServiceResponse.document(200, Self.provisionedWire(config, status))
    }

    func listProvisioned(_ p: ServiceRequest, name fn: String) throws -> ServiceResponse {
        guard let function = self.catalog.get(fn) else { throw self.account.notFound(fn) }
        var configs: [JSONValue] = []
        for config in function.provisioned {
            guard let status = self.invoker.provisionedStatus(name: fn, qualifier: config.qualifier),
                case .object(var entry) = Self.provisionedWire(config, status)
            else { continue }
            entry["FunctionArn"] = .string(self.account.functionARN(fn, qualifier: config.qualifier))
            configs.append(.object(entry))
        }
        return ServiceResponse.document(200, ["ProvisionedConcurrencyConfigs": .array(configs)])
    }

    /// `DELETE …/provisioned-concurrency?Qualifier=` → 204.
    func deleteProvisioned(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        let qualifier = try self.provisionedQualifier(p)
        try await self.registry.deleteProvisioned(function: fn, qualifier: qualifier)
        return ServiceResponse.empty(204)
    }

    static func provisionedWire(
        _ config: ProvisionedConcurrencyConfig,
        _ status: ProvisionedConcurrencyStatus
    )
        -> JSONValue
    {
        var body: [String: JSONValue] = [
            "RequestedProvisionedConcurrentExecutions": .number(Double(config.requested)),
            "AllocatedProvisionedConcurrentExecutions": .number(Double(status.allocated)),
            "AvailableProvisionedConcurrentExecutions": .number(Double(status.available)),
            "Status": .string(status.status),
            "LastModified": .string(Timestamp.awsString(millis: config.lastModifiedMillis)),
        ]
        if let reason = status.reason { body["StatusReason"] = .string(reason) }
        return .object(body)
    }
}
