import CNimbusSys
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A process forked ahead of time for the next Linux-sandbox environment: already in its own (fresh) cgroup and
/// network namespace, waiting for its command. Joining cgroups and creating a namespace cost milliseconds each
/// (cgroup migration waits for an RCU grace period); the pool does it off the invocation path.
final class PreparedLauncher: Sendable {
    let pid: Int32
    /// Write end of the command pipe (see `cnimbus_launcher_fork`).
    let commandFD: Int32
    /// Read end of the launcher's stdout/stderr pipe (non-blocking).
    let outputFD: Int32
    let cgroup: EnvironmentCgroup
    let network: PreparedNetwork

    init(pid: Int32, commandFD: Int32, outputFD: Int32, cgroup: EnvironmentCgroup, network: PreparedNetwork) {
        self.pid = pid
        self.commandFD = commandFD
        self.outputFD = outputFD
        self.cgroup = cgroup
        self.network = network
    }

    /// Sends the command; the launcher execs it.
    func start(executable: String, directory: String, arguments: [String], environment: [String]) -> Bool {
        var blob: [UInt8] = []
        for field in [executable, directory, String(arguments.count), String(environment.count)] + arguments
            + environment
        {
            blob += Array(field.utf8)
            blob.append(0)
        }
        var offset = 0
        while offset < blob.count {
            let n = blob.withUnsafeBytes { Glibc.write(self.commandFD, $0.baseAddress! + offset, blob.count - offset) }
            if n <= 0 { break }
            offset += n
        }
        close(self.commandFD)
        return offset == blob.count
    }

    /// Ends an unused launcher and releases its resources.
    func discard() {
        close(self.commandFD)
        close(self.outputFD)
        kill(self.pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(self.pid, &status, 0)
        self.cgroup.destroy()
        self.network.release()
    }
}

/// Keeps a few ``PreparedLauncher``s ready, refilled by a background thread.
final class LauncherPool: Sendable {
    struct State {
        var ready: [PreparedLauncher] = []
        var stopped = false
    }

    let state = Mutex<State>(State())
    let wakeup = NSCondition()
    /// Signalled when the refill thread has ended.
    let finished = DispatchSemaphore(value: 0)
    let target: Int
    let make: @Sendable () throws -> PreparedLauncher
    let logger: Logger

    init(target: Int, logger: Logger, make: @escaping @Sendable () throws -> PreparedLauncher) {
        self.target = target
        self.make = make
        self.logger = logger
        let thread = Thread { [self] in self.refillLoop() }
        thread.name = "nimbus-launcher-pool"
        thread.start()
    }

    /// A prepared launcher, or a new one made now when the pool is empty.
    func take() throws -> PreparedLauncher {
        let ready = self.state.withLock { $0.ready.popLast() }
        self.wakeup.lock()
        self.wakeup.signal()
        self.wakeup.unlock()
        if let ready { return ready }
        return try self.make()
    }

    func stop() {
        let left = self.state.withLock { s -> [PreparedLauncher] in
            s.stopped = true
            defer { s.ready.removeAll() }
            return s.ready
        }
        self.wakeup.lock()
        self.wakeup.signal()
        self.wakeup.unlock()
        // The thread may be forking a launcher: wait for it (bounded) so nothing is made after this returns.
        _ = self.finished.wait(timeout: .now() + 10)
        for launcher in left { launcher.discard() }
        for launcher in self.state.withLock({ s -> [PreparedLauncher] in
            defer { s.ready.removeAll() }
            return s.ready
        }) {
            launcher.discard()
        }
    }

    func refillLoop() {
        defer { self.finished.signal() }
        // Preparing launchers must not compete with invocations for the CPU.
        _ = cnimbus_lower_thread_priority(10)
        var failures = 0
        while true {
            let (count, stopped) = self.state.withLock { ($0.ready.count, $0.stopped) }
            if stopped { return }
            if count >= self.target || failures > 3 {
                self.wakeup.lock()
                _ = self.wakeup.wait(until: Date().addingTimeInterval(failures > 3 ? 5 : 1))
                self.wakeup.unlock()
                failures = min(failures, 3)
                continue
            }
            do {
                let launcher = try self.make()
                let keep = self.state.withLock { s -> Bool in
                    guard !s.stopped else { return false }
                    s.ready.append(launcher)
                    return true
                }
                if !keep { launcher.discard() }
                failures = 0
            } catch {
                failures += 1
                self.logger.warning("Could not prepare a sandbox launcher", metadata: ["error": "\(error)"])
            }
        }
    }
}
