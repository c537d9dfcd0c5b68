import NIOCore
import NimbusCore
import NimbusEdge
import NimbusHTTPEvents
import NimbusInvoker
import Synchronization

/// The invoke endpoint: `http://<api-id>.execute-api.localhost:<port>/[<stage>/]<path>`, routed by Host. It picks
/// the stage and the route (``RouteMatcher``), answers CORS preflights from the API's configuration, builds the
/// payload format 2.0 or 1.0 event, invokes the integration's function as `apigateway.amazonaws.com` (the function's
/// resource policy must allow it, as on AWS) and maps the answer; every failure is answered the way an HTTP API
/// answers it (``HTTPTriggerFailure``).
extension APIGatewayService {
    /// AWS's quotas for HTTP APIs: the payload (10 MB) and the request line with the header values (10,240 bytes).
    static let maximumPayloadBytes = 10 * 1024 * 1024
    static let maximumHeaderBytes = 10_240

    /// The edge's service for invoke hosts: one operation for every method and path.
    public var invokeDefinition: ServiceDefinition {
        ServiceDefinition(
            name: "execute-api", signingNames: [], wire: .http, hostRules: [HostRule("{ApiId}.execute-api")],
            defaultBodyLimit: Self.maximumPayloadBytes,
            operations: [
                ServiceOperation(
                    "Invoke", bodyLimit: Self.maximumPayloadBytes, onConnectionLoop: true,
                    tooLarge: Self.serviceResponse(HTTPTriggerFailure.requestTooLarge.response(frontDoor: .httpAPI))
                ) {
                    [self] request in
                    await self.serve(request)
                }
            ])
    }

    /// One request to an invoke host.
    func serve(_ p: ServiceRequest) async -> ServiceResponse {
        let received = Timestamp.nowMillis()
        let requestID = Self.makeRequestID()
        let http =
            p.http
            ?? ServiceRequest.HTTPExchange(
                method: "GET", rawPath: "/", rawQuery: "", protocolVersion: "HTTP/1.1", sourceIP: "127.0.0.1")
        let request = HTTPTriggerRequest(
            method: http.method.uppercased(), rawPath: http.rawPath.isEmpty ? "/" : http.rawPath,
            rawQuery: http.rawQuery,
            headers: p.headers.map { (name: $0.0, value: $0.1) }, body: p.body, sourceIP: http.sourceIP,
            protocol: http.protocolVersion, host: p.host, requestID: requestID, timeEpochMillis: received)
        var answer = await self.answer(request, p)
        answer.headers.append(("apigw-requestid", requestID))
        return Self.serviceResponse(answer)
    }

    /// The response before the request id header.
    func answer(_ request: HTTPTriggerRequest, _ p: ServiceRequest) async -> HTTPTriggerResponse {
        guard let serving = self.catalog.serving(p.label("ApiId").lowercased()) else {
            return HTTPTriggerFailure.notFound.response(frontDoor: .httpAPI)
        }
        let state = serving.state
        if state.api.disableExecuteApiEndpoint { return Self.forbidden }
        if Self.headerBytes(request) > Self.maximumHeaderBytes { return Self.headersTooLarge }
        let (stageName, segments) = Self.selectStage(path: request.rawPath, stages: state.stages.map(\.stageName))
        guard let stageName, let stage = state.stage(stageName) else {
            return HTTPTriggerFailure.notFound.response(frontDoor: .httpAPI)
        }
        let cors = state.api.corsConfiguration.map(Self.corsPolicy)
        if let cors, let preflight = cors.preflightResponse(for: request) { return preflight }
        var answer = await self.route(request, p, serving: serving, stage: stage, segments: segments)
        if let cors { cors.decorate(&answer, for: request) }
        return answer
    }

    /// Matches the route and runs its integration.
    func route(
        _ request: HTTPTriggerRequest, _ p: ServiceRequest, serving: ServingAPI, stage: Stage, segments: [String]
    ) async -> HTTPTriggerResponse {
        let state = serving.state
        guard let matcher = serving.matcher(for: stage),
            let match = matcher.match(method: request.method, segments: segments),
            let integration = match.target.integration
        else {
            return HTTPTriggerFailure.notFound.response(frontDoor: .httpAPI)
        }
        var caller: IAMCallerIdentity?
        if match.target.route.authorizationType == "AWS_IAM" {
            guard case .valid(service: "execute-api", _) = p.signature else { return Self.forbidden }
            caller = IAMCallerIdentity(
                accessKey: p.caller.accessKeyID, accountID: p.caller.account, callerID: p.caller.userID,
                userARN: p.caller.arn, userID: p.caller.userID)
        }
        let context = HTTPTriggerContext.httpAPI(
            apiID: state.api.id, domainName: HTTPTriggerContext.domainName(fromHost: request.host),
            accountID: state.namespace.accountID, stage: stage.stageName, routeKey: match.key.raw,
            pathParameters: match.pathParameters, stageVariables: stage.stageVariables, caller: caller)
        let version2 = integration.payloadFormatVersion == "2.0"
        let event =
            version2
            ? PayloadFormatV2.event(for: request, context: context)
            : PayloadFormatV1.event(for: request, context: context)
        if event.readableBytes > Limits.maximumSyncPayloadBytes {
            return HTTPTriggerFailure.eventTooLarge.response(frontDoor: .httpAPI)
        }
        let invocation = TriggeredInvocation(
            function: integration.function, namespace: state.namespace, payload: event,
            principal: "apigateway.amazonaws.com", action: "lambda:InvokeFunction",
            sourceARN: Self.sourceARN(state, stage: stage.stageName, routeKey: match.key),
            sourceAccount: state.namespace.accountID, requestID: p.requestID, eventLoop: p.eventLoop)
        let failure: HTTPTriggerFailure
        switch await self.invoke(invocation, within: integration.timeoutInMillis) {
        case .result(let result) where result.functionError == nil:
            do {
                return version2
                    ? try PayloadFormatV2.response(from: result.payload)
                    : try PayloadFormatV1.response(from: result.payload)
            } catch {
                failure = .invalidResponse
                self.logger.info(
                    "HTTP API integration response not mapped",
                    metadata: [
                        "apigateway.api.id": "\(state.api.id)", "apigateway.request.id": "\(request.requestID)",
                        "error": "\(error)",
                    ])
            }
        case .result(let result):
            failure = Self.failure(forErrorType: result.errorType)
        case .failed(let error):
            failure = Self.failure(for: error)
            self.logger.info(
                "HTTP API integration failed",
                metadata: [
                    "apigateway.api.id": "\(state.api.id)", "apigateway.request.id": "\(request.requestID)",
                    "lambda.function": "\(integration.function)", "error": "\(error)",
                ])
        case .timedOut:
            failure = .integrationTimeout
        }
        return failure.response(frontDoor: .httpAPI)
    }

    // MARK: Invoking

    enum InvokeOutcome: Sendable {
        case result(InvokeResult)
        case failed(any Error)
        case timedOut
    }

    /// Invokes, giving up after the integration's timeout. The invocation itself is not cancelled: as on AWS, the
    /// function runs to its own timeout and only the HTTP caller stops waiting. That is why it runs in an
    /// unstructured task: a child task would hold this request until the function ends.
    func invoke(_ invocation: TriggeredInvocation, within timeoutMillis: Int) async -> InvokeOutcome {
        let functions = self.functions
        return await withCheckedContinuation { (continuation: CheckedContinuation<InvokeOutcome, Never>) in
            let first = FirstOutcome(continuation)
            let timer = Task {
                do {
                    try await Task.sleep(for: .milliseconds(timeoutMillis))
                    first.resume(.timedOut)
                } catch {
                    // Cancelled: the invocation answered first.
                }
            }
            Task {
                let outcome: InvokeOutcome
                do {
                    outcome = .result(try await functions.invoke(invocation))
                } catch {
                    outcome = .failed(error)
                }
                timer.cancel()
                first.resume(outcome)
            }
        }
    }

    /// Resumes a continuation once, with whichever outcome comes first.
    final class FirstOutcome: Sendable {
        let continuation: Mutex<CheckedContinuation<InvokeOutcome, Never>?>

        init(_ continuation: CheckedContinuation<InvokeOutcome, Never>) {
            self.continuation = Mutex(continuation)
        }

        func resume(_ outcome: InvokeOutcome) {
            let waiting = self.continuation.withLock { continuation in
                defer { continuation = nil }
                return continuation
            }
            waiting?.resume(returning: outcome)
        }
    }

    /// What an HTTP API answers for a platform error of the invocation (all but the timeout are its 500).
    static func failure(for error: any Error) -> HTTPTriggerFailure {
        guard let error = error as? NimbusError else { return .functionError }
        switch error.code {
        case .tooManyRequests:
            return .throttled(reason: error.extra["Reason"] ?? "ConcurrentInvocationLimitExceeded")
        case .requestTooLarge: return .eventTooLarge
        case .resourceNotFound: return .functionNotFound
        case .accessDenied: return .forbidden
        default: return .functionError
        }
    }

    /// What an HTTP API answers for a function that failed.
    static func failure(forErrorType type: String?) -> HTTPTriggerFailure {
        switch type {
        case "Sandbox.Timedout": .timeout
        case "Function.ResponseSizeTooLarge": .responseTooLarge
        default: .functionError
        }
    }

    // MARK: Pieces

    /// The stage a path addresses and the path's segments below it (percent-decoded, empty segments dropped): a
    /// named stage when the first segment is its name, otherwise `$default` with the whole path. Nil when neither
    /// exists (AWS: 404 `Not Found`).
    static func selectStage(path: String, stages: [String]) -> (stage: String?, segments: [String]) {
        let segments = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        if let first = segments.first, first != Validation.defaultStage, stages.contains(first) {
            return (first, Array(segments.dropFirst()))
        }
        return (stages.contains(Validation.defaultStage) ? Validation.defaultStage : nil, segments)
    }

    /// `arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<route path>` (the route's path as its key
    /// spells it: `GET/items/{id}`), or `…/<stage>/$default` for the `$default` route: the ARN Lambda matches against
    /// a permission's `SourceArn` (`…/*/GET/items/{id}`, `…/*/$default`, `…/*/*`).
    static func sourceARN(_ state: APIState, stage: String, routeKey: RouteKey) -> String {
        let route = routeKey.isDefault ? RouteKey.defaultKey : routeKey.method + routeKey.path
        return
            "arn:aws:execute-api:\(state.namespace.region):\(state.namespace.accountID):\(state.api.id)/\(stage)/\(route)"
    }

    /// The request line and the header values, as AWS's 10,240-byte quota ("total combined size of request line
    /// and header values") counts them.
    static func headerBytes(_ request: HTTPTriggerRequest) -> Int {
        var total =
            request.method.utf8.count + request.rawPath.utf8.count + request.rawQuery.utf8.count + 2
            + request.protocol.utf8.count
        for (_, value) in request.headers { total += value.utf8.count }
        return total
    }

    /// An API's `CorsConfiguration` as the policy the platform applies.
    static func corsPolicy(_ cors: CorsConfiguration) -> CORSPolicy {
        CORSPolicy(
            frontDoor: .httpAPI, allowCredentials: cors.allowCredentials ?? false,
            allowHeaders: cors.allowHeaders ?? [],
            allowMethods: cors.allowMethods ?? [], allowOrigins: cors.allowOrigins ?? [],
            exposeHeaders: cors.exposeHeaders ?? [], maxAge: cors.maxAge)
    }

    /// The answers of API Gateway itself that ``HTTPTriggerFailure`` does not hold: a disabled default endpoint or
    /// an IAM-authorized route without a valid signature (403), and a request line with headers over the quota.
    static var forbidden: HTTPTriggerResponse {
        HTTPTriggerResponse(
            status: 403, headers: [("content-type", "application/json")],
            body: ByteBuffer(string: #"{"message":"Forbidden"}"#))
    }

    static var headersTooLarge: HTTPTriggerResponse {
        HTTPTriggerResponse(
            status: 431, headers: [("content-type", "application/json")],
            body: ByteBuffer(string: #"{"message":"Request Header Fields Too Large"}"#))
    }

    /// An id in the shape of API Gateway's (`apigw-requestid`, `requestContext.requestId`): 11 random bytes in
    /// base64, such as `Jh9RtjTxIAMEMXA=`.
    static func makeRequestID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var generator = SystemRandomNumberGenerator()
        var id = ""
        for _ in 0..<15 { id.append(alphabet[Int.random(in: 0..<64, using: &generator)]) }
        // The 15th character of 11 bytes carries only 4 bits: its last two are zero.
        if let last = id.popLast(), let index = alphabet.firstIndex(of: last) { id.append(alphabet[index & ~3]) }
        return id + "="
    }

    /// The answer as the edge sends it.
    static func serviceResponse(_ answer: HTTPTriggerResponse) -> ServiceResponse {
        .http(answer.status, headers: answer.headers.map { ($0.name, $0.value) }, body: answer.body)
    }
}
