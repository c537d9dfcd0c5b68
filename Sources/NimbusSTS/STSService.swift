import NimbusCore
import NimbusEdge

/// AWS Security Token Service, as far as Nimbus has identities: `GetCallerIdentity` answers for every key the edge
/// accepts (the operator's, a function's temporary credentials, the anonymous caller of `--auth none`).
public struct STSService: Sendable {
    public init() {}

    public var definition: ServiceDefinition {
        ServiceDefinition(
            name: "sts", signingNames: ["sts"], wire: .query, apiVersion: "2011-06-15",
            xmlNamespace: "https://sts.amazonaws.com/doc/2011-06-15/",
            operations: [
                ServiceOperation("GetCallerIdentity") { request in
                    let caller = request.caller
                    return .document(
                        200,
                        [
                            "UserId": .string(caller.userID), "Account": .string(caller.account),
                            "Arn": .string(caller.arn),
                        ])
                }
            ])
    }
}
