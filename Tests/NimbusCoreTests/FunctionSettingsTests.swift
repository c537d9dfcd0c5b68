import Testing

@testable import NimbusCore

@Suite struct FunctionSettingsTests {
    func read(_ body: JSONValue) throws -> FunctionSettings {
        try FunctionSettings.read(
            RequestReader(body, operation: "CreateFunction", known: FunctionSettings.createMembers))
    }

    func error(_ body: JSONValue) -> NimbusError? {
        do {
            _ = try self.read(body)
            return nil
        } catch {
            return error as? NimbusError
        }
    }

    @Test func acceptsAValidConfiguration() throws {
        let s = try self.read([
            "Runtime": "python3.12", "Handler": "app.handler", "MemorySize": 512, "Timeout": 30,
            "Environment": ["Variables": ["AB": "1"]], "Role": "arn:aws:iam::123456789012:role/lambda-role",
        ])
        #expect(s.memorySizeMB == 512)
        #expect(s.environment == ["AB": "1"])
    }

    @Test func reportsRangesAsValidationErrors() {
        let e = self.error(["MemorySize": 100, "Timeout": 901])
        #expect(e?.code == .validation)
        #expect(e?.validationErrors.count == 2)
        #expect(
            e?.message.contains(
                "Value '100' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128")
                == true)
    }

    @Test func deprecatedAndUnknownRuntimesUseAWSMessages() {
        #expect(
            self.error(["Runtime": "python3.7"])?.message
                == "The runtime parameter of python3.7 is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )
        #expect(
            self.error(["Runtime": "non-existent-runtime"])?.message.hasPrefix(
                "Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x"
            ) == true)
    }

    @Test func environmentLimits() {
        let reserved = self.error(["Environment": ["Variables": ["AWS_REGION": "x"]]])
        #expect(reserved?.code == .invalidParameterValue)
        #expect(reserved?.message.hasSuffix("Reserved keys used in this request: AWS_REGION") == true)
        let big = self.error(["Environment": ["Variables": ["LARGE_VAR": .string(String(repeating: "x", count: 4096))]]])
        #expect(
            big?.message.hasPrefix(
                "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {\"LARGE_VAR\":\"xxx"
            ) == true)
        #expect(self.error(["Environment": ["Variables": ["1BAD": "x"]]])?.code == .validation)
    }

    @Test func unknownMembersAndWrongTypesAreRejected() {
        #expect(throws: NimbusError.self) {
            try RequestReader(["Bogus": 1], operation: "CreateFunction", known: FunctionSettings.createMembers)
        }
        #expect(self.error(["MemorySize": "lots"])?.code == .invalidParameterValue)
        #expect(self.error(["Role": "not-an-arn"])?.code == .validation)
        #expect(self.error(["Handler": "has space"])?.code == .validation)
    }

    @Test func wireShapeHasAWSDefaults() {
        let config = FunctionConfiguration(
            name: "fn", runtime: "python3.12", role: "arn:aws:iam::000000000000:role/r", handler: "app.handler",
            code: .init(digestHex: String(repeating: "0", count: 64), sha256Base64: "abc=", size: 10, unzippedSize: 10),
            lastModifiedMillis: 0, revisionID: "rev")
        let wire = config.wire(account: AccountContext(), state: .creating)
        #expect(wire["Timeout"] == 3)
        #expect(wire["MemorySize"] == 128)
        #expect(wire["State"] == "Pending")
        #expect(wire["StateReasonCode"] == "Creating")
        #expect(wire["LastUpdateStatus"] == nil)
        #expect(wire["Environment"] == ["Variables": [:]])
        #expect(wire["EphemeralStorage"] == ["Size": 512])
        #expect(wire["LastModified"] == "1970-01-01T00:00:00.000+0000")
        #expect(wire["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn")
        let listed = config.wire(account: AccountContext(), listing: true)
        #expect(listed["State"] == nil)
        #expect(listed["RuntimeVersionConfig"] == nil)
    }
}

@Suite struct JSONKeyOrderTests {
    @Test func readsKeysInDocumentOrder() {
        let body = Array(#"{"A":1,"Environment":{"Other":[1,{"x":"}"}],"Variables":{"Z":"1","A\"b":"2","M":"{"}}}"#.utf8)
        #expect(JSONKeyOrder.keys(at: ["Environment", "Variables"], in: body) == ["Z", "A\"b", "M"])
        #expect(JSONKeyOrder.keys(at: [], in: body) == ["A", "Environment"])
        #expect(JSONKeyOrder.keys(at: ["Missing"], in: body) == nil)
        #expect(JSONKeyOrder.keys(at: [], in: Array("not json".utf8)) == nil)
    }

    @Test func environmentIsMeasuredInRequestOrder() throws {
        let text = #"{"Environment":{"Variables":{"SMALL_VAR":"ok","LARGE_VAR":"\#(String(repeating: "x", count: 4096))"}}}"#
        let body = try #require(JSONValue.parse(Array(text.utf8)))
        do {
            _ = try FunctionSettings.read(
                RequestReader(
                    body, operation: "CreateFunction", known: FunctionSettings.createMembers, rawBody: Array(text.utf8)))
            Issue.record("expected the 4 KB error")
        } catch {
            #expect(error.message.contains(#"String measured: {"SMALL_VAR":"ok","LARGE_VAR":"xxx"#))
        }
    }
}

@Suite struct JSONValidatorTests {
    @Test(arguments: [
        "{}", "[]", "0", "-1.5e+10", "\"a\\u00e9\\n\"", "true", "null", " {\"a\" : [1, {\"b\": null}, \"x\"] } ",
        "\"é日本\"", "[[[[]]]]",
    ])
    func acceptsJSON(text: String) {
        #expect(JSONValidator.problem(in: Array(text.utf8)) == nil)
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\"}", "{\"a\":}", "{a:1}", "01", "1.", "-", "tru", "nul", "\"\\x\"", "\"a", "[1 2]",
        "{} {}", "{\"a\":1,}", "\u{01}", "NaN", "[\"\t\"]",
    ])
    func rejectsEverythingElse(text: String) {
        #expect(JSONValidator.problem(in: Array(text.utf8)) != nil)
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(JSONValidator.problem(in: [0x22, 0xFF, 0x22]) != nil)
        #expect(JSONValidator.problem(in: Array(String(repeating: "[", count: 5000).utf8)) != nil)
        let deepButFine = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(JSONValidator.problem(in: Array(deepButFine.utf8)) == nil)
    }
}
