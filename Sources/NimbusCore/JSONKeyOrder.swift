/// Reads the order of an object's keys straight from JSON text. `JSONValue` keeps objects in dictionaries, which
/// lose the order; AWS's messages quote request maps in the order the client sent them (e.g. the environment
/// measured against the 4 KB limit).
public enum JSONKeyOrder {
    /// The keys, in document order, of the object found by following `path` (object keys) from the root; nil when
    /// the text is not valid JSON or the path does not lead to an object.
    public static func keys(at path: [String], in bytes: [UInt8]) -> [String]? {
        var scanner = Scanner(bytes: bytes)
        return scanner.find(path[...])
    }

    struct Scanner {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while self.i < self.bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[self.i]) { self.i += 1 }
        }

        /// Walks the value at the cursor; when `path` is empty and it is an object, returns its keys.
        mutating func find(_ path: ArraySlice<String>) -> [String]? {
            self.skipSpace()
            guard self.i < self.bytes.count, self.bytes[self.i] == UInt8(ascii: "{") else { return nil }
            self.i += 1
            var keys: [String] = []
            var found: [String]?
            while true {
                self.skipSpace()
                guard self.i < self.bytes.count else { return nil }
                if self.bytes[self.i] == UInt8(ascii: "}") {
                    self.i += 1
                    return path.isEmpty ? keys : found
                }
                if self.bytes[self.i] == UInt8(ascii: ",") {
                    self.i += 1
                    continue
                }
                guard let key = self.string() else { return nil }
                keys.append(key)
                self.skipSpace()
                guard self.i < self.bytes.count, self.bytes[self.i] == UInt8(ascii: ":") else { return nil }
                self.i += 1
                self.skipSpace()
                if let first = path.first, first == key, self.i < self.bytes.count, self.bytes[self.i] == UInt8(ascii: "{") {
                    found = self.find(path.dropFirst())
                } else if !self.skipValue() {
                    return nil
                }
            }
        }

        /// A JSON string at the cursor, decoded (escapes resolved through JSONValue for correctness).
        mutating func string() -> String? {
            guard self.i < self.bytes.count, self.bytes[self.i] == UInt8(ascii: "\"") else { return nil }
            let start = self.i
            self.i += 1
            while self.i < self.bytes.count {
                switch self.bytes[self.i] {
                case UInt8(ascii: "\\"): self.i += 2
                case UInt8(ascii: "\""):
                    self.i += 1
                    return JSONValue.parse(self.bytes[start..<self.i])?.stringValue
                default: self.i += 1
                }
            }
            return nil
        }

        /// Skips one value of any kind.
        mutating func skipValue() -> Bool {
            self.skipSpace()
            guard self.i < self.bytes.count else { return false }
            switch self.bytes[self.i] {
            case UInt8(ascii: "\""):
                return self.string() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while self.i < self.bytes.count {
                    let b = self.bytes[self.i]
                    if b == UInt8(ascii: "\"") {
                        guard self.string() != nil else { return false }
                        continue
                    }
                    if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { depth += 1 }
                    if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 {
                            self.i += 1
                            return true
                        }
                    }
                    self.i += 1
                }
                return false
            default:
                while self.i < self.bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(self.bytes[self.i]) {
                    self.i += 1
                }
                return true
            }
        }
    }
}
