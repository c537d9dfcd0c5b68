import Foundation
import NimbusCore

/// What SendMessage(Batch) checks of a message, with AWS's errors. Pure.
enum MessageValidation {
    /// The body: not empty, only the characters XML 1.0 allows (AWS's `InvalidMessageContents`).
    static func body(_ body: String?) throws(SQSError) -> String {
        guard let body, !body.isEmpty else { throw .missingParameter("MessageBody") }
        guard self.allowedCharacters(body) else { throw .invalidMessageContents }
        return body
    }

    /// `#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`.
    static func allowedCharacters(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
            default: return false
            }
        }
    }

    /// Message attributes from a request (`{"name": {"DataType": …, "StringValue"|"BinaryValue": …}}`), validated as
    /// SQS validates them: at most 10; names of `[A-Za-z0-9_.-]`, up to 256 characters, not starting with `AWS.` or
    /// `Amazon.`, not starting or ending with a period, no two periods in a row; a data type of `String`, `Number` or
    /// `Binary`, optionally with a `.custom` suffix, up to 256 characters; a non-empty value of the matching kind; a
    /// number that parses as one.
    static func attributes(
        _ value: JSONValue?,
        system: Bool = false
    ) throws(SQSError) -> [String: MessageAttributeValue] {
        guard let value, !value.isNull else { return [:] }
        if case .string(let s) = value, s.isEmpty { return [:] }  // the query protocol's empty map
        guard let map = value.objectValue else {
            throw .serialization("\(system ? "MessageSystemAttributes" : "MessageAttributes") must be a map.")
        }
        let kind = system ? "system" : "(user)"
        if !system, map.count > SQSLimits.maximumMessageAttributes {
            throw .invalidParameterValue(
                "Number of message attributes [\(map.count)] exceeds the allowed maximum [\(SQSLimits.maximumMessageAttributes)]."
            )
        }
        var attributes: [String: MessageAttributeValue] = [:]
        for name in map.keys.sorted() {
            guard let entry = map[name]?.objectValue else {
                throw .invalidParameterValue("Message \(kind) attribute '\(name)' must be a structure.")
            }
            if system {
                guard name == "AWSTraceHeader" else {
                    throw .invalidParameterValue("Message system attribute name '\(name)' is invalid.")
                }
            } else {
                try self.attributeName(name)
            }
            guard let dataType = entry["DataType"]?.stringValue, !dataType.isEmpty else {
                throw .invalidParameterValue(
                    "The message \(kind) attribute '\(name)' must contain a non-empty attribute type."
                )
            }
            guard dataType.utf8.count <= 256, let transport = MessageAttributeValue.transport(of: dataType),
                dataType.count == 6 || (dataType.dropFirst(6).first == "." && dataType.count > 7)
            else {
                throw .invalidParameterValue(
                    "The type of message \(kind) attribute '\(name)' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
                )
            }
            if entry["StringListValues"].map({ !Self.isEmptyList($0) }) == true
                || entry["BinaryListValues"].map({ !Self.isEmptyList($0) }) == true
            {
                throw .invalidParameterValue(
                    "Message \(kind) attribute '\(name)': StringListValues and BinaryListValues are not supported."
                )
            }
            let base = transport == .binary ? "Binary" : (transport == .number ? "Number" : "String")
            let mustContain = SQSError.invalidParameterValue(
                "Message \(kind) attribute '\(name)' must contain a non-empty value of type '\(base)'."
            )
            switch transport {
            case .binary:
                guard entry["StringValue"] == nil || entry["StringValue"]?.isNull == true else { throw mustContain }
                guard let text = entry["BinaryValue"]?.stringValue, let data = Data(base64Encoded: text), !data.isEmpty
                else { throw mustContain }
                attributes[name] = MessageAttributeValue(dataType: dataType, binaryValue: Array(data))
            case .string, .number:
                guard entry["BinaryValue"] == nil || entry["BinaryValue"]?.isNull == true else { throw mustContain }
                guard let text = entry["StringValue"]?.stringValue, !text.isEmpty else { throw mustContain }
                guard self.allowedCharacters(text) else { throw .invalidMessageContents }
                if transport == .number, !self.isNumber(text) {
                    throw .invalidParameterValue(
                        "Can't cast the value of message \(kind) attribute '\(name)' to a number."
                    )
                }
                attributes[name] = MessageAttributeValue(dataType: dataType, stringValue: text)
            }
        }
        return attributes
    }

    static func isEmptyList(_ value: JSONValue) -> Bool {
        if let list = value.arrayValue { return list.isEmpty }
        return value.isNull || value.stringValue == ""
    }

    static func attributeName(_ name: String) throws(SQSError) {
        guard name.utf8.count <= 256 else {
            throw .invalidParameterValue("Message (user) attribute name must be shorter than 256 bytes.")
        }
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
        let lower = name.lowercased()
        guard allowed, !name.isEmpty, !name.hasPrefix("."), !name.hasSuffix("."), !name.contains(".."),
            !lower.hasPrefix("aws."), !lower.hasPrefix("amazon.")
        else {
            throw .invalidParameterValue(
                "Message (user) attribute name '\(name)' is invalid. Names can contain alphanumeric characters, underscores, hyphens and periods, cannot start or end with a period, cannot contain successive periods, and cannot start with AWS. or Amazon."
            )
        }
    }

    /// A decimal number as SQS accepts it (`-1.5e3`): up to 38 significant digits.
    static func isNumber(_ text: String) -> Bool {
        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "-" || scalars.first == "+" { scalars = scalars.dropFirst() }
        var digits = 0
        var sawDot = false
        var sawDigit = false
        while let c = scalars.first, c != "e", c != "E" {
            if c == "." {
                guard !sawDot else { return false }
                sawDot = true
            } else if ("0"..."9").contains(c) {
                sawDigit = true
                if digits > 0 || c != "0" { digits += 1 }
            } else {
                return false
            }
            scalars = scalars.dropFirst()
        }
        guard sawDigit, digits <= 38 else { return false }
        if scalars.isEmpty { return true }
        scalars = scalars.dropFirst()
        if scalars.first == "-" || scalars.first == "+" { scalars = scalars.dropFirst() }
        return !scalars.isEmpty && scalars.allSatisfy { ("0"..."9").contains($0) }
    }

    /// What a message counts against `MaximumMessageSize`: the body's bytes plus each attribute's name, type and
    /// value bytes (system attributes do not count).
    static func size(body: String, attributes: [String: MessageAttributeValue]) -> Int {
        var size = body.utf8.count
        for (name, value) in attributes {
            size += name.utf8.count + value.dataType.utf8.count
            size += value.stringValue?.utf8.count ?? 0
            size += value.binaryValue?.count ?? 0
        }
        return size
    }

    /// `MessageGroupId` and `MessageDeduplicationId`: 1 to 128 alphanumeric or punctuation characters.
    static func fifoIdentifier(_ value: String, parameter: String) throws(SQSError) {
        let ok =
            (1...128).contains(value.utf8.count)
            && value.utf8.allSatisfy { (0x21...0x7E).contains($0) }
        guard ok else {
            throw .invalidValue(
                value,
                parameter: parameter,
                reason: "\(parameter) can only include alphanumeric and punctuation characters. 1 to 128 in length."
            )
        }
    }

    /// Batch entry ids: 1 to 80 of `[A-Za-z0-9_-]`.
    static func batchEntryID(_ id: String) -> Bool {
        (1...80).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-")
            }
    }

    /// Checks a batch's entries: 1 to 10, valid and distinct ids; returns each entry's id.
    static func batch(_ entries: [JSONValue]?, entryName: String) throws(SQSError) -> [String] {
        guard let entries, !entries.isEmpty else { throw .emptyBatch(entryName) }
        guard entries.count <= SQSLimits.maximumBatchEntries else { throw .tooManyEntries(entries.count) }
        var seen: Set<String> = []
        var ids: [String] = []
        for entry in entries {
            guard let id = entry["Id"]?.stringValue else { throw .missingParameter("Id") }
            guard self.batchEntryID(id) else { throw .invalidBatchEntryId }
            guard seen.insert(id).inserted else { throw .batchEntryIdsNotDistinct(id) }
            ids.append(id)
        }
        return ids
    }
}
