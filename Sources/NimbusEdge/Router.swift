import NimbusCore

/// Picks the service and operation a request is for, from what the SDKs send: a virtual host, `X-Amz-Target`,
/// the rpc-v2 path, the SigV4 scope's service name, and the rest path. Pure: unit-tested without a server.
struct Router: Sendable {
    let services: [ServiceDefinition]

    /// What the router reads of a request.
    struct Head {
        var method: String
        /// Percent-decoded path segments.
        var segments: [String]
        /// The path's segments as sent: between slashes, empty ones kept, percent-encoded (greedy labels read them).
        var rawSegments: [String] = []
        var query: [(String, String)]
        var host: String
        var target: String?
        /// The SigV4 credential scope's service name, when the request is signed.
        var signingName: String?
        var isSandbox: Bool
    }

    /// Where a request goes: a service, and its operation unless the operation is named in the body (query).
    struct Route {
        var service: ServiceDefinition
        var operation: ServiceOperation?
        var labels: [String: String]
    }

    enum Failure: Error, Equatable {
        /// The scope names a service Nimbus does not offer.
        case unknownService(String)
        /// The service is known but the operation (target, path, action) is not.
        case unknownOperation(service: String, description: String)
    }

    func route(_ head: Head) -> Result<Route, Failure> {
        let reachable = self.services.filter { !(head.isSandbox && $0.exposure == .outsideOnly) }
        for service in reachable {
            for rule in service.hostRules {
                if let captured = rule.match(head.host) {
                    if let label = rule.pathLabel, let first = captured[label] {
                        var pathStyle = head
                        pathStyle.segments.insert(first, at: 0)
                        pathStyle.rawSegments.insert(first, at: 0)
                        return self.restRoute(pathStyle, in: service, labels: [:]).map { .success($0) }
                            ?? .failure(.unknownOperation(service: service.name, description: self.describe(pathStyle)))
                    }
                    if service.wire == .http, let operation = service.operations.first {
                        return .success(Route(service: service, operation: operation, labels: captured))
                    }
                    return self.restRoute(head, in: service, labels: captured).map { .success($0) }
                        ?? .failure(.unknownOperation(service: service.name, description: self.describe(head)))
                }
            }
        }
        if let target = head.target, !target.isEmpty {
            let (prefix, name) = Self.split(target: target)
            guard let service = reachable.first(where: { $0.targetPrefix == prefix }) else {
                if let signing = head.signingName, !reachable.contains(where: { $0.signingNames.contains(signing) }) {
                    return .failure(.unknownService(signing))
                }
                return .failure(.unknownOperation(service: prefix, description: "X-Amz-Target \(target)"))
            }
            guard let operation = service.operation(named: name) else {
                return .failure(.unknownOperation(service: service.name, description: "X-Amz-Target \(target)"))
            }
            return .success(Route(service: service, operation: operation, labels: [:]))
        }
        if head.segments.count == 4, head.segments[0] == "service", head.segments[2] == "operation",
            let service = reachable.first(where: { $0.rpcServiceName == head.segments[1] })
        {
            guard let operation = service.operation(named: head.segments[3]) else {
                return .failure(.unknownOperation(service: service.name, description: head.segments[3]))
            }
            return .success(Route(service: service, operation: operation, labels: [:]))
        }
        // Admin routes (outside only) are matched before the scope: the nimbus CLI signs them as `lambda`.
        for service in reachable where service.exposure == .outsideOnly {
            if let route = self.restRoute(head, in: service, labels: [:]) { return .success(route) }
        }
        if let signing = head.signingName {
            guard let service = reachable.first(where: { $0.signingNames.contains(signing) }) else {
                return .failure(.unknownService(signing))
            }
            return self.route(head, in: service)
        }
        // Unsigned (`--auth none`): a query-protocol action, then the rest services by path (S3's `/{Bucket}/{Key+}`
        // last, as the catch-all it is; services addressed by virtual host only are not reachable by path), then the
        // query services by Version.
        let isAction = head.query.contains { $0.0 == "Action" }
        if isAction, let route = self.queryRoute(head, in: reachable) { return .success(route) }
        for service in reachable
        where (service.wire == .restJSON || service.wire == .restXML) && service.hostRules.allSatisfy({ $0.pathLabel != nil }) {
            if let route = self.restRoute(head, in: service, labels: [:]) { return .success(route) }
        }
        if !isAction, let route = self.queryRoute(head, in: reachable) { return .success(route) }
        let fallback = reachable.first { $0.wire == .restJSON }?.name ?? "nimbus"
        return .failure(.unknownOperation(service: fallback, description: self.describe(head)))
    }

    /// A query-protocol service for an unsigned `POST /` or `GET /?Action=…`, by `Version` when given.
    func queryRoute(_ head: Head, in reachable: [ServiceDefinition]) -> Route? {
        guard head.method == "POST" || head.method == "GET", head.segments.isEmpty else { return nil }
        let version = head.query.first { $0.0 == "Version" }?.1
        return reachable.first { $0.wire == .query && (version == nil || $0.apiVersion == version) }
            .map { Route(service: $0, operation: nil, labels: [:]) }
    }

    func route(_ head: Head, in service: ServiceDefinition) -> Result<Route, Failure> {
        switch service.wire {
        case .restJSON, .restXML:
            return self.restRoute(head, in: service, labels: [:])
                .map { .success($0) } ?? .failure(.unknownOperation(service: service.name, description: self.describe(head)))
        case .query:
            return .success(Route(service: service, operation: nil, labels: [:]))
        case .json, .rpcV2CBOR, .http:
            return .failure(.unknownOperation(service: service.name, description: self.describe(head)))
        }
    }

    /// The rest operation whose method and template match, the most specific first.
    func restRoute(_ head: Head, in service: ServiceDefinition, labels: [String: String]) -> Route? {
        var best: (ServiceOperation, [String: String], Int)?
        for operation in service.operations {
            guard let binding = operation.binding, binding.method == head.method,
                let matched = binding.template.match(
                    head.segments, raw: head.rawSegments.isEmpty ? nil : head.rawSegments, query: head.query)
            else { continue }
            let specificity = binding.template.specificity
            if best == nil || specificity > best!.2 { best = (operation, matched, specificity) }
        }
        guard let (operation, matched, _) = best else { return nil }
        return Route(service: service, operation: operation, labels: labels.merging(matched) { a, _ in a })
    }

    /// `Logs_20140328.FilterLogEvents` → (`Logs_20140328`, `FilterLogEvents`).
    static func split(target: String) -> (String, String) {
        guard let dot = target.lastIndex(of: ".") else { return (target, "") }
        return (String(target[..<dot]), String(target[target.index(after: dot)...]))
    }

    func describe(_ head: Head) -> String {
        "\(head.method) /\(head.segments.joined(separator: "/"))"
    }
}
