import Foundation
import NimbusCore
import NimbusEdge
import NimbusStore

/// An error of the CloudWatch Logs API (json 1.1: `__type` in the body).
struct LogsError: ServiceErrorConvertible {
    var type: String
    var message: String

    var serviceError: ServiceError { ServiceError(code: self.type, status: 400, message: self.message) }

    static let groupNotFound = LogsError(type: "ResourceNotFoundException", message: "The specified log group does not exist.")
}

/// The subset of CloudWatch Logs (`Logs_20140328`) that reading Lambda logs needs, so `aws logs tail`,
/// `aws logs filter-log-events` and boto3's `logs` client work against Nimbus: DescribeLogGroups,
/// DescribeLogStreams, GetLogEvents, FilterLogEvents, DeleteLogGroup.
public struct LogsService: Sendable {
    let store: LogStore

    public init(store: LogStore) {
        self.store = store
    }

    public var definition: ServiceDefinition {
        func op(
            _ name: String, _ handler: @escaping @Sendable (JSONValue, AccountContext) async throws -> JSONValue
        ) -> ServiceOperation {
            ServiceOperation(name) { request in
                guard let body = request.input, body.objectValue != nil else {
                    throw LogsError(type: "SerializationException", message: "The request body is not a JSON object.")
                }
                return .document(200, try await handler(body, request.namespace))
            }
        }
        return ServiceDefinition(
            name: "logs", signingNames: ["logs"], wire: .json(version: "1.1"), targetPrefix: "Logs_20140328",
            operations: [
                op("FilterLogEvents") { try await self.filter($0, $1) },
                op("GetLogEvents") { try await self.getEvents($0, $1) },
                op("DescribeLogStreams") { try await self.describeStreams($0, $1) },
                op("DescribeLogGroups") { try await self.describeGroups($0, $1) },
                op("DeleteLogGroup") { body, namespace in
                    let group = try self.groupName(body)
                    guard try await self.store.groupExists(namespace, group) else { throw LogsError.groupNotFound }
                    try await self.store.deleteGroup(namespace, group)
                    return .object([:])
                },
            ])
    }

    func groupName(_ body: JSONValue) throws -> String {
        if let name = body["logGroupName"]?.stringValue { return name }
        if let identifier = body["logGroupIdentifier"]?.stringValue {
            // An ARN `arn:aws:logs:r:a:log-group:NAME[:*]` or a plain name.
            if identifier.hasPrefix("arn:"), let range = identifier.range(of: ":log-group:") {
                var name = String(identifier[range.upperBound...])
                if name.hasSuffix(":*") { name.removeLast(2) }
                return name
            }
            return identifier
        }
        throw LogsError(type: "InvalidParameterException", message: "logGroupName or logGroupIdentifier is required.")
    }

    func int64(_ value: JSONValue?) -> Int64? { value?.numberValue.map { Int64($0) } }

    func filter(_ body: JSONValue, _ namespace: AccountContext) async throws -> JSONValue {
        let group = try self.groupName(body)
        guard try await self.store.groupExists(namespace, group) else { throw LogsError.groupNotFound }
        let limit = min(Int(body["limit"]?.numberValue ?? 10_000), 10_000)
        let afterID = body["nextToken"]?.stringValue.flatMap { Int64($0) }
        let streams = body["logStreamNames"]?.arrayValue?.compactMap(\.stringValue)
        let (events, more) = try await self.store.filter(
            LogStore.Filter(
                namespace: namespace, group: group, streams: streams, streamPrefix: body["logStreamNamePrefix"]?.stringValue,
                startMillis: self.int64(body["startTime"]), endMillis: self.int64(body["endTime"]),
                pattern: body["filterPattern"]?.stringValue, limit: max(limit, 1), afterID: afterID))
        var result: [String: JSONValue] = [
            "events": .array(
                events.map { e in
                    [
                        "logStreamName": .string(e.stream), "timestamp": .number(Double(e.timestampMillis)),
                        "message": .string(e.message), "ingestionTime": .number(Double(e.ingestionMillis)),
                        "eventId": .string(String(e.id)),
                    ]
                }),
            "searchedLogStreams": [],
        ]
        if more, let last = events.last { result["nextToken"] = .string(String(last.id)) }
        return .object(result)
    }

    func getEvents(_ body: JSONValue, _ namespace: AccountContext) async throws -> JSONValue {
        let group = try self.groupName(body)
        guard let stream = body["logStreamName"]?.stringValue else {
            throw LogsError(type: "InvalidParameterException", message: "logStreamName is required.")
        }
        guard try await self.store.groupExists(namespace, group) else { throw LogsError.groupNotFound }
        let token = body["nextToken"]?.stringValue
        let afterID = token.flatMap { $0.hasPrefix("f/") ? Int64($0.dropFirst(2)) : nil }
        let (events, _) = try await self.store.filter(
            LogStore.Filter(
                namespace: namespace, group: group, streams: [stream], startMillis: self.int64(body["startTime"]),
                endMillis: self.int64(body["endTime"]), limit: min(Int(body["limit"]?.numberValue ?? 10_000), 10_000),
                afterID: afterID))
        let last = events.last?.id ?? afterID ?? 0
        let first = events.first?.id ?? 0
        return [
            "events": .array(
                events.map { e in
                    [
                        "timestamp": .number(Double(e.timestampMillis)), "message": .string(e.message),
                        "ingestionTime": .number(Double(e.ingestionMillis)),
                    ]
                }),
            "nextForwardToken": .string("f/\(last)"),
            "nextBackwardToken": .string("b/\(first)"),
        ]
    }

    func describeStreams(_ body: JSONValue, _ namespace: AccountContext) async throws -> JSONValue {
        let group = try self.groupName(body)
        guard try await self.store.groupExists(namespace, group) else { throw LogsError.groupNotFound }
        let streams = try await self.store.streams(namespace, group: group, prefix: body["logStreamNamePrefix"]?.stringValue)
        let limit = Int(body["limit"]?.numberValue ?? 50)
        return [
            "logStreams": .array(
                streams.prefix(limit).map { s in
                    [
                        "logStreamName": .string(s.name),
                        "creationTime": .number(Double(s.firstEventMillis)),
                        "firstEventTimestamp": .number(Double(s.firstEventMillis)),
                        "lastEventTimestamp": .number(Double(s.lastEventMillis)),
                        "lastIngestionTime": .number(Double(s.lastIngestionMillis)),
                        "arn": .string(
                            "arn:aws:logs:\(namespace.region):\(namespace.accountID):log-group:\(group):log-stream:\(s.name)"),
                        "storedBytes": 0,
                    ]
                })
        ]
    }

    func describeGroups(_ body: JSONValue, _ namespace: AccountContext) async throws -> JSONValue {
        let groups = try await self.store.groups(namespace, prefix: body["logGroupNamePrefix"]?.stringValue)
        return [
            "logGroups": .array(
                groups.map { g in
                    [
                        "logGroupName": .string(g), "creationTime": 0, "storedBytes": 0,
                        "arn": .string("arn:aws:logs:\(namespace.region):\(namespace.accountID):log-group:\(g):*"),
                    ]
                })
        ]
    }
}
