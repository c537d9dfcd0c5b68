import Foundation
import NimbusCore
import NimbusEdge
import NimbusQueue
import NimbusStore

/// Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s) (`/2019-09-25/functions/{Fn}/event-invoke-config`), with
/// AWS's shapes and messages (recorded: test_lambda_eventinvokeconfig_exceptions, _lifecycle).
extension LambdaAPI {
    static let eventInvokeConfigMembers: Set<String> = [
        "MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig",
    ]

    /// `{Fn}` and `Qualifier` → function name and qualifier (`$LATEST` when unqualified).
    func eventInvokeTarget(_ raw: String, _ p: ServiceRequest) throws -> (name: String, qualifier: String) {
        let id = try FunctionIdentifier.parse(raw).resolvingQualifier(p.queryValue("Qualifier"))
        try self.checkRegion(id)
        return (id.name, id.qualifier ?? "$LATEST")
    }

    /// `The function arn:…:{qualifier} doesn't have an EventInvokeConfig`.
    func noEventInvokeConfig(_ name: String, _ qualifier: String) -> NimbusError {
        NimbusError(
            .resourceNotFound,
            "The function \(self.account.functionARN(name, qualifier: qualifier)) doesn't have an EventInvokeConfig")
    }

    /// For Put and Update: the function and its qualifier must exist (`The function doesn't exist.`).
    func checkEventInvokeTargetExists(_ name: String, _ qualifier: String) throws {
        guard let function = self.catalog.get(name),
            qualifier == "$LATEST" || function.version(qualifier) != nil || function.alias(qualifier) != nil
        else {
            throw NimbusError(.resourceNotFound, "The function doesn't exist.")
        }
    }

    /// `PUT` (replace, `merge: false`) and `POST` (update, `merge: true`).
    func putEventInvokeConfig(_ p: ServiceRequest, name raw: String, merge: Bool) async throws -> ServiceResponse {
        let operation = merge ? "UpdateFunctionEventInvokeConfig" : "PutFunctionEventInvokeConfig"
        let (name, qualifier) = try self.eventInvokeTarget(raw, p)
        let (body, _) = try Self.jsonBody(p, operation: operation)
        let r = try RequestReader(body, operation: operation, known: Self.eventInvokeConfigMembers)
        let retries = try r.int("MaximumRetryAttempts")
        let age = try r.int("MaximumEventAgeInSeconds")
        let destinations = try r.object("DestinationConfig")
        var problems: [String] = []
        if let retries, retries > EventInvokeConfig.maximumRetryAttemptsRange.upperBound {
            problems.append("Value '\(retries)' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2")
        }
        if let retries, retries < 0 {
            problems.append("Value '\(retries)' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to 0")
        }
        if let age, age > EventInvokeConfig.maximumEventAgeRange.upperBound {
            problems.append("Value '\(age)' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600")
        }
        if let age, age < EventInvokeConfig.maximumEventAgeRange.lowerBound {
            problems.append("Value '\(age)' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60")
        }
        if !problems.isEmpty { throw NimbusError.validation(problems) }
        let onSuccess = try Self.destination(destinations, "OnSuccess")
        let onFailure = try Self.destination(destinations, "OnFailure")
        try self.checkEventInvokeTargetExists(name, qualifier)
        if retries == nil && age == nil && destinations == nil {
            throw NimbusError.invalidParameter("You must specify at least one of error handling or destination setting.")
        }
        for arn in [onSuccess, onFailure].compactMap({ $0 }) {
            try self.checkDestination(arn, function: name, onSuccess: onSuccess, onFailure: onFailure)
        }
        var config: EventInvokeConfig
        if merge {
            guard let existing = self.registry.eventInvokeConfigs.get(name, qualifier: qualifier) else {
                throw self.noEventInvokeConfig(name, qualifier)
            }
            config = existing
            if let retries { config.maximumRetryAttempts = retries }
            if let age { config.maximumEventAgeInSeconds = age }
            if let destinations {
                if destinations["OnSuccess"] != nil { config.onSuccess = onSuccess }
                if destinations["OnFailure"] != nil { config.onFailure = onFailure }
            }
            config.lastModifiedMillis = Timestamp.nowMillis()
        } else {
            config = EventInvokeConfig(
                maximumRetryAttempts: retries, maximumEventAgeInSeconds: age, onSuccess: onSuccess, onFailure: onFailure)
        }
        try await self.registry.putEventInvokeConfig(function: name, qualifier: qualifier, config)
        return ServiceResponse.document(200, self.eventInvokeConfigJSON(name, qualifier, config))
    }

    /// `DestinationConfig.{OnSuccess|OnFailure}.Destination`, nil when absent or empty.
    static func destination(_ config: [String: JSONValue]?, _ key: String) throws -> String? {
        guard let value = config?[key], !value.isNull else { return nil }
        guard let object = value.objectValue else {
            throw NimbusError.invalidParameter("Could not parse request body into json: DestinationConfig.\(key) must be an object")
        }
        guard let destination = object["Destination"], !destination.isNull else { return nil }
        guard let arn = destination.stringValue else {
            throw NimbusError.invalidParameter("Could not parse request body into json: Destination must be a string")
        }
        if arn.isEmpty { return nil }
        let pattern = #"^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$"#
        if arn.range(of: pattern, options: .regularExpression) == nil {
            throw NimbusError.validation([
                "Value '\(arn)' at 'destinationConfig.\(key.prefix(1).lowercased() + key.dropFirst()).destination' failed to satisfy constraint: Member must satisfy regular expression pattern: $|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)"
            ])
        }
        return arn
    }

    /// A destination must be a Nimbus function other than this one, an SQS queue or an event bus.
    func checkDestination(_ arn: String, function name: String, onSuccess: String?, onFailure: String?) throws {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count >= 7, parts[2] == "lambda", parts[5] == "function" {
            let target = String(parts[6])
            if target == name {
                throw NimbusError.invalidParameter("You can't specify the function as a destination for itself.")
            }
            guard self.catalog.get(target) != nil else {
                throw NimbusError.invalidParameter("The destination ARN \(arn) is invalid.")
            }
            return
        }
        if AccountContext.isQueueARN(arn) || AccountContext.isEventBusARN(arn) { return }
        let describe = { (key: String, value: String?) in
            value.map { "\(key)(destination=\($0))" } ?? "null"
        }
        throw NimbusError.invalidParameter(
            "The provided destination config DestinationConfig(onSuccess=\(describe("OnSuccess", onSuccess)), onFailure=\(describe("OnFailure", onFailure))) is invalid."
        )
    }

    /// `GET …/event-invoke-config`.
    func getEventInvokeConfig(_ p: ServiceRequest, name raw: String) throws -> ServiceResponse {
        let (name, qualifier) = try self.eventInvokeTarget(raw, p)
        guard self.catalog.get(name) != nil, let config = self.registry.eventInvokeConfigs.get(name, qualifier: qualifier)
        else { throw self.noEventInvokeConfig(name, qualifier) }
        return ServiceResponse.document(200, self.eventInvokeConfigJSON(name, qualifier, config))
    }

    /// `DELETE …/event-invoke-config` → 204.
    func deleteEventInvokeConfig(_ p: ServiceRequest, name raw: String) async throws -> ServiceResponse {
        let (name, qualifier) = try self.eventInvokeTarget(raw, p)
        guard self.catalog.get(name) != nil, self.registry.eventInvokeConfigs.get(name, qualifier: qualifier) != nil
        else { throw self.noEventInvokeConfig(name, qualifier) }
        try await self.registry.deleteEventInvokeConfig(function: name, qualifier: qualifier)
        return ServiceResponse.empty(204)
    }

    /// `GET …/event-invoke-config/list` (`Marker`, `MaxItems` ≤ 50).
    func listEventInvokeConfigs(_ p: ServiceRequest, name raw: String) throws -> ServiceResponse {
        let id = try FunctionIdentifier.parse(raw)
        try self.checkRegion(id)
        guard self.catalog.get(id.name) != nil else { throw NimbusError(.resourceNotFound, "The function doesn't exist.") }
        let maxItems = min(max(Int(p.queryValue("MaxItems") ?? "") ?? 50, 1), 50)
        let all = self.registry.eventInvokeConfigs.all(of: id.name)
        let start = Int(p.queryValue("Marker") ?? "") ?? 0
        let page = all.dropFirst(start).prefix(maxItems)
        var body: [String: JSONValue] = [
            "FunctionEventInvokeConfigs": .array(page.map { self.eventInvokeConfigJSON(id.name, $0.qualifier, $0.config) })
        ]
        if start + page.count < all.count { body["NextMarker"] = .string(String(start + page.count)) }
        return ServiceResponse.document(200, .object(body))
    }

    func eventInvokeConfigJSON(_ name: String, _ qualifier: String, _ c: EventInvokeConfig) -> JSONValue {
        var o: [String: JSONValue] = [
            "LastModified": .number(Double(c.lastModifiedMillis) / 1000),
            "FunctionArn": .string(self.account.functionARN(name, qualifier: qualifier)),
            "DestinationConfig": [
                "OnSuccess": .object(c.onSuccess.map { ["Destination": .string($0)] } ?? [:]),
                "OnFailure": .object(c.onFailure.map { ["Destination": .string($0)] } ?? [:]),
            ],
        ]
        if let v = c.maximumRetryAttempts { o["MaximumRetryAttempts"] = .number(Double(v)) }
        if let v = c.maximumEventAgeInSeconds { o["MaximumEventAgeInSeconds"] = .number(Double(v)) }
        return .object(o)
    }
}
