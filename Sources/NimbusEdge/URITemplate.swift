import Foundation
/// A rest protocol's request URI (`/2015-03-31/functions/{FunctionName}/invocations`, `/{Bucket}/{Key+}`,
/// `/…/provisioned-concurrency?List=ALL`): literal segments, `{label}` capturing one segment, `{label+}` capturing
/// the rest of the path, and literal query parameters the request must carry.
public struct URITemplate: Sendable {
    enum Segment: Sendable {
        case literal(String)
        case label(String)
        case greedy(String)
    }

    let segments: [Segment]
    /// `?List=ALL`: parameters that must be present (with that value when one is given).
    let requiredQuery: [(String, String?)]

    public init(_ template: String) {
        let parts = template.split(separator: "?", maxSplits: 1).map(String.init)
        self.segments = (parts.first ?? "").split(separator: "/").map { raw in
            let s = String(raw)
            if s.hasPrefix("{"), s.hasSuffix("+}") { return .greedy(String(s.dropFirst().dropLast(2))) }
            if s.hasPrefix("{"), s.hasSuffix("}") { return .label(String(s.dropFirst().dropLast())) }
            return .literal(s)
        }
        self.requiredQuery =
            parts.count > 1
            ? parts[1].split(separator: "&").map { pair in
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                return (kv[0], kv.count > 1 ? kv[1] : nil)
            } : []
    }

    /// How specific the template is: literal query constraints and more literal segments win.
    var specificity: Int {
        self.requiredQuery.count * 1000 + self.segments.filter { if case .literal = $0 { true } else { false } }.count
    }

    /// The labels when the percent-decoded path segments (and query) match. A greedy label takes the rest of the
    /// path as sent (`raw`: the segments between slashes, empty ones kept, still percent-encoded), so that S3 keys
    /// keep their empty segments and trailing slashes (`a//b`, `photos/`).
    func match(_ path: [String], raw: [String]? = nil, query: [(String, String)]) -> [String: String]? {
        var labels: [String: String] = [:]
        var i = 0
        for segment in self.segments {
            switch segment {
            case .literal(let literal):
                guard i < path.count, path[i] == literal else { return nil }
                i += 1
            case .label(let name):
                guard i < path.count, !path[i].isEmpty else { return nil }
                labels[name] = path[i]
                i += 1
            case .greedy(let name):
                guard i < path.count else { return nil }
                labels[name] = raw.flatMap { Self.remainder(of: $0, after: i) } ?? path[i...].joined(separator: "/")
                i = path.count
            }
        }
        guard i == path.count else { return nil }
        for (name, value) in self.requiredQuery {
            guard let given = query.first(where: { $0.0 == name }) else { return nil }
            if let value, given.1 != value { return nil }
        }
        return labels
    }

    /// The raw path after its first `count` non-empty segments, percent-decoded.
    static func remainder(of raw: [String], after count: Int) -> String? {
        var seen = 0
        var index = 0
        while index < raw.count, seen < count {
            if !raw[index].isEmpty { seen += 1 }
            index += 1
        }
        // Empty segments between the consumed ones and the label belong to the key (`/bucket//a` is key `/a`).
        let rest = raw[index...].joined(separator: "/")
        return rest.contains("%") ? rest.removingPercentEncoding : rest
    }
}
