/// A failure of the test runtime's own machinery (a pipe, a fork, a file), reported as an invocation error
/// with `errorType` `TestRuntimeError`.
struct TestRuntimeError: Error, CustomStringConvertible {
    /// What failed.
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
