import CNimbusSys
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// How an environment reaches the network.
public enum NetworkMode: String, Sendable, CaseIterable {
    /// Its own network namespace; outbound connections to non-loopback addresses work through slirp4netns
    /// (user-mode networking: no route to the host's loopback, no inbound connections).
    case egress
    /// Its own network namespace with loopback only: the Runtime API and nothing else.
    case none
    /// The host's network. For trusted code only: the function can reach everything the server can, including
    /// other environments' Runtime API ports.
    case host
}

/// An environment's network, prepared before its process starts.
public final class PreparedNetwork: Sendable {
    public let mode: NetworkMode
    /// The namespace (`/proc/thread-self/ns/net` of its creation), or -1 for `host`.
    let namespaceFD: Int32
    /// A socket listening on 127.0.0.1:9001 inside the namespace, for the Runtime API; -1 for `host`.
    public let listeningSocket: Int32
    /// A socket listening on 127.0.0.1:9002 inside the namespace, for the service edge (`AWS_ENDPOINT_URL`); -1
    /// for `host`.
    public let serviceSocket: Int32
    /// The slirp4netns process giving egress, if any.
    let slirpPID: Int32
    /// Held open for slirp4netns's `--exit-fd`.
    let slirpExitFD: Int32

    init(
        mode: NetworkMode, namespaceFD: Int32, listeningSocket: Int32, serviceSocket: Int32, slirpPID: Int32,
        slirpExitFD: Int32
    ) {
        self.mode = mode
        self.namespaceFD = namespaceFD
        self.listeningSocket = listeningSocket
        self.serviceSocket = serviceSocket
        self.slirpPID = slirpPID
        self.slirpExitFD = slirpExitFD
    }

    /// Stops slirp4netns and closes the namespace (the listening sockets belong to the Runtime API listener and the
    /// service endpoint).
    public func release() {
        if self.slirpExitFD >= 0 { close(self.slirpExitFD) }
        if self.slirpPID > 0 {
            kill(self.slirpPID, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(self.slirpPID, &status, 0)
        }
        if self.namespaceFD >= 0 { close(self.namespaceFD) }
    }
}

enum NetworkNamespaces {
    /// Inside every namespace: the Runtime API and the service edge.
    static let runtimeAPIPort: Int32 = 9001
    static let servicePort: Int32 = 9002

    /// A namespace with a socket listening on each port; `listen` receives them in order.
    static func create(ports: [Int32], ns: inout Int32, listen: inout [Int32]) -> Int32 {
        listen = Array(repeating: -1, count: ports.count)
        return cnimbus_netns_create(ports, Int32(ports.count), &ns, &listen)
    }

    /// A namespace with loopback up and the Runtime API socket inside; with `egress`, slirp4netns attached.
    static func prepare(mode: NetworkMode, slirp4netns: String?, logger: Logger) throws(SandboxError) -> PreparedNetwork {
        if mode == .host {
            return PreparedNetwork(
                mode: .host, namespaceFD: -1, listeningSocket: -1, serviceSocket: -1, slirpPID: -1, slirpExitFD: -1)
        }
        var ns: Int32 = -1
        var sockets: [Int32] = []
        let rc = Self.create(ports: [Self.runtimeAPIPort, Self.servicePort], ns: &ns, listen: &sockets)
        guard rc == 0 else {
            throw SandboxError(.setupFailed, "cannot create a network namespace: \(String(cString: strerror(rc)))")
        }
        var slirpPID: Int32 = -1
        var slirpExitFD: Int32 = -1
        if mode == .egress {
            guard let slirp = slirp4netns else {
                close(ns)
                sockets.forEach { close($0) }
                throw SandboxError(
                    .setupFailed, "egress networking needs slirp4netns (apt-get install slirp4netns), or use --network none")
            }
            do {
                slirpPID = try Self.startSlirp(slirp, namespaceFD: ns, exitHolder: &slirpExitFD)
            } catch {
                close(ns)
                sockets.forEach { close($0) }
                if slirpExitFD >= 0 { close(slirpExitFD) }
                throw error
            }
        }
        return PreparedNetwork(
            mode: mode, namespaceFD: ns, listeningSocket: sockets[0], serviceSocket: sockets[1], slirpPID: slirpPID,
            slirpExitFD: slirpExitFD)
    }

    /// Starts slirp4netns on the namespace and waits (bounded) until it has configured the tap device.
    static func startSlirp(
        _ slirp: String, namespaceFD: Int32, exitHolder: inout Int32
    ) throws(SandboxError) -> Int32 {
        var readyFDs: [Int32] = [0, 0]
        guard cnimbus_pipe_cloexec(&readyFDs) == 0 else { throw SandboxError(.setupFailed, "pipe failed") }
        // slirp4netns joins the namespace through this process's descriptor for it, reports readiness on fd 3 and
        // exits when fd 4 reaches end of file: its other end is held only by this server, so slirp4netns goes
        // with it, even when the server is killed.
        var exitFDs: [Int32] = [0, 0]
        guard cnimbus_pipe_cloexec(&exitFDs) == 0 else {
            close(readyFDs[0])
            close(readyFDs[1])
            throw SandboxError(.setupFailed, "pipe failed")
        }
        let argv = [
            slirp, "--configure", "--mtu=65520", "--disable-host-loopback", "--netns-type=path", "--ready-fd=3",
            "--exit-fd=4", "/proc/\(getpid())/fd/\(namespaceFD)", "tap0",
        ]
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(devNull) }
        var pid: pid_t = 0
        let rc = ProcessSandboxDriver.withCStrings(argv) { cArgv in
            ProcessSandboxDriver.withCStrings(["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]) { cEnvp in
                cnimbus_spawn_sandboxed(slirp, cArgv, cEnvp, "/", devNull, -1, nil, readyFDs[1], exitFDs[0], &pid)
            }
        }
        close(readyFDs[1])
        close(exitFDs[0])
        exitHolder = exitFDs[1]
        defer { close(readyFDs[0]) }
        guard rc == 0 else {
            throw SandboxError(.setupFailed, "cannot start slirp4netns: \(String(cString: strerror(rc)))")
        }
        var poll = pollfd(fd: readyFDs[0], events: Int16(POLLIN), revents: 0)
        var byte: UInt8 = 0
        if Glibc.poll(&poll, 1, 5000) != 1 || Glibc.read(readyFDs[0], &byte, 1) != 1 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            throw SandboxError(.setupFailed, "slirp4netns did not become ready within 5 s")
        }
        return pid
    }
}
