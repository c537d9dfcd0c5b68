#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The few POSIX operations the test behaviours need, wrapped so callers stay free of pointers and `errno`.
enum SystemCalls {
    /// The value of environment variable `name`, or `nil` when unset.
    static func environmentValue(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    /// Every `NAME=value` pair of the current environment, in `environ` order.
    static func environment() -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        let table: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        guard var entry = table else { return pairs }
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                pairs.append((name: String(text[..<equals]), value: String(text[text.index(after: equals)...])))
            } else {
                pairs.append((name: text, value: ""))
            }
            entry += 1
        }
        return pairs
    }

    /// The working directory, or `""` if it cannot be read.
    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        return buffer.withUnsafeMutableBufferPointer { pointer in
            guard let base = pointer.baseAddress, getcwd(base, pointer.count) != nil else { return "" }
            return String(cString: base)
        }
    }

    /// This process's id.
    static func processID() -> Int32 {
        getpid()
    }

    /// Sleeps for `milliseconds` with `nanosleep`, resuming after signals.
    static func sleep(milliseconds: Int64) {
        guard milliseconds > 0 else { return }
        var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR {
            request = remaining
        }
    }

    /// Writes all of `bytes` to file descriptor `descriptor`; gives up silently on a write error.
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, base + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// Appends `line` and a newline to the file at `path` (creating it), then returns how many lines it holds.
    ///
    /// - Throws: ``TestRuntimeError`` when the file cannot be opened.
    static func appendLine(_ line: String, toFileAt path: String) throws -> Int {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TestRuntimeError("cannot open \(path): \(Self.describeErrno())")
        }
        Self.writeAll(Array("\(line)\n".utf8), to: descriptor)
        _ = close(descriptor)
        return try Self.countLines(inFileAt: path)
    }

    private static func countLines(inFileAt path: String) throws -> Int {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TestRuntimeError("cannot open \(path): \(Self.describeErrno())")
        }
        defer { _ = close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var lines = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return lines }
            for index in 0..<count where buffer[index] == UInt8(ascii: "\n") {
                lines += 1
            }
        }
    }

    /// Starts `/bin/sleep 3600` as a grandchild in its own session (fork, `setsid`, fork, `execv`) and reaps the
    /// intermediate child, so the grandchild is re-parented away from this process. It keeps this process's
    /// stdout and stderr.
    ///
    /// - Returns: the grandchild's pid.
    /// - Throws: ``TestRuntimeError`` when a pipe or fork fails.
    static func spawnDetachedSleeper() throws -> Int32 {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            throw TestRuntimeError("pipe failed: \(Self.describeErrno())")
        }
        let readEnd = pipeEnds[0]
        let writeEnd = pipeEnds[1]
        // Close-on-exec, so the `sleep` grandchild does not hold the pipe (pipe2 is not imported).
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        // Everything the children use is prepared before forking: after fork only async-signal-safe calls.
        let path = strdup("/bin/sleep")
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("sleep"), strdup("3600"), nil]
        defer {
            free(path)
            for argument in arguments { free(argument) }
        }
        let child = arguments.withUnsafeBufferPointer { argv -> pid_t in
            let child = fork()
            guard child == 0 else { return child }
            _ = setsid()
            var grandchild = fork()
            if grandchild == 0 {
                if let path, let base = argv.baseAddress {
                    _ = execv(path, base)
                }
                _exit(127)
            }
            _ = write(writeEnd, &grandchild, MemoryLayout<pid_t>.size)
            _exit(0)
        }
        _ = close(writeEnd)
        defer { _ = close(readEnd) }
        guard child > 0 else {
            throw TestRuntimeError("fork failed: \(Self.describeErrno())")
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        var grandchild: pid_t = 0
        var count = 0
        repeat {
            count = read(readEnd, &grandchild, MemoryLayout<pid_t>.size)
        } while count < 0 && errno == EINTR
        guard count == MemoryLayout<pid_t>.size, grandchild > 0 else {
            throw TestRuntimeError("the intermediate child did not report a grandchild")
        }
        return grandchild
    }

    /// The `strerror` text of the current `errno`.
    static func describeErrno() -> String {
        let number = errno
        guard let text = strerror(number) else { return "errno \(number)" }
        return String(cString: text)
    }
}
