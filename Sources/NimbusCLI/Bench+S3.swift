#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NimbusCore
import NimbusServer
import Synchronization

/// `nimbus bench --s3` (issue #14): S3 PutObject and GetObject throughput for 1 MiB objects by ``s3Concurrency``
/// clients through the HTTP edge of a server in this process, beside "a plain file copy of the same bytes" (the
/// issue's words) by as many threads, in interleaved rounds of the same run (target: S3 at least 0.5x the copy).
///
/// The baselines are literally file copies, each moving the bytes the S3 operation must move, by the same means:
/// - PUT: copy a 1 MiB source file to a new durable file (read it, write a new file, fsync it, rename it into place,
///   fsync the directory: what ``BlobWriter`` does with a body).
/// - GET: copy a stored file to a loopback TCP connection (open it, read it, send it; the receiver reads it): what
///   a GET must do with a blob, less HTTP. Reading a file into memory alone is no copy an HTTP server can be held to
///   (it never leaves the page cache), so comparing with it measured the transport, not the server.
///
/// Context lines, not targets: the PUT baseline without its source read (write from memory), the page-cache file
/// read, and the same bytes sent from memory over loopback TCP (``LoopbackCopy``: the transport's ceiling). Then the
/// resident set of this process while one large object streams in and out, which shows whether the server holds
/// object bytes in memory.
///
/// The files live beside the server's `s3/` directory, in its data directory, so both sides pay the same disk and
/// the same file system. Both sides also read back what they have just written, so both read from the page cache.
extension Bench {
    /// Concurrent clients (S3) and threads (files), as issue #14 asks.
    static let s3Concurrency = 8
    static let mebibyte = 1 << 20
    static let s3Bucket = "bench"

    func measureS3() async throws {
        guard self.s3Objects > 0, self.s3LargeMiB > 0, self.rounds > 0 else {
            throw ValidationError("--s3-objects, --s3-large-mib and --rounds must be positive")
        }
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
            )
        )
        do {
            try await self.measureS3(http: http)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    func measureS3(http: HTTPClient) async throws {
        let count = self.s3Objects
        let clients = Self.s3Concurrency
        let payload = Self.randomBytes(Self.mebibyte)
        let body = ByteBuffer(bytes: payload)
        let megabytes = Double(count)
        print(
            "S3: \(count) objects of 1 MiB (random bytes) by \(clients) concurrent clients, beside the same bytes as "
                + "plain files on the same file system by \(clients) threads; \(self.rounds) interleaved rounds, medians"
        )
        print(
            "Server and client share this process and its \(ProcessInfo.processInfo.activeProcessorCount) cores; "
                + "both sides read back what they just wrote (page cache).\n"
        )
        var s3Puts: [Double] = []
        var s3Gets: [Double] = []
        var fileCopies: [Double] = []
        var fileSends: [Double] = []
        var fileWrites: [Double] = []
        var fileReads: [Double] = []
        var loopbacks: [Double] = []
        var memory: (put: StreamedMemory, get: StreamedMemory)?
        try await Self.withServer(ServerConfiguration(sandbox: .process)) { endpoint, _, directory in
            let s3 = S3BenchClient(endpoint: endpoint, http: http, bucket: Self.s3Bucket)
            try await s3.createBucket()
            let files = try PlainFiles(directory: directory + "/bench-files")
            try files.writeSource(payload)

            // Warm up connections and code paths, and check once that an object comes back byte for byte.
            try await Self.parallel(count: 2 * clients, clients: clients) { i in
                try await s3.put("warm-\(i)", body: .bytes(body))
                _ = try await s3.get("warm-\(i)", expecting: Int64(Self.mebibyte))
            }
            guard try await s3.getBytes("warm-0") == payload else {
                throw LambdaClient.APIError(status: 0, type: "Bench", message: "GetObject returned other bytes than PutObject sent")
            }

            // Memory first, before the rounds grow the heap: freed memory the allocator keeps would hide growth.
            memory = try await Self.measureStreaming(s3, mebibytes: self.s3LargeMiB, chunk: body)

            for _ in 0..<self.rounds {
                s3Puts.append(
                    try await Self.mebibytesPerSecond(megabytes) {
                        try await Self.parallel(count: count, clients: clients) { i in
                            try await s3.put("object-\(i)", body: .bytes(body))
                        }
                    })
                fileCopies.append(
                    try await Self.mebibytesPerSecond(megabytes) {
                        try await Self.onThreads(clients, name: "bench-file-c") { worker in
                            var buffer = [UInt8](repeating: 0, count: Self.mebibyte)
                            for i in stride(from: worker, to: count, by: clients) { try files.copySource(to: i, buffer: &buffer) }
                        }
                    })
                fileWrites.append(
                    try await Self.mebibytesPerSecond(megabytes) {
                        try await Self.onThreads(clients, name: "bench-file-w") { worker in
                            for i in stride(from: worker, to: count, by: clients) { try files.write(i, payload) }
                        }
                    })
                s3Gets.append(
                    try await Self.mebibytesPerSecond(megabytes) {
                        try await Self.parallel(count: count, clients: clients) { i in
                            _ = try await s3.get("object-\(i)", expecting: Int64(Self.mebibyte))
                        }
                    })
                fileSends.append(
                    try await LoopbackCopy.mebibytesPerSecond(
                        count: count, connections: clients, payload: payload, from: files))
                fileReads.append(
                    try await Self.mebibytesPerSecond(megabytes) {
                        try await Self.onThreads(clients, name: "bench-file-r") { worker in
                            var buffer = [UInt8](repeating: 0, count: Self.mebibyte)
                            for i in stride(from: worker, to: count, by: clients) {
                                try files.read(i, into: &buffer, expecting: Self.mebibyte)
                            }
                        }
                    })
                loopbacks.append(try await LoopbackCopy.mebibytesPerSecond(count: count, connections: clients, payload: payload))
            }
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
        // Each ratio is taken within its round (a noisy moment hits both sides), then the median of the rounds.
        let ratio = { (s3: [Double], baseline: [Double]) in median(zip(s3, baseline).map { $0 / $1 }) }
        let putRatio = ratio(s3Puts, fileCopies)
        let getRatio = ratio(s3Gets, fileSends)
        let fileCopyLabel = "file copy (read, write+fsync+rename+dir fsync)"
        let fileSendLabel = "file copy to TCP (open, read, send)"
        let fileWriteLabel = "file write+fsync+rename+dir fsync"
        let row = { (label: String, rate: Double, note: String) in
            print("  " + label.padding(toLength: 58, withPad: " ", startingAt: 0) + String(format: "%8.1f MiB/s", rate) + note)
        }
        print("PUT: S3 beside its baseline, a durable copy of a 1 MiB file to a new file")
        row("S3 PutObject, 1 MiB, c=\(clients)", median(s3Puts), "")
        row("\(fileCopyLabel), \(clients) thr", median(fileCopies), String(format: "   (S3 PUT: %.2fx, target >= 0.5x)", putRatio))
        row(
            "  context: \(fileWriteLabel) from memory", median(fileWrites),
            String(format: "   (S3 PUT: %.2fx)", ratio(s3Puts, fileWrites)))
        print("GET: S3 beside its baseline, a copy of the stored file to a loopback TCP connection")
        row("S3 GetObject, 1 MiB, c=\(clients)", median(s3Gets), "")
        row("\(fileSendLabel), \(clients) conn", median(fileSends), String(format: "   (S3 GET: %.2fx, target >= 0.5x)", getRatio))
        // Context: no HTTP server can beat sending from memory, and a file read alone is a copy within memory.
        let loopbackRatio = ratio(s3Gets, loopbacks)
        row(
            "  context: TCP loopback copy from memory, \(clients) conn", median(loopbacks),
            String(format: "   (S3 GET: %.2fx; no disk, no HTTP: the transport's ceiling)", loopbackRatio))
        row(
            "  context: file read (page cache), \(clients) threads", median(fileReads),
            String(format: "   (S3 GET: %.2fx; no transport at all)", ratio(s3Gets, fileReads)))
        print(
            "  Rounds (S3 PUT / file copy / file write / S3 GET / file to TCP / loopback / file read, MiB/s): "
                + (0..<s3Puts.count).map {
                    String(
                        format: "%.0f/%.0f/%.0f/%.0f/%.0f/%.0f/%.0f", s3Puts[$0], fileCopies[$0], fileWrites[$0], s3Gets[$0],
                        fileSends[$0], loopbacks[$0], fileReads[$0])
                }
                .joined(separator: ", ")
        )
        let figure = { (rates: [Double]) -> JSONValue in
            ["mibPerSecond": .number(median(rates)), "rounds": .array(rates.map(JSONValue.number))]
        }
        var figures: [String: JSONValue] = [
            "S3 PutObject 1 MiB": figure(s3Puts),
            "S3 GetObject 1 MiB": figure(s3Gets),
            fileCopyLabel: figure(fileCopies),
            fileSendLabel: figure(fileSends),
            fileWriteLabel: figure(fileWrites),
            "file read": figure(fileReads),
            "TCP loopback copy": figure(loopbacks),
            "S3 / baseline": ["put": .number(putRatio), "get": .number(getRatio), "target": .number(0.5)],
            "S3 / context": [
                "put / \(fileWriteLabel)": .number(ratio(s3Puts, fileWrites)),
                "get / file read": .number(ratio(s3Gets, fileReads)),
                "get / TCP loopback copy": .number(loopbackRatio),
            ],
            "concurrency": .number(Double(clients)),
            "objects": .number(Double(count)),
        ]
        if let memory {
            print(
                "\nStreaming one \(self.s3LargeMiB) MiB object in 1 MiB chunks (resident set of this process, sampled "
                    + "every \(ResidentSetSampler.intervalMilliseconds) ms):"
            )
            for (label, figure) in [("PUT", memory.put), ("GET", memory.get)] {
                print("  \(label)  \(figure.summary(objectMiB: self.s3LargeMiB))")
            }
            print("  The client is in the same process, so these are upper bounds for the server.")
            figures["S3 streaming memory"] = [
                "objectMiB": .number(Double(self.s3LargeMiB)), "put": memory.put.json, "get": memory.get.json,
            ]
        }
        if let path = self.json {
            try Data(JSONValue.object(figures).serialized()).write(to: URL(fileURLWithPath: path))
        }
    }

    /// PUTs one object of `mebibytes` MiB from a generator that sends `chunk` again and again (so the client never
    /// holds more than that one chunk), then GETs it counting and discarding what arrives, sampling the resident set
    /// during each; the object is deleted afterwards.
    static func measureStreaming(_ s3: S3BenchClient, mebibytes: Int, chunk: ByteBuffer) async throws
        -> (put: StreamedMemory, get: StreamedMemory)?
    {
        guard ResidentSetSampler.residentBytes() != nil else {
            print("\nMemory: /proc/self/status is unreadable on this host; the streaming figure is skipped.")
            return nil
        }
        let size = Int64(mebibytes) * Int64(Self.mebibyte)
        let key = "large"
        let put = try await StreamedMemory.measure {
            try await s3.put(key, body: .stream(RepeatedChunks(chunk: chunk, count: mebibytes), length: .known(size)))
        }
        let get = try await StreamedMemory.measure {
            _ = try await s3.get(key, expecting: size)
        }
        try await s3.delete(key)
        return (put.withRate(mebibytes: mebibytes), get.withRate(mebibytes: mebibytes))
    }

    /// MiB per second of `body`, which moves `mebibytes` MiB.
    static func mebibytesPerSecond(_ mebibytes: Double, _ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return mebibytes / Self.seconds(ContinuousClock.now - start)
    }

    /// Runs `work(worker)` for each of `count` workers on its own thread (blocking file calls stay off the
    /// cooperative pool, and each worker really has its own thread, whatever the core count), and returns when all
    /// have finished, throwing the first error any threw.
    /// - Parameter name: the threads' name (so a profile tells them from the server's; unnamed, they would inherit
    ///   the name of the cooperative pool's thread that started them).
    static func onThreads(_ count: Int, name: String, _ work: @escaping @Sendable (Int) throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let latch = ThreadLatch(count: count, continuation: continuation)
            for worker in 0..<count {
                Thread {
                    Bench.nameThisThread(name)
                    do {
                        try work(worker)
                        latch.finish(nil)
                    } catch {
                        latch.finish(error)
                    }
                }
                .start()
            }
        }
    }

    /// Names the calling thread as the system sees it (`Thread.name` does not reach the kernel on Linux, and Swift
    /// does not see glibc's `pthread_setname_np`); best effort, at most 15 bytes there.
    static func nameThisThread(_ name: String) {
        #if canImport(Glibc)
        try? Data(name.utf8.prefix(15)).write(to: URL(fileURLWithPath: "/proc/thread-self/comm"))
        #else
        _ = pthread_setname_np(name)
        #endif
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count))
    }
}

/// Unsigned path-style S3 requests (`--auth none`): `/<bucket>/<key>`.
struct S3BenchClient: Sendable {
    let endpoint: String
    let http: HTTPClient
    let bucket: String
    /// A 2 GiB object at a few tens of MiB/s takes a minute or two; ten is a failure, not a figure.
    static let timeout = TimeAmount.minutes(10)

    func createBucket() async throws {
        try await self.expectOK(.PUT, "/\(self.bucket)", body: nil)
    }

    func put(_ key: String, body: HTTPClientRequest.Body) async throws {
        try await self.expectOK(.PUT, "/\(self.bucket)/\(key)", body: body)
    }

    func delete(_ key: String) async throws {
        try await self.expectOK(.DELETE, "/\(self.bucket)/\(key)", body: nil)
    }

    /// GETs an object, counting and discarding its bytes as they arrive; throws unless exactly `expected` came.
    @discardableResult
    func get(_ key: String, expecting expected: Int64) async throws -> Int64 {
        let response = try await self.http.execute(
            HTTPClientRequest(url: "\(self.endpoint)/\(self.bucket)/\(key)"), timeout: Self.timeout)
        guard response.status == .ok else { throw try await Self.error(response) }
        var received: Int64 = 0
        for try await buffer in response.body { received += Int64(buffer.readableBytes) }
        guard received == expected else {
            throw LambdaClient.APIError(
                status: 200, type: "Bench", message: "GET \(key) returned \(received) bytes, expected \(expected)")
        }
        return received
    }

    /// An object's bytes (small objects only: the check that a GET returns what was PUT).
    func getBytes(_ key: String) async throws -> [UInt8] {
        let response = try await self.http.execute(
            HTTPClientRequest(url: "\(self.endpoint)/\(self.bucket)/\(key)"), timeout: Self.timeout)
        guard response.status == .ok else { throw try await Self.error(response) }
        return Array(buffer: try await response.body.collect(upTo: 16 << 20))
    }

    func expectOK(_ method: HTTPMethod, _ path: String, body: HTTPClientRequest.Body?) async throws {
        var request = HTTPClientRequest(url: self.endpoint + path)
        request.method = method
        request.body = body
        let response = try await self.http.execute(request, timeout: Self.timeout)
        guard (200..<300).contains(response.status.code) else { throw try await Self.error(response) }
        _ = try await response.body.collect(upTo: 1 << 20)
    }

    static func error(_ response: HTTPClientResponse) async throws -> LambdaClient.APIError {
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return LambdaClient.APIError(status: Int(response.status.code), type: "S3", message: text)
    }
}

/// `count` times the same buffer: a request body of any size from one chunk of memory. The client cannot hold more
/// than that chunk, so what the resident set grows by while it streams is the server's.
struct RepeatedChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunk: ByteBuffer
    let count: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunk: ByteBuffer
        var left: Int

        mutating func next() async -> ByteBuffer? {
            guard self.left > 0 else { return nil }
            self.left -= 1
            return self.chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunk: self.chunk, left: self.count) }
}

/// The plain-file side of the comparison: what S3's blob store does for one object, without S3. A write goes to a
/// new file in `incoming/`, is fsynced, renamed over `objects/<n>` and the directory fsynced (``BlobWriter/seal()``
/// does the same four steps); a copy does the same with bytes read from `source`; a read opens `objects/<n>` and
/// reads it to its end.
struct PlainFiles: Sendable {
    let incoming: String
    let objects: String
    /// The 1 MiB file a copy reads (``writeSource(_:)``).
    let source: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(directory: String) throws {
        self.incoming = directory + "/incoming"
        self.objects = directory + "/objects"
        self.source = directory + "/source"
        for path in [self.incoming, self.objects] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
    }

    /// Writes the file ``copySource(to:buffer:)`` copies.
    func writeSource(_ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: self.source))
    }

    /// Copies `source` to a new durable `objects/<index>`: reads it whole into `buffer` (at least its size), then
    /// ``write(_:_:)``'s four steps.
    func copySource(to index: Int, buffer: inout [UInt8]) throws {
        let count = try Self.readWhole(self.source, into: &buffer)
        try buffer.withUnsafeBytes { try self.write(index, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    func write(_ index: Int, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try self.write(index, $0) }
    }

    func write(_ index: Int, _ raw: UnsafeRawBufferPointer) throws {
        let temporary = "\(self.incoming)/\(index)-\(UUID().uuidString)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.failure("open", temporary) }
        do {
            if let base = raw.baseAddress {
                var done = 0
                while done < raw.count {
                    let n = Self.systemWrite(fd, base + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw Self.failure("write", temporary)
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw Self.failure("fsync", temporary) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, "\(self.objects)/\(index)") == 0 else { throw Self.failure("rename", temporary) }
        let directory = open(self.objects, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw Self.failure("open", self.objects) }
        defer { close(directory) }
        guard fsync(directory) == 0 else { throw Self.failure("fsync", self.objects) }
    }

    /// Reads `objects/<index>` into `buffer` (at least `expected` bytes long); throws unless exactly `expected` came.
    func read(_ index: Int, into buffer: inout [UInt8], expecting expected: Int) throws {
        let path = "\(self.objects)/\(index)"
        let done = try Self.readWhole(path, into: &buffer, limit: expected + 1)
        guard done == expected else { throw Failure(description: "\(path): read \(done) bytes, expected \(expected)") }
    }

    /// Reads the file at `path` into `buffer` until its end or `limit` bytes (at most `buffer.count`); returns the
    /// bytes read. A `limit` one beyond the expected size tells a longer file from an exact one.
    static func readWhole(_ path: String, into buffer: inout [UInt8], limit: Int = .max) throws -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure("open", path) }
        defer { close(fd) }
        var done = 0
        try buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            while true {
                let room = min(raw.count, limit) - done
                guard room > 0 else { break }
                let n = Self.systemRead(fd, base + done, room)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Self.failure("read", path)
                }
                if n == 0 { break }
                done += n
            }
        }
        return done
    }

    // `write` and `read` name this type's methods; these name the system calls.
    static func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, bytes, count)
        #else
        Darwin.write(fd, bytes, count)
        #endif
    }

    static func systemRead(_ fd: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.read(fd, bytes, count)
        #else
        Darwin.read(fd, bytes, count)
        #endif
    }

    static func failure(_ call: String, _ path: String) -> Failure {
        Failure(description: "\(call) \(path): \(String(cString: strerror(errno)))")
    }
}

/// Counts threads down and resumes a continuation once, when the last has finished, with the first error seen.
final class ThreadLatch: Sendable {
    struct State {
        var left: Int
        var error: (any Error)?
        var continuation: CheckedContinuation<Void, any Error>?
    }

    let state: Mutex<State>

    init(count: Int, continuation: CheckedContinuation<Void, any Error>) {
        self.state = Mutex(State(left: count, error: nil, continuation: continuation))
    }

    func finish(_ error: (any Error)?) {
        let done = self.state.withLock { state -> (CheckedContinuation<Void, any Error>, (any Error)?)? in
            state.left -= 1
            if state.error == nil { state.error = error }
            guard state.left == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.error)
        }
        guard let (continuation, error) = done else { return }
        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
    }
}

/// What the resident set did while one object streamed.
struct StreamedMemory: Sendable {
    /// The resident set just before the transfer.
    var baseline: Int
    /// The largest resident set sampled during it.
    var sampledPeak: Int
    var samples: Int
    /// The kernel's high-water mark (VmHWM, reset before the transfer), which also sees peaks between samples;
    /// nil when it could not be reset.
    var highWaterMark: Int?
    var seconds: Double
    var mibPerSecond: Double = 0

    static func measure(_ transfer: () async throws -> Void) async throws -> StreamedMemory {
        let resetHighWater = ResidentSetSampler.resetHighWaterMark()
        let sampler = ResidentSetSampler()
        let start = ContinuousClock.now
        do {
            try await transfer()
        } catch {
            _ = sampler.stop()
            throw error
        }
        let seconds = Bench.seconds(ContinuousClock.now - start)
        let (peak, samples) = sampler.stop()
        return StreamedMemory(
            baseline: sampler.baseline, sampledPeak: peak, samples: samples,
            highWaterMark: resetHighWater ? ResidentSetSampler.highWaterMark() : nil, seconds: seconds)
    }

    func withRate(mebibytes: Int) -> StreamedMemory {
        var copy = self
        copy.mibPerSecond = Double(mebibytes) / max(self.seconds, 1e-9)
        return copy
    }

    static func mib(_ bytes: Int) -> Double { Double(bytes) / Double(Bench.mebibyte) }

    var growth: Double { Self.mib(self.sampledPeak - self.baseline) }
    var highWaterGrowth: Double? { self.highWaterMark.map { Self.mib($0 - self.baseline) } }

    func summary(objectMiB: Int) -> String {
        var text = String(
            format: "peak %+.0f MiB while streaming %d MiB (%.0f MiB/s, %.1f s; %.0f MiB before, %d samples)", self.growth,
            objectMiB, self.mibPerSecond, self.seconds, Self.mib(self.baseline), self.samples)
        if let highWater = self.highWaterGrowth { text += String(format: "; kernel high-water mark %+.0f MiB", highWater) }
        return text
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "peakGrowthMiB": .number(self.growth), "baselineMiB": .number(Self.mib(self.baseline)),
            "samples": .number(Double(self.samples)), "seconds": .number(self.seconds),
            "mibPerSecond": .number(self.mibPerSecond),
        ]
        if let highWater = self.highWaterGrowth { object["highWaterGrowthMiB"] = .number(highWater) }
        return .object(object)
    }
}

/// Samples this process's resident set (`VmRSS` in `/proc/self/status`) every ``intervalMilliseconds`` on a thread of its own
/// (so a busy cooperative pool cannot delay it), keeping the largest, until ``stop()``; at most
/// ``maximumSamples`` samples, so a sampler never left running stops by itself.
final class ResidentSetSampler: Sendable {
    static let intervalMilliseconds = 50
    /// Twenty minutes of samples.
    static let maximumSamples = 24_000

    struct State {
        var peak: Int
        var samples = 0
        var running = true
    }

    let baseline: Int
    let state: Mutex<State>

    init() {
        let now = Self.residentBytes() ?? 0
        self.baseline = now
        self.state = Mutex(State(peak: now))
        Thread { [self] in
            Bench.nameThisThread("bench-rss")
            while self.sample() { usleep(UInt32(Self.intervalMilliseconds * 1000)) }
        }
        .start()
    }

    /// Takes one sample; false once stopped or out of samples.
    func sample() -> Bool {
        let now = Self.residentBytes() ?? 0
        return self.state.withLock { state in
            guard state.running else { return false }
            state.peak = max(state.peak, now)
            state.samples += 1
            if state.samples >= Self.maximumSamples { state.running = false }
            return state.running
        }
    }

    /// Takes a last sample and stops; returns the peak and the number of samples.
    func stop() -> (peak: Int, samples: Int) {
        _ = self.sample()
        return self.state.withLock { state in
            state.running = false
            return (state.peak, state.samples)
        }
    }

    static func residentBytes() -> Int? { Self.statusField("VmRSS:") }
    static func highWaterMark() -> Int? { Self.statusField("VmHWM:") }

    /// Writing 5 to `/proc/self/clear_refs` resets VmHWM to the current resident set (Linux 4.0 and later).
    static func resetHighWaterMark() -> Bool {
        (try? Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))) != nil
    }

    /// A `kB` field of `/proc/self/status`, in bytes.
    static func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            // "VmRSS:\t  123456 kB"
            let fields = line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }
}

/// A plain TCP copy of the same bytes over loopback, no HTTP and no disk: the transport's ceiling for a GET, which
/// the file read (a copy out of the page cache) is far above on any machine. One thread per side of each
/// connection; every socket has 60 s timeouts, so a side that fails cannot leave the other blocked for ever.
enum LoopbackCopy {
    final class Counter: Sendable {
        let value = Mutex<Int>(0)
    }

    /// MiB per second of `count` MiB sent as `payload` over `connections` connections; with `files`, each sender
    /// reads what it sends from `objects/<n>` (opened, read whole, sent: a GET without HTTP) instead of memory.
    static func mebibytesPerSecond(
        count: Int, connections: Int, payload: [UInt8], from files: PlainFiles? = nil
    ) async throws -> Double {
        let (listener, port) = try Self.makeListener()
        defer { close(listener) }
        let received = Counter()
        let rate = try await Bench.mebibytesPerSecond(Double(count)) {
            try await Bench.onThreads(2 * connections, name: "bench-loopback") { worker in
                if worker < connections {
                    let bytes = try Self.receiveAll(port: port)
                    received.value.withLock { $0 += bytes }
                } else {
                    // Sender k sends payloads k, k + connections, … below count.
                    let sender = worker - connections
                    let indices = Array(stride(from: sender, to: count, by: connections))
                    try Self.serve(from: listener, payload, indices: indices, files: files)
                }
            }
        }
        let total = received.value.withLock { $0 }
        guard total == count * payload.count else {
            throw PlainFiles.Failure(description: "loopback copy received \(total) bytes, expected \(count * payload.count)")
        }
        return rate
    }

    static func makeListener() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Self.streamType, 0)
        guard fd >= 0 else { throw PlainFiles.failure("socket", "127.0.0.1") }
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound, listen(fd, 64) == 0 else {
            let failure = PlainFiles.failure("bind/listen", "127.0.0.1")
            close(fd)
            throw failure
        }
        Self.setTimeouts(fd)
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// Accepts one connection and writes one payload to it for each of `indices`: `payload` itself, or with
    /// `files`, `objects/<index>` read into a buffer of the payload's size.
    static func serve(from listener: Int32, _ payload: [UInt8], indices: [Int], files: PlainFiles?) throws {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { throw PlainFiles.failure("accept", "127.0.0.1") }
        defer { close(fd) }
        Self.setTimeouts(fd)
        var buffer = payload
        for index in indices {
            var length = buffer.count
            if let files {
                length = try PlainFiles.readWhole("\(files.objects)/\(index)", into: &buffer)
            }
            try buffer.withUnsafeBytes { whole in
                let raw = UnsafeRawBufferPointer(rebasing: whole[0..<length])
                guard let base = raw.baseAddress else { return }
                var done = 0
                while done < raw.count {
                    let n = send(fd, base + done, raw.count - done, Self.sendFlags)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw PlainFiles.failure("send", "127.0.0.1")
                    }
                    done += n
                }
            }
        }
    }

    /// Connects and reads until the sender closes; returns the bytes read.
    static func receiveAll(port: UInt16) throws -> Int {
        let fd = socket(AF_INET, Self.streamType, 0)
        guard fd >= 0 else { throw PlainFiles.failure("socket", "127.0.0.1") }
        defer { close(fd) }
        Self.setTimeouts(fd)
        var address = Self.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw PlainFiles.failure("connect", "127.0.0.1:\(port)") }
        var buffer = [UInt8](repeating: 0, count: Bench.mebibyte)
        var total = 0
        try buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            while true {
                let n = recv(fd, base, raw.count, 0)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw PlainFiles.failure("recv", "127.0.0.1:\(port)")
                }
                if n == 0 { return }
                total += n
            }
        }
        return total
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    static func setTimeouts(_ fd: Int32) {
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            setsockopt(fd, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        #if canImport(Darwin)
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    // A peer gone must be an error, not SIGPIPE.
    #if canImport(Glibc)
    static let streamType = Int32(SOCK_STREAM.rawValue)
    static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    static let streamType = SOCK_STREAM
    static let sendFlags: Int32 = 0
    #endif
}
