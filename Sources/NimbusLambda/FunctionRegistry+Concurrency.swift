import NimbusCore
import NimbusStore

/// Reserved concurrency (`PutFunctionConcurrency`): stored with the function, enforced by the invoker's
/// ``ConcurrencyLimiter``.
extension FunctionRegistry {
    /// The least unreserved concurrency reservations must leave: AWS's 100 for its default limit of 1,000; a tenth
    /// of the limit when Nimbus is configured with a smaller one, so that small installations can still reserve.
    public nonisolated var minimumUnreservedConcurrency: Int {
        min(Limits.minimumUnreservedConcurrency, self.invoker.accountConcurrencyLimit / 10)
    }

    /// The sum of every function's reserved concurrency.
    public nonisolated func reservedConcurrencyTotal() -> Int {
        self.catalog.all().reduce(0) { $0 + ($1.reservedConcurrency ?? 0) }
    }

    /// `PutFunctionConcurrency`.
    /// - Throws: `InvalidParameterValueException` when the reservation would leave less than
    ///   ``minimumUnreservedConcurrency`` unreserved (AWS's message).
    public func putConcurrency(function name: String, reserved: Int) async throws -> Int {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        let others = self.reservedConcurrencyTotal() - (function.reservedConcurrency ?? 0)
        let minimum = self.minimumUnreservedConcurrency
        let provisioned = self.provisionedTotal(function)
        if reserved < provisioned {
            throw NimbusError.invalidParameter(
                " ReservedConcurrentExecutions  \(reserved) should not be lower than function's total provisioned concurrency [\(provisioned)]."
            )
        }
        if self.invoker.accountConcurrencyLimit - others - reserved < minimum {
            throw NimbusError.invalidParameter(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [\(minimum)]."
            )
        }
        function.reservedConcurrency = reserved
        try await self.store.update(function)
        self.catalog.put(function)
        self.invoker.setReservedConcurrency(reserved, function: name)
        self.logger.info(
            "Function concurrency reserved", metadata: ["function.name": "\(name)", "concurrency.reserved": "\(reserved)"])
        return reserved
    }

    /// `DeleteFunctionConcurrency`: the function goes back to the unreserved pool.
    public func deleteConcurrency(function name: String) async throws {
        var function = try self.beginChange(name)
        defer { self.endChange(name) }
        guard function.reservedConcurrency != nil else { return }
        function.reservedConcurrency = nil
        try await self.store.update(function)
        self.catalog.put(function)
        self.invoker.setReservedConcurrency(nil, function: name)
        self.logger.info("Function concurrency reservation removed", metadata: ["function.name": "\(name)"])
    }
}
