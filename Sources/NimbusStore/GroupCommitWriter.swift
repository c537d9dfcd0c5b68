import GRDB
import Synchronization

/// Durable writes with group commit: each ``write(_:)`` returns only after its changes are committed with
/// `PRAGMA synchronous = FULL` (they survive a crash of the process and of the machine), and the writes of concurrent
/// callers share one transaction, so one WAL fsync acknowledges many of them.
///
/// Every write runs in its own savepoint inside the shared transaction: a write that throws is rolled back alone and
/// its caller gets the error, while the others commit. A write arriving while a batch commits waits for the next
/// batch, which starts as soon as the previous one is committed (no timer: under no load a write commits at once;
/// under load batches grow by themselves).
///
/// The batch's work is a detached task on purpose: it holds other callers' writes, so it must not inherit the
/// cancellation of whichever caller started it.
public final class GroupCommitWriter: Sendable {
    let pool: DatabasePool
    let state = Mutex<State>(State())

    struct State {
        var pending: [Job] = []
        var flushing = false
    }

    /// One caller's write: its body, run inside the shared transaction, and how to tell the caller.
    struct Job: Sendable {
        /// Runs the body in a savepoint; returns the error that rolled it back, if any.
        let run: @Sendable (Database) -> (any Error)?
        /// Resumes the caller once the transaction committed (nil) or failed (the error).
        let complete: @Sendable ((any Error)?) -> Void
    }

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Runs `body` in the next group-committed transaction and returns its value once that transaction is durable.
    /// - Throws: what `body` threw (only its own changes are rolled back), or the commit's error.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let box = ResultBox<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in
                    do {
                        try db.inSavepoint {
                            box.value = .success(try body(db))
                            return .commit
                        }
                        return nil
                    } catch {
                        box.value = .failure(error)
                        return error
                    }
                },
                complete: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else if let value = box.value {
                        continuation.resume(with: value)
                    } else {
                        continuation.resume(throwing: GroupCommitError.notRun)
                    }
                }
            )
            let start = self.state.withLock { state -> Bool in
                state.pending.append(job)
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if start {
                Task.detached { await self.flushLoop() }
            }
        }
    }

    func flushLoop() async {
        while true {
            let jobs = self.state.withLock { state -> [Job] in
                defer { state.pending.removeAll(keepingCapacity: true) }
                return state.pending
            }
            if jobs.isEmpty {
                let done = self.state.withLock { state -> Bool in
                    if state.pending.isEmpty {
                        state.flushing = false
                        return true
                    }
                    return false
                }
                if done { return }
                continue
            }
            var failure: (any Error)?
            do {
                try await self.pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                    defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                    try db.inTransaction {
                        for job in jobs { _ = job.run(db) }
                        return .commit
                    }
                }
            } catch {
                failure = error
            }
            for job in jobs { job.complete(failure) }
        }
    }
}

/// Why a group-committed write has no result.
public enum GroupCommitError: Error, Sendable {
    /// The batch's transaction committed without running the write (cannot happen unless the writer is broken).
    case notRun
}

/// A write's result, set inside the database's writer queue and read after the commit (happens-before through the
/// writer's serial queue and the continuation).
final class ResultBox<T: Sendable>: @unchecked Sendable {
    var value: Result<T, any Error>?
}
