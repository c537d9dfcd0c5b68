/// Where this Nimbus pretends to live: the region and account that appear in every ARN.
public struct AccountContext: Sendable, Hashable {
    public var region: String
    public var accountID: String

    public init(region: String = "us-east-1", accountID: String = "000000000000") {
        self.region = region
        self.accountID = accountID
    }

    /// `arn:aws:lambda:{region}:{account}:function:{name}`
    public func functionARN(_ name: String) -> String {
        "arn:aws:lambda:\(self.region):\(self.accountID):function:\(name)"
    }

    /// The function ARN with a `:qualifier` suffix when one is given.
    public func functionARN(_ name: String, qualifier: String?) -> String {
        guard let qualifier else { return self.functionARN(name) }
        return "\(self.functionARN(name)):\(qualifier)"
    }

    /// The ARN AWS prints in "Function not found" messages.
    public func notFound(_ name: String, qualifier: String? = nil) -> NimbusError {
        NimbusError(.resourceNotFound, "Function not found: \(self.functionARN(name, qualifier: qualifier))")
    }
}

extension AccountContext {
    /// Whether `arn` names an SQS queue (`arn:aws:sqs:<region>:<account>:<name>`): Lambda's destinations, dead-letter
    /// queues and event sources accept queues by ARN.
    public static func isQueueARN(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 6 && parts[0] == "arn" && parts[2] == "sqs" && !parts[5].isEmpty
    }
}
