/// Where Lambda's asynchronous destinations put events on an event bus (`arn:aws:events:…:event-bus/<name>`):
/// EventBridge, given to Lambda by the composition root.
public protocol EventPublishing: Sendable {
    /// Puts one event on the bus `busARN`, as PutEvents would from `namespace`, and returns once it is accepted.
    /// - Throws: when the bus does not exist or the event is refused.
    func publish(_ event: PublishedEvent, busARN: String, namespace: AccountContext) async throws
}

/// An event another service puts on a bus: PutEvents' entry fields.
public struct PublishedEvent: Sendable, Equatable {
    public var source: String
    public var detailType: String
    /// The `detail` object as JSON text.
    public var detail: String
    public var resources: [String]

    public init(source: String, detailType: String, detail: String, resources: [String]) {
        self.source = source
        self.detailType = detailType
        self.detail = detail
        self.resources = resources
    }
}

extension AccountContext {
    /// Whether `arn` names an EventBridge event bus (`arn:aws:events:<region>:<account>:event-bus/<name>`).
    public static func isEventBusARN(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 6 && parts[0] == "arn" && parts[2] == "events" && parts[5].hasPrefix("event-bus/")
            && parts[5].count > "event-bus/".count
    }
}
