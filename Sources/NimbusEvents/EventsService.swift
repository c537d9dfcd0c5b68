import Foundation
import Logging
import NimbusCore
import NimbusEdge
import NimbusInvoker
import NimbusSQS
import NimbusStore
import ServiceLifecycle
import Synchronization

/// Amazon EventBridge (2015-10-07, json 1.1, `X-Amz-Target: AWSEvents.<Op>`, signing name `events`): event buses,
/// rules with event patterns or schedules, targets with input transformation, PutEvents, TestEventPattern and tags.
///
/// Buses and rules live in memory (``Catalog``) and in the store, written before a change is acknowledged. PutEvents
/// matches each event against the enabled pattern rules of its bus and answers once every matched delivery is durable
/// (queued in Lambda's asynchronous queue, or sent to SQS), so an acknowledged event survives a crash. As a `Service`
/// it fires scheduled rules on time (see ``run()``).
public final class EventsService: Sendable {
    let store: any EventBusStore
    let logger: Logger
    let catalog: Catalog
    let deliverer: Deliverer
    /// The control plane's changes (and the scheduler's bookkeeping) run one at a time: each reads the current state,
    /// writes the store, then publishes to the catalog.
    let control = AsyncLock()
    /// Rung when a rule changes, so the scheduler recomputes its next wake-up.
    let doorbell = Doorbell()
    /// Milliseconds since the epoch; injected by tests.
    let clock: @Sendable () -> Int64
    /// How late a scheduled firing may still be delivered (after a restart or a stall); older firings are skipped.
    let missedFiringGrace: Int64
    /// Scheduled rules whose last delivery failed for a reason that may pass, by ARN: when to try again.
    let retries = Mutex<[String: Int64]>([:])

    /// - Parameters:
    ///   - functions: Lambda, for function targets (nil: such deliveries are refused).
    ///   - queues: SQS, for queue targets and dead-letter queues (nil: refused).
    public convenience init(
        store: any EventBusStore,
        functions: (any FunctionInvoking)?,
        queues: SQSService?,
        logger: Logger
    ) {
        self.init(
            store: store,
            functions: functions,
            queueSender: queues,
            logger: logger,
            clock: { Timestamp.nowMillis() }
        )
    }

    init(
        store: any EventBusStore,
        functions: (any FunctionInvoking)?,
        queueSender: (any QueueSending)?,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64,
        missedFiringGrace: Int64 = 300_000
    ) {
        self.store = store
        self.logger = logger
        self.clock = clock
        self.catalog = Catalog(clock: clock)
        self.deliverer = Deliverer(functions: functions, queues: queueSender, logger: logger)
        self.missedFiringGrace = missedFiringGrace
    }

    /// Loads every stored bus and rule into memory. The composition root calls it once, before the edge serves
    /// requests and before ``run()``.
    public func load() async throws {
        for record in try await self.store.loadBuses() {
            do {
                let definition = try Documents.decode(BusDefinition.self, record.document)
                self.catalog.putBus(
                    BusState(
                        namespace: record.namespace,
                        name: record.name,
                        definition: definition,
                        createdMillis: record.createdMillis,
                        stored: true
                    )
                )
            } catch {
                self.logger.error(
                    "EventBridge bus not loaded",
                    metadata: ["events.bus": "\(record.name)", "error": "\(error)"]
                )
            }
        }
        for record in try await self.store.loadRules() {
            do {
                let definition = try Documents.decode(RuleDefinition.self, record.document)
                var rule = RuleState(
                    namespace: record.namespace,
                    bus: record.bus,
                    name: record.name,
                    definition: definition,
                    createdMillis: record.createdMillis,
                    nextFireMillis: record.nextFireMillis
                )
                try Self.compile(&rule)
                self.catalog.putRule(rule)
            } catch {
                // One unreadable rule must not keep the server from starting; it stays in the store, unserved.
                self.logger.error(
                    "EventBridge rule not loaded",
                    metadata: ["events.rule": "\(record.name)", "events.bus": "\(record.bus)", "error": "\(error)"]
                )
            }
        }
        self.doorbell.ring()
    }

    // MARK: Definition

    public var definition: ServiceDefinition {
        ServiceDefinition(
            name: "events",
            signingNames: ["events"],
            wire: .json(version: "1.1"),
            targetPrefix: "AWSEvents",
            operations: self.operations()
        )
    }

    typealias Operation = @Sendable (Input, AccountContext) async throws -> JSONValue

    func operations() -> [ServiceOperation] {
        let table: [(String, Operation)] = [
            ("PutRule", { try await self.putRule($0, $1) }),
            ("DescribeRule", { try await self.describeRule($0, $1) }),
            ("ListRules", { try await self.listRules($0, $1) }),
            ("EnableRule", { try await self.setState($0, $1, enabled: true) }),
            ("DisableRule", { try await self.setState($0, $1, enabled: false) }),
            ("DeleteRule", { try await self.deleteRule($0, $1) }),
            ("PutTargets", { try await self.putTargets($0, $1) }),
            ("RemoveTargets", { try await self.removeTargets($0, $1) }),
            ("ListTargetsByRule", { try await self.listTargetsByRule($0, $1) }),
            ("ListRuleNamesByTarget", { try await self.listRuleNamesByTarget($0, $1) }),
            ("PutEvents", { try await self.putEvents($0, $1) }),
            ("TestEventPattern", { try await self.testEventPattern($0, $1) }),
            ("CreateEventBus", { try await self.createEventBus($0, $1) }),
            ("DeleteEventBus", { try await self.deleteEventBus($0, $1) }),
            ("DescribeEventBus", { try await self.describeEventBus($0, $1) }),
            ("ListEventBuses", { try await self.listEventBuses($0, $1) }),
            ("TagResource", { try await self.tagResource($0, $1) }),
            ("UntagResource", { try await self.untagResource($0, $1) }),
            ("ListTagsForResource", { try await self.listTagsForResource($0, $1) }),
        ]
        return table.map { name, operation in
            ServiceOperation(name) { request in
                .document(200, try await operation(try Input(request.input), request.namespace))
            }
        }
    }
}
