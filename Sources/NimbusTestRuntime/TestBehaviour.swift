/// What the test runtime does, chosen by the exact value of `_HANDLER`.
///
/// Events are JSON objects; numeric inputs are read with ``NimbusRuntimeClient/LambdaJSON`` and default as
/// documented on each case. Negative numbers count as 0.
enum TestBehaviour: String, CaseIterable {
    /// Returns `{}`. The benchmark's handler: no parsing, no allocation.
    case noop
    /// Returns the event bytes unchanged.
    case echo
    /// Returns `{"env":{…},"cwd":…,"pid":…,"context":{…},"remainingMs":…}`.
    case env
    /// Counts invocations in this process and appends a line to `$TMPDIR/counter` (or `/tmp/counter`);
    /// returns `{"count":n,"pid":pid,"tmpLines":k}`.
    case counter
    /// `{"ms":N}` (default 0): sleeps N ms, returns `{"slept":N}`.
    case sleep
    /// `{"lines":N}` (default 0): writes `line 1`…`line N` to stdout and `err 1`…`err N` to stderr, returns
    /// `{"printed":N}`.
    case print
    /// Reports an invocation error with `errorType` `TestError` and `errorMessage` = event `message` (default
    /// `boom`).
    case error
    /// `{"code":N}` (default 1): prints `crashing` to stdout and exits with status N without answering.
    case crash
    /// `{"bytes":N}` (default 2, minimum 2): returns a JSON string literal `"xxx…"` exactly N bytes long.
    case big
    /// `{"ms":N}` (default 0): double-forks a detached (`setsid`) grandchild running `/bin/sleep 3600`, prints
    /// `grandchild <pid>`, sleeps N ms, returns `{"grandchild":pid}`.
    case fork
    /// At startup, before the first `/next`: reports init error `Runtime.TestInitError` and exits 1.
    case initError = "init-error"
    /// At startup, before the first `/next`: prints `init crash` and exits 3.
    case initCrash = "init-crash"
    /// At startup: sleeps `$INIT_SLEEP_MS` (default 500) ms before the first `/next`, then behaves like `echo`.
    case initSlow = "init-slow"
    /// `{"mb":N}` (default 0): allocates and touches N MB (kept until the next `memory` invocation), returns
    /// `{"allocated":N}`.
    case memory
}
