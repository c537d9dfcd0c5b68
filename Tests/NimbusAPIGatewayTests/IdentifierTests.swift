import Testing

@testable import NimbusAPIGateway

/// API ids become the invoke host's first label: 10 lower-case alphanumerics; children's ids have 7.
@Suite struct IdentifierTests {
    @Test func idsHaveAWSShapes() {
        for _ in 0..<200 {
            let api = Identifiers.make(length: Identifiers.apiLength)
            #expect(Identifiers.isWellFormed(api, length: 10))
            let child = Identifiers.make(length: Identifiers.childLength)
            #expect(Identifiers.isWellFormed(child, length: 7))
        }
        #expect(!Identifiers.isWellFormed("ABCDEFGHIJ", length: 10))
        #expect(!Identifiers.isWellFormed("abc", length: 10))
        #expect(!Identifiers.isWellFormed("abcdefghi-", length: 10))
    }

    @Test func freshSkipsTakenIDs() {
        var seen: Set<String> = []
        for _ in 0..<500 {
            let id = Identifiers.fresh(length: 7) { seen.contains($0) }
            #expect(seen.insert(id).inserted)
        }
    }
}
