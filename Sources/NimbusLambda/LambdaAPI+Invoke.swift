import Foundation
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusQueue
import NimbusSandbox

extension LambdaAPI {
    /// `POST /2015-03-31/functions/{Fn}/invocations`.
    func invoke(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let invocationType = p.header("x-amz-invocation-type") ?? "RequestResponse"
        guard ["RequestResponse", "Event", "DryRun"].contains(invocationType) else {
            throw NimbusError.validation([
                "Value '\(invocationType)' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            ])
        }
        let logType = p.header("x-amz-log-type") ?? "None"
        guard logType == "None" || logType == "Tail" else {
            throw NimbusError.validation([
                "Value '\(logType)' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]"
            ])
        }
        let target = try self.resolve(name, qualifier: p.queryValue("Qualifier"), invoking: true)
        let limit = invocationType == "Event" ? Limits.maximumAsyncPayloadBytes : Limits.maximumSyncPayloadBytes
        var payload = try Self.collect(p, limit: limit, operation: "InvokeFunction")
        if payload.readableBytes == 0 {
            payload = ByteBuffer(string: "{}")
        } else if let problem = Self.jsonProblem(payload) {
            throw NimbusError(
                .invalidRequestContent,
                "Could not parse request body into json: Could not parse payload into json: \(problem)")
        }
        let clientContext = try p.header("x-amz-client-context").map(Self.decodeClientContext)
        let config = self.routedConfiguration(target)
        // The runtime sees the ARN as invoked (an alias keeps its name); the version that runs is in the
        // configuration (AWS_LAMBDA_FUNCTION_VERSION, X-Amz-Executed-Version).
        let invokedARN = self.account.functionARN(config.name, qualifier: target.qualifier)
        let requestID = p.requestID
        let invokeRequest = InvokeRequest(
            configuration: config, payload: payload, requestID: requestID, invokedFunctionARN: invokedARN,
            clientContext: clientContext, traceID: p.header("x-amzn-trace-id"), wantsLogTail: logType == "Tail",
            network: target.function.tags[FunctionRegistry.networkTag].flatMap(NetworkMode.init(rawValue:)),
            eventLoop: p.eventLoop)
        switch invocationType {
        case "DryRun":
            return ServiceResponse.empty(204)
        case "Event":
            // 202 only once the event is committed to the durable queue (synchronous = FULL).
            try await self.eventQueue.enqueue(
                QueuedEvent(
                    requestID: requestID, namespace: self.account, functionName: config.name, qualifier: target.qualifier,
                    payload: Array(payload.readableBytesView)))
            return ServiceResponse.empty(202)
        default:
            let result = try await self.invoker.invoke(invokeRequest)
            var headers = [("X-Amz-Executed-Version", result.executedVersion)]
            if let functionError = result.functionError { headers.append(("X-Amz-Function-Error", functionError)) }
            if let tail = result.logTail { headers.append(("X-Amz-Log-Result", tail)) }
            return .bytes(200, result.payload, contentType: "application/json", headers: headers)
        }
    }

    /// `POST /2014-11-13/functions/{Fn}/invoke-async` (deprecated InvokeAsync): queue and answer `{"Status":202}`.
    func invokeAsync(_ p: ServiceRequest, name: String) async throws -> ServiceResponse {
        let target = try self.resolve(name, qualifier: nil)
        var payload = try Self.collect(p, limit: 262_144, operation: "InvokeAsync")
        if payload.readableBytes == 0 { payload = ByteBuffer(string: "{}") }
        if let problem = Self.jsonProblem(payload) {
            throw NimbusError(
                .invalidRequestContent,
                "Could not parse request body into json: Could not parse payload into json: \(problem)")
        }
        try await self.eventQueue.enqueue(
            QueuedEvent(
                requestID: p.requestID, namespace: self.account, functionName: target.function.configuration.name, qualifier: target.qualifier,
                payload: Array(payload.readableBytesView)))
        return ServiceResponse.document(202, ["Status": 202])
    }

    /// The configuration one invocation runs: the resolved version, or for an alias with routing the version its
    /// weights pick with a fresh random number.
    func routedConfiguration(_ target: ResolvedFunction) -> FunctionConfiguration {
        guard let alias = target.alias, !alias.additionalVersionWeights.isEmpty else { return target.configuration }
        return target.function.version(alias.version(forRandom: self.random())) ?? target.configuration
    }

    /// Why a payload is not JSON, or nil when it is.
    static func jsonProblem(_ payload: ByteBuffer) -> String? {
        JSONValidator.problem(in: payload.readableBytesView)
    }

    /// `X-Amz-Client-Context`: base64 of a JSON object, at most 3,583 bytes; the runtime gets the decoded JSON.
    static func decodeClientContext(_ header: String) throws -> String {
        if header.utf8.count > Limits.maximumClientContextBytes {
            throw NimbusError.invalidParameter(
                "Client context must be smaller than \(Limits.maximumClientContextBytes) bytes once base64-encoded.")
        }
        guard let data = Data(base64Encoded: header),
            (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
        else {
            throw NimbusError.invalidParameter("Client context must be a valid Base64-encoded JSON object.")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
