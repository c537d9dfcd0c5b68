import Foundation
import NimbusCore
import NimbusEventPatterns

/// An event as EventBridge delivers it: `version` "0", `id`, `detail-type`, `source`, `account`, `time` (seconds,
/// UTC), `region`, `resources`, `detail`. Kept as text in AWS's key order (what targets receive) and as a value
/// (what patterns and paths read).
struct Event: Sendable {
    let id: String
    let detailType: String
    let source: String
    let account: String
    let timeMillis: Int64
    let region: String
    let resources: [String]
    /// The `detail` object as minified JSON text.
    let detail: String
    /// When EventBridge received the event (`<aws.events.event.ingestion-time>`).
    let ingestionMillis: Int64
    let text: String
    let value: JSONValue

    init(
        id: String,
        detailType: String,
        source: String,
        namespace: AccountContext,
        timeMillis: Int64,
        resources: [String],
        detail: String,
        ingestionMillis: Int64
    ) {
        self.id = id
        self.detailType = detailType
        self.source = source
        self.account = namespace.accountID
        self.timeMillis = timeMillis
        self.region = namespace.region
        self.resources = resources
        self.detail = detail
        self.ingestionMillis = ingestionMillis
        let text =
            "{\"version\":\"0\",\"id\":\(JSONText.quote(id)),\"detail-type\":\(JSONText.quote(detailType)),"
            + "\"source\":\(JSONText.quote(source)),\"account\":\(JSONText.quote(namespace.accountID)),"
            + "\"time\":\(JSONText.quote(Self.time(timeMillis))),\"region\":\(JSONText.quote(namespace.region)),"
            + "\"resources\":[\(resources.map(JSONText.quote).joined(separator: ","))],\"detail\":\(detail)}"
        self.text = text
        self.value = EventJSON.parse(text) ?? .null
    }

    /// The Scheduled Event of a rule's firing at `scheduledMillis`: its id derives from the rule and the time, so the
    /// same firing delivered again (after a crash) is the same event.
    static func scheduled(rule: RuleState, scheduledMillis: Int64, now: Int64) -> Event {
        Event(
            id: DerivedID.uuid("scheduled|\(rule.arn)|\(scheduledMillis)"),
            detailType: "Scheduled Event",
            source: "aws.events",
            namespace: rule.namespace,
            timeMillis: scheduledMillis,
            resources: [rule.arn],
            detail: "{}",
            ingestionMillis: now
        )
    }

    /// `2026-01-01T00:00:00Z`: EventBridge's `time`, to the second.
    static func time(_ millis: Int64) -> String {
        let iso = Timestamp.isoString(millis: millis)
        guard let dot = iso.firstIndex(of: ".") else { return iso }
        return String(iso[..<dot]) + "Z"
    }

    /// `<aws.events.event>`: what AWS substitutes, as recorded against EventBridge: the event's metadata without
    /// `detail`, `detail-type` spelled `detailType`, and `time` the ingestion time.
    var metadataJSON: String {
        "{\"id\":\(JSONText.quote(self.id)),\"account\":\(JSONText.quote(self.account)),"
            + "\"detailType\":\(JSONText.quote(self.detailType)),\"time\":\(JSONText.quote(Self.time(self.ingestionMillis))),"
            + "\"source\":\(JSONText.quote(self.source)),\"region\":\(JSONText.quote(self.region)),"
            + "\"resources\":[\(self.resources.map(JSONText.quote).joined(separator: ","))],\"version\":\"0\"}"
    }
}

/// Identifiers derived from stable inputs, so that redelivering the same thing yields the same id: a UUID (version 5
/// layout) of the SHA-256 of a description.
enum DerivedID {
    static func uuid(_ description: String) -> String {
        var bytes = Array(Digest.sha256(Array(description.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Digest.hex(bytes)
        let h = Array(hex)
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-"
            + String(h[20..<32])
    }

    /// The request id of one delivery: one per (event, rule, target), so a delivery repeated after a crash is
    /// recognised by Lambda's queue and invokes once.
    static func delivery(eventID: String, ruleARN: String, targetID: String) -> String {
        self.uuid("delivery|\(eventID)|\(ruleARN)|\(targetID)")
    }
}
