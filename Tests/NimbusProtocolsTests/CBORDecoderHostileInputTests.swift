import NimbusProtocols
import Testing

/// Input a client can send that must fail cleanly: no crash, no allocation sized by a claimed length.
@Suite struct CBORDecoderHostileInputTests {
    static let malformed: [(String, String)] = [
        ("", "empty input"),
        ("18", "unexpected end of input"),
        ("1a0000", "unexpected end of input"),
        ("1bffffffffffffffff00", "trailing"),
        ("0000", "trailing"),
        ("5bffffffffffffffff", "declares 18446744073709551615"),
        ("7b7fffffffffffffff", "declares 9223372036854775807"),
        ("9bffffffffffffffff", "array length declares"),
        ("bb4000000000000000", "map size declares"),
        ("bbffffffffffffffff", "map size declares"),
        ("6461", "declares 4 but only 1"),
        ("83", "array length declares 3 but only 0"),
        ("a16161", "unexpected end of input"),
        ("9f01", "missing break code"),
        ("ff", "break code outside"),
        ("81ff", "break code outside"),
        ("bf01ff", "break code outside"),
        ("bf6161ff", "break code outside"),
        ("1c", "reserved additional information 28"),
        ("3d", "reserved additional information 29"),
        ("5e", "reserved additional information 30"),
        ("fc", "reserved additional information 28"),
        ("9e", "reserved additional information 30"),
        ("1f", "indefinite length is not allowed for major type 0"),
        ("3f", "indefinite length is not allowed for major type 1"),
        ("df", "indefinite length is not allowed for major type 6"),
        ("f800", "below 32"),
        ("f81f", "below 32"),
        ("5f6161ff", "same type"),
        ("7f4161ff", "same type"),
        ("5f5f4101ffff", "same type"),
        ("7f01ff", "same type"),
        ("62c328", "not valid UTF-8"),
        ("63eda080", "not valid UTF-8"),
        ("62c0af", "not valid UTF-8"),
        ("7f61c361bcff", "not valid UTF-8"),
        ("a2616101616102", "duplicate map key"),
        ("a201010102", "duplicate map key"),
        ("c1", "unexpected end of input"),
    ]

    @Test(arguments: Self.malformed)
    func refusesMalformedInput(_ input: String, _ expectedMessage: String) {
        #expect {
            try CBORDecoder().decode(hex(input))
        } throws: { error in
            guard let error = error as? WireFormatError else { return false }
            return error.code == .malformedCBOR && error.message.contains(expectedMessage)
        }
    }

    @Test(arguments: ["81", "a16161", "c1"])
    func refusesNestingDeeperThanTheLimit(_ level: String) throws {
        let decoder = CBORDecoder(maximumDepth: 64)
        let fits = String(repeating: level, count: 64) + "00"
        #expect(throws: Never.self) { try decoder.decode(hex(fits)) }
        let tooDeep = String(repeating: level, count: 65) + "00"
        let offset = 64 * level.count / 2
        #expect(
            throws: WireFormatError(.limitExceeded, "CBOR nesting deeper than 64 levels (at byte offset \(offset))")
        ) {
            try decoder.decode(hex(tooDeep))
        }
    }

    @Test func refusesAMillionNestedIndefiniteArraysWithoutOverflowingTheStack() {
        let bytes = [UInt8](repeating: 0x9f, count: 1_000_000)
        #expect(throws: WireFormatError.self) { try CBORDecoder().decode(bytes) }
    }

    @Test func survivesRandomAndMutatedInput() throws {
        var generator = SeededGenerator(state: 8949)
        let seeds = CBORTests.definite.map { hex($0.0) } + CBORTests.indefinite.map { hex($0.0) }
        for round in 0..<5_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 1...24, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            } else {
                bytes = seeds[Int.random(in: 0..<seeds.count, using: &generator)]
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[position] = UInt8.random(in: 0...255, using: &generator)
                if Bool.random(using: &generator) {
                    bytes.removeLast(Int.random(in: 0..<bytes.count, using: &generator))
                }
            }
            // Whatever decodes must survive a round trip through its own encoding (failure is the expected outcome
            // for most of these inputs, so it is ignored).
            if let value = try? CBORDecoder().decode(bytes) {
                #expect(try CBORDecoder().decode(value.encoded()).encoded() == value.encoded())
            }
        }
    }
}
