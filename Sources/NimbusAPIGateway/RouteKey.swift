/// A route's key as API Gateway HTTP APIs spell it: `$default`, or a method and a path (`GET /items/{id}`,
/// `ANY /{proxy+}`, `POST /`). Parsed once, when a route is created or changed; the invoke path matches parsed keys.
struct RouteKey: Sendable, Hashable {
    enum Segment: Sendable, Hashable {
        /// A path segment matched exactly (against the percent-decoded request segment).
        case literal(String)
        /// `{name}`: any one non-empty segment, handed to the function as `pathParameters[name]`.
        case variable(String)
        /// `{name+}`: the rest of the path, one segment or more; only last.
        case greedy(String)
    }

    /// The key as given (`GET /items/{id}`).
    var raw: String
    /// `GET`, `POST`… or `ANY`; empty for `$default`.
    var method: String
    var segments: [Segment]

    var isDefault: Bool { self.raw == Self.defaultKey }
    var isGreedy: Bool { if case .greedy = self.segments.last { true } else { false } }

    static let defaultKey = "$default"
    /// The methods an HTTP API route may name.
    static let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]

    /// The path part (`/items/{id}`); empty for `$default`.
    var path: String {
        guard let space = self.raw.firstIndex(of: " ") else { return "" }
        return String(self.raw[self.raw.index(after: space)...])
    }

    /// Parses and validates a route key.
    /// - Throws: `BadRequestException` saying what is wrong with it.
    static func parse(_ raw: String) throws(APIGatewayError) -> RouteKey {
        if raw == Self.defaultKey { return RouteKey(raw: raw, method: "", segments: []) }
        func invalid(_ reason: String) -> APIGatewayError {
            .badRequest("Invalid route key \"\(raw)\": \(reason)")
        }
        if raw.hasPrefix("$") {
            throw invalid(
                "$default is the only route key starting with $ on an HTTP API ($connect, $disconnect and custom selection keys are WebSocket API route keys)."
            )
        }
        let parts = raw.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw invalid(
                "a route key is $default or an HTTP method and a path separated by one space, such as \"GET /items/{id}\"."
            )
        }
        let method = String(parts[0])
        guard Self.methods.contains(method) else {
            throw invalid("the method must be one of ANY, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT (upper case).")
        }
        let path = parts[1]
        guard path.hasPrefix("/") else { throw invalid("the path must start with \"/\".") }
        var segments: [Segment] = []
        var names: Set<String> = []
        if path != "/" {
            let pieces = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                guard !piece.isEmpty else {
                    throw invalid("the path has an empty segment (\"//\" or a trailing \"/\").")
                }
                let hasBraces = piece.contains("{") || piece.contains("}")
                guard hasBraces else {
                    if piece.contains(where: { $0 == "?" || $0 == "#" || $0.isWhitespace }) {
                        throw invalid("a path segment may not contain \"?\", \"#\" or white space.")
                    }
                    segments.append(.literal(String(piece)))
                    continue
                }
                guard piece.first == "{", piece.last == "}", piece.count > 2 else {
                    throw invalid("a path variable must be a whole segment, such as /{id}.")
                }
                var name = piece.dropFirst().dropLast()
                let greedy = name.hasSuffix("+")
                if greedy { name = name.dropLast() }
                guard !name.isEmpty,
                    name.allSatisfy({
                        $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".")
                    })
                else {
                    throw invalid("a path variable's name may contain only letters, digits, \"_\", \"-\" and \".\".")
                }
                guard names.insert(String(name)).inserted else {
                    throw invalid("the path variable {\(name)} appears twice.")
                }
                if greedy {
                    guard index == pieces.count - 1 else {
                        throw invalid("a greedy path variable ({\(name)+}) must be the last segment of the path.")
                    }
                    segments.append(.greedy(String(name)))
                } else {
                    segments.append(.variable(String(name)))
                }
            }
        }
        return RouteKey(raw: raw, method: method, segments: segments)
    }

    /// The route `other` conflicts with, as API Gateway's resource tree sees it: both paths reach the same
    /// position through the same resources and name the variable there differently
    /// (`/items/{id}` and `/items/{itemId}/parts`). AWS refuses the second with a 409.
    func conflictingVariable(with other: RouteKey) -> Bool {
        for (mine, theirs) in zip(self.segments, other.segments) {
            switch (mine, theirs) {
            case (.literal(let a), .literal(let b)):
                if a != b { return false }
            case (.variable(let a), .variable(let b)), (.greedy(let a), .greedy(let b)):
                if a != b { return true }
            default:
                return false
            }
        }
        return false
    }
}
