import Crypto
import Foundation
import NimbusCore

/// `arn:aws:sqs:<region>:<account>:<name>`.
struct QueueARN: Sendable, Hashable {
    var namespace: AccountContext
    var name: String

    init(namespace: AccountContext, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses an SQS queue ARN (any partition); nil when it is not one.
    init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn", !parts[1].isEmpty, parts[2] == "sqs", !parts[3].isEmpty,
            !parts[4].isEmpty, !parts[5].isEmpty, !parts[5].contains(":")
        else { return nil }
        self.namespace = AccountContext(region: parts[3], accountID: parts[4])
        self.name = parts[5]
    }

    var description: String { "arn:aws:sqs:\(self.namespace.region):\(self.namespace.accountID):\(self.name)" }
}

/// Queue names: 1 to 80 characters of `[A-Za-z0-9_-]`, and for FIFO queues a `.fifo` suffix (counted in the 80).
enum QueueName {
    static func validate(_ name: String, fifo: Bool) throws(SQSError) {
        let valid = { (base: Substring) in
            !base.isEmpty
                && base.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                        || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                        || byte == UInt8(ascii: "_")
                }
        }
        let length = name.utf8.count
        if fifo {
            guard name.hasSuffix(".fifo"), length <= SQSLimits.maximumQueueNameLength, valid(name.dropLast(5)) else {
                throw .invalidParameterValue(
                    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
                )
            }
        } else {
            guard length <= SQSLimits.maximumQueueNameLength, valid(Substring(name)) else {
                throw .invalidParameterValue(
                    "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
                )
            }
        }
    }
}

/// Queue URLs: `http://<host as the client addressed it>/<account>/<name>`, like AWS's
/// `https://sqs.<region>.amazonaws.com/<account>/<name>`. A URL in a request is resolved by its last two path
/// segments within the request's namespace, so URLs of any host (and AWS's own form) work.
enum QueueURL {
    static func make(host: String, account: String, name: String) -> String {
        "http://\(host)/\(account)/\(name)"
    }

    /// The (account, name) a queue URL names.
    /// - Throws: `InvalidAddress` when the URL has no two path segments.
    static func parse(_ url: String) throws(SQSError) -> (account: String, name: String) {
        var path = Substring(url)
        if let scheme = path.range(of: "://") {
            path = path[scheme.upperBound...]
            guard let slash = path.firstIndex(of: "/") else { throw .invalidAddress(url) }
            path = path[slash...]
        }
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard segments.count >= 2, let name = segments.last, let account = segments.dropLast().last else {
            throw .invalidAddress(url)
        }
        return (String(account), String(name))
    }
}

/// Receipt handles: opaque, unforgeable, and naming one receive of one message. A handle is base64 of the queue's
/// id, the message's sequence, the receive's number (the message's receive count after it) and an HMAC-SHA256 (16
/// bytes) of those under a key kept in the database, so a handle survives restarts, a forged or altered one is
/// refused, and an old one is recognised as old.
struct ReceiptHandles: Sendable {
    /// The key's bytes (`SymmetricKey` is not `Sendable`; one is made per use).
    let key: [UInt8]

    init(key: [UInt8]) {
        self.key = key
    }

    static let version: UInt8 = 1
    static let length = 1 + 8 + 8 + 4 + 16

    func make(queueID: Int64, sequence: Int64, receiveCount: Int) -> String {
        var bytes: [UInt8] = [Self.version]
        Self.append(UInt64(bitPattern: queueID), 8, to: &bytes)
        Self.append(UInt64(bitPattern: sequence), 8, to: &bytes)
        Self.append(UInt64(UInt32(truncatingIfNeeded: receiveCount)), 4, to: &bytes)
        bytes += self.mac(bytes)
        return Data(bytes).base64EncodedString()
    }

    /// The receive a handle names, or nil when it is not one of ours (malformed, forged, altered).
    func parse(_ handle: String) -> (queueID: Int64, sequence: Int64, receiveCount: Int)? {
        guard handle.utf8.count <= 200, let data = Data(base64Encoded: handle), data.count == Self.length else {
            return nil
        }
        let bytes = Array(data)
        guard bytes[0] == Self.version else { return nil }
        let body = Array(bytes[0..<21])
        guard Self.constantTimeEqual(self.mac(body), Array(bytes[21...])) else { return nil }
        let queueID = Int64(bitPattern: Self.read(bytes, 1, 8))
        let sequence = Int64(bitPattern: Self.read(bytes, 9, 8))
        let count = Int(Self.read(bytes, 17, 4))
        return (queueID, sequence, count)
    }

    func mac(_ bytes: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: self.key)).prefix(16))
    }

    static func append(_ value: UInt64, _ width: Int, to bytes: inout [UInt8]) {
        for i in stride(from: width - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(i * 8)))
        }
    }

    static func read(_ bytes: [UInt8], _ start: Int, _ width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in start..<(start + width) { value = value << 8 | UInt64(bytes[i]) }
        return value
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// Message move task handles, as AWS makes them: base64 of `{"taskId":"<uuid>","sourceArn":"<arn>"}`.
enum MoveTaskHandle {
    static func make(taskID: String, sourceARN: String) -> String {
        let document: JSONValue = ["taskId": .string(taskID), "sourceArn": .string(sourceARN)]
        return Data(document.serialized()).base64EncodedString()
    }

    static func parse(_ handle: String) -> (taskID: String, sourceARN: String)? {
        guard let data = Data(base64Encoded: handle), let document = JSONValue.parse(Array(data)),
            let taskID = document["taskId"]?.stringValue, let source = document["sourceArn"]?.stringValue
        else { return nil }
        return (taskID, source)
    }
}

/// AWS's `SequenceNumber`: a large, increasing decimal number (20 digits here: `1` and the row's sequence padded).
enum SequenceNumber {
    static func format(_ sequence: Int64) -> String {
        let digits = String(sequence)
        return "1" + String(repeating: "0", count: max(0, 19 - digits.count)) + digits
    }
}
