import NIOCore
import NimbusCore
import NimbusHTTPEvents
import Testing

@Suite struct PayloadFormatV1EventTests {
    @Test func everyDocumentedField() throws {
        let event = v1(
            request(
                method: "POST",
                path: "/items/42",
                query: "parameter1=value1&parameter1=value2&parameter2=value",
                headers: [
                    ("host", "a1b2c3.execute-api.localhost:9000"), ("user-agent", "user-agent"),
                    ("header2", "value1"), ("header2", "value2"), ("content-type", "application/json"),
                    ("cookie", "a=1; b=2"),
                ],
                body: bytes(#"{"a":1}"#)
            )
        )
        #expect(event["version"] == "1.0")
        #expect(event["resource"] == "/items/{id}")
        #expect(event["path"] == "/items/42")
        #expect(event["httpMethod"] == "POST")
        #expect(
            event["headers"]
                == [
                    "host": "a1b2c3.execute-api.localhost:9000", "user-agent": "user-agent", "header2": "value2",
                    "content-type": "application/json", "cookie": "a=1; b=2",
                ]
        )
        #expect(
            event["multiValueHeaders"]
                == [
                    "host": ["a1b2c3.execute-api.localhost:9000"], "user-agent": ["user-agent"],
                    "header2": ["value1", "value2"], "content-type": ["application/json"], "cookie": ["a=1; b=2"],
                ]
        )
        #expect(event["queryStringParameters"] == ["parameter1": "value2", "parameter2": "value"])
        #expect(
            event["multiValueQueryStringParameters"]
                == ["parameter1": ["value1", "value2"], "parameter2": ["value"]]
        )
        #expect(event["pathParameters"] == ["id": "42"])
        #expect(event["stageVariables"] == ["env": "test"])
        #expect(event["body"] == #"{"a":1}"#)
        #expect(event["isBase64Encoded"] == false)
        #expect(event["cookies"] == nil)

        let context = try #require(event["requestContext"]?.objectValue)
        #expect(context["accountId"] == "123456789012")
        #expect(context["apiId"] == "a1b2c3")
        #expect(context["domainName"] == "a1b2c3.execute-api.localhost")
        #expect(context["domainPrefix"] == "a1b2c3")
        #expect(context["extendedRequestId"] == "c6af9ac6-7b61-11e6-9a41-93e812345678")
        #expect(context["httpMethod"] == "POST")
        #expect(context["path"] == "/items/42")
        #expect(context["protocol"] == "HTTP/1.1")
        #expect(context["requestId"] == "c6af9ac6-7b61-11e6-9a41-93e812345678")
        #expect(context["requestTime"] == "12/Mar/2020:19:03:58 +0000")
        #expect(context["requestTimeEpoch"] == .number(Double(exampleMillis)))
        #expect(context["resourceId"] == .null)
        #expect(context["resourcePath"] == "/items/{id}")
        #expect(context["stage"] == "$default")
        #expect(
            context["identity"]
                == [
                    "accessKey": .null, "accountId": .null, "caller": .null, "cognitoAuthenticationProvider": .null,
                    "cognitoAuthenticationType": .null, "cognitoIdentityId": .null, "cognitoIdentityPoolId": .null,
                    "principalOrgId": .null, "sourceIp": "203.0.113.7", "user": .null, "userAgent": "user-agent",
                    "userArn": .null,
                ]
        )
    }

    @Test func nullsWhereAWSSendsNull() {
        let context = HTTPTriggerContext.httpAPI(
            apiID: "a1b2c3",
            domainName: "a1b2c3.execute-api.localhost",
            accountID: "123456789012",
            routeKey: "$default"
        )
        let event = v1(request(path: "/anything"), context)
        #expect(event["resource"] == "$default")
        #expect(event["requestContext"]?["resourcePath"] == "$default")
        #expect(event["queryStringParameters"] == .null)
        #expect(event["multiValueQueryStringParameters"] == .null)
        #expect(event["pathParameters"] == .null)
        #expect(event["stageVariables"] == .null)
        #expect(event["body"] == .null)
        #expect(event["isBase64Encoded"] == false)
    }

    @Test func pathIsDecoded() {
        let event = v1(request(path: "/dev/a%20b"))
        #expect(event["path"] == "/dev/a b")
        #expect(event["requestContext"]?["path"] == "/dev/a b")
    }

    @Test func binaryBodyIsBase64() {
        let event = v1(
            request(
                method: "POST",
                headers: [("content-type", "image/png")],
                body: ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47])
            )
        )
        #expect(event["body"] == "iVBORw==")
        #expect(event["isBase64Encoded"] == true)
    }

    @Test func iamCallerFillsTheIdentity() throws {
        var context = apiContext
        context.caller = IAMCallerIdentity(
            accessKey: "AKIAEXAMPLE",
            accountID: "111122223333",
            callerID: "AIDAEXAMPLE",
            userARN: "arn:aws:iam::111122223333:user/u",
            userID: "AIDAEXAMPLE"
        )
        let identity = try #require(v1(request(), context)["requestContext"]?["identity"])
        #expect(identity["accessKey"] == "AKIAEXAMPLE")
        #expect(identity["accountId"] == "111122223333")
        #expect(identity["caller"] == "AIDAEXAMPLE")
        #expect(identity["user"] == "AIDAEXAMPLE")
        #expect(identity["userArn"] == "arn:aws:iam::111122223333:user/u")
    }
}
