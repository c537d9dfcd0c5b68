import CNimbusSys
import Foundation
import Logging
import NimbusCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The `process` tier: each environment is a plain process tree in its own session, with the unpacked code as its
/// working directory and a private TMPDIR. It isolates nothing (any local process can reach its Runtime API port,
/// and the function can read whatever the server's user can); it exists for development and for hosts without
/// namespaces. Teardown kills the session's process group and every descendant still found under the root.
public struct ProcessSandboxDriver: SandboxDriver {
    public let name = "process"
    let scratchDirectory: String
    let logger: Logger
    /// Root pids of live environments of every driver in this process: their monitor threads reap them, nobody
    /// else may. Process-wide on purpose: waitpid is process-wide, and tests run several servers in one process.
    static let roots = SandboxRoots()
    /// Distinguishes this driver's environments from those of other drivers in the same process.
    let instanceID = Digest.randomHex32()

    /// - Parameter scratchDirectory: where per-environment `/tmp` directories are made.
    public init(scratchDirectory: String, logger: Logger) throws {
        self.scratchDirectory = scratchDirectory
        self.logger = logger
        try FileManager.default.createDirectory(atPath: scratchDirectory, withIntermediateDirectories: true)
    }

    /// Processes of environments carry this variable (inherited by everything they start), so that orphans the
    /// server adopted can be traced back to their environment.
    public static let markerVariable = "_NIMBUS_SANDBOX_ID"

    /// Makes this process the subreaper of everything it starts: a function's double-forked, detached process is
    /// re-parented to the server instead of init, where teardown can find it. Call once, at server start.
    public static func adoptOrphans() {
        _ = cnimbus_set_child_subreaper()
    }

    public func layout(for request: SandboxLayoutRequest) -> SandboxLayout {
        SandboxLayout(
            taskRoot: request.codeDirectory, runtimeDirectory: request.runtimeDirectory,
            temporaryDirectory: "\(self.scratchDirectory)/\(request.scratchID)/tmp", pythonSDK: request.pythonSDK)
    }

    public func prepareNetwork(environmentID: String, mode: NetworkMode?) throws(SandboxError) -> PreparedNetwork? {
        nil
    }

    public func discardPreparation(environmentID: String) {}

    public func removeScratch(_ scratchID: String) {
        guard !scratchID.isEmpty, !scratchID.contains("/") else { return }
        // Best effort: a leftover scratch directory is deleted at the next server start.
        try? FileManager.default.removeItem(atPath: "\(self.scratchDirectory)/\(scratchID)")
    }

    public func reapAdoptedProcesses() {
        let roots = Self.roots.snapshot
        for child in ProcessTree.children(of: getpid()) where !roots.contains(child) {
            guard ProcessTree.isZombie(child) else { continue }
            var status: Int32 = 0
            _ = waitpid(child, &status, WNOHANG)
        }
    }

    public func killAllEnvironmentProcesses() {
        for child in ProcessTree.children(of: getpid()) {
            guard ProcessTree.environment(of: child, contains: "\(Self.markerVariable)=\(self.instanceID):", prefix: true)
            else {
                continue
            }
            for descendant in ProcessTree.descendants(of: child) { kill(descendant, SIGKILL) }
            kill(child, SIGKILL)
        }
        self.reapAdoptedProcesses()
    }

    public func launch(
        _ spec: SandboxSpec,
        output: @escaping @Sendable ([UInt8]) -> Void,
        exit: @escaping @Sendable (ExitStatus) -> Void
    ) throws(SandboxError) -> any Sandbox {
        do {
            try FileManager.default.createDirectory(
                atPath: spec.layout.temporaryDirectory, withIntermediateDirectories: true)
        } catch {
            throw SandboxError(.setupFailed, "Could not create \(spec.layout.temporaryDirectory): \(error)")
        }
        var fds: [Int32] = [0, 0]
        guard cnimbus_pipe_cloexec(&fds) == 0 else {
            throw SandboxError(.setupFailed, "pipe2 failed: errno \(errno)")
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)

        var environment = spec.environment
        environment["TMPDIR"] = spec.layout.temporaryDirectory
        environment[Self.markerVariable] = "\(self.instanceID):\(spec.environmentID)"
        let argv = [spec.executable] + spec.arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let rc = Self.withCStrings(argv) { cArgv in
            Self.withCStrings(envp) { cEnvp in
                cnimbus_spawn(spec.executable, cArgv, cEnvp, spec.layout.taskRoot, writeEnd, &pid)
            }
        }
        close(writeEnd)
        guard rc == 0 else {
            close(readEnd)
            throw SandboxError(
                .spawnFailed, "Could not start \(spec.executable): \(String(cString: strerror(rc)))")
        }
        let rootPID = pid
        Self.roots.insert(rootPID)
        let roots = Self.roots
        let process = ProcessSandbox(
            pid: rootPID, marker: "\(self.instanceID):\(spec.environmentID)", outputFD: readEnd, output: output,
            exit: { status in
                roots.remove(rootPID)
                exit(status)
            }, logger: self.logger, isolation: nil)
        process.startMonitor()
        return process
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// One process-tier environment: its root process, its output pipe and a monitor thread that reads output and
/// notices the exit (via a pidfd).
final class ProcessSandbox: Sandbox {
    let pid: Int32
    /// The value of the marker variable this environment's processes inherit.
    let marker: String
    let outputFD: Int32
    let output: @Sendable ([UInt8]) -> Void
    let exit: @Sendable (ExitStatus) -> Void
    let logger: Logger
    /// The Linux sandbox's resources; nil in the process tier.
    let isolation: Isolation?
    /// Guards reads of the pipe (so a drained chunk is always delivered before the lock is released) and the
    /// lifecycle flags.
    let state = Mutex<State>(State())

    struct State {
        var outputClosed = false
        var terminated = false
        var exited = false
        var peakMemoryKB = 0
        var isolationExited = false
        var isolationTerminated = false
        var isolationReleased = false
        var rootKB = 0
        var rootReadAt: ContinuousClock.Instant?
        var descendantsKB = 0
        var descendantsScannedAt: ContinuousClock.Instant?
    }

    init(
        pid: Int32, marker: String, outputFD: Int32, output: @escaping @Sendable ([UInt8]) -> Void,
        exit: @escaping @Sendable (ExitStatus) -> Void, logger: Logger, isolation: Isolation?
    ) {
        self.isolation = isolation
        self.pid = pid
        self.marker = marker
        self.outputFD = outputFD
        self.output = output
        self.exit = exit
        self.logger = logger
    }

    func startMonitor() {
        let pidfd = cnimbus_pidfd_open(self.pid)
        let thread = Thread { [self] in self.monitor(pidfd: pidfd) }
        thread.name = "nimbus-env-\(self.pid)"
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Runs on the monitor thread until the root process has exited and been reaped.
    func monitor(pidfd: Int32) {
        var fds = [
            pollfd(fd: self.outputFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
        ]
        var status: Int32 = 0
        while true {
            let outputOpen = !self.state.withLock { $0.outputClosed }
            fds[0].fd = outputOpen ? self.outputFD : -1
            fds[1].fd = pidfd
            let n = poll(&fds, 2, pidfd >= 0 ? -1 : 50)
            if n < 0 && errno != EINTR { break }
            if fds[0].revents != 0 { self.drainOutput() }
            let reaped = waitpid(self.pid, &status, WNOHANG)
            if reaped == self.pid || (reaped < 0 && errno == ECHILD) { break }
        }
        if pidfd >= 0 { close(pidfd) }
        // Kill whatever the runtime left behind, then deliver the last output.
        self.killTree()
        self.drainOutput()
        self.state.withLock { $0.exited = true }
        var exitStatus: ExitStatus =
            (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        if self.isolation != nil, case .exited(let code) = exitStatus, code > 128, code < 128 + 65 {
            // bwrap exits with 128 + n when the sandboxed process died of signal n.
            exitStatus = .signaled(code - 128)
        }
        self.exit(exitStatus)
        self.state.withLock { s in
            if !s.outputClosed {
                s.outputClosed = true
                close(self.outputFD)
            }
        }
        self.releaseIsolationIfDone(exited: true)
    }

    /// The cgroup and network outlive the process until the invoker has read the peak memory and OOM count and
    /// called ``terminate()``: both must have happened.
    func releaseIsolationIfDone(exited: Bool = false, terminated: Bool = false) {
        guard let isolation = self.isolation else { return }
        let release = self.state.withLock { s -> Bool in
            if exited { s.isolationExited = true }
            if terminated { s.isolationTerminated = true }
            guard s.isolationExited && s.isolationTerminated && !s.isolationReleased else { return false }
            s.isolationReleased = true
            return true
        }
        if release { isolation.release() }
    }

    func drainOutput() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        self.state.withLock { s in
            guard !s.outputClosed else { return }
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(self.outputFD, $0.baseAddress, $0.count) }
                if n > 0 {
                    self.output(Array(buffer[0..<n]))
                    continue
                }
                if n == 0 {
                    // Every writer is gone.
                    s.outputClosed = true
                    close(self.outputFD)
                }
                return
            }
        }
    }

    func terminate() {
        let first = self.state.withLock { s -> Bool in
            defer { s.terminated = true }
            return !s.terminated
        }
        guard first else { return }
        self.killTree()
        self.releaseIsolationIfDone(terminated: true)
    }

    /// SIGKILL to the session's process group, to every descendant reachable through /proc, and to orphans of
    /// this environment the server adopted (found by the marker variable they inherited).
    func killTree() {
        if let isolation = self.isolation {
            // Everything the environment ran is in its cgroup (and its PID namespace).
            kill(self.pid, SIGKILL)
            isolation.cgroup.killAll()
            return
        }
        let descendants = ProcessTree.descendants(of: self.pid)
        kill(-self.pid, SIGKILL)
        kill(self.pid, SIGKILL)
        for child in descendants { kill(child, SIGKILL) }
        let marker = "\(ProcessSandboxDriver.markerVariable)=\(self.marker)"
        for adopted in ProcessTree.children(of: getpid()) where adopted != self.pid {
            guard ProcessTree.environment(of: adopted, contains: marker) else { continue }
            for descendant in ProcessTree.descendants(of: adopted) { kill(descendant, SIGKILL) }
            kill(adopted, SIGKILL)
        }
    }

    /// The root's peak RSS plus its descendants' RSS, in MB.
    ///
    /// Reading `/proc/<pid>/status` costs about as much as a no-op invocation, so the root's peak is re-read at
    /// most every 50 ms and descendants are rescanned at most once a second. The peak only grows, so a reading is
    /// never too high; after a burst of sub-millisecond invocations it can lag by those 50 ms.
    func wasKilledForMemory() -> Bool {
        guard let isolation = self.isolation else { return false }
        return isolation.cgroup.oomKills() > 0
    }

    func initializationFinished() {
        guard let isolation = self.isolation else { return }
        isolation.cgroup.applyCPULimit(memoryMB: isolation.memoryMB)
    }

    func freeze() { self.isolation?.cgroup.freeze() }

    func thaw() { self.isolation?.cgroup.thaw() }

    func maxMemoryUsedMB() -> Int {
        if let isolation = self.isolation {
            return max(1, (isolation.cgroup.peakMemoryBytes() + 1_048_575) / 1_048_576)
        }
        let now = ContinuousClock.now
        let (readRoot, rescan) = self.state.withLock { s in
            (
                s.rootReadAt.map { now - $0 > .milliseconds(50) } ?? true,
                s.descendantsScannedAt.map { now - $0 > .seconds(1) } ?? true
            )
        }
        let rootKB = readRoot ? ProcessTree.statusValueKB(pid: self.pid, key: "VmHWM:") : nil
        let descendantsKB =
            rescan
            ? ProcessTree.descendants(of: self.pid).reduce(0) {
                $0 + (ProcessTree.statusValueKB(pid: $1, key: "VmRSS:") ?? 0)
            } : nil
        let peak = self.state.withLock { s -> Int in
            if let rootKB {
                s.rootKB = rootKB
                s.rootReadAt = now
            }
            if let descendantsKB {
                s.descendantsKB = descendantsKB
                s.descendantsScannedAt = now
            }
            s.peakMemoryKB = max(s.peakMemoryKB, s.rootKB + s.descendantsKB)
            return s.peakMemoryKB
        }
        return max(1, (peak + 1023) / 1024)
    }
}

/// The root pids of live environments.
final class SandboxRoots: Sendable {
    let pids = Mutex<Set<Int32>>([])

    func insert(_ pid: Int32) { _ = self.pids.withLock { $0.insert(pid) } }
    func remove(_ pid: Int32) { _ = self.pids.withLock { $0.remove(pid) } }
    var snapshot: Set<Int32> { self.pids.withLock { $0 } }
}

/// Reading the process tree from /proc. Byte-level parsing: memory is read after every invocation.
enum ProcessTree {
    /// Every descendant of `pid` (children of every thread, recursively).
    static func descendants(of pid: Int32) -> [Int32] {
        var result: [Int32] = []
        var seen: Set<Int32> = []
        var queue = [pid]
        while let next = queue.popLast(), result.count < 4096 {
            for child in self.children(of: next) where seen.insert(child).inserted {
                result.append(child)
                queue.append(child)
            }
        }
        return result
    }

    static func children(of pid: Int32) -> [Int32] {
        guard let dir = opendir("/proc/\(pid)/task") else { return [] }
        defer { closedir(dir) }
        var out: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let tid = Int32(name) else { continue }
            guard let bytes = self.readBytes("/proc/\(pid)/task/\(tid)/children") else { continue }
            var value: Int32 = 0
            var inNumber = false
            for b in bytes {
                if b >= 0x30 && b <= 0x39 {
                    value = value &* 10 &+ Int32(b - 0x30)
                    inNumber = true
                } else if inNumber {
                    out.append(value)
                    value = 0
                    inNumber = false
                }
            }
            if inNumber { out.append(value) }
        }
        return out
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let bytes = self.readBytes("/proc/\(pid)/stat"), let close = bytes.lastIndex(of: UInt8(ascii: ")")),
            close + 2 < bytes.count
        else { return false }
        return bytes[close + 2] == UInt8(ascii: "Z")
    }

    /// Whether `/proc/<pid>/environ` holds the entry `entry` exactly, or (with `prefix`) one starting with it.
    static func environment(of pid: Int32, contains entry: String, prefix: Bool = false) -> Bool {
        guard let bytes = self.readBytes("/proc/\(pid)/environ") else { return false }
        let wanted = Array(entry.utf8)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0) ?? bytes.count
            let item = bytes[start..<end]
            if prefix ? item.starts(with: wanted) : item.elementsEqual(wanted) { return true }
            start = end + 1
        }
        return false
    }

    /// A `kB` value of `/proc/<pid>/status` (`VmHWM`, `VmRSS`).
    static func statusValueKB(pid: Int32, key: String) -> Int? {
        guard let bytes = self.readBytes("/proc/\(pid)/status") else { return nil }
        let wanted = Array(key.utf8)
        var lineStart = 0
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            if bytes[lineStart..<lineEnd].starts(with: wanted) {
                var value = 0
                for b in bytes[(lineStart + wanted.count)..<lineEnd] where b >= 0x30 && b <= 0x39 {
                    value = value * 10 + Int(b - 0x30)
                }
                return value
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return data
    }
}
