import NimbusCore

/// How an environment calls AWS services as its function, as on Lambda: temporary credentials of its execution
/// role and an endpoint reaching the service edge. The composition root implements it with the edge; the invoker
/// only asks for it when an environment starts and gives it back when the environment ends.
public protocol EnvironmentServices: Sendable {
    /// Issues credentials for a new environment and serves the edge for it: on `serviceSocket` (a socket listening
    /// inside the environment's network namespace, owned by the implementation from now on) or, when nil, on a
    /// shared loopback endpoint.
    /// - Returns: the variables the environment gets (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    ///   `AWS_SESSION_TOKEN`, `AWS_ENDPOINT_URL`) and a closure that revokes them and closes the endpoint.
    func attach(
        environmentID: String, function: FunctionConfiguration, namespace: AccountContext, serviceSocket: Int32?
    ) async throws -> AttachedServices
}

/// What ``EnvironmentServices/attach(environmentID:function:namespace:serviceSocket:)`` gave an environment.
public struct AttachedServices: Sendable {
    public var environment: [String: String]
    /// Revokes the credentials and closes the environment's endpoint. Called once, when the environment ends.
    public var detach: @Sendable () -> Void

    public init(environment: [String: String], detach: @escaping @Sendable () -> Void) {
        self.environment = environment
        self.detach = detach
    }
}
