import NIOCore

/// An HTTP request as a front door (a function URL or an API Gateway HTTP API) received it, before it becomes an
/// event.
///
/// NimbusHTTPEvents is the pure part both front doors share: ``PayloadFormatV2`` and ``PayloadFormatV1`` turn this
/// value into the JSON event the function receives and turn the function's result back into an
/// ``HTTPTriggerResponse``; ``HTTPTriggerFailure`` holds the errors each front door answers itself and ``CORSPolicy``
/// the CORS behaviour both apply from their configuration. It does no I/O and knows no HTTP server: the front doors
/// fill this value from their listener and write the response back. docs/http-triggers-wire.md lists every rule and
/// where it comes from.
public struct HTTPTriggerRequest: Sendable {
    /// The request method as sent, upper-case (`GET`, `POST`…).
    public var method: String
    /// The path as sent on the request line, still percent-encoded, without the query (`/items/a%20b`). For an HTTP
    /// API on a named stage this includes the stage (`/dev/items`), as AWS's `rawPath` does.
    public var rawPath: String
    /// The query string as sent, without the `?` (empty when there is none).
    public var rawQuery: String
    /// Header fields in arrival order, names lower-cased, repeated fields kept as separate entries.
    public var headers: [(name: String, value: String)]
    /// The request body (empty when there is none).
    public var body: ByteBuffer
    /// The address of the immediate TCP peer.
    public var sourceIP: String
    /// The HTTP version as AWS writes it (`HTTP/1.1`).
    public var `protocol`: String
    /// The `Host` the client addressed (`<url-id>.lambda-url.<region>.localhost:9000`); the domain of the event.
    public var host: String
    /// The front door's id for this request: `requestContext.requestId`, and the id it logs and returns.
    public var requestID: String
    /// When the front door received the request, in milliseconds since the Unix epoch (`timeEpoch`).
    public var timeEpochMillis: Int64

    public init(
        method: String,
        rawPath: String,
        rawQuery: String = "",
        headers: [(name: String, value: String)] = [],
        body: ByteBuffer = ByteBuffer(),
        sourceIP: String,
        protocol: String = "HTTP/1.1",
        host: String,
        requestID: String,
        timeEpochMillis: Int64
    ) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
        self.sourceIP = sourceIP
        self.protocol = `protocol`
        self.host = host
        self.requestID = requestID
        self.timeEpochMillis = timeEpochMillis
    }

    /// The first value of header `name` (lower-case), if any.
    public func header(_ name: String) -> String? {
        self.headers.first(where: { $0.name == name })?.value
    }

    /// Appends the headers a function URL adds in front of the function (a real event has them): `x-forwarded-for`
    /// (the client's address, after any the client sent), `x-forwarded-port`, `x-forwarded-proto` and
    /// `x-amzn-trace-id` (when given). Call before building the event.
    public mutating func appendForwardedHeaders(port: Int, proto: String = "http", traceID: String? = nil) {
        if let index = self.headers.firstIndex(where: { $0.name == "x-forwarded-for" }) {
            self.headers[index].value += ", " + self.sourceIP
        } else {
            self.headers.append(("x-forwarded-for", self.sourceIP))
        }
        self.headers.removeAll { $0.name == "x-forwarded-port" || $0.name == "x-forwarded-proto" }
        self.headers.append(("x-forwarded-port", String(port)))
        self.headers.append(("x-forwarded-proto", proto))
        if let traceID {
            self.headers.removeAll { $0.name == "x-amzn-trace-id" }
            self.headers.append(("x-amzn-trace-id", traceID))
        }
    }
}

/// Which front door handed the request to the function: it decides the few places where the two differ (which
/// optional members an event carries, and the errors and their shapes).
public enum HTTPFrontDoor: String, Sendable, Hashable {
    /// A Lambda function URL (`<url-id>.lambda-url.<region>.on.aws`): payload format 2.0 only.
    case functionURL
    /// An API Gateway HTTP API (`<api-id>.execute-api.<region>.amazonaws.com`): payload format 2.0 or 1.0.
    case httpAPI
}

/// The caller identity of an IAM-authenticated (SigV4-signed) request, as `requestContext.authorizer.iam` carries it.
public struct IAMCallerIdentity: Sendable, Hashable {
    /// The access key id the request was signed with.
    public var accessKey: String
    /// The caller's account.
    public var accountID: String
    /// The caller's id: the IAM user id, or `<role id>:<session name>` for an assumed role.
    public var callerID: String
    /// The caller's organization id; nil outside AWS Organizations (Nimbus has none).
    public var principalOrgID: String?
    /// The caller's ARN (`arn:aws:iam::111122223333:user/example-user`).
    public var userARN: String
    /// The caller's user id (same as `callerID` for IAM users).
    public var userID: String

    public init(
        accessKey: String,
        accountID: String,
        callerID: String,
        principalOrgID: String? = nil,
        userARN: String,
        userID: String
    ) {
        self.accessKey = accessKey
        self.accountID = accountID
        self.callerID = callerID
        self.principalOrgID = principalOrgID
        self.userARN = userARN
        self.userID = userID
    }
}

/// What differs per front door and per route, supplied by the front door that builds the event.
///
/// Use ``functionURL(urlID:domainName:accountID:caller:)`` or
/// ``httpAPI(apiID:domainName:accountID:stage:routeKey:pathParameters:stageVariables:caller:)`` rather than the
/// memberwise initialiser: they fill the placeholders AWS uses.
public struct HTTPTriggerContext: Sendable {
    /// Which front door this is.
    public var frontDoor: HTTPFrontDoor
    /// `routeKey`: `$default` for function URLs; the matched route's key for HTTP APIs (`GET /items/{id}`, `ANY
    /// /{proxy+}`, `$default`).
    public var routeKey: String
    /// `requestContext.stage`: `$default` for function URLs and the `$default` stage, otherwise the stage name.
    public var stage: String
    /// `requestContext.apiId`: the URL id of a function URL, the API id of an HTTP API.
    public var apiID: String
    /// `requestContext.accountId`. Function URLs with auth type `NONE` send `anonymous`; with `AWS_IAM` the function
    /// owner's account. HTTP APIs send the API owner's account.
    public var accountID: String
    /// `requestContext.domainName`: the host the client addressed, without a port.
    public var domainName: String
    /// `requestContext.domainPrefix`: the first label of `domainName` (the URL id or API id).
    public var domainPrefix: String
    /// `pathParameters`: the values of the matched route's `{name}` and `{name+}` segments (HTTP APIs only).
    public var pathParameters: [String: String]
    /// `stageVariables`: the stage's variables (HTTP APIs only).
    public var stageVariables: [String: String]
    /// The SigV4 caller, for `AWS_IAM` function URLs and HTTP API routes with IAM authorization; nil otherwise.
    public var caller: IAMCallerIdentity?

    public init(
        frontDoor: HTTPFrontDoor,
        routeKey: String = "$default",
        stage: String = "$default",
        apiID: String,
        accountID: String,
        domainName: String,
        domainPrefix: String,
        pathParameters: [String: String] = [:],
        stageVariables: [String: String] = [:],
        caller: IAMCallerIdentity? = nil
    ) {
        self.frontDoor = frontDoor
        self.routeKey = routeKey
        self.stage = stage
        self.apiID = apiID
        self.accountID = accountID
        self.domainName = domainName
        self.domainPrefix = domainPrefix
        self.pathParameters = pathParameters
        self.stageVariables = stageVariables
        self.caller = caller
    }

    /// The context of a function URL request: route key and stage are the `$default` placeholders AWS sends, the
    /// account is `anonymous` for an unsigned (`NONE`) URL and the function owner's for an `AWS_IAM` one.
    /// - Parameters:
    ///   - urlID: the URL id (the first label of the URL's host).
    ///   - domainName: the host the client addressed, port removed (see ``domainName(fromHost:)``).
    ///   - accountID: the function owner's account; used only when `caller` is set.
    ///   - caller: the SigV4 caller of an `AWS_IAM` URL; nil for `NONE`.
    public static func functionURL(
        urlID: String,
        domainName: String,
        accountID: String,
        caller: IAMCallerIdentity? = nil
    ) -> HTTPTriggerContext {
        HTTPTriggerContext(
            frontDoor: .functionURL,
            apiID: urlID,
            accountID: caller == nil ? "anonymous" : accountID,
            domainName: domainName,
            domainPrefix: urlID,
            caller: caller
        )
    }

    /// The context of an HTTP API request routed to a Lambda integration.
    /// - Parameters:
    ///   - apiID: the API id.
    ///   - domainName: the host the client addressed, port removed (see ``domainName(fromHost:)``).
    ///   - accountID: the API owner's account.
    ///   - stage: the stage name (`$default` or a named stage).
    ///   - routeKey: the matched route's key (`GET /items/{id}`, `$default`).
    ///   - pathParameters: the values captured by the route's path variables, decoded.
    ///   - stageVariables: the stage's variables.
    ///   - caller: the SigV4 caller for routes with `AWS_IAM` authorization.
    public static func httpAPI(
        apiID: String,
        domainName: String,
        accountID: String,
        stage: String = "$default",
        routeKey: String,
        pathParameters: [String: String] = [:],
        stageVariables: [String: String] = [:],
        caller: IAMCallerIdentity? = nil
    ) -> HTTPTriggerContext {
        HTTPTriggerContext(
            frontDoor: .httpAPI,
            routeKey: routeKey,
            stage: stage,
            apiID: apiID,
            accountID: accountID,
            domainName: domainName,
            domainPrefix: domainName.split(separator: ".", maxSplits: 1).first.map(String.init) ?? domainName,
            pathParameters: pathParameters,
            stageVariables: stageVariables,
            caller: caller
        )
    }

    /// A `Host` header value without its port (`abc.lambda-url.us-east-1.localhost:9000` →
    /// `abc.lambda-url.us-east-1.localhost`); bracketed IPv6 literals keep their brackets.
    public static func domainName(fromHost host: String) -> String {
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return host }
            return String(host[...close])
        }
        guard let colon = host.lastIndex(of: ":") else { return host }
        return String(host[..<colon])
    }

    /// The resource path of the route for payload format 1.0 (`resource`, `requestContext.resourcePath`): the path
    /// part of the route key (`GET /items/{id}` → `/items/{id}`), or the key itself for `$default`.
    public var resourcePath: String {
        guard let space = self.routeKey.firstIndex(of: " ") else { return self.routeKey }
        return String(self.routeKey[self.routeKey.index(after: space)...])
    }
}
