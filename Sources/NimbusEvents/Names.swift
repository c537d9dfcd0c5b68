import NimbusCore

/// EventBridge's names and ARNs: `arn:aws:events:<region>:<account>:event-bus/<name>`,
/// `arn:aws:events:<region>:<account>:rule/<name>` on the default bus and `rule/<bus>/<name>` on the others.
enum Names {
    static let defaultBus = "default"

    static func busARN(_ name: String, _ namespace: AccountContext) -> String {
        "arn:aws:events:\(namespace.region):\(namespace.accountID):event-bus/\(name)"
    }

    static func ruleARN(_ name: String, bus: String, _ namespace: AccountContext) -> String {
        let path = bus == Self.defaultBus ? name : "\(bus)/\(name)"
        return "arn:aws:events:\(namespace.region):\(namespace.accountID):rule/\(path)"
    }

    /// `[.-_A-Za-z0-9]+`: rule names, target ids, bus names without `/`.
    static func isNameText(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { Self.isNameByte($0) }
    }

    /// `[/.-_A-Za-z0-9]+`: bus names (partner buses have slashes).
    static func isBusNameText(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { Self.isNameByte($0) || $0 == UInt8(ascii: "/") }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// `[A-Za-z0-9_-]+`: InputPathsMap keys.
    static func isPathKeyText(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy {
                Self.isNameByte($0) && $0 != UInt8(ascii: ".")
            }
    }

    /// A bus given by name or ARN, split: the ARN's namespace (nil for a plain name) and the name.
    struct BusReference: Equatable {
        var namespace: AccountContext?
        var name: String
    }

    /// Parses `EventBusName` (a name or `arn:aws…:events:<region>:<account>:event-bus/<name>`); nil when an ARN is
    /// malformed. `slashes` allows `/` in names (partner buses; PutEvents' entries do not).
    static func busReference(_ text: String, slashes: Bool = true) -> BusReference? {
        guard text.hasPrefix("arn:") else {
            return (slashes ? Self.isBusNameText(text) : Self.isNameText(text)) ? BusReference(name: text) : nil
        }
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[1].hasPrefix("aws"), parts[2] == "events", !parts[3].isEmpty,
            parts[4].count == 12, parts[4].allSatisfy(\.isNumber), parts[5].hasPrefix("event-bus/")
        else { return nil }
        let name = String(parts[5].dropFirst("event-bus/".count))
        guard slashes ? Self.isBusNameText(name) : Self.isNameText(name) else { return nil }
        return BusReference(
            namespace: AccountContext(region: String(parts[3]), accountID: String(parts[4])),
            name: name
        )
    }

    /// What an ARN of TagResource and friends names.
    enum Resource: Equatable {
        case bus(String)
        case rule(name: String, bus: String)
    }

    /// Parses a bus or rule ARN of `namespace`; nil when it is neither (or of another namespace).
    static func resource(_ arn: String, in namespace: AccountContext) -> Resource? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "events",
            parts[3] == namespace.region, parts[4] == namespace.accountID
        else { return nil }
        let path = parts[5]
        if path.hasPrefix("event-bus/") {
            let name = String(path.dropFirst("event-bus/".count))
            return Self.isBusNameText(name) ? .bus(name) : nil
        }
        if path.hasPrefix("rule/") {
            let rest = path.dropFirst("rule/".count)
            guard let slash = rest.lastIndex(of: "/") else {
                return Self.isNameText(String(rest)) ? .rule(name: String(rest), bus: Self.defaultBus) : nil
            }
            let bus = String(rest[..<slash])
            let name = String(rest[rest.index(after: slash)...])
            guard Self.isBusNameText(bus), Self.isNameText(name) else { return nil }
            return .rule(name: name, bus: bus)
        }
        return nil
    }

    /// The kinds of target Nimbus delivers to.
    enum TargetKind: Equatable {
        case function
        case queue
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]` or `arn:aws:sqs:<region>:<account>:<name>`.
    static func targetKind(_ arn: String) -> TargetKind? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 6, parts[0] == "arn", parts[1].hasPrefix("aws") else { return nil }
        if parts[2] == "lambda", parts[5] == "function", parts.count >= 7, parts.count <= 8, !parts[6].isEmpty {
            return .function
        }
        if AccountContext.isQueueARN(arn) { return .queue }
        return nil
    }

    /// Whether `arn` looks like an ARN at all (`arn:<partition>:<service>:<region>:<account>:<resource>`).
    static func isARN(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return parts.count == 6 && parts[0] == "arn" && !parts[1].isEmpty && !parts[2].isEmpty && !parts[5].isEmpty
    }
}
