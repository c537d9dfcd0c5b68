import NIOCore

/// The errors a front door answers itself, without (or instead of) the function's response.
///
/// ``response(frontDoor:)`` gives the status, headers and body AWS sends for each; docs/http-triggers-wire.md has one
/// table per front door with the sources, and says where AWS's behaviour could not be found and what was chosen. The
/// front door adds its request id header (function URLs `x-amzn-RequestId`, HTTP APIs `apigw-requestid`), HTTP's own
/// headers, and CORS headers (``CORSPolicy/decorate(_:for:)``) as for any response.
public enum HTTPTriggerFailure: Sendable, Hashable {
    /// The function ran and failed: an unhandled exception, a runtime's error report, a crash, or Lambda's own
    /// errors reported as function errors (`Runtime.ExitError`, `Function.ResponseSizeTooLarge`).
    case functionError
    /// The function's result could not be mapped (``HTTPResponseMappingError``).
    case invalidResponse
    /// The invocation was throttled; `reason` is Lambda's (`ReservedFunctionConcurrentInvocationLimitExceeded` for
    /// reserved concurrency, including 0; `ConcurrentInvocationLimitExceeded` for the account's).
    case throttled(reason: String)
    /// The function ran longer than its configured timeout (Lambda reports `Sandbox.Timedout`).
    case timeout
    /// HTTP APIs only: the integration did not answer within its `TimeoutInMillis` (at most 30 s), whatever the
    /// function's own timeout. Function URLs have no such limit and treat it as ``timeout``.
    case integrationTimeout
    /// The function's response exceeded Lambda's 6 MB (6,291,556 bytes) synchronous response limit.
    case responseTooLarge
    /// The request body exceeded the front door's own limit (function URLs: the 6 MB invocation payload; HTTP APIs:
    /// 10 MB).
    case requestTooLarge
    /// HTTP APIs: the event built from an accepted request exceeds Lambda's 6 MB (6,291,456 bytes) invocation
    /// payload, so Lambda rejects the invocation. Function URLs answer it as ``requestTooLarge``.
    case eventTooLarge
    /// The function (or the alias the URL or integration names) does not exist, e.g. deleted while its URL or route
    /// was still in use.
    case functionNotFound
    /// The caller may not invoke: a `NONE` URL without a statement allowing `lambda:InvokeFunctionUrl` to `*`, an
    /// `AWS_IAM` URL with a missing or invalid signature or no permission; for HTTP APIs, API Gateway itself lacking
    /// permission to invoke the function (the client sees a 500, as on AWS).
    case forbidden
    /// Nothing answers at this address: an unknown URL id or API id, or (HTTP APIs) no route matched.
    case notFound

    /// `throttled` with the reason of reserved concurrency (the common case, and the one a reserved concurrency of 0
    /// gives).
    public static let throttledByReservedConcurrency = HTTPTriggerFailure.throttled(
        reason: "ReservedFunctionConcurrentInvocationLimitExceeded"
    )

    /// The response AWS sends for this failure at `frontDoor`.
    public func response(frontDoor: HTTPFrontDoor) -> HTTPTriggerResponse {
        switch frontDoor {
        case .functionURL: self.functionURLResponse
        case .httpAPI: self.httpAPIResponse
        }
    }

    /// Function URLs: a failed invocation is a bare `Internal Server Error` 502; refusals by Lambda's frontend are
    /// JSON with `x-amzn-ErrorType`, in the shapes of Lambda's own API errors.
    private var functionURLResponse: HTTPTriggerResponse {
        switch self {
        case .functionError, .invalidResponse, .timeout, .integrationTimeout, .responseTooLarge:
            return Self.response(502, "Internal Server Error")
        case .throttled(let reason):
            return Self.response(
                429,
                #"{"Reason":""# + reason + #"","Type":"User","message":"Rate Exceeded."}"#,
                errorType: "TooManyRequestsException"
            )
        case .requestTooLarge, .eventTooLarge:
            return Self.response(
                413,
                #"{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation","Type":"User"}"#,
                errorType: "RequestTooLargeException"
            )
        case .functionNotFound, .forbidden:
            return Self.response(
                403,
                #"{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}"#,
                errorType: "AccessDeniedException"
            )
        case .notFound:
            return Self.response(403, #"{"Message":null}"#, errorType: "AccessDeniedException")
        }
    }

    /// HTTP APIs: every error is a JSON `{"message": …}` body; everything that goes wrong with the integration is the
    /// same 500.
    private var httpAPIResponse: HTTPTriggerResponse {
        switch self {
        case .functionError, .invalidResponse, .timeout, .responseTooLarge, .eventTooLarge, .functionNotFound,
            .forbidden, .throttled:
            return Self.response(500, #"{"message":"Internal Server Error"}"#)
        case .integrationTimeout:
            return Self.response(503, #"{"message":"Service Unavailable"}"#, contentType: nil)
        case .requestTooLarge:
            return Self.response(413, #"{"message":"Request Entity Too Large"}"#)
        case .notFound:
            return Self.response(404, #"{"message":"Not Found"}"#)
        }
    }

    private static func response(
        _ status: Int,
        _ body: String,
        errorType: String? = nil,
        contentType: String? = "application/json"
    ) -> HTTPTriggerResponse {
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append(("content-type", contentType)) }
        if let errorType { headers.append(("x-amzn-ErrorType", errorType)) }
        return HTTPTriggerResponse(status: status, headers: headers, body: ByteBuffer(string: body))
    }
}
