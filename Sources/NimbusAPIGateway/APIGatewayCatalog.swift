import NimbusCore
import Synchronization

/// What a route hands a request to: the route and its integration (nil when the route has no target or its
/// integration is gone from a snapshot).
struct RoutingTarget: Sendable {
    var route: Route
    var integration: Integration?
}

/// One API as the invoke path reads it: its state and the route matchers built from it, one for the live routes
/// (stages with auto-deploy) and one per deployment (stages without).
struct ServingAPI: Sendable {
    let state: APIState
    let live: RouteMatcher<RoutingTarget>
    let deployed: [String: RouteMatcher<RoutingTarget>]

    init(_ state: APIState) {
        self.state = state
        self.live = Self.matcher(routes: state.routes, integrations: state.integrations)
        var deployed: [String: RouteMatcher<RoutingTarget>] = [:]
        for deployment in state.deployments {
            deployed[deployment.id] = Self.matcher(routes: deployment.routes, integrations: deployment.integrations)
        }
        self.deployed = deployed
    }

    /// The routes a stage serves: the live ones with auto-deploy, else its deployment's snapshot (nil when it has
    /// none: such a stage answers every request with 404, as AWS's undeployed stages do).
    func matcher(for stage: Stage) -> RouteMatcher<RoutingTarget>? {
        if stage.autoDeploy { return self.live }
        return stage.deploymentId.flatMap { self.deployed[$0] }
    }

    static func matcher(routes: [Route], integrations: [Integration]) -> RouteMatcher<RoutingTarget> {
        let byID = Dictionary(integrations.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return RouteMatcher(
            routes.compactMap { route in
                // Keys were validated when the route was written; one that no longer parses is skipped, not served.
                guard let key = try? RouteKey.parse(route.routeKey) else { return nil }
                return (key, RoutingTarget(route: route, integration: route.integrationID.flatMap { byID[$0] }))
            })
    }
}

/// Every API of every namespace, in memory: the invoke path and the control plane's reads never touch the store.
/// Changes are serialised per API the way AWS does it: a change of an API that is being changed is refused with
/// AWS's "concurrent modification" `ConflictException` instead of waiting.
final class APIGatewayCatalog: Sendable {
    struct Slot {
        /// Nil while the API is being created (its id is reserved).
        var serving: ServingAPI?
        var changing: Bool
        /// Creation order (the store's order at start, then each creation's), which lists follow: ids are random and
        /// creation times collide within a millisecond.
        var order: Int
    }

    struct Slots {
        var byID: [String: Slot] = [:]
        var nextOrder = 0
    }

    let slots = Mutex(Slots())

    /// The API an invoke host names, whatever its namespace.
    func serving(_ id: String) -> ServingAPI? {
        self.slots.withLock { $0.byID[id]?.serving }
    }

    /// An API of the namespace.
    /// - Throws: `NotFoundException` when there is none (another namespace's API is not found either).
    func state(_ id: String, in namespace: AccountContext) throws(APIGatewayError) -> APIState {
        guard let state = self.serving(id)?.state, state.namespace == namespace else {
            throw .apiNotFound(id, namespace)
        }
        return state
    }

    /// The namespace's APIs in creation order.
    func list(_ namespace: AccountContext) -> [APIState] {
        self.slots.withLock { slots in
            slots.byID.values.sorted { $0.order < $1.order }.compactMap { $0.serving?.state }.filter {
                $0.namespace == namespace
            }
        }
    }

    /// Installs an API as loaded from the store.
    func install(_ state: APIState) {
        let serving = ServingAPI(state)
        self.slots.withLock { slots in
            slots.byID[state.api.id] = Slot(serving: serving, changing: false, order: slots.nextOrder)
            slots.nextOrder += 1
        }
    }

    /// A fresh API id, reserved until ``commit(_:_:)`` or ``abandon(_:)``.
    func reserveID() -> String {
        self.slots.withLock { slots in
            let id = Identifiers.fresh(length: Identifiers.apiLength) { slots.byID[$0] != nil }
            slots.byID[id] = Slot(serving: nil, changing: true, order: slots.nextOrder)
            slots.nextOrder += 1
            return id
        }
    }

    /// Marks an API of the namespace as changing and returns its state.
    /// - Throws: `NotFoundException`, or `ConflictException` when another change of it is under way.
    func begin(_ id: String, in namespace: AccountContext) throws(APIGatewayError) -> APIState {
        let result: Result<APIState, APIGatewayError> = self.slots.withLock { slots in
            guard var slot = slots.byID[id], let state = slot.serving?.state, state.namespace == namespace else {
                return .failure(.apiNotFound(id, namespace))
            }
            guard !slot.changing else { return .failure(.concurrentModification) }
            slot.changing = true
            slots.byID[id] = slot
            return .success(state)
        }
        return try result.get()
    }

    /// Ends a change: installs the new state (nil: the API was deleted).
    func commit(_ id: String, _ state: APIState?) {
        let serving = state.map(ServingAPI.init)
        self.slots.withLock { slots in
            if let serving, var slot = slots.byID[id] {
                slot.serving = serving
                slot.changing = false
                slots.byID[id] = slot
            } else {
                slots.byID[id] = nil
            }
        }
    }

    /// Ends a change that failed: the API stays as it was (a reserved id is released).
    func abandon(_ id: String) {
        self.slots.withLock { slots in
            guard var slot = slots.byID[id] else { return }
            if slot.serving == nil {
                slots.byID[id] = nil
            } else {
                slot.changing = false
                slots.byID[id] = slot
            }
        }
    }
}
