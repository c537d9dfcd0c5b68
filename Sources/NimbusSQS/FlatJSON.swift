/// A JSON object of strings (`{"SenderId":"…","AWSTraceHeader":"…"}`), written and read without Foundation's coders:
/// the system attributes of every message go through it on every send and receive, where `JSONEncoder` and
/// `JSONDecoder` cost more than the store's statements.
enum FlatJSON {
    static func encode(_ map: [String: String]) -> String {
        var out = "{"
        for (index, key) in map.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            self.appendString(key, to: &out)
            out += ":"
            self.appendString(map[key] ?? "", to: &out)
        }
        return out + "}"
    }

    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// The members of a flat object of strings; nil when the text is not one.
    static func decode(_ text: String) -> [String: String]? {
        var scalars = Array(text.unicodeScalars)[...]
        func skipSpace() {
            while let c = scalars.first, c == " " || c == "\n" || c == "\r" || c == "\t" { scalars.removeFirst() }
        }
        func expect(_ c: Unicode.Scalar) -> Bool {
            skipSpace()
            guard scalars.first == c else { return false }
            scalars.removeFirst()
            return true
        }
        func string() -> String? {
            guard expect("\"") else { return nil }
            var out = String.UnicodeScalarView()
            while let c = scalars.popFirst() {
                switch c {
                case "\"": return String(out)
                case "\\":
                    guard let e = scalars.popFirst() else { return nil }
                    switch e {
                    case "\"", "\\", "/": out.append(e)
                    case "b": out.append("\u{8}")
                    case "f": out.append("\u{c}")
                    case "n": out.append("\n")
                    case "r": out.append("\r")
                    case "t": out.append("\t")
                    case "u":
                        guard var value = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(value) {
                            guard scalars.popFirst() == "\\", scalars.popFirst() == "u", let low = hex4(),
                                (0xDC00..<0xE000).contains(low)
                            else { return nil }
                            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(value) else { return nil }
                        out.append(scalar)
                    default: return nil
                    }
                default: out.append(c)
                }
            }
            return nil
        }
        func hex4() -> UInt32? {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let c = scalars.popFirst(), let digit = UInt32(String(c), radix: 16) else { return nil }
                value = value << 4 | digit
            }
            return value
        }
        guard expect("{") else { return nil }
        var map: [String: String] = [:]
        if expect("}") { return map }
        repeat {
            guard let key = string(), expect(":"), let value = string() else { return nil }
            map[key] = value
        } while expect(",")
        guard expect("}") else { return nil }
        skipSpace()
        return scalars.isEmpty ? map : nil
    }
}
