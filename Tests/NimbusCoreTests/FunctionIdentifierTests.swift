import Testing

@testable import NimbusCore

@Suite struct FunctionIdentifierTests {
    @Test(arguments: [
        ("fn", "fn", nil, nil),
        ("fn:$LATEST", "fn", "$LATEST", nil),
        ("fn:3", "fn", "3", nil),
        ("123456789012:function:fn", "fn", nil, "123456789012"),
        ("function:fn:alias", "fn", "alias", nil),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn", "fn", nil, "123456789012"),
        ("arn:aws:lambda:eu-west-2:123456789012:function:my_fn-1:live", "my_fn-1", "live", "123456789012"),
    ] as [(String, String, String?, String?)])
    func parsesNamesAndARNs(raw: String, name: String, qualifier: String?, account: String?) throws {
        let id = try FunctionIdentifier.parse(raw)
        #expect(id.name == name)
        #expect(id.qualifier == qualifier)
        #expect(id.account == account)
    }

    @Test(arguments: [
        "*", "my-function!", "invalid-account:function:my-function",
        "arn:aws:lambda:invalid-region:111111111111:function:my-function",
        "arn:aws:ec2:us-east-1:111111111111:instance:i-1234567890abcdef0",
        "arn:aws:lambda:us-east-1:111111111111:function:my-function:1:2", "function:my-function:$LATEST:extra",
        "arn:aws:lambda:us-east-1:111111111111:function:my-function:$LATES",
        "arn:aws:lambda::111111111111:function:my-function", "arn:aws:lambda:us-east-1::function:my-function",
    ])
    func rejectsWhatAWSRejects(raw: String) {
        #expect(throws: NimbusError.self) { try FunctionIdentifier.parse(raw) }
        do {
            _ = try FunctionIdentifier.parse(raw)
        } catch {
            #expect(error.code == .validation)
            #expect(error.message.hasPrefix("1 validation error detected: Value '\(raw)' at 'functionName'"))
        }
    }

    @Test func createRejectsLongNamesWithAWSMessage() {
        let name = String(repeating: "a", count: 65)
        do {
            _ = try FunctionIdentifier.parse(name, usage: .create)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidParameterValue)
            #expect(
                error.message
                    == "1 validation error detected: Value '\(name)' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"
            )
        }
    }

    @Test func qualifierConflictsAreReported() throws {
        let id = try FunctionIdentifier.parse("fn:$LATEST")
        #expect(throws: NimbusError.self) { try id.resolvingQualifier("1") }
        #expect(try id.resolvingQualifier("$LATEST").qualifier == "$LATEST")
        #expect(throws: NimbusError.self) { try FunctionIdentifier.validateQualifier("invalid!") }
        #expect(throws: NimbusError.self) { try FunctionIdentifier.validateQualifier(String(repeating: "a", count: 129)) }
    }
}

@Suite struct TimestampTests {
    @Test func formatsLikeAWS() {
        #expect(Timestamp.awsString(millis: 1_586_545_592_563) == "2020-04-10T19:06:32.563+0000")
        #expect(Timestamp.isoString(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.streamDate(millis: 1_709_251_200_000) == "2024/03/01")
        #expect(Timestamp.awsString(millis: 951_782_400_999) == "2000-02-29T00:00:00.999+0000")
    }
}
