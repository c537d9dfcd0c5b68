import Glibc
import NimbusCore
import NimbusEdge
import NimbusInvoker

/// What every environment gets to call AWS services as its function, as on Lambda: temporary credentials of its
/// execution role (``CredentialStore``) and `AWS_ENDPOINT_URL` pointing at its own endpoint inside its network
/// namespace (``SandboxEndpoints``), or at the shared loopback endpoint where it has no namespace.
struct FunctionCredentials: EnvironmentServices {
    let credentials: CredentialStore
    let endpoints: SandboxEndpoints

    /// Inside every network namespace the service edge listens here (the Runtime API is at 9001).
    static let inNamespaceEndpoint = "http://127.0.0.1:9002"

    func attach(
        environmentID: String, function: FunctionConfiguration, namespace: AccountContext, serviceSocket: Int32?
    ) async throws -> AttachedServices {
        let issued = self.credentials.issue(
            function: function.name, roleARN: function.role, namespace: namespace, environmentID: environmentID)
        let url: String
        let close: @Sendable () -> Void
        do {
            if let serviceSocket {
                close = try await self.endpoints.serve(listeningSocket: serviceSocket, accessKeyID: issued.accessKeyID)
                url = Self.inNamespaceEndpoint
            } else {
                url = try await self.endpoints.sharedURL()
                close = {}
            }
        } catch {
            if let serviceSocket { Glibc.close(serviceSocket) }
            self.credentials.revoke(environmentID: environmentID)
            throw error
        }
        let credentials = self.credentials
        return AttachedServices(
            environment: [
                "AWS_ACCESS_KEY_ID": issued.accessKeyID, "AWS_SECRET_ACCESS_KEY": issued.secretAccessKey,
                "AWS_SESSION_TOKEN": issued.sessionToken, "AWS_ENDPOINT_URL": url,
            ],
            detach: {
                close()
                credentials.revoke(environmentID: environmentID)
            })
    }
}
