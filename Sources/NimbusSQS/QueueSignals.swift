import Synchronization

/// Long polling without polling: a receive that found nothing waits here until a message may have become
/// receivable — a send (or a dead-letter move, or a redrive) signals its queue — or until a deadline it computed
/// from the queue's next visibility deadline or the end of its wait, whichever is first.
///
/// Each queue has a generation, bumped by every signal. A receiver reads the generation before it queries the store
/// and waits only if it is unchanged, so a send that commits between the query and the wait is never missed.
final class QueueSignals: Sendable {
    struct Waiter {
        var continuation: CheckedContinuation<Void, Never>
        var timer: Task<Void, Never>?
    }

    struct State {
        var generations: [Int64: UInt64] = [:]
        var waiters: [Int64: [UInt64: Waiter]] = [:]
        var nextWaiterID: UInt64 = 0
        /// Once shut down, nobody waits: long polls answer at once so the server can stop.
        var closed = false
    }

    let state = Mutex<State>(State())

    func generation(_ queue: Int64) -> UInt64 {
        self.state.withLock { $0.generations[queue] ?? 0 }
    }

    /// Wakes every receiver waiting on the queue.
    func signal(_ queue: Int64) {
        let woken = self.state.withLock { state -> [Waiter] in
            state.generations[queue, default: 0] &+= 1
            return state.waiters.removeValue(forKey: queue).map { Array($0.values) } ?? []
        }
        for waiter in woken {
            waiter.timer?.cancel()
            waiter.continuation.resume()
        }
    }

    /// Wakes everybody and lets nobody wait again.
    func close() {
        let woken = self.state.withLock { state -> [Waiter] in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap(\.values)
        }
        for waiter in woken {
            waiter.timer?.cancel()
            waiter.continuation.resume()
        }
    }

    var isClosed: Bool { self.state.withLock { $0.closed } }

    /// Suspends until the queue is signalled after `generation`, `deadline` passes, or the task is cancelled.
    func wait(_ queue: Int64, after generation: UInt64, until deadline: ContinuousClock.Instant) async {
        let id = self.state.withLock { state -> UInt64 in
            state.nextWaiterID &+= 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = self.state.withLock { state -> Bool in
                    if state.closed || (state.generations[queue] ?? 0) != generation || Task.isCancelled {
                        return false
                    }
                    state.waiters[queue, default: [:]][id] = Waiter(continuation: continuation, timer: nil)
                    return true
                }
                guard registered else {
                    continuation.resume()
                    return
                }
                // The timer is a task of its own: the waiter's continuation has no deadline of its own.
                let timer = Task {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    if !Task.isCancelled { self.resume(queue, id) }
                }
                let stillWaiting = self.state.withLock { state -> Bool in
                    guard state.waiters[queue]?[id] != nil else { return false }
                    state.waiters[queue]?[id]?.timer = timer
                    return true
                }
                if !stillWaiting { timer.cancel() }
            }
        } onCancel: {
            self.resume(queue, id)
        }
    }

    func resume(_ queue: Int64, _ id: UInt64) {
        let waiter = self.state.withLock { state -> Waiter? in
            let waiter = state.waiters[queue]?.removeValue(forKey: id)
            if state.waiters[queue]?.isEmpty == true { state.waiters[queue] = nil }
            return waiter
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume()
    }
}
