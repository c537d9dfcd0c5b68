import NIOCore
import NimbusCore
import NimbusHTTPEvents
import Testing

@Suite struct PayloadFormatV2ResponseTests {
    /// Function URL answers recorded on AWS (/tmp/recorded-http.json, `TestLambdaURL::test_lambda_url_invocation`):
    /// the Python handler's return value, as AWS's Python runtime serialises it (simplejson's `", "` and `": "`
    /// separators), and the body the client received. Every one is 200 with `Content-Type: application/json`.
    static let recorded: [(id: String, result: String, body: String)] = [
        ("dict", #"{"hello": "world"}"#, #"{"hello":"world"}"#),
        ("http-response", #"{"statusCode": 200, "body": "body123"}"#, "body123"),
        (
            "http-response-json", #"{"statusCode": 200, "body": "{\"hello\": \"world\"}"}"#,
            #"{"hello": "world"}"#
        ),
        ("list-mixed", #"["hello", 3, true]"#, #"["hello",3,true]"#),
        ("string", #""hello""#, "hello"),
        ("integer", "3", "3"),
        ("float", "3.1", "3.1"),
        ("boolean", "true", "true"),
    ]

    @Test(arguments: recorded.map { $0.id })
    func recordedAWSAnswers(id: String) throws {
        let case_ = try #require(Self.recorded.first { $0.id == id })
        let response = try PayloadFormatV2.response(from: bytes(case_.result))
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.bodyText == case_.body)
        #expect(response.body.readableBytes == case_.body.utf8.count)
    }

    @Test func fullResponseObject() throws {
        let result = #"""
            {"statusCode": 201, "headers": {"Content-Type": "text/html", "My-Custom-Header": "Custom Value",
             "X-Number": 5, "X-Flag": true}, "cookies": ["Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT",
             "Cookie_2=Value2; Max-Age=78000"], "body": "<p>hi</p>", "isBase64Encoded": false}
            """#
        let response = try PayloadFormatV2.response(from: bytes(result))
        #expect(response.status == 201)
        #expect(response.header("content-type") == "text/html")
        #expect(response.header("my-custom-header") == "Custom Value")
        #expect(response.header("x-number") == "5")
        #expect(response.header("x-flag") == "true")
        #expect(
            response.cookies == ["Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT", "Cookie_2=Value2; Max-Age=78000"]
        )
        #expect(headerNames(response).filter { $0 == "content-type" }.count == 1)
        #expect(response.bodyText == "<p>hi</p>")
    }

    @Test func cookiesComeBeforeASetCookieHeader() throws {
        let response = try PayloadFormatV2.response(
            from: bytes(#"{"statusCode":200,"cookies":["a=1"],"headers":{"Set-Cookie":"b=2"}}"#)
        )
        #expect(response.cookies == ["a=1", "b=2"])
    }

    @Test func stringStatusCodeIsAccepted() throws {
        // Recorded on AWS by LocalStack's test_lambda_url_headers_and_status: "418" → 418.
        let response = try PayloadFormatV2.response(
            from: bytes(#"{"statusCode": "418", "body": "i'm a teapot", "isBase64Encoded": false}"#)
        )
        #expect(response.status == 418)
        #expect(response.bodyText == "i'm a teapot")
    }

    @Test func base64BodyIsDecoded() throws {
        let response = try PayloadFormatV2.response(
            from: bytes(
                #"{"statusCode":200,"headers":{"content-type":"image/png"},"body":"iVBORw==","isBase64Encoded":true}"#
            )
        )
        #expect(Array(response.body.readableBytesView) == [0x89, 0x50, 0x4E, 0x47])
        #expect(response.header("content-type") == "image/png")
    }

    @Test func missingOrNullBodyIsEmpty() throws {
        #expect(try PayloadFormatV2.response(from: bytes(#"{"statusCode":204}"#)).body.readableBytes == 0)
        #expect(try PayloadFormatV2.response(from: bytes(#"{"statusCode":204,"body":null}"#)).body.readableBytes == 0)
    }

    @Test func anObjectWithoutStatusCodeIsInferredEvenWithBodyAndHeaders() throws {
        let result = #"{"body": "x", "headers": {"a": "b"}}"#
        let response = try PayloadFormatV2.response(from: bytes(result))
        #expect(response.status == 200)
        #expect(response.bodyText == #"{"body":"x","headers":{"a":"b"}}"#)
        #expect(response.header("a") == nil)
    }

    @Test func compactionKeepsStringsAndOrder() throws {
        let result = "{ \"z\" : \"a b\\\" c\" ,\n \"a\":[ 1 , 2.50 ] }"
        let response = try PayloadFormatV2.response(from: bytes(result))
        #expect(response.bodyText == "{\"z\":\"a b\\\" c\",\"a\":[1,2.50]}")
    }

    @Test func nullResultIsInferred() throws {
        let response = try PayloadFormatV2.response(from: bytes("null"))
        #expect(response.status == 200)
        #expect(response.bodyText == "null")
    }

    @Test(arguments: [
        (#"{"statusCode": 200.5}"#, HTTPResponseMappingError.Code.invalidStatusCode),
        (#"{"statusCode": "abc"}"#, .invalidStatusCode),
        (#"{"statusCode": true}"#, .invalidStatusCode),
        (#"{"statusCode": null}"#, .invalidStatusCode),
        (#"{"statusCode": 99}"#, .invalidStatusCode),
        (#"{"statusCode": 600}"#, .invalidStatusCode),
        (#"{"statusCode": 200, "headers": ["a"]}"#, .invalidHeaders),
        (#"{"statusCode": 200, "headers": {"a": ["b"]}}"#, .invalidHeaders),
        (#"{"statusCode": 200, "headers": {"a": null}}"#, .invalidHeaders),
        (#"{"statusCode": 200, "cookies": "a=1"}"#, .invalidCookies),
        (#"{"statusCode": 200, "cookies": [1]}"#, .invalidCookies),
        (#"{"statusCode": 200, "body": {"a": 1}}"#, .invalidBody),
        (#"{"statusCode": 200, "body": 5}"#, .invalidBody),
        (#"{"statusCode": 200, "body": "!!", "isBase64Encoded": true}"#, .invalidBase64),
        (#"{"statusCode": 200, "body": "aGk=", "isBase64Encoded": "yes"}"#, .invalidBase64),
        (#"{"statusCode": 200"#, .malformedJSON),
        ("hello", .malformedJSON),
        ("", .malformedJSON),
        ("  ", .malformedJSON),
        (#""unterminated"#, .malformedJSON),
    ])
    func invalidResultsAreTypedFailures(result: String, code: HTTPResponseMappingError.Code) {
        #expect(throws: HTTPResponseMappingError.self) {
            try PayloadFormatV2.response(from: bytes(result))
        }
        do {
            _ = try PayloadFormatV2.response(from: bytes(result))
        } catch {
            #expect(error.code == code)
        }
    }
}

@Suite struct PayloadFormatV1ResponseTests {
    @Test func headersAndMultiValueHeadersMerge() throws {
        let result = #"""
            {"statusCode": 200, "headers": {"X-A": "1", "Set-Cookie": "ignored=1", "Content-Type": "text/plain"},
             "multiValueHeaders": {"set-cookie": ["a=1", "b=2"], "X-B": ["x", "y"]}, "body": "ok"}
            """#
        let response = try PayloadFormatV1.response(from: bytes(result))
        #expect(response.status == 200)
        #expect(response.header("x-a") == "1")
        #expect(response.header("content-type") == "text/plain")
        #expect(response.cookies == ["a=1", "b=2"])
        #expect(response.headers.filter { $0.name == "X-B" }.map(\.value) == ["x", "y"])
        #expect(response.bodyText == "ok")
    }

    @Test func noContentTypeIsAdded() throws {
        let response = try PayloadFormatV1.response(from: bytes(#"{"statusCode": 200, "body": "ok"}"#))
        #expect(response.headers.isEmpty)
    }

    @Test func base64Body() throws {
        let response = try PayloadFormatV1.response(
            from: bytes(#"{"statusCode": 200, "body": "AP+A", "isBase64Encoded": true}"#)
        )
        #expect(Array(response.body.readableBytesView) == [0x00, 0xFF, 0x80])
    }

    @Test(arguments: [
        (#"{"body": "x"}"#, HTTPResponseMappingError.Code.invalidStatusCode),
        (#""hello""#, .notAnObject),
        ("3", .notAnObject),
        (#"["a"]"#, .notAnObject),
        ("nope", .malformedJSON),
        (#"{"statusCode": 200, "multiValueHeaders": {"a": "b"}}"#, .invalidHeaders),
        (#"{"statusCode": 200, "multiValueHeaders": {"a": [{}]}}"#, .invalidHeaders),
        (#"{"statusCode": 200, "multiValueHeaders": []}"#, .invalidHeaders),
    ])
    func malformedAnswers(result: String, code: HTTPResponseMappingError.Code) {
        do {
            _ = try PayloadFormatV1.response(from: bytes(result))
            Issue.record("\(result) was accepted")
        } catch {
            #expect(error.code == code)
        }
        // What the client then sees.
        let answer = HTTPTriggerFailure.invalidResponse.response(frontDoor: .httpAPI)
        #expect(answer.status == 500)
        #expect(answer.bodyText == #"{"message":"Internal Server Error"}"#)
    }
}
