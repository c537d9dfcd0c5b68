import Foundation
import NimbusProtocols
import Testing

/// RFC 8949 Appendix A, decoded and re-encoded byte for byte.
@Suite struct CBORTests {
    static let definite: [(String, CBORValue)] = [
        ("00", 0), ("01", 1), ("0a", 10), ("17", 23), ("1818", 24), ("1819", 25), ("1864", 100), ("1903e8", 1000),
        ("1a000f4240", 1_000_000), ("1b000000e8d4a51000", 1_000_000_000_000),
        ("1bffffffffffffffff", .unsigned(UInt64.max)),
        ("c249010000000000000000", .tagged(2, .bytes(hex("010000000000000000")))),
        ("3bffffffffffffffff", .negative(UInt64.max)),
        ("c349010000000000000000", .tagged(3, .bytes(hex("010000000000000000")))),
        ("20", -1), ("29", -10), ("3863", -100), ("3903e7", -1000),
        ("f90000", .float16(0.0)), ("f98000", .float16(-0.0)), ("f93c00", .float16(1.0)),
        ("fb3ff199999999999a", 1.1), ("f93e00", .float16(1.5)), ("f97bff", .float16(65504.0)),
        ("fa47c35000", .float32(100000.0)), ("fa7f7fffff", .float32(3.4028234663852886e+38)),
        ("fb7e37e43c8800759c", 1.0e+300), ("f90001", .float16(5.960464477539063e-8)),
        ("f90400", .float16(0.00006103515625)), ("f9c400", .float16(-4.0)), ("fbc010666666666666", -4.1),
        ("f97c00", .float16(.infinity)), ("f9fc00", .float16(-.infinity)),
        ("fa7f800000", .float32(.infinity)), ("faff800000", .float32(-.infinity)),
        ("fb7ff0000000000000", .float64(.infinity)), ("fbfff0000000000000", .float64(-.infinity)),
        ("f4", false), ("f5", true), ("f6", .null), ("f7", .undefined), ("f0", .simple(16)), ("f8ff", .simple(255)),
        ("c074323031332d30332d32315432303a30343a30305a", .tagged(0, "2013-03-21T20:04:00Z")),
        ("c11a514b67b0", .tagged(1, 1_363_896_240)), ("c1fb41d452d9ec200000", .tagged(1, 1_363_896_240.5)),
        ("d74401020304", .tagged(23, .bytes([1, 2, 3, 4]))),
        ("d818456449455446", .tagged(24, .bytes(Array("dIETF".utf8)))),
        ("d82076687474703a2f2f7777772e6578616d706c652e636f6d", .tagged(32, "http://www.example.com")),
        ("40", .bytes([])), ("4401020304", .bytes([1, 2, 3, 4])),
        ("60", ""), ("6161", "a"), ("6449455446", "IETF"), ("62225c", "\"\\"), ("62c3bc", "\u{00fc}"),
        ("63e6b0b4", "\u{6c34}"), ("64f0908591", "\u{10151}"),
        ("80", []), ("83010203", [1, 2, 3]), ("8301820203820405", [1, [2, 3], [4, 5]]),
        ("98190102030405060708090a0b0c0d0e0f101112131415161718181819", .array((1...25).map { CBORValue(Int64($0)) })),
        ("a0", [:]), ("a201020304", [1: 2, 3: 4]), ("a26161016162820203", ["a": 1, "b": [2, 3]]),
        ("826161a161626163", ["a", ["b": "c"]]),
        ("a56161614161626142616361436164614461656145", ["a": "A", "b": "B", "c": "C", "d": "D", "e": "E"]),
    ]

    @Test(arguments: Self.definite)
    func decodesAndReencodesAppendixA(_ hexDigits: String, _ expected: CBORValue) throws {
        let decoded = try CBORDecoder().decode(hex(hexDigits))
        #expect(decoded == expected)
        #expect(hexString(expected.encoded()) == hexDigits)
    }

    @Test(arguments: ["f97e00", "fa7fc00000", "fb7ff8000000000000"])
    func decodesAndReencodesNaNAtItsWidth(_ hexDigits: String) throws {
        let decoded = try CBORDecoder().decode(hex(hexDigits))
        #expect(decoded.doubleValue?.isNaN == true)
        #expect(hexString(decoded.encoded()) == hexDigits)
    }

    static let indefinite: [(String, CBORValue, String)] = [
        ("5f42010243030405ff", .bytes([1, 2, 3, 4, 5]), "450102030405"),
        ("7f657374726561646d696e67ff", "streaming", "6973747265616d696e67"),
        ("9fff", [], "80"),
        ("9f018202039f0405ffff", [1, [2, 3], [4, 5]], "8301820203820405"),
        ("9f01820203820405ff", [1, [2, 3], [4, 5]], "8301820203820405"),
        ("83018202039f0405ff", [1, [2, 3], [4, 5]], "8301820203820405"),
        ("83019f0203ff820405", [1, [2, 3], [4, 5]], "8301820203820405"),
        (
            "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", .array((1...25).map { CBORValue(Int64($0)) }),
            "98190102030405060708090a0b0c0d0e0f101112131415161718181819"
        ),
        ("bf61610161629f0203ffff", ["a": 1, "b": [2, 3]], "a26161016162820203"),
        ("826161bf61626163ff", ["a", ["b": "c"]], "826161a161626163"),
        ("bf6346756ef563416d7421ff", ["Fun": true, "Amt": -2], "a26346756ef563416d7421"),
    ]

    @Test(arguments: Self.indefinite)
    func decodesIndefiniteLengthsAndReencodesThemDefinite(
        _ input: String,
        _ expected: CBORValue,
        _ definite: String
    ) throws {
        let decoded = try CBORDecoder().decode(hex(input))
        #expect(decoded == expected)
        #expect(hexString(decoded.encoded()) == definite)
    }

    @Test func acceptsNonPreferredHeadsAndReencodesThemShortest() throws {
        #expect(try CBORDecoder().decode(hex("1b0000000000000001")) == 1)
        #expect(try CBORDecoder().decode(hex("5900024142")) == .bytes([0x41, 0x42]))
        #expect(try CBORDecoder().decode(hex("fb3ff8000000000000")).encoded() == hex("fb3ff8000000000000"))
    }

    @Test func encodesHeadsAtEveryBoundary() {
        let cases: [(CBORValue, String)] = [
            (255, "18ff"), (256, "190100"), (65535, "19ffff"), (65536, "1a00010000"),
            (.unsigned(0xffff_ffff), "1affffffff"), (.unsigned(0x1_0000_0000), "1b0000000100000000"),
            (CBORValue(Int64.min), "3b7fffffffffffffff"), (CBORValue(Int64.max), "1b7fffffffffffffff"),
            (.text(String(repeating: "x", count: 24)), "7818" + String(repeating: "78", count: 24)),
        ]
        for (value, expected) in cases { #expect(hexString(value.encoded()) == expected) }
    }

    @Test func writesHalfFloatsThatHaveNoExactHalfFormAsSinglePrecision() {
        #expect(hexString(CBORValue.float16(0.1).encoded()) == "fa3dcccccd")
        #expect(hexString(CBORValue.float16(65536).encoded()) == "fa47800000")
        #expect(hexString(CBORValue.float16(-5.960464477539063e-8).encoded()) == "f98001")
    }

    @Test func readsIntegersThroughAccessors() {
        #expect(CBORValue.negative(UInt64.max).int64Value == nil)
        #expect(CBORValue.negative(UInt64(Int64.max)).int64Value == Int64.min)
        #expect(CBORValue.unsigned(UInt64.max).uint64Value == UInt64.max)
        #expect(CBORValue.unsigned(UInt64.max).int64Value == nil)
        #expect(CBORValue.negative(0).doubleValue == -1)
        #expect(CBORValue.float16(1.5).doubleValue == 1.5)
    }

    @Test func readsBlobsAndTimestampsDirectly() throws {
        let value = try CBORDecoder().decode(hex("a2644461746143010203625473c11a514b67b0"))
        #expect(value["Data"]?.bytesValue == [1, 2, 3])
        #expect(value["Ts"]?.timestampValue == Date(timeIntervalSince1970: 1_363_896_240))
        #expect(value["Missing"] == nil)
        #expect(CBORValue.tagged(1, 1_363_896_240.5).timestampValue == Date(timeIntervalSince1970: 1_363_896_240.5))
        #expect(CBORValue.tagged(1, "2013").timestampValue == nil)
        #expect(CBORValue.tagged(1, .float64(.nan)).timestampValue == nil)
    }

    @Test func writesTimestampsAsTagOneWithMillisecondPrecision() {
        #expect(hexString(CBORValue.timestamp(Date(timeIntervalSince1970: 1_363_896_240)).encoded()) == "c11a514b67b0")
        #expect(CBORValue.timestamp(Date(timeIntervalSince1970: 1.2345)) == .tagged(1, .float64(1.235)))
        #expect(CBORValue.timestamp(Date(timeIntervalSince1970: -1)) == .tagged(1, -1))
    }
}
