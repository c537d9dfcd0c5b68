import FoundationEssentials
import NimbusSigV4
import Testing

@Suite("Timestamps")
struct SigV4TimestampTests {
    @Test(arguments: [
        ("20150830T123600Z", 1_440_938_160 as Int64),
        ("19700101T000000Z", 0),
        ("20000229T235959Z", 951_868_799),
        ("21000301T000000Z", 4_107_542_400),
        ("19691231T235959Z", -1),
    ])
    func basicFormRoundTrips(text: String, seconds: Int64) throws {
        let timestamp = try #require(SigV4Timestamp(basic: text))
        #expect(timestamp.secondsSince1970 == seconds)
        #expect(timestamp.basic == text)
        #expect(SigV4Timestamp(timestamp.date) == timestamp)
    }

    @Test(arguments: [
        "", "20150830T123600", "2015-08-30T12:36:00Z", "20150230T000000Z", "21000229T000000Z", "20150830T246000Z",
        "20150830t123600z", "２０１５0830T123600Z",
    ])
    func malformedBasicForms(text: String) {
        #expect(SigV4Timestamp(basic: text) == nil)
    }

    @Test
    func httpDates() {
        #expect(SigV4Timestamp(httpDate: "Sun, 30 Aug 2015 12:36:00 GMT")?.basic == "20150830T123600Z")
        #expect(SigV4Timestamp(httpDate: "Fri, 24 May 2013 00:00:00 GMT")?.basic == "20130524T000000Z")
        #expect(SigV4Timestamp(httpDate: "Sun, 30 Aug 2015 12:36:00 PST") == nil)
        #expect(SigV4Timestamp(httpDate: "Sunday, 30-Aug-15 12:36:00 GMT") == nil)
        #expect(SigV4Timestamp(httpDate: "30 Aug 2015 12:36:00 GMT") == nil)
    }

    @Test
    func formsAndArithmetic() throws {
        let timestamp = try #require(SigV4Timestamp(basic: "20150830T123600Z"))
        #expect(timestamp.day == "20150830")
        #expect(timestamp.extended == "2015-08-30T12:36:00Z")
        #expect(timestamp.adding(seconds: 86_400 * 2 + 3600).basic == "20150901T133600Z")
        #expect(SigV4Timestamp(Date(timeIntervalSince1970: 1_440_938_160.9)) == timestamp)
    }
}
