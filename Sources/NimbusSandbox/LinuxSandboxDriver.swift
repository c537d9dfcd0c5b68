import CNimbusSys
import Foundation
import Logging
import NimbusCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Launchers handed out by `prepareNetwork` and not yet used by `launch`.
final class ReservedLaunchers: Sendable {
    let launchers = Mutex<[String: PreparedLauncher]>([:])

    func put(_ id: String, _ launcher: PreparedLauncher) { self.launchers.withLock { $0[id] = launcher } }
    func take(_ id: String) -> PreparedLauncher? { self.launchers.withLock { $0.removeValue(forKey: id) } }
    func takeAll() -> [PreparedLauncher] {
        self.launchers.withLock { l in
            defer { l.removeAll() }
            return Array(l.values)
        }
    }
}

/// Resources of one Linux-sandbox environment, released when its process tree is gone.
final class Isolation: Sendable {
    let cgroup: EnvironmentCgroup
    let network: PreparedNetwork?
    /// MemorySize: sets the CPU share applied after init.
    let memoryMB: Int

    init(cgroup: EnvironmentCgroup, network: PreparedNetwork?, memoryMB: Int) {
        self.cgroup = cgroup
        self.network = network
        self.memoryMB = memoryMB
    }

    func release() {
        self.cgroup.destroy()
        self.network?.release()
    }
}

/// The `linux` tier: each environment runs under bubblewrap in its own mount, PID, IPC and UTS namespaces and in
/// a network namespace prepared by Nimbus (the Runtime API listens at 127.0.0.1:9001 inside it), as an unprivileged
/// user (setpriv: no capabilities, no_new_privs) behind a seccomp filter, in a cgroup that limits memory
/// (MemorySize), CPU (1,769 MB = one vCPU) and tasks (1,024), and freezes it between invocations.
///
/// The filesystem is Lambda's: code at /var/task and runtime files at /var/runtime (both read-only), a private
/// /tmp (tmpfs sized by EphemeralStorage), /usr, /lib and a few /etc files read-only, nothing of the host's data
/// directory, home directories or other functions.
public struct LinuxSandboxDriver: SandboxDriver {
    public let name = "linux"

    public struct Configuration: Sendable {
        public var network: NetworkMode
        /// The uid/gid functions run as (no passwd entry needed).
        public var uid: UInt32
        public var gid: UInt32

        public init(network: NetworkMode = .egress, uid: UInt32 = 993, gid: UInt32 = 993) {
            self.network = network
            self.uid = uid
            self.gid = gid
        }
    }

    let configuration: Configuration
    let cgroups: Cgroups
    /// The sandbox's /etc: copies of a few host files, a resolv.conf for the sandbox's network, and mount points
    /// for ``etcDirectories``.
    let etcDirectory: String
    let bwrap: String
    let setpriv: String
    let slirp4netns: String?
    let logger: Logger
    /// Launchers prepared ahead of time for the configured network mode.
    let pool: LauncherPool
    /// Launchers taken for environments being started, by environment id.
    let reserved: ReservedLaunchers

    /// Host paths bound read-only at the same place, when they exist.
    static let systemPaths = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"]
    /// Host /etc files copied into the sandbox's own /etc (one bind instead of one per file).
    static let etcFiles = [
        "hosts", "nsswitch.conf", "passwd", "group", "localtime", "ld.so.cache", "ld.so.conf", "mime.types",
        "protocols", "services", "os-release",
    ]
    /// Host /etc directories bound inside the sandbox's /etc.
    static let etcDirectories = ["ssl", "ca-certificates", "pki", "alternatives", "ld.so.conf.d"]

    /// - Parameter stateDirectory: where the driver keeps what all sandboxes share (their /etc).
    public init(
        support: SandboxSupport, stateDirectory: String, configuration: Configuration = .init(), logger: Logger
    ) throws(SandboxError) {
        guard support.linuxSandboxAvailable, let bwrap = support.bwrap, let setpriv = support.setpriv else {
            throw SandboxError(.setupFailed, support.problems.joined(separator: "; "))
        }
        let cgroups: Cgroups
        switch Cgroups.detect(instance: "server-\(getpid())-\(Digest.randomHex32().prefix(8))") {
        case .success(let c): cgroups = c
        case .failure(let error): throw error
        }
        cgroups.removeAbandoned()
        Self.startWatchdog(cgroups: cgroups, logger: logger)
        let probe = cnimbus_seccomp_program_fd()
        guard probe >= 0 else { throw SandboxError(.setupFailed, "cannot build the seccomp filter") }
        close(probe)
        self.configuration = configuration
        self.cgroups = cgroups
        self.etcDirectory = try Self.makeEtc(in: stateDirectory, network: configuration.network)
        self.bwrap = bwrap
        self.setpriv = setpriv
        self.slirp4netns = support.slirp4netns
        self.logger = logger
        self.reserved = ReservedLaunchers()
        let (slirp, network) = (support.slirp4netns, configuration.network)
        self.pool = LauncherPool(target: 2, logger: logger) {
            try Self.prepareLauncher(cgroups: cgroups, mode: network, slirp4netns: slirp, logger: logger)
        }
    }

    /// Starts a small shell process that outlives this server if it is killed (SIGKILL, a crash): when the pipe
    /// only this process holds reaches end of file, it kills every environment left in this instance's cgroups
    /// (thawing frozen ones, which cgroup v1 would otherwise keep forever) and removes the cgroups.
    static func startWatchdog(cgroups: Cgroups, logger: Logger) {
        let roots = Set(cgroups.roots.values).sorted().joined(separator: " ")
        let script = """
            cat <&3 >/dev/null
            for round in 1 2 3 4 5 6 7 8 9 10; do
              for d in \(roots); do
                for c in "$d"/*/; do
                  [ -d "$c" ] || continue
                  [ -f "$c/cgroup.kill" ] && echo 1 > "$c/cgroup.kill"
                  for p in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
                  [ -f "$c/freezer.state" ] && echo THAWED > "$c/freezer.state"
                  [ -f "$c/cgroup.freeze" ] && echo 0 > "$c/cgroup.freeze"
                  rmdir "$c" 2>/dev/null
                done
              done
              sleep 0.2
            done
            for d in \(roots); do rmdir "$d" 2>/dev/null; done
            exit 0
            """
        var pipeFDs: [Int32] = [0, 0]
        guard cnimbus_pipe_cloexec(&pipeFDs) == 0 else { return }
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        var pid: pid_t = 0
        let rc = ProcessSandboxDriver.withCStrings(["/bin/sh", "-c", script]) { argv in
            ProcessSandboxDriver.withCStrings(["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]) { envp in
                cnimbus_spawn_sandboxed("/bin/sh", argv, envp, "/", devNull, -1, nil, pipeFDs[0], -1, &pid)
            }
        }
        close(devNull)
        close(pipeFDs[0])
        if rc != 0 {
            close(pipeFDs[1])
            logger.warning("Could not start the sandbox watchdog", metadata: ["error": "\(rc)"])
        }
        // The write end stays open (close-on-exec) for the life of this process: its end is the signal.
    }

    /// Builds the sandbox's /etc under `directory`.
    static func makeEtc(in directory: String, network: NetworkMode) throws(SandboxError) -> String {
        let etc = "\(directory)/etc"
        let fm = FileManager.default
        do {
            try? fm.removeItem(atPath: etc)  // rebuilt at every start from the host's current files
            try fm.createDirectory(atPath: etc, withIntermediateDirectories: true)
            for name in Self.etcFiles {
                let source = "/etc/\(name)"
                // A symlink (localtime) is resolved: the sandbox cannot follow it to the host.
                let resolved = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
                if let data = fm.contents(atPath: resolved) {
                    try data.write(to: URL(fileURLWithPath: "\(etc)/\(name)"))
                }
            }
            for name in Self.etcDirectories where fm.fileExists(atPath: "/etc/\(name)") {
                try fm.createDirectory(atPath: "\(etc)/\(name)", withIntermediateDirectories: true)
            }
            // slirp4netns answers DNS at 10.0.2.3; a host resolver on loopback would be unreachable.
            let resolver =
                network == .egress
                ? "nameserver 10.0.2.3\n"
                : (fm.contents(atPath: "/etc/resolv.conf").map { String(decoding: $0, as: UTF8.self) } ?? "")
            try Data(resolver.utf8).write(to: URL(fileURLWithPath: "\(etc)/resolv.conf"))
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: etc)
        } catch {
            throw SandboxError(.setupFailed, "cannot prepare the sandbox /etc at \(etc): \(error)")
        }
        return etc
    }

    /// A launcher in a fresh cgroup (no limits yet) and network namespace.
    static func prepareLauncher(
        cgroups: Cgroups, mode: NetworkMode, slirp4netns: String?, logger: Logger
    ) throws(SandboxError) -> PreparedLauncher {
        let network = try NetworkNamespaces.prepare(mode: mode, slirp4netns: slirp4netns, logger: logger)
        let cgroup: EnvironmentCgroup
        do {
            cgroup = try cgroups.create(name: "env-\(Digest.randomHex32())", memoryMB: nil)
        } catch {
            network.release()
            throw error
        }
        var output: [Int32] = [0, 0]
        var command: [Int32] = [0, 0]
        guard cnimbus_pipe_cloexec(&output) == 0 else {
            cgroup.destroy()
            network.release()
            throw SandboxError(.setupFailed, "pipe2 failed: errno \(errno)")
        }
        guard cnimbus_pipe_cloexec(&command) == 0 else {
            close(output[0])
            close(output[1])
            cgroup.destroy()
            network.release()
            throw SandboxError(.setupFailed, "pipe2 failed: errno \(errno)")
        }
        _ = fcntl(output[0], F_SETFL, fcntl(output[0], F_GETFL) | O_NONBLOCK)
        let seccomp = cnimbus_seccomp_program_fd()
        var pid: pid_t = 0
        let rc = withOptionalCStrings(cgroup.procsFiles) { procs in
            cnimbus_launcher_fork(network.namespaceFD, procs, output[1], seccomp, command[0], &pid)
        }
        close(output[1])
        close(command[0])
        if seccomp >= 0 { close(seccomp) }
        guard rc == 0, seccomp >= 0 else {
            close(output[0])
            close(command[1])
            cgroup.destroy()
            network.release()
            throw SandboxError(.setupFailed, "cannot fork a sandbox launcher: \(String(cString: strerror(rc)))")
        }
        ProcessSandboxDriver.roots.insert(pid)
        return PreparedLauncher(pid: pid, commandFD: command[1], outputFD: output[0], cgroup: cgroup, network: network)
    }

    /// Where a Python function finds boto3 (AWS's runtimes have it under /var/runtime).
    static let pythonSDKPath = "/var/sdk/python"

    public func layout(for request: SandboxLayoutRequest) -> SandboxLayout {
        SandboxLayout(
            taskRoot: "/var/task", runtimeDirectory: "/var/runtime", temporaryDirectory: "/tmp",
            pythonSDK: request.pythonSDK.map { _ in Self.pythonSDKPath })
    }

    public func prepareNetwork(environmentID: String, mode: NetworkMode?) throws(SandboxError) -> PreparedNetwork? {
        let mode = mode ?? self.configuration.network
        let launcher: PreparedLauncher
        if mode == self.configuration.network {
            do {
                launcher = try self.pool.take()
            } catch let error as SandboxError {
                throw error
            } catch {
                throw SandboxError(.setupFailed, "\(error)")
            }
        } else {
            launcher = try Self.prepareLauncher(
                cgroups: self.cgroups, mode: mode, slirp4netns: self.slirp4netns, logger: self.logger)
        }
        self.reserved.put(environmentID, launcher)
        return mode == .host ? nil : launcher.network
    }

    public func discardPreparation(environmentID: String) {
        self.reserved.take(environmentID)?.discard()
    }

    public func removeScratch(_ scratchID: String) {}

    public func reapAdoptedProcesses() {}

    public func killAllEnvironmentProcesses() {
        self.pool.stop()
        for launcher in self.reserved.takeAll() { launcher.discard() }
        self.cgroups.removeStale()
        for dir in Set(self.cgroups.roots.values) { rmdir(dir) }
    }

    public func launch(
        _ spec: SandboxSpec,
        output: @escaping @Sendable ([UInt8]) -> Void,
        exit: @escaping @Sendable (ExitStatus) -> Void
    ) throws(SandboxError) -> any Sandbox {
        let launcher: PreparedLauncher
        if let reserved = self.reserved.take(spec.environmentID) {
            launcher = reserved
        } else {
            launcher = try Self.prepareLauncher(
                cgroups: self.cgroups, mode: self.configuration.network, slirp4netns: self.slirp4netns,
                logger: self.logger)
        }
        launcher.cgroup.setMemoryLimit(megabytes: spec.memoryMB)
        let isolation = Isolation(cgroup: launcher.cgroup, network: launcher.network, memoryMB: spec.memoryMB)
        var environment = spec.environment
        environment["TMPDIR"] = "/tmp"
        let started = launcher.start(
            executable: self.bwrap, directory: "/", arguments: self.bwrapArguments(spec),
            environment: environment.map { "\($0.key)=\($0.value)" })
        guard started else {
            launcher.discard()
            throw SandboxError(.spawnFailed, "Could not start the sandbox: the launcher did not take its command")
        }
        let rootPID = launcher.pid
        let roots = ProcessSandboxDriver.roots
        let sandbox = ProcessSandbox(
            pid: rootPID, marker: spec.environmentID, outputFD: launcher.outputFD, output: output,
            exit: { status in
                roots.remove(rootPID)
                exit(status)
            }, logger: self.logger, isolation: isolation)
        sandbox.startMonitor()
        return sandbox
    }

    /// bwrap's command line: namespaces, the filesystem, then setpriv dropping to the function user.
    func bwrapArguments(_ spec: SandboxSpec) -> [String] {
        var a = [
            self.bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "localhost", "--seccomp", "3",
        ]
        let fm = FileManager.default
        for path in Self.systemPaths where fm.fileExists(atPath: path) {
            // /lib64 and friends are often symlinks into /usr: recreate the link rather than binding it.
            if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
                a += ["--symlink", target, path]
            } else {
                a += ["--ro-bind", path, path]
            }
        }
        a += ["--ro-bind", self.etcDirectory, "/etc"]
        for name in Self.etcDirectories where fm.fileExists(atPath: "/etc/\(name)") {
            a += ["--ro-bind", "/etc/\(name)", "/etc/\(name)"]
        }
        var destinations: [String] = []
        for path in spec.extraReadOnlyPaths where fm.fileExists(atPath: path) {
            a += ["--ro-bind", path, path]
            destinations.append(path)
        }
        if let sdk = spec.pythonSDK, fm.fileExists(atPath: sdk) {
            // Under a path of its own, not the host's: the repository or data directory it lives in stays invisible.
            a += ["--ro-bind", sdk, Self.pythonSDKPath]
            destinations.append(Self.pythonSDKPath)
        }
        a += [
            "--proc", "/proc", "--dev", "/dev",
            "--size", String(spec.ephemeralStorageMB * 1024 * 1024), "--tmpfs", "/tmp", "--chmod", "1777", "/tmp",
            "--ro-bind", spec.codeDirectory, "/var/task",
            "--ro-bind", spec.runtimeDirectory, "/var/runtime",
        ]
        destinations += ["/var/task", "/var/runtime"]
        // bwrap creates missing parents (/etc, /var, /root…) as 0700 directories of the sandbox's own root: open
        // them so the function user can reach what is bound below them. They hold nothing else.
        var parents: Set<String> = []
        for path in destinations {
            var parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
            while parent != "/" && !parent.isEmpty && !Self.systemPaths.contains(parent) {
                parents.insert(parent)
                parent = URL(fileURLWithPath: parent).deletingLastPathComponent().path
            }
        }
        for parent in parents.sorted() { a += ["--chmod", "0755", parent] }
        a += [
            "--remount-ro", "/",
            "--chdir", "/var/task",
            "--", self.setpriv, "--reuid=\(self.configuration.uid)", "--regid=\(self.configuration.gid)",
            "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--",
            spec.executable,
        ]
        return a + spec.arguments
    }

    static func withOptionalCStrings<R>(
        _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
        }
    }
}
