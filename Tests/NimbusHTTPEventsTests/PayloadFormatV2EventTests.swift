import NIOCore
import NimbusCore
import NimbusHTTPEvents
import Testing

@Suite struct PayloadFormatV2EventTests {
    @Test func functionURLEventHasEveryDocumentedField() throws {
        let event = v2(
            request(
                method: "POST",
                path: "/my/path",
                query: "parameter1=value1&parameter1=value2&parameter2=value",
                headers: [
                    ("host", "abc.lambda-url.us-east-1.localhost:9000"), ("user-agent", "agent"),
                    ("content-type", "text/plain"), ("header2", "value1"), ("header2", "value2"),
                ],
                body: bytes("Hello from client!")
            )
        )
        #expect(event["version"] == "2.0")
        #expect(event["routeKey"] == "$default")
        #expect(event["rawPath"] == "/my/path")
        #expect(event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value")
        #expect(event["cookies"] == nil)
        #expect(
            event["headers"]
                == [
                    "host": "abc.lambda-url.us-east-1.localhost:9000", "user-agent": "agent",
                    "content-type": "text/plain", "header2": "value1,value2",
                ]
        )
        #expect(event["queryStringParameters"] == ["parameter1": "value1,value2", "parameter2": "value"])
        #expect(event["body"] == "Hello from client!")
        #expect(event["isBase64Encoded"] == false)
        // Function URLs never send these (AWS: "sets this to null or excludes this").
        #expect(event["pathParameters"] == nil)
        #expect(event["stageVariables"] == nil)

        let context = try #require(event["requestContext"]?.objectValue)
        #expect(context["accountId"] == "anonymous")
        #expect(context["apiId"] == "abc")
        #expect(context["authorizer"] == nil)
        #expect(context["domainName"] == "abc.lambda-url.us-east-1.localhost")
        #expect(context["domainPrefix"] == "abc")
        #expect(
            context["http"]
                == [
                    "method": "POST", "path": "/my/path", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                    "userAgent": "agent",
                ]
        )
        #expect(context["requestId"] == "c6af9ac6-7b61-11e6-9a41-93e812345678")
        #expect(context["routeKey"] == "$default")
        #expect(context["stage"] == "$default")
        #expect(context["time"] == "12/Mar/2020:19:03:58 +0000")
        #expect(context["timeEpoch"] == .number(Double(exampleMillis)))
        #expect(
            Set(context.keys) == [
                "accountId", "apiId", "domainName", "domainPrefix", "http", "requestId", "routeKey", "stage", "time",
                "timeEpoch",
            ]
        )
    }

    @Test func httpAPIEventCarriesRouteStageAndParameters() throws {
        var context = apiContext
        context.stage = "dev"
        let event = v2(request(path: "/dev/items/42"), context)
        #expect(event["routeKey"] == "GET /items/{id}")
        #expect(event["rawPath"] == "/dev/items/42")
        #expect(event["pathParameters"] == ["id": "42"])
        #expect(event["stageVariables"] == ["env": "test"])
        let requestContext = try #require(event["requestContext"]?.objectValue)
        #expect(requestContext["accountId"] == "123456789012")
        #expect(requestContext["apiId"] == "a1b2c3")
        #expect(requestContext["domainName"] == "a1b2c3.execute-api.localhost")
        #expect(requestContext["domainPrefix"] == "a1b2c3")
        #expect(requestContext["routeKey"] == "GET /items/{id}")
        #expect(requestContext["stage"] == "dev")
    }

    @Test func httpAPIOmitsEmptyPathParametersAndStageVariables() {
        let context = HTTPTriggerContext.httpAPI(
            apiID: "a1b2c3",
            domainName: "a1b2c3.execute-api.localhost",
            accountID: "123456789012",
            routeKey: "$default"
        )
        let event = v2(request(), context)
        #expect(event["pathParameters"] == nil)
        #expect(event["stageVariables"] == nil)
    }

    @Test func noQueryMeansEmptyRawQueryAndNoParameters() {
        let event = v2(request(path: "/"))
        #expect(event["rawQueryString"] == "")
        #expect(event["queryStringParameters"] == nil)
    }

    @Test func queryParametersAreDecodedAndRepeatedKeysJoined() {
        // The LocalStack echo test recorded on AWS: multiQuery=foo&multiQuery=%2Fbar → "foo,/bar".
        let event = v2(request(query: "q=query&multiQuery=foo&multiQuery=%2Fbar&empty=&flag&a%20b=c%26d&plus=a+b"))
        #expect(event["rawQueryString"] == "q=query&multiQuery=foo&multiQuery=%2Fbar&empty=&flag&a%20b=c%26d&plus=a+b")
        #expect(
            event["queryStringParameters"]
                == ["q": "query", "multiQuery": "foo,/bar", "empty": "", "flag": "", "a b": "c&d", "plus": "a+b"]
        )
    }

    @Test func pathIsDecodedInRequestContextOnly() throws {
        let event = v2(request(path: "/a%20b/caf%C3%A9/%zz"))
        #expect(event["rawPath"] == "/a%20b/caf%C3%A9/%zz")
        let http = try #require(event["requestContext"]?["http"])
        #expect(http["path"] == "/a b/café/%zz")
    }

    @Test func cookiesAreSplitFromEveryCookieHeader() throws {
        let headers: [(name: String, value: String)] = [
            ("host", "h"), ("cookie", "a=1; b=2"), ("cookie", "c=3;d=4; "),
        ]
        let fromURL = v2(request(headers: headers))
        #expect(fromURL["cookies"] == ["a=1", "b=2", "c=3", "d=4"])
        // Function URLs keep the header too; HTTP APIs move it entirely into `cookies`.
        #expect(fromURL["headers"]?["cookie"] == "a=1; b=2,c=3;d=4; ")
        let fromAPI = v2(request(headers: headers), apiContext)
        #expect(fromAPI["cookies"] == ["a=1", "b=2", "c=3", "d=4"])
        #expect(fromAPI["headers"]?["cookie"] == nil)
        #expect(fromAPI["headers"]?["host"] == "h")
    }

    @Test func noBodyMeansNoBodyKey() {
        let event = v2(request(method: "POST", headers: [("content-type", "application/json")]))
        #expect(event["body"] == nil)
        #expect(event["isBase64Encoded"] == false)
    }

    @Test(arguments: [
        ("text/plain", false), ("text/html; charset=utf-8", false), ("application/json", false),
        ("Application/JSON; charset=UTF-8", false), ("application/xml", false), ("application/javascript", false),
        ("text/csv", false),
        ("application/octet-stream", true), ("application/x-www-form-urlencoded", true),
        ("multipart/form-data; boundary=x", true), ("image/png", true), ("application/problem+json", true),
        ("application/yaml", true),
    ])
    func bodyEncodingFollowsTheContentType(contentType: String, base64: Bool) {
        let event = v2(request(method: "POST", headers: [("content-type", contentType)], body: bytes("{\"a\":1}")))
        #expect(event["isBase64Encoded"] == .bool(base64))
        #expect(event["body"] == .string(base64 ? "eyJhIjoxfQ==" : "{\"a\":1}"))
    }

    @Test func missingContentTypeIsBinary() {
        let event = v2(request(method: "POST", headers: [], body: bytes("{'key':'value'}")))
        #expect(event["isBase64Encoded"] == true)
        #expect(event["body"] == "eydrZXknOid2YWx1ZSd9")
    }

    @Test func binaryBytesRoundTripThroughBase64() {
        let raw: [UInt8] = [0x00, 0xFF, 0x80, 0x0A, 0x7F, 0xC3]
        let event = v2(
            request(
                method: "PUT",
                headers: [("content-type", "application/octet-stream")],
                body: ByteBuffer(bytes: raw)
            )
        )
        #expect(event["body"] == "AP+ACn/D")
        #expect(event["isBase64Encoded"] == true)
    }

    @Test func invalidUTF8WithATextTypeIsBase64() {
        let event = v2(
            request(
                method: "POST",
                headers: [("content-type", "text/plain")],
                body: ByteBuffer(bytes: [0x68, 0xFF, 0x69])
            )
        )
        #expect(event["isBase64Encoded"] == true)
        #expect(event["body"] == "aP9p")
    }

    @Test func textIsEscapedAsJSON() throws {
        let text = "quote\" backslash\\ tab\t newline\n nul\u{0} bell\u{7} é 😀 </script>"
        let event = v2(
            request(
                method: "POST",
                headers: [("content-type", "text/plain"), ("x-weird", "a\"b")],
                body: bytes(text)
            )
        )
        #expect(event["body"] == .string(text))
        #expect(event["headers"]?["x-weird"] == "a\"b")
    }

    @Test func iamCallerBecomesTheAuthorizer() throws {
        let caller = IAMCallerIdentity(
            accessKey: "AKIAIOSFODNN7EXAMPLE",
            accountID: "111122223333",
            callerID: "AIDACKCEVSQ6C2EXAMPLE",
            userARN: "arn:aws:iam::111122223333:user/example-user",
            userID: "AIDACOSFODNN7EXAMPLE2"
        )
        let context = HTTPTriggerContext.functionURL(
            urlID: "abc",
            domainName: "abc.lambda-url.us-east-1.localhost",
            accountID: "123456789012",
            caller: caller
        )
        let event = v2(request(), context)
        let requestContext = try #require(event["requestContext"]?.objectValue)
        #expect(requestContext["accountId"] == "123456789012")
        #expect(
            requestContext["authorizer"]
                == [
                    "iam": [
                        "accessKey": "AKIAIOSFODNN7EXAMPLE", "accountId": "111122223333",
                        "callerId": "AIDACKCEVSQ6C2EXAMPLE", "cognitoIdentity": .null, "principalOrgId": .null,
                        "userArn": "arn:aws:iam::111122223333:user/example-user", "userId": "AIDACOSFODNN7EXAMPLE2",
                    ]
                ]
        )
    }

    @Test func missingUserAgentIsEmpty() {
        let event = v2(request(headers: []))
        #expect(event["requestContext"]?["http"]?["userAgent"] == "")
        #expect(event["headers"] == .object([:]))
    }

    @Test func eventIsCompactValidJSON() {
        let buffer = PayloadFormatV2.event(for: request(), context: urlContext)
        let text = String(buffer: buffer)
        #expect(text.hasPrefix(#"{"version":"2.0","routeKey":"$default","rawPath":"/","rawQueryString":"","#))
        #expect(text.hasSuffix(#""isBase64Encoded":false}"#))
        #expect(!text.contains("\n"))
    }

    @Test func domainNameDropsThePort() {
        #expect(
            HTTPTriggerContext.domainName(fromHost: "abc.lambda-url.us-east-1.localhost:9000")
                == "abc.lambda-url.us-east-1.localhost"
        )
        #expect(HTTPTriggerContext.domainName(fromHost: "example.com") == "example.com")
        #expect(HTTPTriggerContext.domainName(fromHost: "[::1]:9000") == "[::1]")
        #expect(HTTPTriggerContext.domainName(fromHost: "[::1]") == "[::1]")
    }
}

@Suite struct ForwardedHeaderTests {
    @Test func forwardedHeadersAreAppended() {
        var incoming = request(headers: [("host", "h"), ("x-forwarded-for", "198.51.100.1"), ("x-forwarded-port", "1")])
        incoming.appendForwardedHeaders(port: 9000, traceID: "Root=1-62ecd163-5f302e550dcde3b12402207d")
        #expect(incoming.header("x-forwarded-for") == "198.51.100.1, 203.0.113.7")
        #expect(incoming.header("x-forwarded-port") == "9000")
        #expect(incoming.header("x-forwarded-proto") == "http")
        #expect(incoming.header("x-amzn-trace-id") == "Root=1-62ecd163-5f302e550dcde3b12402207d")
        #expect(incoming.headers.filter { $0.name == "x-forwarded-port" }.count == 1)
    }
}
