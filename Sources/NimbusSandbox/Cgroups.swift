import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Which cgroup hierarchy the host offers, detected at start.
public enum CgroupVersion: String, Sendable {
    /// Separate hierarchies per controller (`/sys/fs/cgroup/memory`, …): memory, cpu, freezer and pids needed.
    case v1
    /// The unified hierarchy (`/sys/fs/cgroup` with `cgroup.controllers`).
    case v2
}

/// One environment's cgroup(s): memory limit = MemorySize, CPU in proportion (1,769 MB = one vCPU), at most 1,024
/// tasks, a freezer, and the peak memory and OOM kills for REPORT lines.
public struct EnvironmentCgroup: Sendable {
    public let version: CgroupVersion
    /// Directories, one per controller for v1, one for v2.
    let directories: [String: String]
    /// Sets the memory limit (MemorySize), which also sets the CPU share applied after init.
    @discardableResult
    public func setMemoryLimit(megabytes: Int) -> Bool {
        let bytes = "\(megabytes * 1024 * 1024)"
        switch self.version {
        case .v1:
            let ok = Cgroups.write(self.path("memory", "memory.limit_in_bytes"), bytes)
            // No swapping past the limit where swap accounting exists (must not be below the memory limit).
            _ = Cgroups.write(self.path("memory", "memory.memsw.limit_in_bytes"), bytes)
            return ok
        case .v2:
            return Cgroups.write(self.path("unified", "memory.max"), bytes)
        }
    }

    /// Limits CPU to MemorySize / 1,769 of a core. Applied when initialisation has finished: like Lambda, which
    /// runs the init phase with burst CPU, Nimbus lets init use what is free.
    public func applyCPULimit(memoryMB: Int) {
        let period = 100_000
        let quota = max(1000, period * memoryMB / 1769)
        switch self.version {
        case .v1:
            Cgroups.write(self.path("cpu", "cpu.cfs_period_us"), "\(period)")
            Cgroups.write(self.path("cpu", "cpu.cfs_quota_us"), "\(quota)")
        case .v2:
            Cgroups.write(self.path("unified", "cpu.max"), "\(quota) \(period)")
        }
    }

    /// The `cgroup.procs` files a new process writes itself into.
    public var procsFiles: [String] { Array(Set(self.directories.values)).sorted().map { "\($0)/cgroup.procs" } }

    func path(_ controller: String, _ file: String) -> String {
        "\(self.directories[controller] ?? self.directories["unified"]!)/\(file)"
    }

    /// Stops every task (no CPU until thawed).
    public func freeze() {
        switch self.version {
        case .v1: Cgroups.write(self.path("freezer", "freezer.state"), "FROZEN")
        case .v2: Cgroups.write(self.path("unified", "cgroup.freeze"), "1")
        }
    }

    public func thaw() {
        switch self.version {
        case .v1: Cgroups.write(self.path("freezer", "freezer.state"), "THAWED")
        case .v2: Cgroups.write(self.path("unified", "cgroup.freeze"), "0")
        }
    }

    /// Peak memory use in bytes.
    public func peakMemoryBytes() -> Int {
        switch self.version {
        case .v1: Cgroups.readInt(self.path("memory", "memory.max_usage_in_bytes")) ?? 0
        case .v2:
            Cgroups.readInt(self.path("unified", "memory.peak"))
                ?? Cgroups.readInt(self.path("unified", "memory.current")) ?? 0
        }
    }

    /// How many times the kernel's OOM killer killed a task of this cgroup.
    public func oomKills() -> Int {
        let file = self.version == .v1 ? self.path("memory", "memory.oom_control") : self.path("unified", "memory.events")
        guard let text = Cgroups.read(file) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return Int(line.dropFirst("oom_kill ".count)) ?? 0
        }
        return 0
    }

    /// Whether any task is left.
    public func isEmpty() -> Bool {
        self.pids().isEmpty
    }

    func pids() -> [Int32] {
        var all: Set<Int32> = []
        for procs in self.procsFiles {
            for line in (Cgroups.read(procs) ?? "").split(separator: "\n") {
                if let pid = Int32(line) { all.insert(pid) }
            }
        }
        return Array(all)
    }

    /// SIGKILL to every task, thawing so that frozen tasks can die.
    public func killAll() {
        if self.version == .v2, FileManager.default.fileExists(atPath: self.path("unified", "cgroup.kill")) {
            Cgroups.write(self.path("unified", "cgroup.kill"), "1")
        }
        for pid in self.pids() { kill(pid, SIGKILL) }
        self.thaw()
    }

    /// Kills every task (thawing first: a frozen task cannot die) and removes the directories. Bounded: gives up
    /// after a few rounds and leaves the directory for the next start's cleanup.
    public func destroy() {
        if self.version == .v2, FileManager.default.fileExists(atPath: self.path("unified", "cgroup.kill")) {
            Cgroups.write(self.path("unified", "cgroup.kill"), "1")
        }
        for round in 0..<200 {
            let pids = self.pids()
            if pids.isEmpty { break }
            for pid in pids { kill(pid, SIGKILL) }
            self.thaw()
            if round > 0 { usleep(1000) }  // Teardown path, off the invocation path: waits for the kernel to reap.
        }
        for directory in Set(self.directories.values) { rmdir(directory) }
    }
}

/// Creates and configures environment cgroups under `nimbus/` in each hierarchy.
public struct Cgroups: Sendable {
    public let version: CgroupVersion
    let roots: [String: String]

    static let v1Controllers = ["memory", "cpu", "freezer", "pids"]

    /// Detects the hierarchy and prepares `nimbus/<instance>/` under it (one instance per server process, so that
    /// servers sharing a host never touch each other's environments), or says why it cannot.
    public static func detect(base: String = "/sys/fs/cgroup", instance: String? = nil) -> Result<Cgroups, SandboxError> {
        let fm = FileManager.default
        let instance = instance ?? "server-\(getpid())"
        if fm.fileExists(atPath: "\(base)/cgroup.controllers") {
            let controllers = (self.read("\(base)/cgroup.controllers") ?? "").split(separator: " ").map {
                $0.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            for needed in ["memory", "cpu", "pids"] where !controllers.contains(needed) {
                return .failure(SandboxError(.setupFailed, "cgroup v2 at \(base) lacks the \(needed) controller"))
            }
            let root = "\(base)/nimbus/\(instance)"
            do {
                try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
            } catch {
                return .failure(SandboxError(.setupFailed, "cannot create \(root): \(error)"))
            }
            self.write("\(base)/cgroup.subtree_control", "+memory +cpu +pids")
            self.write("\(base)/nimbus/cgroup.subtree_control", "+memory +cpu +pids")
            self.write("\(root)/cgroup.subtree_control", "+memory +cpu +pids")
            return .success(Cgroups(version: .v2, roots: ["unified": root]))
        }
        var roots: [String: String] = [:]
        for controller in self.v1Controllers {
            let mount = "\(base)/\(controller)"
            guard fm.fileExists(atPath: "\(mount)/cgroup.procs") else {
                return .failure(SandboxError(.setupFailed, "cgroup v1 controller \(controller) is not mounted at \(mount)"))
            }
            let root = "\(mount)/nimbus/\(instance)"
            do {
                try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
            } catch {
                return .failure(SandboxError(.setupFailed, "cannot create \(root): \(error)"))
            }
            roots[controller] = root
        }
        return .success(Cgroups(version: .v1, roots: roots))
    }

    /// Removes what servers that are no longer running left behind (`nimbus/server-<pid>-…` of dead pids): their
    /// environments' processes are killed and the cgroups removed.
    public func removeAbandoned() {
        for root in Set(self.roots.values) {
            let parent = URL(fileURLWithPath: root).deletingLastPathComponent().path
            for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
                guard name.hasPrefix("server-"),
                    let pid = name.dropFirst("server-".count).split(separator: "-").first.flatMap({ Int32($0) }),
                    kill(pid, 0) != 0 && errno == ESRCH
                else { continue }
                let other = Cgroups(version: self.version, roots: self.roots.mapValues {
                    URL(fileURLWithPath: $0).deletingLastPathComponent().path + "/" + name
                })
                other.removeStale()
                for dir in Set(other.roots.values) { rmdir(dir) }
            }
        }
    }

    /// Removes this instance's environment cgroups (their processes are killed).
    public func removeStale() {
        var seen: Set<String> = []
        for root in self.roots.values {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(root)/\(name)", isDirectory: &isDirectory),
                    isDirectory.boolValue
                {
                    seen.insert(name)
                }
            }
        }
        for name in seen {
            var dirs: [String: String] = [:]
            for (controller, root) in self.roots {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(root)/\(name)", isDirectory: &isDirectory), isDirectory.boolValue {
                    dirs[controller] = "\(root)/\(name)"
                }
            }
            EnvironmentCgroup(version: self.version, directories: dirs).destroy()
        }
    }

    /// Creates an environment's cgroup with its limits.
    /// Creates a cgroup; with `memoryMB` nil the memory limit is set later (``EnvironmentCgroup/setMemoryLimit(megabytes:)``).
    public func create(name: String, memoryMB: Int?, maxTasks: Int = 1024) throws(SandboxError) -> EnvironmentCgroup {
        var dirs: [String: String] = [:]
        for (controller, root) in self.roots {
            let dir = "\(root)/\(name)"
            if mkdir(dir, 0o755) != 0 && errno != EEXIST {
                throw SandboxError(.setupFailed, "cannot create cgroup \(dir): \(String(cString: strerror(errno)))")
            }
            dirs[controller] = dir
        }
        let cgroup = EnvironmentCgroup(version: self.version, directories: dirs)
        var ok = true
        if let memoryMB { ok = cgroup.setMemoryLimit(megabytes: memoryMB) }
        switch self.version {
        case .v1:
            _ = Self.write(cgroup.path("memory", "memory.swappiness"), "0")
            // No CPU limit until init has finished (see applyCPULimit).
            ok = Self.write(cgroup.path("cpu", "cpu.cfs_quota_us"), "-1") && ok
            ok = Self.write(cgroup.path("pids", "pids.max"), "\(maxTasks)") && ok
        case .v2:
            _ = Self.write(cgroup.path("unified", "memory.swap.max"), "0")
            ok = Self.write(cgroup.path("unified", "cpu.max"), "max 100000") && ok
            ok = Self.write(cgroup.path("unified", "pids.max"), "\(maxTasks)") && ok
        }
        if !ok {
            cgroup.destroy()
            throw SandboxError(.setupFailed, "cannot set the limits of cgroup \(name)")
        }
        return cgroup
    }

    @discardableResult
    static func write(_ path: String, _ value: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return value.withCString { Glibc.write(fd, $0, strlen($0)) } >= 0
    }

    static func read(_ path: String) -> String? {
        ProcessTree.readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func readInt(_ path: String) -> Int? {
        self.read(path).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
