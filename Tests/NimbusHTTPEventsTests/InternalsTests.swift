import NIOCore
import Testing

@testable import NimbusHTTPEvents

@Suite struct InternalsTests {
    @Test func base64RoundTrips() {
        for length in 0..<40 {
            let raw = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base64.encode(raw)
            #expect(text.utf8.count == (length + 2) / 3 * 4)
            #expect(Base64.decode(text.utf8).map { Array($0.readableBytesView) } == raw)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fooba".utf8)) == "Zm9vYmE=")
        #expect(Base64.encode(Array("foob".utf8)) == "Zm9vYg==")
    }

    @Test func base64DecodingIsLenientAboutPaddingAndAlphabet() {
        #expect(Base64.decode("Zm9vYg".utf8).map { String(buffer: $0) } == "foob")
        #expect(Base64.decode("-_8".utf8).map { Array($0.readableBytesView) } == [0xFB, 0xFF])
        #expect(Base64.decode("Zm9v!".utf8) == nil)
        #expect(Base64.decode("Zg=a".utf8) == nil)
        #expect(Base64.decode("Z".utf8) == nil)
        #expect(Base64.decode("Zg===".utf8) == nil)
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
