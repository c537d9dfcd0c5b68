import NimbusCore

/// Where SQS queues and their messages persist. Placeholder while the SQS service is written.
public protocol QueueStore: Sendable {}
