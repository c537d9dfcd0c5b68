import Testing

@testable import NimbusCore

/// Alias names, version references and routing configurations, with AWS's recorded messages
/// (test_lambda_api.snapshot.json, TestLambdaAlias).
@Suite struct AliasRulesTests {
    @Test(arguments: ["live", "2024-01-02", "a_b-C9", String(repeating: "a", count: 128)])
    func acceptsAliasNames(_ name: String) {
        #expect(AliasRules.nameViolations(name).isEmpty)
    }

    @Test func rejectsAllDigitNamesWithAWSsMessage() {
        #expect(
            AliasRules.nameViolations("2024") == [
                "Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
            ])
    }

    @Test func rejectsLongAndOddNames() {
        let long = String(repeating: "a", count: 129)
        #expect(
            AliasRules.nameViolations(long) == [
                "Value '\(long)' at 'name' failed to satisfy constraint: Member must have length less than or equal to 128"
            ])
        #expect(AliasRules.nameViolations("a.b").count == 1)
        #expect(AliasRules.nameViolations("$LATEST").count == 1)
        #expect(AliasRules.nameViolations("").count == 1)
    }

    @Test func versionReferencesAreLatestOrNumbers() {
        #expect(AliasRules.versionViolations("$LATEST").isEmpty)
        #expect(AliasRules.versionViolations("17").isEmpty)
        #expect(
            AliasRules.versionViolations("live") == [
                #"Value 'live' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\$LATEST|[0-9]+)"#
            ])
    }

    @Test func readsRoutingConfigurations() throws {
        #expect(try AliasRules.routingWeights(nil) == nil)
        #expect(try AliasRules.routingWeights([:]) == [:])
        #expect(try AliasRules.routingWeights(["AdditionalVersionWeights": [:]]) == [:])
        #expect(try AliasRules.routingWeights(["AdditionalVersionWeights": ["2": .number(0.2)]]) == ["2": 0.2])
        #expect(try AliasRules.routingWeights(["AdditionalVersionWeights": ["2": 0, "3": 1]]) == ["2": 0, "3": 1])
    }

    @Test func weightsOutsideZeroToOneAreValidationErrors() {
        #expect(throws: NimbusError.validation([
            "Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
        ])) {
            try AliasRules.routingWeights(["AdditionalVersionWeights": ["2": 2]])
        }
        #expect(throws: NimbusError.validation([
            "Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
        ])) {
            try AliasRules.routingWeights(["AdditionalVersionWeights": ["2": -1]])
        }
    }

    @Test func latestCannotBeAnAdditionalVersion() {
        #expect(throws: NimbusError.validation([
            "Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]"
        ])) {
            try AliasRules.routingWeights(["AdditionalVersionWeights": ["$LATEST": .number(0.5)]])
        }
    }

    @Test func semanticRoutingChecks() throws {
        try AliasRules.checkRouting(primary: "1", weights: [:])
        try AliasRules.checkRouting(primary: "1", weights: ["2": 0.5])
        try AliasRules.checkRouting(primary: "$LATEST", weights: [:])
        #expect(throws: NimbusError.invalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1")) {
            try AliasRules.checkRouting(primary: "1", weights: ["1": 0.8, "2": 0.2])
        }
        #expect(throws: NimbusError.invalidParameter("$LATEST is not supported for an alias pointing to more than 1 version")) {
            try AliasRules.checkRouting(primary: "$LATEST", weights: ["1": 0.5])
        }
        #expect(throws: NimbusError.invalidParameter(
            "Invalid function version 1. Function version 1 is already included in routing configuration.")) {
            try AliasRules.checkRouting(primary: "1", weights: ["1": 0.5])
        }
    }

    @Test func routingPicksTheAdditionalVersionBelowItsWeight() {
        let alias = AliasConfiguration(
            name: "live", functionVersion: "1", additionalVersionWeights: ["2": 0.3], revisionID: "r")
        #expect(alias.version(forRandom: 0) == "2")
        #expect(alias.version(forRandom: 0.2999) == "2")
        #expect(alias.version(forRandom: 0.3) == "1")
        #expect(alias.version(forRandom: 0.9999) == "1")
        let plain = AliasConfiguration(name: "live", functionVersion: "3", revisionID: "r")
        #expect(plain.version(forRandom: 0) == "3")
        let never = AliasConfiguration(
            name: "live", functionVersion: "1", additionalVersionWeights: ["2": 0], revisionID: "r")
        #expect(never.version(forRandom: 0) == "1")
        let always = AliasConfiguration(
            name: "live", functionVersion: "1", additionalVersionWeights: ["2": 1], revisionID: "r")
        #expect(always.version(forRandom: 0.99999) == "2")
    }

    @Test func routingSharesFollowTheWeightOverAnEvenGrid() {
        // A deterministic stand-in for a uniform source: n evenly spaced points in 0..<1.
        let alias = AliasConfiguration(
            name: "live", functionVersion: "1", additionalVersionWeights: ["2": 0.3], revisionID: "r")
        let n = 10_000
        let extra = (0..<n).filter { alias.version(forRandom: Double($0) / Double(n)) == "2" }.count
        #expect(extra == 3_000)
    }

    @Test func aliasWireShapeOmitsEmptyRouting() {
        let account = AccountContext()
        let plain = AliasConfiguration(name: "live", functionVersion: "1", revisionID: "r1")
        #expect(plain.wire(account: account, functionName: "fn")["RoutingConfig"] == nil)
        #expect(
            plain.wire(account: account, functionName: "fn")["AliasArn"]
                == "arn:aws:lambda:us-east-1:000000000000:function:fn:live")
        let routed = AliasConfiguration(
            name: "live", functionVersion: "1", additionalVersionWeights: ["2": 0.2], revisionID: "r1")
        #expect(
            routed.wire(account: account, functionName: "fn")["RoutingConfig"]
                == ["AdditionalVersionWeights": ["2": .number(0.2)]])
        #expect(routed.references(version: "2") && routed.references(version: "1") && !routed.references(version: "3"))
    }
}
