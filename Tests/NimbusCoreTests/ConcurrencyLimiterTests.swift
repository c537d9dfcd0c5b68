import Synchronization
import Testing

@testable import NimbusInvoker

/// Concurrency accounting: exact limits, reservations, the unreserved pool, release on every path.
@Suite struct ConcurrencyLimiterTests {
    func admitted(_ decision: ConcurrencyLimiter.Decision) -> ConcurrencyLimiter.Permit? {
        if case .admitted(let permit) = decision { return permit }
        return nil
    }

    func rejection(_ decision: ConcurrencyLimiter.Decision) -> ConcurrencyLimiter.Rejection? {
        if case .throttled(let rejection) = decision { return rejection }
        return nil
    }

    @Test func reservedConcurrencyAdmitsExactlyN() {
        let limiter = ConcurrencyLimiter(accountLimit: 1000)
        limiter.setReservation(2, for: "fn")
        let decisions = (0..<6).map { _ in limiter.acquire(function: "fn") }
        let permits = decisions.compactMap(self.admitted)
        #expect(permits.count == 2)
        #expect(decisions.compactMap(self.rejection) == Array(repeating: .reservedLimit(2), count: 4))
        #expect(limiter.usage(of: "fn") == .init(reserved: 2, inUse: 2, throttles: 4))
        for permit in permits { limiter.release(permit) }
        #expect(limiter.usage(of: "fn").inUse == 0)
        #expect(self.admitted(limiter.acquire(function: "fn")) != nil)
    }

    @Test func reservedZeroThrottlesEverything() {
        let limiter = ConcurrencyLimiter(accountLimit: 1000)
        limiter.setReservation(0, for: "off")
        #expect(self.rejection(limiter.acquire(function: "off")) == .reservedLimit(0))
        #expect(self.rejection(limiter.acquire(function: "off"))?.reason == "ReservedFunctionConcurrentInvocationLimitExceeded")
        #expect(limiter.usage(of: "off").throttles == 2)
    }

    @Test func unreservedFunctionsShareWhatReservationsLeave() {
        let limiter = ConcurrencyLimiter(accountLimit: 10)
        limiter.setReservation(4, for: "reserved")
        #expect(limiter.unreservedLimit == 6)
        var permits: [ConcurrencyLimiter.Permit] = []
        for i in 0..<6 { permits.append(self.admitted(limiter.acquire(function: i % 2 == 0 ? "a" : "b"))!) }
        let throttled = self.rejection(limiter.acquire(function: "a"))
        #expect(throttled == .accountLimit(6))
        #expect(throttled?.reason == "ConcurrentInvocationLimitExceeded")
        // The reserved function still has its own four slots.
        let reserved = (0..<4).compactMap { _ in self.admitted(limiter.acquire(function: "reserved")) }
        #expect(reserved.count == 4)
        limiter.release(permits.removeLast())
        #expect(self.admitted(limiter.acquire(function: "c")) != nil)
    }

    @Test func changingAReservationKeepsRunningSlotsCounted() {
        let limiter = ConcurrencyLimiter(accountLimit: 100)
        let first = self.admitted(limiter.acquire(function: "fn"))!
        let second = self.admitted(limiter.acquire(function: "fn"))!
        limiter.setReservation(2, for: "fn")
        // Two already run (from the unreserved pool): a third is over the new reservation.
        #expect(self.rejection(limiter.acquire(function: "fn")) == .reservedLimit(2))
        limiter.release(first)
        #expect(limiter.unreservedInUse == 1)
        let third = self.admitted(limiter.acquire(function: "fn"))!
        limiter.release(second)
        limiter.release(third)
        #expect(limiter.unreservedInUse == 0)
        #expect(limiter.usage(of: "fn").inUse == 0)
        limiter.setReservation(nil, for: "fn")
        #expect(limiter.unreservedLimit == 100)
    }

    @Test func removingAFunctionForgetsItsReservation() {
        let limiter = ConcurrencyLimiter(accountLimit: 100)
        limiter.setReservation(30, for: "fn")
        _ = limiter.acquire(function: "other")
        #expect(limiter.unreservedLimit == 70)
        limiter.remove(function: "fn")
        #expect(limiter.unreservedLimit == 100)
        #expect(limiter.usage()["fn"] == nil)
        #expect(limiter.usage()["other"]?.inUse == 1)
    }

    @Test func exactUnderContention() async {
        // 64 tasks race for 5 reserved slots, each holding its slot across a suspension: never more than 5 run,
        // and exactly 5 + (number released before the others tried) succeed in total.
        let limiter = ConcurrencyLimiter(accountLimit: 1000)
        limiter.setReservation(5, for: "fn")
        let peak = Shared((running: 0, peak: 0, admitted: 0))
        let open = Shared(false)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    guard case .admitted(let permit) = limiter.acquire(function: "fn") else { return }
                    peak.state.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running); $0.admitted += 1 }
                    while !open.state.withLock({ $0 }) { await Task.yield() }
                    peak.state.withLock { $0.running -= 1 }
                    limiter.release(permit)
                }
            }
            // Every task has tried once 5 hold slots and 59 were throttled; then the holders may finish.
            while limiter.usage(of: "fn").throttles + limiter.usage(of: "fn").inUse < 64 { await Task.yield() }
            open.state.withLock { $0 = true }
        }
        let figures = peak.state.withLock { $0 }
        #expect(figures.peak == 5)
        #expect(figures.admitted == 5)
        #expect(limiter.usage(of: "fn") == .init(reserved: 5, inUse: 0, throttles: 59))
    }
}

/// A value shared between test tasks.
final class Shared<Value: Sendable>: Sendable {
    let state: Mutex<Value>
    init(_ value: Value) { self.state = Mutex(value) }
}
