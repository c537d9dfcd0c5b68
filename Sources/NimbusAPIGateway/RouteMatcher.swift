/// Picks the route a request goes to, with API Gateway's precedence for HTTP APIs ("Routing API requests" in the
/// developer guide: a full match of route and method, then a match with a greedy path variable, then `$default`).
/// Pure and built once per change of an API, so the invoke path only walks a few arrays.
///
/// Ranking, among the routes whose path and method both match:
/// 1. a route without a greedy variable beats one with it;
/// 2. then the path, compared segment by segment from the left: a literal segment beats a `{variable}`, which beats
///    the greedy `{proxy+}` (so `/pets/dog/{id}` beats `/pets/{kind}/1`, and `/pets/{proxy+}` beats `/{proxy+}`);
/// 3. then the method: the request's own method beats `ANY`.
/// `$default` answers whatever no route matches. A route's method must equal the request's (`GET` does not take
/// `HEAD`) unless it is `ANY`.
struct RouteMatcher<Target: Sendable>: Sendable {
    struct Entry: Sendable {
        var key: RouteKey
        var target: Target
        /// Segment ranks (literal 2, variable 1, greedy 0), precomputed for the comparison.
        var ranks: [UInt8]
    }

    struct Match {
        var key: RouteKey
        var target: Target
        /// `{name}` → the percent-decoded segment; `{name+}` → the rest of the path, segments joined by `/`.
        var pathParameters: [String: String]
    }

    let entries: [Entry]
    let fallback: (key: RouteKey, target: Target)?

    init(_ routes: [(RouteKey, Target)]) {
        var entries: [Entry] = []
        var fallback: (key: RouteKey, target: Target)?
        for (key, target) in routes {
            if key.isDefault {
                fallback = (key, target)
                continue
            }
            let ranks: [UInt8] = key.segments.map {
                switch $0 {
                case .literal: 2
                case .variable: 1
                case .greedy: 0
                }
            }
            entries.append(Entry(key: key, target: target, ranks: ranks))
        }
        self.entries = entries
        self.fallback = fallback
    }

    /// The route for a request.
    /// - Parameters:
    ///   - method: the request's method, upper-case.
    ///   - segments: the path's non-empty segments, percent-decoded, without any stage prefix.
    func match(method: String, segments: [String]) -> Match? {
        var best: (entry: Entry, parameters: [String: String])?
        for entry in self.entries {
            guard entry.key.method == method || entry.key.method == "ANY" else { continue }
            guard let parameters = Self.bind(entry.key.segments, to: segments) else { continue }
            if let current = best, !Self.outranks(entry, current.entry, method: method) { continue }
            best = (entry, parameters)
        }
        if let best { return Match(key: best.entry.key, target: best.entry.target, pathParameters: best.parameters) }
        if let fallback { return Match(key: fallback.key, target: fallback.target, pathParameters: [:]) }
        return nil
    }

    /// Whether `a` is a better match than `b` (both match the request).
    static func outranks(_ a: Entry, _ b: Entry, method: String) -> Bool {
        if a.key.isGreedy != b.key.isGreedy { return !a.key.isGreedy }
        for (x, y) in zip(a.ranks, b.ranks) where x != y {
            return x > y
        }
        // Equal over the shorter: only greedy paths can differ in length here; the longer reached further before
        // its greedy segment.
        if a.ranks.count != b.ranks.count { return a.ranks.count > b.ranks.count }
        let aExact = a.key.method == method
        let bExact = b.key.method == method
        return aExact && !bExact
    }

    /// The path parameters when the key's segments match the request's.
    static func bind(_ pattern: [RouteKey.Segment], to segments: [String]) -> [String: String]? {
        var parameters: [String: String] = [:]
        var index = 0
        for segment in pattern {
            switch segment {
            case .literal(let literal):
                guard index < segments.count, segments[index] == literal else { return nil }
                index += 1
            case .variable(let name):
                guard index < segments.count else { return nil }
                parameters[name] = segments[index]
                index += 1
            case .greedy(let name):
                guard index < segments.count else { return nil }
                parameters[name] = segments[index...].joined(separator: "/")
                index = segments.count
            }
        }
        return index == segments.count ? parameters : nil
    }
}
