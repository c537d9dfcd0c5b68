import Foundation
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusQueue
import NimbusSQS
import NimbusSandbox

/// Asynchronous invocation: the dispatcher's ``AsyncEventHandler`` (running events, delivering invocation records to
/// destinations and dead-letter queues, SQS queues) and Nimbus's operational endpoints (`/_nimbus/async…`).
extension LambdaAPI: AsyncEventHandler {
    public func limits(for event: QueuedEvent) -> (maximumRetryAttempts: Int, maximumEventAgeSeconds: Int) {
        let config = self.registry.eventInvokeConfigs.get(event.functionName, qualifier: event.qualifier ?? "$LATEST")
        return (
            config?.maximumRetryAttempts ?? RetryPolicy.defaultMaximumRetryAttempts,
            config?.maximumEventAgeInSeconds ?? RetryPolicy.defaultMaximumEventAgeSeconds
        )
    }

    public func run(_ event: QueuedEvent) async -> AttemptResult {
        let target: ResolvedFunction
        do {
            target = try self.resolve(event.functionName, qualifier: event.qualifier, invoking: true)
        } catch {
            return AttemptResult(outcome: .platformError, statusCode: 404, errorMessage: "\(error)", functionGone: true)
        }
        let config = self.routedConfiguration(target)
        let request = InvokeRequest(
            configuration: config, payload: ByteBuffer(bytes: event.payload), requestID: event.requestID,
            invokedFunctionARN: self.account.functionARN(config.name, qualifier: target.qualifier),
            network: target.function.tags[FunctionRegistry.networkTag].flatMap(NetworkMode.init(rawValue:)))
        do {
            let result = try await self.invoker.invoke(request)
            return AttemptResult(
                outcome: result.functionError == nil ? .success : .functionError,
                payload: Array(result.payload.readableBytesView), executedVersion: result.executedVersion,
                functionError: result.functionError, statusCode: 200, errorMessage: result.errorType)
        } catch let error as NimbusError where error.code == .tooManyRequests {
            return AttemptResult(outcome: .throttled, statusCode: 429, errorMessage: error.message)
        } catch {
            return AttemptResult(outcome: .platformError, statusCode: 500, errorMessage: "\(error)")
        }
    }

    public func complete(_ event: QueuedEvent, result: AttemptResult?, completion: EventCompletion) async throws {
        let config = self.registry.eventInvokeConfigs.get(event.functionName, qualifier: event.qualifier ?? "$LATEST")
        // The record is built only for a destination (most events have none).
        let record = { self.invocationRecord(event, result: result, completion: completion) }
        switch completion {
        case .success:
            if let arn = config?.onSuccess { try await self.deliver(record(), to: arn, success: true, event: event) }
        case .failure:
            if let arn = config?.onFailure { try await self.deliver(record(), to: arn, success: false, event: event) }
            if let dlq = (try? self.resolve(event.functionName, qualifier: event.qualifier))?.configuration.deadLetterTargetArn,
                AccountContext.isQueueARN(dlq)
            {
                // AWS's DLQ message: the original event, with RequestID, ErrorCode and ErrorMessage attributes.
                let errorMessage =
                    result.flatMap { JSONValue.parse($0.payload)?.objectValue?["errorMessage"]?.stringValue }
                    ?? result?.errorMessage ?? event.lastError ?? ""
                _ = try await self.queues.send(
                    queueARN: dlq, body: String(decoding: event.payload, as: UTF8.self),
                    messageAttributes: [
                        "RequestID": MessageAttributeValue(dataType: "String", stringValue: event.requestID),
                        "ErrorCode": MessageAttributeValue(dataType: "Number", stringValue: String(result?.statusCode ?? 200)),
                        "ErrorMessage": MessageAttributeValue(
                            dataType: "String", stringValue: String(errorMessage.utf8.prefix(1024)) ?? ""),
                    ])
            }
        }
    }

    /// The invocation record AWS sends to destinations (lambda-spec §7).
    func invocationRecord(_ event: QueuedEvent, result: AttemptResult?, completion: EventCompletion) -> JSONValue {
        let condition: String
        switch completion {
        case .success: condition = "Success"
        case .failure(let c): condition = c.rawValue
        }
        var response: [String: JSONValue] = [
            "statusCode": .number(Double(result?.statusCode ?? 200)),
            "executedVersion": .string(result?.executedVersion ?? event.qualifier ?? "$LATEST"),
        ]
        if let functionError = result?.functionError { response["functionError"] = .string(functionError) }
        var record: [String: JSONValue] = [
            "version": "1.0",
            "timestamp": .string(Timestamp.isoString(millis: Timestamp.nowMillis())),
            "requestContext": [
                "requestId": .string(event.requestID),
                "functionArn": .string(self.account.functionARN(event.functionName, qualifier: event.qualifier ?? "$LATEST")),
                "condition": .string(condition),
                "approximateInvokeCount": .number(Double(event.attempts)),
            ],
            "requestPayload": JSONValue.parse(event.payload) ?? .string(String(decoding: event.payload, as: UTF8.self)),
            "responseContext": .object(response),
        ]
        if let payload = result?.payload, !payload.isEmpty {
            record["responsePayload"] = JSONValue.parse(payload) ?? .string(String(decoding: payload, as: UTF8.self))
        }
        return .object(record)
    }

    /// Sends an invocation record to an SQS queue or an event bus, or invokes a Nimbus function with it
    /// asynchronously.
    func deliver(_ record: JSONValue, to arn: String, success: Bool, event: QueuedEvent) async throws {
        if AccountContext.isQueueARN(arn) {
            _ = try await self.queues.send(queueARN: arn, body: String(decoding: record.serialized(), as: UTF8.self))
            return
        }
        if AccountContext.isEventBusARN(arn) {
            // AWS's event: source `lambda`, the result in the detail type, the bus and the invoked function version as
            // its resources.
            guard let bus = self.eventBuses.source.withLock({ $0 }) else {
                throw NimbusError(.service, "EventBridge is not available on this server.")
            }
            try await bus.publish(
                PublishedEvent(
                    source: "lambda",
                    detailType: "Lambda Function Invocation Result - \(success ? "Success" : "Failure")",
                    detail: String(decoding: record.serialized(), as: UTF8.self),
                    resources: [arn, self.account.functionARN(event.functionName, qualifier: event.qualifier ?? "$LATEST")]),
                busARN: arn, namespace: self.account)
            return
        }
        let id = try FunctionIdentifier.parse(arn)
        try await self.eventQueue.enqueue(
            QueuedEvent(
                requestID: UUID().uuidString.lowercased(),
                namespace: AccountContext(
                    region: id.region ?? self.account.region, accountID: id.account ?? self.account.accountID),
                functionName: id.name, qualifier: id.qualifier,
                payload: record.serialized()))
    }

    // MARK: Operational endpoints

    /// `GET /_nimbus/async`: per function, pending and running events, the oldest pending age, retries and
    /// dead-lettered events.
    func asyncStatistics(_ p: ServiceRequest) async throws -> ServiceResponse {
        let now = Timestamp.nowMillis()
        var functions: [String: JSONValue] = [:]
        for (name, s) in try await self.eventQueue.statistics(nowMillis: now) {
            var entry: [String: JSONValue] = [
                "Pending": .number(Double(s.pending)), "Running": .number(Double(s.leased)),
                "Retries": .number(Double(s.retries)), "DeadLettered": .number(Double(s.deadLettered)),
            ]
            if let oldest = s.oldestPendingMillis { entry["OldestPendingAgeSeconds"] = .number(Double(oldest) / 1000) }
            functions[name] = .object(entry)
        }
        return ServiceResponse.document(200, ["Functions": .object(functions)])
    }

    /// `GET /_nimbus/async/events?Function=…&State=pending,dead`.
    func asyncEvents(_ p: ServiceRequest) async throws -> ServiceResponse {
        let states = (p.queryValue("State") ?? "pending,leased,dead").split(separator: ",").compactMap {
            QueuedEvent.State(rawValue: String($0))
        }
        let events = try await self.eventQueue.events(function: p.queryValue("Function"), states: states)
        let list: [JSONValue] = events.map { e in
            var o: [String: JSONValue] = [
                "RequestId": .string(e.requestID), "FunctionName": .string(e.functionName), "State": .string(e.state.rawValue),
                "Attempts": .number(Double(e.attempts)), "EnqueuedAt": .number(Double(e.enqueuedAtMillis)),
                "NextAttemptAt": .number(Double(e.nextAttemptAtMillis)),
            ]
            if let q = e.qualifier { o["Qualifier"] = .string(q) }
            if let err = e.lastError { o["LastError"] = .string(err) }
            return .object(o)
        }
        return ServiceResponse.document(200, ["Events": .array(list)])
    }

    /// `POST /_nimbus/async/redrive/{Fn}`: dead-lettered events go back to pending.
    func asyncRedrive(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let count = try await self.eventQueue.redrive(function: name, nowMillis: Timestamp.nowMillis())
        return ServiceResponse.document(200, ["Redriven": .number(Double(count))])
    }
}
