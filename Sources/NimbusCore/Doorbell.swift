import Synchronization

/// A wake-up signal for one waiting task: a ring while nobody waits is kept for the next wait. The async dispatcher
/// and S3's notification relay sleep on one.
public final class Doorbell: Sendable {
    public init() {}

    struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    let state = Mutex(State())

    public func ring() {
        let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.rung = true
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next ring (or at once if one came since the last wait), after `timeout`, or when cancelled.
    public func wait(timeout: Duration) async {
        guard timeout > .zero else {
            self.state.withLock { $0.rung = false }
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForRing() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    func waitForRing() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = self.state.withLock { s -> Bool in
                    if s.rung || Task.isCancelled {
                        s.rung = false
                        return true
                    }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
    }
}
