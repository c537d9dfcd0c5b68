import NIOCore
import NimbusHTTPEvents
import Testing

@Suite struct CORSPolicyTests {
    static func preflight(
        origin: String = "https://app.example.com",
        method: String = "POST",
        headers: String? = nil
    ) -> HTTPTriggerRequest {
        var fields: [(name: String, value: String)] = [
            ("origin", origin), ("access-control-request-method", method),
        ]
        if let headers { fields.append(("access-control-request-headers", headers)) }
        return request(method: "OPTIONS", headers: fields)
    }

    static let policy = CORSPolicy(
        frontDoor: .httpAPI,
        allowHeaders: ["Content-Type", "Authorization"],
        allowMethods: ["GET", "POST"],
        allowOrigins: ["https://app.example.com"],
        exposeHeaders: ["x-request-id"],
        maxAge: 300
    )

    @Test func onlyOptionsWithOriginAndRequestMethodIsAPreflight() {
        #expect(CORSPolicy.isPreflight(Self.preflight()))
        #expect(!CORSPolicy.isPreflight(request(method: "OPTIONS", headers: [("origin", "https://a")])))
        #expect(
            !CORSPolicy.isPreflight(
                request(
                    method: "GET",
                    headers: [
                        ("origin", "https://a"), ("access-control-request-method", "GET"),
                    ]
                )
            )
        )
        #expect(Self.policy.preflightResponse(for: request(method: "OPTIONS")) == nil)
    }

    @Test func allowedPreflight() throws {
        let answer = try #require(
            Self.policy.preflightResponse(for: Self.preflight(headers: "content-type, authorization"))
        )
        #expect(answer.status == 204)
        #expect(answer.body.readableBytes == 0)
        #expect(answer.header("access-control-allow-origin") == "https://app.example.com")
        #expect(answer.header("access-control-allow-methods") == "GET,POST")
        #expect(answer.header("access-control-allow-headers") == "Content-Type,Authorization")
        #expect(answer.header("access-control-max-age") == "300")
        #expect(answer.header("access-control-allow-credentials") == nil)
        #expect(answer.header("vary") == "Origin")
    }

    @Test func functionURLPreflightIs200() throws {
        var policy = Self.policy
        policy.frontDoor = .functionURL
        #expect(try #require(policy.preflightResponse(for: Self.preflight())).status == 200)
    }

    @Test func refusedPreflightsCarryNoCORSHeaders() throws {
        for request in [
            Self.preflight(origin: "https://evil.example.com"),
            Self.preflight(method: "DELETE"),
            Self.preflight(headers: "content-type, x-secret"),
        ] {
            let answer = try #require(Self.policy.preflightResponse(for: request))
            #expect(answer.status == 204)
            #expect(answer.headers.isEmpty)
        }
    }

    @Test func wildcards() throws {
        let open = CORSPolicy(frontDoor: .functionURL, allowHeaders: ["*"], allowMethods: ["*"], allowOrigins: ["*"])
        let answer = try #require(open.preflightResponse(for: Self.preflight(method: "patch", headers: "x-a,x-b")))
        #expect(answer.header("access-control-allow-origin") == "*")
        #expect(answer.header("access-control-allow-methods") == "PATCH")
        #expect(answer.header("access-control-allow-headers") == "x-a,x-b")
        #expect(answer.header("vary") == nil)
        #expect(answer.header("access-control-max-age") == nil)
    }

    @Test func credentialsReflectTheOrigin() {
        let policy = CORSPolicy(frontDoor: .functionURL, allowCredentials: true, allowOrigins: ["*"])
        #expect(policy.allowedOriginValue(for: "https://a.example") == "https://a.example")
    }

    @Test func schemeWildcardsAreHTTPAPIOnly() {
        let api = CORSPolicy(frontDoor: .httpAPI, allowOrigins: ["https://*"])
        #expect(api.allowedOriginValue(for: "https://anything.example:8443") == "https://anything.example:8443")
        #expect(api.allowedOriginValue(for: "http://anything.example") == nil)
        #expect(api.allowedOriginValue(for: "https://") == nil)
        let url = CORSPolicy(frontDoor: .functionURL, allowOrigins: ["https://*"])
        #expect(url.allowedOriginValue(for: "https://anything.example") == nil)
    }

    @Test func originsCompareCaseInsensitively() {
        #expect(Self.policy.allowedOriginValue(for: "HTTPS://APP.example.com") == "HTTPS://APP.example.com")
        #expect(Self.policy.allowedOriginValue(for: "https://app.example.com:443") == nil)
    }

    @Test func httpAPIDecorationReplacesEveryFunctionCORSHeader() {
        var response = HTTPTriggerResponse(
            status: 200,
            headers: [
                ("Access-Control-Allow-Origin", "*"), ("access-control-max-age", "9"), ("content-type", "text/plain"),
            ]
        )
        Self.policy.decorate(&response, for: request(headers: [("origin", "https://app.example.com")]))
        #expect(
            response.headers.map(\.name) == [
                "content-type", "access-control-allow-origin", "access-control-expose-headers", "vary",
            ]
        )
        #expect(response.header("access-control-allow-origin") == "https://app.example.com")
        #expect(response.header("access-control-expose-headers") == "x-request-id")
    }

    @Test func httpAPIDropsFunctionCORSHeadersEvenForOtherOrigins() {
        var response = HTTPTriggerResponse(status: 200, headers: [("access-control-allow-origin", "*")])
        Self.policy.decorate(&response, for: request(headers: [("origin", "https://evil.example.com")]))
        #expect(response.headers.isEmpty)
        var noOrigin = HTTPTriggerResponse(status: 200, headers: [("access-control-allow-origin", "*")])
        Self.policy.decorate(&noOrigin, for: request(headers: []))
        #expect(noOrigin.headers.isEmpty)
    }

    @Test func functionURLConfiguredHeadersTakePrecedence() {
        let policy = CORSPolicy(frontDoor: .functionURL, allowCredentials: true, allowOrigins: ["https://a.example"])
        var response = HTTPTriggerResponse(
            status: 200,
            headers: [
                ("Access-Control-Allow-Origin", "*"), ("Access-Control-Max-Age", "9"),
            ]
        )
        policy.decorate(&response, for: request(headers: [("origin", "https://a.example")]))
        #expect(
            response.headers.map { $0.name.lowercased() } == [
                "access-control-max-age", "access-control-allow-origin", "access-control-allow-credentials", "vary",
            ]
        )
        #expect(response.header("access-control-allow-origin") == "https://a.example")
        // Another origin: the function's own headers stay (the configuration adds nothing to replace them with).
        var other = HTTPTriggerResponse(status: 200, headers: [("Access-Control-Allow-Origin", "*")])
        policy.decorate(&other, for: request(headers: [("origin", "https://b.example")]))
        #expect(other.header("access-control-allow-origin") == "*")
    }

    @Test func platformErrorsAreDecoratedToo() {
        var answer = HTTPTriggerFailure.functionError.response(frontDoor: .httpAPI)
        Self.policy.decorate(&answer, for: request(headers: [("origin", "https://app.example.com")]))
        #expect(answer.header("access-control-allow-origin") == "https://app.example.com")
    }

    // MARK: Validation

    @Test func validConfigurations() throws {
        try Self.policy.validate()
        try CORSPolicy(frontDoor: .functionURL, allowMethods: ["GET", "put", "*"], allowOrigins: ["*"], maxAge: 86400)
            .validate()
        try CORSPolicy(frontDoor: .httpAPI, maxAge: -1).validate()
        try CORSPolicy(frontDoor: .functionURL, allowCredentials: true, allowOrigins: ["*"]).validate()
    }

    @Test func functionURLValidation() {
        func message(_ policy: CORSPolicy) -> String? {
            do {
                try policy.validate()
                return nil
            } catch {
                #expect(error.code == .validation)
                return error.message
            }
        }
        #expect(
            message(CORSPolicy(frontDoor: .functionURL, maxAge: 86401))
                == "1 validation error detected: Value '86401' at 'cors.maxAge' failed to satisfy constraint: "
                + "Member must have value less than or equal to 86400"
        )
        #expect(
            message(CORSPolicy(frontDoor: .functionURL, maxAge: -1))?.contains("greater than or equal to 0") == true
        )
        #expect(message(CORSPolicy(frontDoor: .functionURL, allowOrigins: [""]))?.contains("cors.allowOrigins") == true)
        #expect(
            message(CORSPolicy(frontDoor: .functionURL, allowOrigins: [String(repeating: "a", count: 254)]))?
                .contains("253") == true
        )
        #expect(
            message(CORSPolicy(frontDoor: .functionURL, allowOrigins: Array(repeating: "https://a", count: 101)))?
                .contains("less than or equal to 100") == true
        )
        #expect(
            message(
                CORSPolicy(
                    frontDoor: .functionURL,
                    allowMethods: ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "*"]
                )
            )?
            .contains("cors.allowMethods") == true
        )
        #expect(
            message(CORSPolicy(frontDoor: .functionURL, allowMethods: ["OPTIONS"]))
                == "1 validation error detected: Value '[OPTIONS]' at 'cors.allowMethods' failed to satisfy "
                + "constraint: Member must satisfy constraint: [Member must have length less than or equal to 6]"
        )
        #expect(
            message(CORSPolicy(frontDoor: .functionURL, allowMethods: ["TRACE"]))
                == "Invalid method 'TRACE' in AllowMethods. You can use GET, PUT, POST, DELETE, HEAD, PATCH, and the "
                + "wildcard character (*)."
        )
        #expect(
            message(CORSPolicy(frontDoor: .functionURL, exposeHeaders: [String(repeating: "h", count: 1025)]))?
                .contains("cors.exposeHeaders") == true
        )
        #expect(
            message(
                CORSPolicy(frontDoor: .functionURL, allowHeaders: Array(repeating: "h", count: 101), maxAge: 90000)
            )?
            .hasPrefix("2 validation errors detected: ") == true
        )
    }

    @Test func httpAPIValidation() {
        do {
            try CORSPolicy(frontDoor: .httpAPI, allowCredentials: true, allowOrigins: ["*"]).validate()
            Issue.record("accepted credentials with a * origin")
        } catch {
            #expect(
                error
                    == CORSConfigurationError(.badRequest, "allow-credentials is not supported if 'allow-origin' is *")
            )
        }
        #expect(throws: CORSConfigurationError.self) { try CORSPolicy(frontDoor: .httpAPI, maxAge: 86401).validate() }
        #expect(throws: CORSConfigurationError.self) { try CORSPolicy(frontDoor: .httpAPI, maxAge: -2).validate() }
    }
}
