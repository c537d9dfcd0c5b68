import Testing

@testable import NimbusSQS

@Test func placeholder() {}
