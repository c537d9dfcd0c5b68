import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What this host offers for the Linux sandbox, and what is missing with the command that installs it. Used to
/// pick the default isolation, to say at start what is in force, and by `nimbus doctor`.
public struct SandboxSupport: Sendable {
    public struct Check: Sendable {
        public var name: String
        public var ok: Bool
        public var detail: String
        /// How to fix it, when not ok.
        public var fix: String?
    }

    public var checks: [Check]
    public var bwrap: String?
    public var setpriv: String?
    public var slirp4netns: String?
    public var cgroupVersion: CgroupVersion?

    /// Whether the Linux sandbox can run (everything but egress networking is required).
    public var linuxSandboxAvailable: Bool {
        self.checks.filter { $0.name != "egress networking (slirp4netns)" }.allSatisfy(\.ok)
    }

    /// Problems that prevent the Linux sandbox, one line each.
    public var problems: [String] {
        self.checks.filter { !$0.ok && $0.name != "egress networking (slirp4netns)" }.map {
            "\($0.name): \($0.detail)" + ($0.fix.map { " — fix: \($0)" } ?? "")
        }
    }

    public static func probe() -> SandboxSupport {
        var checks: [Check] = []
        let isRoot = geteuid() == 0
        checks.append(
            Check(
                name: "root", ok: isRoot, detail: isRoot ? "running as root" : "running as uid \(geteuid())",
                fix: "run `nimbus serve` as root (cgroups and network namespaces need it), or use --sandbox process"))
        let bwrap = Self.which("bwrap")
        checks.append(
            Check(
                name: "bubblewrap", ok: bwrap != nil, detail: bwrap ?? "bwrap not found",
                fix: "apt-get install bubblewrap"))
        let setpriv = Self.which("setpriv")
        checks.append(
            Check(
                name: "setpriv (util-linux)", ok: setpriv != nil, detail: setpriv ?? "setpriv not found",
                fix: "apt-get install util-linux"))
        var cgroupVersion: CgroupVersion?
        if isRoot {
            switch Cgroups.detect(instance: "probe-\(getpid())") {
            case .success(let cgroups):
                cgroupVersion = cgroups.version
                for dir in Set(cgroups.roots.values) { rmdir(dir) }
                checks.append(
                    Check(
                        name: "cgroups", ok: true,
                        detail: cgroups.version == .v1
                            ? "cgroup v1 (memory, cpu, freezer, pids)" : "cgroup v2 (memory, cpu, pids, freeze)"))
            case .failure(let error):
                checks.append(
                    Check(
                        name: "cgroups", ok: false, detail: error.message,
                        fix: "mount cgroup2 at /sys/fs/cgroup, or the v1 memory, cpu, freezer and pids controllers"))
            }
        } else {
            checks.append(Check(name: "cgroups", ok: false, detail: "not checked (needs root)", fix: nil))
        }
        var nsFD: Int32 = -1
        var listenFDs: [Int32] = []
        let netnsError = isRoot ? cnimbusNetns(&nsFD, &listenFDs) : EPERM
        if nsFD >= 0 { close(nsFD) }
        for fd in listenFDs where fd >= 0 { close(fd) }
        checks.append(
            Check(
                name: "network namespaces", ok: netnsError == 0,
                detail: netnsError == 0
                    ? "can create network namespaces" : "unshare(CLONE_NEWNET) failed: \(String(cString: strerror(netnsError)))",
                fix: "run as root on a kernel with network namespaces (CONFIG_NET_NS)"))
        let slirp = Self.which("slirp4netns")
        checks.append(
            Check(
                name: "egress networking (slirp4netns)", ok: slirp != nil,
                detail: slirp ?? "slirp4netns not found: sandboxes get no outbound network (mode none)",
                fix: "apt-get install slirp4netns"))
        return SandboxSupport(
            checks: checks, bwrap: bwrap, setpriv: setpriv, slirp4netns: slirp, cgroupVersion: cgroupVersion)
    }

    static func cnimbusNetns(_ ns: inout Int32, _ listen: inout [Int32]) -> Int32 {
        NetworkNamespaces.create(ports: [NetworkNamespaces.runtimeAPIPort], ns: &ns, listen: &listen)
    }

    /// An executable on PATH or in the usual system directories.
    public static func which(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in path + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
