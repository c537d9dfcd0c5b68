import NimbusRuntimeClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The test runtime's handler: one ``TestBehaviour`` plus the state that survives between warm invocations.
struct TestFunction {
    /// The most a `big` response or a `memory` allocation may ask for; larger inputs are reported as errors.
    static let maximumBytes: Int64 = 1 << 32
    private static let emptyObject: [UInt8] = Array("{}".utf8)

    let behaviour: TestBehaviour
    private var invocationCount = 0
    /// The block touched by the last `memory` invocation, kept so the optimizer cannot drop the work.
    private var heldMemory: UnsafeMutableRawPointer?

    init(behaviour: TestBehaviour) {
        self.behaviour = behaviour
    }

    /// Runs the startup part of the behaviour, before the first `/next`. `init-error` and `init-crash` end the
    /// process here.
    static func initialize(_ behaviour: TestBehaviour) {
        switch behaviour {
        case .initError:
            LambdaRuntime.reportInitError(type: "Runtime.TestInitError", message: "init failed on purpose")
        case .initCrash:
            Swift.print("init crash")
            exit(3)
        case .initSlow:
            let milliseconds = SystemCalls.environmentValue("INIT_SLEEP_MS").flatMap { Int64($0) } ?? 500
            SystemCalls.sleep(milliseconds: milliseconds)
        default:
            break
        }
    }

    /// Handles one invocation.
    ///
    /// - Throws: ``LambdaFunctionError`` for `error` and for out-of-range inputs; ``TestRuntimeError`` when a
    ///   system call fails.
    mutating func handle(_ event: [UInt8], _ context: LambdaContext) throws -> [UInt8] {
        switch self.behaviour {
        case .noop:
            return Self.emptyObject
        case .echo, .initSlow, .initError, .initCrash:
            // init-error and init-crash never get here: they exit during startup.
            return event
        case .env:
            return Self.describeEnvironment(context)
        case .counter:
            return try self.count()
        case .sleep:
            let milliseconds = Self.nonNegative("ms", in: event, default: 0)
            SystemCalls.sleep(milliseconds: milliseconds)
            return Array(#"{"slept":\#(milliseconds)}"#.utf8)
        case .print:
            let lines = Self.nonNegative("lines", in: event, default: 0)
            Self.printLines(lines)
            return Array(#"{"printed":\#(lines)}"#.utf8)
        case .error:
            let message = LambdaJSON.string(forKey: "message", in: event) ?? "boom"
            throw LambdaFunctionError(type: "TestError", message: message)
        case .crash:
            let code = LambdaJSON.integer(forKey: "code", in: event) ?? 1
            Swift.print("crashing")
            exit(Int32(truncatingIfNeeded: code))
        case .big:
            return try Self.bigString(length: Self.nonNegative("bytes", in: event, default: 2))
        case .fork:
            let grandchild = try SystemCalls.spawnDetachedSleeper()
            Swift.print("grandchild \(grandchild)")
            SystemCalls.sleep(milliseconds: Self.nonNegative("ms", in: event, default: 0))
            return Array(#"{"grandchild":\#(grandchild)}"#.utf8)
        case .memory:
            let megabytes = Self.nonNegative("mb", in: event, default: 0)
            try self.touchMemory(megabytes: megabytes)
            return Array(#"{"allocated":\#(megabytes)}"#.utf8)
        }
    }

    // MARK: Behaviours

    private mutating func count() throws -> [UInt8] {
        self.invocationCount += 1
        let pid = SystemCalls.processID()
        var directory = SystemCalls.environmentValue("TMPDIR") ?? "/tmp"
        if directory.isEmpty {
            directory = "/tmp"
        }
        if directory.hasSuffix("/") && directory.count > 1 {
            directory.removeLast()
        }
        let lines = try SystemCalls.appendLine("\(pid) \(self.invocationCount)", toFileAt: "\(directory)/counter")
        return Array(#"{"count":\#(self.invocationCount),"pid":\#(pid),"tmpLines":\#(lines)}"#.utf8)
    }

    private static func describeEnvironment(_ context: LambdaContext) -> [UInt8] {
        var json: [UInt8] = []
        json.reserveCapacity(4096)
        json += #"{"env":{"#.utf8
        for (index, variable) in SystemCalls.environment().enumerated() {
            if index > 0 {
                json.append(UInt8(ascii: ","))
            }
            LambdaJSON.appendQuoted(variable.name, to: &json)
            json.append(UInt8(ascii: ":"))
            LambdaJSON.appendQuoted(variable.value, to: &json)
        }
        json += #"},"cwd":"#.utf8
        LambdaJSON.appendQuoted(SystemCalls.currentDirectory(), to: &json)
        json += #","pid":\#(SystemCalls.processID()),"context":{"requestId":"#.utf8
        LambdaJSON.appendQuoted(context.requestID, to: &json)
        json += #","deadlineMs":\#(context.deadlineMilliseconds),"invokedFunctionArn":"#.utf8
        LambdaJSON.appendQuoted(context.invokedFunctionARN, to: &json)
        json += #","traceId":"#.utf8
        Self.appendOptional(context.traceID, to: &json)
        json += #","clientContext":"#.utf8
        Self.appendOptional(context.clientContext, to: &json)
        json += #","cognitoIdentity":"#.utf8
        Self.appendOptional(context.cognitoIdentity, to: &json)
        json += #"},"remainingMs":\#(context.remainingTimeMilliseconds())}"#.utf8
        return json
    }

    private static func printLines(_ count: Int64) {
        guard count > 0 else { return }
        var batch = ""
        for number in 1...count {
            batch += "line \(number)\n"
            if batch.utf8.count >= 64 * 1024 {
                Swift.print(batch, terminator: "")
                batch = ""
            }
        }
        Swift.print(batch, terminator: "")
        fflush(nil)
        var errors: [UInt8] = []
        for number in 1...count {
            errors += "err \(number)\n".utf8
            if errors.count >= 64 * 1024 {
                SystemCalls.writeAll(errors, to: 2)
                errors.removeAll(keepingCapacity: true)
            }
        }
        SystemCalls.writeAll(errors, to: 2)
    }

    private static func bigString(length: Int64) throws -> [UInt8] {
        guard length <= Self.maximumBytes else {
            throw LambdaFunctionError(type: "TestError", message: "bytes must be at most \(Self.maximumBytes)")
        }
        let total = Int(max(length, 2))
        var json = [UInt8](repeating: UInt8(ascii: "x"), count: total)
        json[0] = UInt8(ascii: "\"")
        json[total - 1] = UInt8(ascii: "\"")
        return json
    }

    private mutating func touchMemory(megabytes: Int64) throws {
        guard megabytes <= Self.maximumBytes >> 20 else {
            throw LambdaFunctionError(type: "TestError", message: "mb must be at most \(Self.maximumBytes >> 20)")
        }
        free(self.heldMemory)
        self.heldMemory = nil
        let size = Int(megabytes) << 20
        guard size > 0 else { return }
        guard let block = malloc(size) else {
            throw TestRuntimeError("cannot allocate \(megabytes) MB")
        }
        let pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        for offset in stride(from: 0, to: size, by: pageSize) {
            block.storeBytes(of: UInt8(truncatingIfNeeded: offset / pageSize) | 1, toByteOffset: offset, as: UInt8.self)
        }
        self.heldMemory = block
    }

    // MARK: Input

    private static func nonNegative(_ key: String, in event: [UInt8], default fallback: Int64) -> Int64 {
        max(LambdaJSON.integer(forKey: key, in: event) ?? fallback, 0)
    }

    private static func appendOptional(_ value: String?, to json: inout [UInt8]) {
        if let value {
            LambdaJSON.appendQuoted(value, to: &json)
        } else {
            json += "null".utf8
        }
    }
}
