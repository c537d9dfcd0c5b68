import Logging
import NimbusCore
import NimbusEdge
import NimbusStore

/// Amazon SQS (2012-11-05) over the json 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`, signing name `sqs`).
public final class SQSService: Sendable {
    let store: any QueueStore
    let logger: Logger

    public init(store: any QueueStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Loads every stored queue into memory. The composition root calls it once, before the edge serves requests.
    public func load() async throws {}

    public var definition: ServiceDefinition {
        ServiceDefinition(
            name: "sqs", signingNames: ["sqs"], wire: .json(version: "1.0", queryCompatible: true),
            targetPrefix: "AmazonSQS", operations: [])
    }
}
