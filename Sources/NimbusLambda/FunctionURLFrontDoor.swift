import Foundation
import NIOCore
import NimbusCore
import NimbusEdge
import NimbusHTTPEvents
import NimbusInvoker
import NimbusStore

/// Function URLs as clients reach them: `http://<url-id>.lambda-url.<region>.localhost:<port>/…`, routed by Host.
/// The URL's auth type and the function's resource policy decide who may call; the request becomes a payload
/// format 2.0 event; the function's answer becomes the HTTP response; CORS is answered from the URL's
/// configuration, never by the function.
extension LambdaService {
    /// The edge's service for function URLs: one operation for every method and path of a URL host.
    public var urlDefinition: ServiceDefinition {
        ServiceDefinition(
            name: "lambda-url", signingNames: [], wire: .http, hostRules: [HostRule("{UrlId}.lambda-url.{Region}")],
            defaultBodyLimit: Limits.maximumSyncPayloadBytes,
            operations: [
                ServiceOperation(
                    "InvokeFunctionUrl", bodyLimit: Limits.maximumSyncPayloadBytes, limitName: "InvokeFunction",
                    onConnectionLoop: true,
                    tooLarge: Self.serviceResponse(HTTPTriggerFailure.requestTooLarge.response(frontDoor: .functionURL))
                ) { try await self.serveURL($0) }
            ])
    }

    func serveURL(_ p: ServiceRequest) async throws -> ServiceResponse {
        let urlID = p.label("UrlId").lowercased()
        guard let entry = self.urlIndex.get(urlID), entry.namespace.region == p.label("Region").lowercased(),
            let api = self.ready.withLock({ $0[entry.namespace] }),
            let function = api.catalog.get(entry.function), let config = function.urls[entry.qualifier]
        else {
            return Self.serviceResponse(HTTPTriggerFailure.notFound.response(frontDoor: .functionURL))
        }
        let http = p.http ?? ServiceRequest.HTTPExchange(
            method: "GET", rawPath: "/", rawQuery: "", protocolVersion: "HTTP/1.1", sourceIP: "127.0.0.1")
        let request = HTTPTriggerRequest(
            method: http.method, rawPath: http.rawPath, rawQuery: http.rawQuery,
            headers: p.headers.map { (name: $0.0, value: $0.1) }, body: p.body, sourceIP: http.sourceIP,
            protocol: http.protocolVersion, host: p.host, requestID: p.requestID, timeEpochMillis: Timestamp.nowMillis())
        let cors = config.cors.map(LambdaAPI.corsPolicy)
        if let cors, let preflight = cors.preflightResponse(for: request) {
            return Self.serviceResponse(preflight)
        }
        var answer = await self.answerURL(request, p: p, api: api, function: function, config: config, entry: entry)
        if let cors { cors.decorate(&answer, for: request) }
        return Self.serviceResponse(answer, requestID: p.requestID)
    }

    /// The function's answer, or the platform's error as function URLs render it.
    func answerURL(
        _ request: HTTPTriggerRequest, p: ServiceRequest, api: LambdaAPI, function: StoredFunction,
        config: FunctionURLConfig, entry: FunctionURLIndex.Entry
    ) async -> HTTPTriggerResponse {
        let qualifier = entry.qualifier.isEmpty ? nil : entry.qualifier
        let target: ResolvedFunction
        do {
            target = try api.resolve(entry.function, qualifier: qualifier, invoking: true)
        } catch {
            // An alias deleted under its URL: AWS answers as for a missing permission.
            return Self.failure(.forbidden)
        }
        var caller: IAMCallerIdentity?
        let policyRequest: PolicyRequest
        let context = ["lambda:FunctionUrlAuthType": config.authType, "lambda:InvokedViaFunctionUrl": "true"]
        if config.authType == "AWS_IAM" {
            // A signature for another service or region does not open a URL (AWS checks both).
            guard case .valid(service: "lambda", let region) = p.signature, region == entry.namespace.region else {
                return Self.failure(.forbidden)
            }
            caller = IAMCallerIdentity(
                accessKey: p.caller.accessKeyID, accountID: p.caller.account, callerID: p.caller.userID,
                userARN: p.caller.arn, userID: p.caller.userID)
            policyRequest = PolicyRequest(
                principal: .account(p.caller.account, arn: p.caller.arn), action: "lambda:InvokeFunctionUrl",
                context: context)
            // Callers of the function's own account are allowed by their identity (Nimbus's keys act as account
            // administrators); others need a statement naming them.
            if p.caller.account != entry.namespace.accountID {
                guard (try? api.authorize(target, policyRequest)) != nil else { return Self.failure(.forbidden) }
            }
        } else {
            policyRequest = PolicyRequest(principal: .anonymous, action: "lambda:InvokeFunctionUrl", context: context)
            guard (try? api.authorize(target, policyRequest)) != nil else { return Self.failure(.forbidden) }
        }
        // The headers Lambda's URL frontend adds in front of the function; the trace reaches the runtime too.
        let trace = Invoker.traceID()
        var request = request
        request.appendForwardedHeaders(
            port: LambdaAPI.port(of: request.host) ?? 80, proto: "http",
            traceID: String(trace.prefix { $0 != ";" }))
        let event = PayloadFormatV2.event(
            for: request,
            context: .functionURL(
                urlID: config.urlID, domainName: HTTPTriggerContext.domainName(fromHost: request.host),
                accountID: entry.namespace.accountID, caller: caller))
        let result: InvokeResult
        do {
            result = try await api.run(target, payload: event, requestID: p.requestID, traceID: trace, eventLoop: p.eventLoop)
        } catch let error as NimbusError {
            return Self.failure(Self.failure(for: error))
        } catch {
            return Self.failure(.functionError)
        }
        if result.functionError != nil {
            return Self.failure(Self.failure(forErrorType: result.errorType))
        }
        do {
            return try PayloadFormatV2.response(from: result.payload)
        } catch {
            return Self.failure(.invalidResponse)
        }
    }

    static func failure(_ failure: HTTPTriggerFailure) -> HTTPTriggerResponse {
        failure.response(frontDoor: .functionURL)
    }

    /// The front doors' failure for a platform error of the invocation.
    static func failure(for error: NimbusError) -> HTTPTriggerFailure {
        switch error.code {
        case .tooManyRequests: .throttled(reason: error.extra["Reason"] ?? "ConcurrentInvocationLimitExceeded")
        case .requestTooLarge: .requestTooLarge
        case .resourceNotFound: .functionNotFound
        case .accessDenied: .forbidden
        default: .functionError
        }
    }

    /// The front doors' failure for a function that failed: timeouts and oversized responses have their own.
    static func failure(forErrorType type: String?) -> HTTPTriggerFailure {
        switch type {
        case "Sandbox.Timedout": .timeout
        case "Function.ResponseSizeTooLarge": .responseTooLarge
        default: .functionError
        }
    }

    /// The answer as the edge sends it; `x-amzn-RequestId` names the invocation, as Lambda's frontend does.
    static func serviceResponse(_ answer: HTTPTriggerResponse, requestID: String? = nil) -> ServiceResponse {
        var headers = answer.headers.map { ($0.name, $0.value) }
        if let requestID { headers.append(("x-amzn-RequestId", requestID)) }
        return .http(answer.status, headers: headers, body: answer.body)
    }
}

