#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads and writes the process environment with libc calls.
enum ProcessEnvironment {
    /// The value of `name`, or `nil` when it is unset.
    static func value(of name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    /// Sets `name` to `value`, or removes it when `value` is `nil`.
    static func set(_ name: String, to value: String?) {
        if let value {
            _ = setenv(name, value, 1)
        } else {
            _ = unsetenv(name)
        }
    }
}
