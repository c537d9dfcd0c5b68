#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

#if canImport(Glibc)
private let streamSocketType = Int32(SOCK_STREAM.rawValue)
private let closeOnExecFlag = Int32(SOCK_CLOEXEC.rawValue)
#else
private let streamSocketType = Int32(SOCK_STREAM)
private let closeOnExecFlag = Int32(SOCK_CLOEXEC)
#endif

/// A blocking TCP client socket with `TCP_NODELAY` and close-on-exec set. Owns its file descriptor.
///
/// Writes use `MSG_NOSIGNAL`, so a peer that went away shows up as an error rather than a `SIGPIPE`.
final class TCPSocket {
    /// The outcome of one read.
    enum ReadResult {
        /// This many bytes were read (more than zero).
        case bytes(Int)
        /// The peer closed the connection.
        case endOfStream
    }

    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        _ = close(self.descriptor)
    }

    /// Connects to `endpoint`, trying IP literals first (no resolver involved) and then `getaddrinfo`.
    ///
    /// - Throws: ``RuntimeClientError`` with code `connectFailed`.
    static func connected(to endpoint: RuntimeAPIEndpoint) throws -> TCPSocket {
        var ipv4 = in_addr()
        if inet_pton(AF_INET, endpoint.host, &ipv4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = endpoint.port.bigEndian
            address.sin_addr = ipv4
            return try Self.connected(family: AF_INET, address: address, endpoint: endpoint)
        }
        var ipv6 = in6_addr()
        if inet_pton(AF_INET6, endpoint.host, &ipv6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = endpoint.port.bigEndian
            address.sin6_addr = ipv6
            return try Self.connected(family: AF_INET6, address: address, endpoint: endpoint)
        }
        return try Self.connectResolving(endpoint)
    }

    private static func connected<Address>(
        family: Int32,
        address: Address,
        endpoint: RuntimeAPIEndpoint
    ) throws -> TCPSocket {
        var address = address
        let length = socklen_t(MemoryLayout<Address>.size)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                Self.openAndConnect(family: family, address: socketAddress, length: length)
            }
        }
        switch result {
        case .success(let socket):
            return socket
        case .failure(let errorNumber):
            throw RuntimeClientError(
                .connectFailed,
                "cannot connect to \(endpoint.hostHeader): \(Self.describe(errorNumber))"
            )
        }
    }

    private static func connectResolving(_ endpoint: RuntimeAPIEndpoint) throws -> TCPSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamSocketType
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            throw RuntimeClientError(.connectFailed, "cannot resolve \(endpoint.host): \(reason)")
        }
        defer { freeaddrinfo(first) }
        var lastError: Int32 = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr {
                switch Self.openAndConnect(
                    family: current.pointee.ai_family,
                    address: address,
                    length: current.pointee.ai_addrlen
                ) {
                case .success(let socket):
                    return socket
                case .failure(let errorNumber):
                    lastError = errorNumber
                }
            }
            entry = current.pointee.ai_next
        }
        throw RuntimeClientError(
            .connectFailed,
            "cannot connect to \(endpoint.hostHeader): \(Self.describe(lastError))"
        )
    }

    private enum ConnectResult {
        case success(TCPSocket)
        case failure(Int32)
    }

    private static func openAndConnect(
        family: Int32,
        address: UnsafePointer<sockaddr>,
        length: socklen_t
    ) -> ConnectResult {
        let descriptor = socket(family, streamSocketType | closeOnExecFlag, 0)
        guard descriptor >= 0 else {
            return .failure(errno)
        }
        var status = connect(descriptor, address, length)
        if status != 0 && errno == EINTR {
            // The connection attempt continues in the background; wait for it to finish.
            status = Self.waitForConnect(descriptor)
        }
        guard status == 0 else {
            let errorNumber = errno
            _ = close(descriptor)
            return .failure(errorNumber)
        }
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return .success(TCPSocket(descriptor: descriptor))
    }

    private static func waitForConnect(_ descriptor: Int32) -> Int32 {
        var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        while poll(&poller, 1, -1) < 0 {
            guard errno == EINTR else { return -1 }
        }
        var pending: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 else { return -1 }
        guard pending == 0 else {
            errno = pending
            return -1
        }
        return 0
    }

    /// Writes every byte of `bytes`.
    ///
    /// - Parameter more: more data follows at once (`MSG_MORE`), so the kernel may hold this part back and
    ///   send it in the same segment as the next write.
    /// - Throws: ``RuntimeClientError`` with code `connectionClosed` when the peer is gone (`EPIPE`,
    ///   `ECONNRESET`), `ioFailed` otherwise.
    func writeAll(_ bytes: [UInt8], more: Bool = false) throws {
        let flags = Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0)
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                guard let base = buffer.baseAddress else { return }
                let written = send(self.descriptor, base + offset, buffer.count - offset, flags)
                if written < 0 {
                    let errorNumber = errno
                    if errorNumber == EINTR { continue }
                    if errorNumber == EPIPE || errorNumber == ECONNRESET {
                        throw RuntimeClientError(.connectionClosed, "write failed: \(Self.describe(errorNumber))")
                    }
                    throw RuntimeClientError(.ioFailed, "write failed: \(Self.describe(errorNumber))")
                }
                offset += written
            }
        }
    }

    /// Reads up to `buffer.count` bytes into `buffer`, blocking with no timeout (the `/next` long poll).
    ///
    /// A connection reset by the peer is reported as ``ReadResult/endOfStream``.
    /// - Throws: ``RuntimeClientError`` with code `ioFailed`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> ReadResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        while true {
            let count = recv(self.descriptor, base, buffer.count, 0)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfStream }
            let errorNumber = errno
            if errorNumber == EINTR { continue }
            if errorNumber == ECONNRESET { return .endOfStream }
            throw RuntimeClientError(.ioFailed, "read failed: \(Self.describe(errorNumber))")
        }
    }

    /// `strerror` text for an `errno` value.
    static func describe(_ errorNumber: Int32) -> String {
        guard let text = strerror(errorNumber) else { return "errno \(errorNumber)" }
        return String(cString: text)
    }
}
