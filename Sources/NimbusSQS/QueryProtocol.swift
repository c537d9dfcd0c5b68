import NIOCore
import NimbusCore
import NimbusEdge
import NimbusProtocols

/// The query protocol's shapes, translated to and from the json protocol's, so that the operations are written once.
///
/// Requests: the edge decodes `Attribute.1.Name=…&Attribute.1.Value=…` into `{"Attribute": [{"Name": …, "Value":
/// …}]}`; here flattened maps become maps and flattened lists get their json member names (`Attribute` →
/// `Attributes`, `SendMessageBatchRequestEntry` → `Entries`, …), as botocore's query model names them.
///
/// Responses: the json document is renamed the other way and written as `<OpResponse><OpResult>…</OpResult>
/// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></OpResponse>`, every list and map flattened, as
/// SQS's query answers are.
enum QueryProtocol {
    static let namespace = "http://queue.amazonaws.com/doc/2012-11-05/"

    /// Flattened maps of the query requests: query name → (json name, key member, value member).
    static let requestMaps: [String: (String, String, String)] = [
        "Attribute": ("Attributes", "Name", "Value"),
        "MessageAttribute": ("MessageAttributes", "Name", "Value"),
        "MessageSystemAttribute": ("MessageSystemAttributes", "Name", "Value"),
    ]

    /// Flattened lists of the query requests: query name → json name.
    static let requestLists: [String: String] = [
        "AttributeName": "AttributeNames",
        "MessageSystemAttributeName": "MessageSystemAttributeNames",
        "MessageAttributeName": "MessageAttributeNames",
        "TagKey": "TagKeys",
        "SendMessageBatchRequestEntry": "Entries",
        "DeleteMessageBatchRequestEntry": "Entries",
        "ChangeMessageVisibilityBatchRequestEntry": "Entries",
        "AWSAccountId": "AWSAccountIds",
        "ActionName": "Actions",
    ]

    /// The operation's input in the json protocol's shape.
    static func input(_ form: JSONValue?, operation: String) -> JSONValue {
        var object = form?.objectValue ?? [:]
        object["Action"] = nil
        object["Version"] = nil
        // `Tag.N.Key`/`Tag.N.Value`: CreateQueue's `tags`, TagQueue's `Tags`.
        if let tags = object.removeValue(forKey: "Tag") {
            object[operation == "CreateQueue" ? "tags" : "Tags"] = self.map(tags, key: "Key", value: "Value")
        }
        return .object(self.translate(object))
    }

    static func translate(_ object: [String: JSONValue]) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (name, value) in object {
            if let (json, key, member) = self.requestMaps[name] {
                result[json] = self.map(value, key: key, value: member)
            } else if let json = self.requestLists[name] {
                let items = value.arrayValue ?? (value.stringValue == "" ? [] : [value])
                result[json] = .array(
                    items.map { item in item.objectValue.map { .object(self.translate($0)) } ?? item }
                )
            } else if let nested = value.objectValue {
                result[name] = .object(self.translate(nested))
            } else {
                result[name] = value
            }
        }
        return result
    }

    /// `[{"Name": k, "Value": v}, …]` → `{k: v, …}` (a malformed entry is dropped; the operation then misses it).
    static func map(_ value: JSONValue, key: String, value member: String) -> JSONValue {
        var map: [String: JSONValue] = [:]
        for entry in value.arrayValue ?? [] {
            guard let name = entry[key]?.stringValue, let item = entry[member] else { continue }
            map[name] = item.objectValue.map { .object(self.translate($0)) } ?? item
        }
        return .object(map)
    }

    // MARK: Responses

    /// json member → query element, for the members whose names differ.
    static let responseNames: [String: String] = [
        "Messages": "Message", "Attributes": "Attribute", "MessageAttributes": "MessageAttribute",
        "QueueUrls": "QueueUrl", "queueUrls": "QueueUrl", "Tags": "Tag", "Failed": "BatchResultErrorEntry",
        "Results": "Results",
    ]

    static func response(_ output: JSONValue, operation: String, requestID: String) -> ServiceResponse {
        var children: [XML.Element] = []
        let renamed = self.rename(output.objectValue ?? [:], operation: operation)
        let mapping = XMLMapping(
            defaultListStyle: .flattened,
            maps: [
                "Attribute": .flattened(key: "Name", value: "Value"),
                "MessageAttribute": .flattened(key: "Name", value: "Value"),
                "Tag": .flattened(key: "Key", value: "Value"),
            ]
        )
        children = (try? mapping.children(of: renamed)) ?? []
        var elements: [XML.Element] = []
        if Self.hasResult.contains(operation) { elements.append(XML.Element(operation + "Result", children: children)) }
        elements.append(XML.Element("ResponseMetadata", children: [XML.Element("RequestId", text: requestID)]))
        let document = XML.Element(operation + "Response", children: elements).document(namespace: Self.namespace)
        return .bytes(200, ByteBuffer(bytes: document), contentType: "text/xml")
    }

    /// The operations whose query answer has a `<OpResult>` element.
    static let hasResult: Set<String> = [
        "CreateQueue", "GetQueueUrl", "ListQueues", "GetQueueAttributes", "ListQueueTags", "ListDeadLetterSourceQueues",
        "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessageBatch", "ChangeMessageVisibilityBatch",
        "StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask",
    ]

    static func rename(_ object: [String: JSONValue], operation: String) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (name, value) in object {
            var element = self.responseNames[name] ?? name
            if name == "Successful" { element = operation + "ResultEntry" }
            switch value {
            case .object(let members) where element != "Attribute" && element != "Tag":
                // A map of structures (MessageAttributes) keeps its entries' members; a structure is renamed within.
                if element == "MessageAttribute" {
                    result[element] = value
                } else {
                    result[element] = .object(self.rename(members, operation: operation))
                }
            case .array(let items):
                result[element] = .array(
                    items.map { item in item.objectValue.map { .object(self.rename($0, operation: operation)) } ?? item
                    }
                )
            default:
                result[element] = value
            }
        }
        return result
    }
}
