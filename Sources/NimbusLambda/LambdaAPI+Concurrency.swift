import Foundation
import NimbusCore
import NimbusEdge
import NimbusStore

/// PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency, and Nimbus's concurrency figures.
extension LambdaAPI {
    /// `PUT /2017-10-31/functions/{Fn}/concurrency`.
    func putConcurrency(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        let (body, _) = try Self.jsonBody(p, operation: "PutFunctionConcurrency")
        let r = try RequestReader(body, operation: "PutFunctionConcurrency", known: ["ReservedConcurrentExecutions"])
        guard let reserved = try r.int("ReservedConcurrentExecutions") else {
            throw NimbusError.validation([
                "Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null"
            ])
        }
        if reserved < 0 {
            throw NimbusError.validation([
                "Value '\(reserved)' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0"
            ])
        }
        // AWS names `:$LATEST` in this operation's "not found" (recorded: test_function_concurrency_exceptions).
        guard self.catalog.get(fn) != nil else { throw self.account.notFound(fn, qualifier: "$LATEST") }
        let value = try await self.registry.putConcurrency(function: fn, reserved: reserved)
        return ServiceResponse.document(
            200, ["ReservedConcurrentExecutions": .number(Double(value))])
    }

    /// `GET /2019-09-30/functions/{Fn}/concurrency` → `{}` when nothing is reserved.
    func getConcurrency(_ p: ServiceRequest, name: String) throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        guard let function = self.catalog.get(fn) else { throw self.account.notFound(fn) }
        var body: [String: JSONValue] = [:]
        if let reserved = function.reservedConcurrency {
            body["ReservedConcurrentExecutions"] = .number(Double(reserved))
        }
        return ServiceResponse.document(200, .object(body))
    }

    /// `DELETE /2017-10-31/functions/{Fn}/concurrency` → 204.
    func deleteConcurrency(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let fn = try self.unqualifiedName(name)
        guard self.catalog.get(fn) != nil else { throw self.account.notFound(fn) }
        try await self.registry.deleteConcurrency(function: fn)
        return ServiceResponse.empty(204)
    }

    /// `GET /_nimbus/concurrency`: the account limit and, per function, the reservation, the invocations running
    /// and how many were throttled (Nimbus's own endpoint, for operators and tests).
    func concurrencyUsage(_ p: ServiceRequest) -> ServiceResponse {
        var functions: [String: JSONValue] = [:]
        for (name, usage) in self.invoker.concurrencyUsage() {
            var entry: [String: JSONValue] = [
                "ConcurrentExecutions": .number(Double(usage.inUse)),
                "Throttles": .number(Double(usage.throttles)),
            ]
            if let reserved = usage.reserved { entry["ReservedConcurrentExecutions"] = .number(Double(reserved)) }
            functions[name] = .object(entry)
        }
        let body: JSONValue = [
            "AccountLimit": .number(Double(self.invoker.accountConcurrencyLimit)),
            "UnreservedConcurrentExecutions": .number(Double(self.invoker.unreservedConcurrencyLimit)),
            "Functions": .object(functions),
        ]
        return ServiceResponse.document(200, body)
    }
}
