import Crypto
import NimbusCore

/// The MD5 digests SQS returns so that clients can check what it stored (the Java, Go, .NET and Ruby SDKs verify
/// them; botocore does not): `MD5OfMessageBody` over the body's UTF-8 bytes, and `MD5OfMessageAttributes` /
/// `MD5OfMessageSystemAttributes` over AWS's documented binary encoding of the attributes
/// ("Calculating the MD5 message digest for message attributes", SQS Developer Guide):
///
/// for each attribute, in ascending order of name: the name, the data type (each as a 4-byte big-endian length and
/// its UTF-8 bytes), one transport byte (1 for `String` and `Number`, 2 for `Binary`, after the custom suffix is
/// dropped), then the value as a 4-byte length and its bytes (UTF-8 for strings).
public enum MessageDigest {
    /// Lower-case hex MD5 of the body's UTF-8 bytes.
    public static func body(_ body: String) -> String {
        self.hex(Insecure.MD5.hash(data: Array(body.utf8)))
    }

    /// The digest of a set of message (or message system) attributes; nil when there are none (AWS omits it then).
    public static func attributes(_ attributes: [String: MessageAttributeValue]) -> String? {
        guard !attributes.isEmpty else { return nil }
        return self.hex(Insecure.MD5.hash(data: self.encoding(attributes)))
    }

    /// The bytes AWS hashes (exposed for tests).
    static func encoding(_ attributes: [String: MessageAttributeValue]) -> [UInt8] {
        var bytes: [UInt8] = []
        for name in attributes.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard let value = attributes[name] else { continue }
            self.appendLengthPrefixed(Array(name.utf8), to: &bytes)
            self.appendLengthPrefixed(Array(value.dataType.utf8), to: &bytes)
            if let binary = value.binaryValue, MessageAttributeValue.transport(of: value.dataType) == .binary {
                bytes.append(2)
                self.appendLengthPrefixed(binary, to: &bytes)
            } else {
                bytes.append(1)
                self.appendLengthPrefixed(Array((value.stringValue ?? "").utf8), to: &bytes)
            }
        }
        return bytes
    }

    static func appendLengthPrefixed(_ value: [UInt8], to bytes: inout [UInt8]) {
        let length = UInt32(truncatingIfNeeded: value.count)
        bytes.append(contentsOf: [
            UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ])
        bytes.append(contentsOf: value)
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        Digest.hex(Array(digest))
    }
}

extension MessageAttributeValue {
    /// How a data type's value travels: its base type, before any `.custom` suffix.
    enum Transport: Sendable, Equatable {
        case string, number, binary
    }

    /// The transport of `String`, `Number`, `Binary` and their custom forms (`Number.float`); nil for anything else.
    static func transport(of dataType: String) -> Transport? {
        let base = dataType.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch base {
        case "String": return .string
        case "Number": return .number
        case "Binary": return .binary
        default: return nil
        }
    }
}
