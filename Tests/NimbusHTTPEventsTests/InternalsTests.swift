import NIOCore
import Testing

@testable import NimbusHTTPEvents

@Suite struct InternalsTests {
    /// Functions' base64 bodies decode with or without padding, in either alphabet (ExtrasBase64 does the work).
    @Test func base64BodiesDecodeLeniently() {
        #expect(PayloadFormatV2.decodeBase64("Zm9vYmE=") == Array("fooba".utf8))
        #expect(PayloadFormatV2.decodeBase64("Zm9vYg") == Array("foob".utf8))
        #expect(PayloadFormatV2.decodeBase64("-_8") == [0xFB, 0xFF])
        #expect(PayloadFormatV2.decodeBase64("") == [])
        #expect(PayloadFormatV2.decodeBase64("Zm9v!") == nil)
        #expect(PayloadFormatV2.decodeBase64("Z") == nil)
    }

    @Test(arguments: [
        (Int64(0), "01/Jan/1970:00:00:00 +0000"),
        (Int64(1_583_348_638_390), "04/Mar/2020:19:03:58 +0000"),
        (Int64(951_782_400_000), "29/Feb/2000:00:00:00 +0000"),
        (Int64(4_102_444_799_999), "31/Dec/2099:23:59:59 +0000"),
        (Int64(-1), "31/Dec/1969:23:59:59 +0000"),
    ])
    func commonLogFormatTime(millis: Int64, expected: String) {
        #expect(RequestParts.clfTime(epochMillis: millis) == expected)
    }

    @Test func percentDecoding() {
        #expect(RequestParts.percentDecoded("a%2Fb%20c") == "a/b c")
        #expect(RequestParts.percentDecoded("100%") == "100%")
        #expect(RequestParts.percentDecoded("%4") == "%4")
        #expect(RequestParts.percentDecoded("%e2%82%ac") == "€")
        #expect(RequestParts.percentDecoded("%ff") == "\u{FFFD}")
        #expect(RequestParts.percentDecoded("a+b") == "a+b")
    }

    @Test func queryParametersKeepFirstAppearanceOrder() {
        let parameters = RequestParts.queryParameters("b=1&a=2&b=3&&c")
        #expect(parameters.map(\.name) == ["b", "a", "c"])
        #expect(parameters.map(\.values) == [["1", "3"], ["2"], [""]])
    }

    @Test func compactionLeavesCompactInputAlone() {
        let compact = ByteBuffer(string: #"{"a":[1,2]}"#)
        #expect(PayloadFormatV2.compacted(compact) == compact)
        #expect(
            String(buffer: PayloadFormatV2.compacted(ByteBuffer(string: " [ \"a \\\\\" , 1 ] \n")))
                == "[\"a \\\\\",1]"
        )
    }

    @Test func jsonWriterEscapes() {
        var writer = JSONWriter(capacity: 16)
        writer.beginArray()
        writer.string("a\"b\\c\u{1}\u{1F}\r\n\t\u{8}\u{C}é")
        writer.integer(-5)
        writer.null()
        writer.bool(true)
        writer.endArray()
        #expect(String(buffer: writer.buffer) == #"["a\"b\\c\u0001\u001f\r\n\t\b\fé",-5,null,true]"#)
    }
}
