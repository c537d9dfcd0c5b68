#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Unbuffered writes to the standard streams.
enum StandardStreams {
    /// Flushes every stdio output stream, so output written before a Runtime API call reaches its pipe first.
    static func flushAll() {
        _ = fflush(nil)
    }

    /// Writes `message` and a newline to stderr (fd 2), bypassing stdio buffering.
    static func writeError(_ message: String) {
        let bytes = Array("\(message)\n".utf8)
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(2, base + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
