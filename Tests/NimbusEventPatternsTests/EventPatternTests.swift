import NimbusCore
import Testing

@testable import NimbusEventPatterns

@Suite struct EventPatternSmokeTests {
    @Test func emptyFiltersPassEverything() {
        #expect(LambdaEventFilter.matches(record: ["body": "x"], patterns: []))
    }
}
