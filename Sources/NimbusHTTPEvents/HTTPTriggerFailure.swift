import NIOCore

/// The errors a front door answers itself, without (or instead of) the function's response.
///
/// ``response(frontDoor:)`` gives the status, headers and body AWS sends for each; docs/http-triggers-wire.md has one
/// table per front door with the sources, and says where AWS's behaviour could not be found and what was chosen.
public enum HTTPTriggerFailure: String, Sendable, Hashable, CaseIterable {
    /// The function ran and failed (`X-Amz-Function-Error: Unhandled`, or `Handled` from a runtime's error report).
    case functionError
    /// The function's result could not be mapped (``HTTPResponseMappingError``).
    case invalidResponse
    /// The invocation was throttled: reserved concurrency 0, or the function's or account's concurrency exhausted.
    case throttled
    /// The function ran longer than its timeout.
    case timeout
    /// The function's response exceeded Lambda's 6 MB synchronous payload limit.
    case responseTooLarge
    /// The request (event) exceeded the front door's payload limit.
    case requestTooLarge
    /// The function (or the alias or version the URL or integration names) does not exist, e.g. deleted while its
    /// URL or route was still in use.
    case functionNotFound
    /// The caller may not invoke: a `NONE` URL without a policy statement allowing `lambda:InvokeFunctionUrl` to
    /// `*`, an `AWS_IAM` URL with a missing or invalid signature; for HTTP APIs, API Gateway itself lacking
    /// permission to invoke the function.
    case forbidden
    /// Nothing answers at this address: an unknown URL id or API id, or no route matched.
    case notFound

    /// The response AWS sends for this failure at `frontDoor`.
    public func response(frontDoor: HTTPFrontDoor) -> HTTPTriggerResponse {
        switch frontDoor {
        case .functionURL: self.functionURLResponse
        case .httpAPI: self.httpAPIResponse
        }
    }

    /// Function URLs: errors from the Lambda frontend are JSON `{"Message": …}` bodies with `x-amzn-ErrorType`;
    /// a failed invocation is a bare `Internal Server Error` 502.
    private var functionURLResponse: HTTPTriggerResponse {
        switch self {
        case .functionError, .invalidResponse, .timeout, .responseTooLarge:
            return Self.text(502, "Internal Server Error")
        case .throttled:
            return Self.json(
                429,
                #"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#,
                errorType: "TooManyRequestsException"
            )
        case .requestTooLarge:
            return Self.json(413, #"{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}"#,
                errorType: "RequestTooLargeException")
        case .functionNotFound, .forbidden, .notFound:
            return Self.json(
                403,
                #"{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}"#,
                errorType: "AccessDeniedException"
            )
        }
    }

    /// HTTP APIs: every error is a JSON `{"message": …}` body.
    private var httpAPIResponse: HTTPTriggerResponse {
        switch self {
        case .functionError, .invalidResponse, .responseTooLarge, .functionNotFound, .forbidden:
            return Self.json(500, #"{"message":"Internal Server Error"}"#)
        case .throttled:
            return Self.json(429, #"{"message":"Too Many Requests"}"#)
        case .timeout:
            return Self.json(503, #"{"message":"Service Unavailable"}"#)
        case .requestTooLarge:
            return Self.json(413, #"{"message":"Request Entity Too Large"}"#)
        case .notFound:
            return Self.json(404, #"{"message":"Not Found"}"#)
        }
    }

    private static func json(_ status: Int, _ body: String, errorType: String? = nil) -> HTTPTriggerResponse {
        var headers: [(name: String, value: String)] = [("content-type", "application/json")]
        if let errorType { headers.append(("x-amzn-ErrorType", errorType)) }
        return HTTPTriggerResponse(status: status, headers: headers, body: ByteBuffer(string: body))
    }

    private static func text(_ status: Int, _ body: String) -> HTTPTriggerResponse {
        HTTPTriggerResponse(status: status, headers: [("content-type", "application/json")], body: ByteBuffer(string: body))
    }
}
