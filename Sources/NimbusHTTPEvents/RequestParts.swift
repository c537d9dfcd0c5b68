import NIOCore

/// The pieces of a request both payload formats derive the same way: decoded query parameters, decoded path, the
/// request time as API Gateway writes it, and the body-encoding rule.
enum RequestParts {
    /// Query parameters in first-appearance order, each with all its values in order; names and values
    /// percent-decoded (`+` is kept as `+`: see docs/http-triggers-wire.md). Empty pieces (`a=1&&b=2`) are skipped;
    /// a piece without `=` is a parameter with an empty value.
    static func queryParameters(_ rawQuery: String) -> [(name: String, values: [String])] {
        var result: [(name: String, values: [String])] = []
        var positions: [String: Int] = [:]
        for piece in rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let name: String
            let value: String
            if let equals = piece.firstIndex(of: UInt8(ascii: "=")) {
                name = Self.percentDecoded(piece[piece.startIndex..<equals])
                value = Self.percentDecoded(piece[piece.index(after: equals)...])
            } else {
                name = Self.percentDecoded(piece)
                value = ""
            }
            if let position = positions[name] {
                result[position].values.append(value)
            } else {
                positions[name] = result.count
                result.append((name, [value]))
            }
        }
        return result
    }

    /// Percent-decodes UTF-8 text; a `%` not followed by two hex digits is kept as is, and a decoded sequence that is
    /// not valid UTF-8 is repaired with U+FFFD rather than refused.
    static func percentDecoded(_ text: some Collection<UInt8>) -> String {
        guard text.contains(UInt8(ascii: "%")) else { return String(decoding: text, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = text.startIndex
        while index != text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "%") {
                let first = text.index(after: index)
                if first != text.endIndex {
                    let second = text.index(after: first)
                    if second != text.endIndex, let high = Self.hexValue(text[first]),
                        let low = Self.hexValue(text[second])
                    {
                        bytes.append(high << 4 | low)
                        index = text.index(after: second)
                        continue
                    }
                }
            }
            bytes.append(byte)
            index = text.index(after: index)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func percentDecoded(_ text: String) -> String { Self.percentDecoded(text.utf8) }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The request time as API Gateway writes `requestContext.time` and `requestTime`: `12/Mar/2020:19:03:58 +0000`
    /// (UTC, the Common Log Format). Computed from the epoch without Foundation's formatters, which are slow and not
    /// thread-safe to share.
    static func clfTime(epochMillis: Int64) -> String {
        let seconds = epochMillis >= 0 ? epochMillis / 1000 : (epochMillis - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(day))/\(months[Int(month - 1)])/\(year):\(two(secondOfDay / 3600)):"
            + "\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) +0000"
    }

    /// Year, month (1–12) and day (1–31) of a day count since 1970-01-01, in the proleptic Gregorian calendar
    /// (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// How a request body is placed in an event: as text, or base64 with `isBase64Encoded: true`.
public enum HTTPBodyEncoding {
    /// Whether a body with this `Content-Type` is passed as text (when it is also valid UTF-8); every other body is
    /// base64-encoded.
    ///
    /// Text: `text/*`, `application/json`, `application/xml` and `application/javascript`, compared
    /// case-insensitively on the media type (parameters such as `charset` ignored). Everything else is binary,
    /// including a missing content type, `application/x-www-form-urlencoded`, `multipart/form-data` and suffixed
    /// types such as `application/problem+json` — the split observed on AWS (docs/http-triggers-wire.md).
    public static func isTextContentType(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType =
            contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map {
                $0.trimmingASCIIWhitespace().lowercased()
            } ?? ""
        return mediaType.hasPrefix("text/") || Self.textApplicationTypes.contains(mediaType)
    }

    static let textApplicationTypes: Set<String> = ["application/json", "application/xml", "application/javascript"]

    /// Whether `body` goes into the event base64-encoded: it is non-empty and either its content type is not text
    /// or it is not valid UTF-8.
    public static func needsBase64(body: ByteBuffer, contentType: String?) -> Bool {
        guard body.readableBytes > 0 else { return false }
        guard Self.isTextContentType(contentType) else { return true }
        return !body.withUnsafeReadableBytes { Self.isValidUTF8($0) }
    }

    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Fast path: an ASCII run needs no decoding.
        var index = 0
        while index < bytes.count, bytes[index] < 0x80 { index += 1 }
        guard index < bytes.count else { return true }
        var iterator = UnsafeRawBufferPointer(rebasing: bytes[index...]).makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
