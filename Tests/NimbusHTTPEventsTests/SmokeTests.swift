import NIOCore
import NimbusHTTPEvents
import Testing

@Suite struct SmokeTests {
    @Test func eventBuilds() {
        let request = HTTPTriggerRequest(
            method: "GET", rawPath: "/", sourceIP: "127.0.0.1", host: "abc.lambda-url.us-east-1.localhost",
            requestID: "r", timeEpochMillis: 0)
        let event = PayloadFormatV2.event(
            for: request,
            context: .functionURL(urlID: "abc", domainName: "abc.lambda-url.us-east-1.localhost", accountID: "1"))
        #expect(event.readableBytes > 0)
    }
}
