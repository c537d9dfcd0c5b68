import NimbusCore
import Synchronization

/// Every namespace's buses and rules, in memory: PutEvents, the scheduler and the read operations never read the
/// store. Changes are made by the control plane (one at a time, after the store has them) and by the scheduler (a
/// rule's next firing).
final class Catalog: Sendable {
    struct Namespace: Sendable {
        var buses: [String: BusState] = [:]
        /// Rules by bus, then by name.
        var rules: [String: [String: RuleState]] = [:]
    }

    let state = Mutex<[AccountContext: Namespace]>([:])
    let clock: @Sendable () -> Int64

    init(clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
    }

    /// The bus, the default bus whether stored or not.
    func bus(_ namespace: AccountContext, _ name: String) -> BusState? {
        self.state.withLock { all in Self.bus(&all, namespace, name, now: self.clock()) }
    }

    static func bus(
        _ all: inout [AccountContext: Namespace],
        _ namespace: AccountContext,
        _ name: String,
        now: Int64
    )
        -> BusState?
    {
        if let bus = all[namespace]?.buses[name] { return bus }
        guard name == Names.defaultBus else { return nil }
        // The default bus always exists; it is stored once something of it (tags) must be.
        let bus = BusState(
            namespace: namespace,
            name: name,
            definition: BusDefinition(modifiedMillis: now),
            createdMillis: now,
            stored: false
        )
        all[namespace, default: Namespace()].buses[name] = bus
        return bus
    }

    func buses(_ namespace: AccountContext) -> [BusState] {
        self.state.withLock { all in
            _ = Self.bus(&all, namespace, Names.defaultBus, now: self.clock())
            return all[namespace]?.buses.values.sorted { $0.name < $1.name } ?? []
        }
    }

    func putBus(_ bus: BusState) {
        self.state.withLock { $0[bus.namespace, default: Namespace()].buses[bus.name] = bus }
    }

    func removeBus(_ namespace: AccountContext, _ name: String) {
        self.state.withLock { all in
            all[namespace]?.buses[name] = nil
            all[namespace]?.rules[name] = nil
        }
    }

    func rule(_ namespace: AccountContext, bus: String, _ name: String) -> RuleState? {
        self.state.withLock { $0[namespace]?.rules[bus]?[name] }
    }

    /// The bus's rules, by name.
    func rules(_ namespace: AccountContext, bus: String) -> [RuleState] {
        self.state.withLock { all in
            all[namespace]?.rules[bus]?.values.sorted { $0.name < $1.name } ?? []
        }
    }

    /// Installs or replaces a rule; its generation moves on.
    func putRule(_ rule: RuleState) {
        self.state.withLock { all in
            var rule = rule
            let previous = all[rule.namespace]?.rules[rule.bus]?[rule.name]?.generation ?? 0
            rule.generation = previous &+ 1
            all[rule.namespace, default: Namespace()].rules[rule.bus, default: [:]][rule.name] = rule
        }
    }

    func removeRule(_ namespace: AccountContext, bus: String, _ name: String) {
        self.state.withLock { all in _ = all[namespace]?.rules[bus]?.removeValue(forKey: name) }
    }

    /// The enabled rules with an event pattern of a bus (what PutEvents matches against).
    func patternRules(_ namespace: AccountContext, bus: String) -> [RuleState] {
        self.state.withLock { all in
            guard let rules = all[namespace]?.rules[bus] else { return [] }
            return rules.values.filter { $0.definition.enabled && $0.pattern != nil && !$0.definition.targets.isEmpty }
        }
    }

    /// Every enabled scheduled rule with a next firing.
    func scheduledRules() -> [RuleState] {
        self.state.withLock { all in
            all.values.flatMap { namespace in
                namespace.rules.values.flatMap { rules in rules.values.filter { $0.nextFireMillis != nil } }
            }
        }
    }

    /// Sets a rule's next firing, unless the rule changed (or went) since `generation`. Returns whether it did.
    func advance(_ namespace: AccountContext, bus: String, _ name: String, generation: UInt64, to next: Int64?) -> Bool
    {
        self.state.withLock { all in
            guard var rule = all[namespace]?.rules[bus]?[name], rule.generation == generation else { return false }
            rule.nextFireMillis = next
            all[namespace]?.rules[bus]?[name] = rule
            return true
        }
    }
}
