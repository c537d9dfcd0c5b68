import NIOCore
import NimbusHTTPEvents
import Testing

@Suite struct HTTPTriggerFailureTests {
    static let forbiddenMessage =
        #"{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}"#

    @Test func functionURLRecordedAnswers() {
        // test_lambda_url_invocation_exception: 502 "Internal Server Error".
        let failed = HTTPTriggerFailure.functionError.response(frontDoor: .functionURL)
        #expect(failed.status == 502)
        #expect(failed.bodyText == "Internal Server Error")
        // test_lambda_permission_url_invocation and test_lambda_url_persists_after_alias_delete.
        for failure in [HTTPTriggerFailure.forbidden, .functionNotFound] {
            let answer = failure.response(frontDoor: .functionURL)
            #expect(answer.status == 403)
            #expect(answer.bodyText == Self.forbiddenMessage)
            #expect(answer.header("x-amzn-ErrorType") == "AccessDeniedException")
            #expect(answer.header("content-type") == "application/json")
        }
        // test_lambda_url_non_existing_url.
        let unknown = HTTPTriggerFailure.notFound.response(frontDoor: .functionURL)
        #expect(unknown.status == 403)
        #expect(unknown.bodyText == #"{"Message":null}"#)
        #expect(unknown.header("x-amzn-ErrorType") == "AccessDeniedException")
        #expect(unknown.header("content-type") == "application/json")
    }

    @Test func functionURLOtherAnswers() {
        for failure in [HTTPTriggerFailure.invalidResponse, .timeout, .integrationTimeout, .responseTooLarge] {
            let answer = failure.response(frontDoor: .functionURL)
            #expect(answer.status == 502)
            #expect(answer.bodyText == "Internal Server Error")
        }
        let throttled = HTTPTriggerFailure.throttledByReservedConcurrency.response(frontDoor: .functionURL)
        #expect(throttled.status == 429)
        #expect(throttled.header("x-amzn-ErrorType") == "TooManyRequestsException")
        #expect(
            throttled.bodyText
                == #"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#
        )
        let account = HTTPTriggerFailure.throttled(reason: "ConcurrentInvocationLimitExceeded")
        #expect(
            account.response(frontDoor: .functionURL).bodyText.contains(
                #""Reason":"ConcurrentInvocationLimitExceeded""#
            )
        )
        for failure in [HTTPTriggerFailure.requestTooLarge, .eventTooLarge] {
            let answer = failure.response(frontDoor: .functionURL)
            #expect(answer.status == 413)
            #expect(answer.header("x-amzn-ErrorType") == "RequestTooLargeException")
        }
    }

    @Test func httpAPIAnswers() {
        let expected: [(HTTPTriggerFailure, Int, String)] = [
            (.functionError, 500, #"{"message":"Internal Server Error"}"#),
            (.invalidResponse, 500, #"{"message":"Internal Server Error"}"#),
            (.timeout, 500, #"{"message":"Internal Server Error"}"#),
            (.responseTooLarge, 500, #"{"message":"Internal Server Error"}"#),
            (.eventTooLarge, 500, #"{"message":"Internal Server Error"}"#),
            (.functionNotFound, 500, #"{"message":"Internal Server Error"}"#),
            (.forbidden, 500, #"{"message":"Internal Server Error"}"#),
            (.throttledByReservedConcurrency, 500, #"{"message":"Internal Server Error"}"#),
            (.integrationTimeout, 503, #"{"message":"Service Unavailable"}"#),
            (.requestTooLarge, 413, #"{"message":"Request Entity Too Large"}"#),
            (.notFound, 404, #"{"message":"Not Found"}"#),
        ]
        for (failure, status, body) in expected {
            let answer = failure.response(frontDoor: .httpAPI)
            #expect(answer.status == status, "\(failure)")
            #expect(answer.bodyText == body, "\(failure)")
            #expect(answer.header("x-amzn-ErrorType") == nil)
        }
        #expect(HTTPTriggerFailure.notFound.response(frontDoor: .httpAPI).header("content-type") == "application/json")
        #expect(HTTPTriggerFailure.integrationTimeout.response(frontDoor: .httpAPI).header("content-type") == nil)
    }
}
