import Foundation
import NIOCore
import NIOPosix
import NimbusCore
import NimbusStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Immutable files holding object bytes under `<directory>/blobs/<2 hex>/<id>`, written under `<directory>/incoming/`.
///
/// A blob is named by a random id, never by an object key, so no key can name a path on the host; ids are checked
/// (32 lowercase hex digits) wherever one comes in. A writer's file becomes a blob only when sealed: fsynced, renamed
/// into `blobs/` and the directory fsynced, after which the caller commits the metadata that refers to it. A crash
/// at any point leaves either a file in `incoming/` or a blob nothing refers to; ``sweep(keeping:)`` removes both at
/// start. Bytes stream through in chunks; nothing here holds a whole object in memory.
///
/// Blocking calls on the data path (open, write, fsync, rename, pread, unlink) run on a NIO thread pool, never on the
/// cooperative pool: ``makeWriter()``, ``makeReader(_:)``, ``remove(_:)`` and ``removeLater(_:)`` are the data
/// path's way in; ``create()``,
/// ``open(_:)`` and ``delete(_:)`` block the caller and are for paths that are not hot (and tests).
public struct BlobStore: Sendable {
    /// The directory given at init, holding `incoming/` and `blobs/`.
    public let directory: String
    let incoming: String
    let blobs: String
    let threadPool: NIOThreadPool

    /// The pool blob stores use unless given one. Its threads wait on the disk, not the CPU (an fsync takes
    /// milliseconds, an open or unlink searches a directory), so it has more threads than NIO's singleton pool, which
    /// has one per core: with two cores, eight concurrent PUTs would queue their fsyncs behind two threads, where
    /// the file system can commit them together. Started once, never shut down, like NIO's singletons.
    public static let sharedThreadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(16, 4 * System.coreCount))
        pool.start()
        return pool
    }()

    /// Creates `directory`, `incoming/`, `blobs/` and its 256 fan-out directories when missing (mode 0700).
    /// - Parameter threadPool: where blocking file calls run.
    public init(directory: String, threadPool: NIOThreadPool = BlobStore.sharedThreadPool) throws {
        self.directory = directory
        self.incoming = directory + "/incoming"
        self.blobs = directory + "/blobs"
        self.threadPool = threadPool
        try Self.makeDirectories(directory)
        try Self.makeDirectory(self.incoming)
        try Self.makeDirectory(self.blobs)
        for fanOut in 0..<256 {
            try Self.makeDirectory(self.blobs + "/" + Self.hexByte(fanOut))
        }
    }

    /// ``create()`` off the cooperative pool: creating a file searches and updates `incoming/` (milliseconds on a
    /// busy disk).
    public func makeWriter() async throws -> BlobWriter {
        try await self.threadPool.runIfActive { try self.create() }
    }

    /// ``open(_:)`` off the cooperative pool.
    public func makeReader(_ blobID: String) async throws -> BlobReader {
        try await self.threadPool.runIfActive { try self.open(blobID) }
    }

    /// ``delete(_:)`` off the cooperative pool (an unlink takes about a millisecond on ext4); returns once the files
    /// are gone, so a caller sees the same state as after ``delete(_:)``. Best effort, like it.
    public func remove(_ segments: [BlobSegment]) async {
        guard !segments.isEmpty else { return }
        do {
            try await self.threadPool.runIfActive { self.delete(segments) }
        } catch {
            // The pool is shut down (the server is stopping): delete here rather than leave orphans to the sweep.
            self.delete(segments)
        }
    }

    /// ``delete(_:)`` on the pool, without waiting: for the files of an object a commit replaced, which nothing
    /// refers to any more, so the answer need not wait for their unlinks. Files a crash or shutdown leaves behind are
    /// orphans the next ``sweep(keeping:)`` removes.
    public func removeLater(_ segments: [BlobSegment]) {
        guard !segments.isEmpty else { return }
        // Run whether the pool is active or cancelled (shutting down; then on the caller's thread): best effort.
        self.threadPool.submit { _ in self.delete(segments) }
    }

    /// A new, empty file in `incoming/` (created exclusively, mode 0600) under a fresh random id. Blocks the caller;
    /// the data path uses ``makeWriter()``.
    public func create() throws -> BlobWriter {
        let id = Digest.randomHex32()
        let path = self.incoming + "/" + id
        let fd = SystemCall.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BlobStoreError.system("open", path: path, errno: errno) }
        return BlobWriter(store: self, id: id, fd: fd, path: path)
    }

    /// Opens a blob for reading. The reader keeps working if the blob is deleted meanwhile (it holds the file).
    /// - Throws: ``BlobStoreError/missing(_:)`` if there is no such blob, ``BlobStoreError/invalidID(_:)``.
    public func open(_ blobID: String) throws -> BlobReader {
        let path = try self.path(of: blobID)
        let fd = SystemCall.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let error = errno
            if error == ENOENT { throw BlobStoreError.missing(blobID) }
            throw BlobStoreError.system("open", path: path, errno: error)
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let error = errno
            SystemCall.close(fd)
            throw BlobStoreError.system("fstat", path: path, errno: error)
        }
        return BlobReader(blobID: blobID, fd: fd, size: Int64(status.st_size), threadPool: self.threadPool)
    }

    /// A second name for a blob's bytes (a hard link, durable when this returns), for CopyObject: the copy owns its
    /// own blob, so deleting either object never touches the other's bytes. Returns the new blob's id; its size is
    /// the source's. Blocks for a directory fsync (about a millisecond): CopyObject is not the data path.
    /// - Throws: ``BlobStoreError/missing(_:)`` if there is no such blob, ``BlobStoreError/invalidID(_:)``.
    public func link(_ blobID: String) throws -> String {
        let source = try self.path(of: blobID)
        let id = Digest.randomHex32()
        let target = try self.path(of: id)
        guard SystemCall.link(source, target) == 0 else {
            let error = errno
            if error == ENOENT { throw BlobStoreError.missing(blobID) }
            throw BlobStoreError.system("link", path: target, errno: error)
        }
        do {
            try Self.syncDirectory(self.fanOutDirectory(of: id))
        } catch {
            unlink(target)
            throw error
        }
        return id
    }

    /// Removes blobs, best effort: a missing file or an invalid id is skipped (a file left behind by a failure here
    /// is an orphan the next ``sweep(keeping:)`` removes).
    public func delete(_ segments: [BlobSegment]) {
        for segment in segments {
            guard let path = try? self.path(of: segment.blobID) else { continue }
            unlink(path)
        }
    }

    /// Removes every file in `incoming/` (writes a crash interrupted) and every blob not in `referenced` (blobs made
    /// unreachable by a commit the process did not live to clean up after, or sealed but never committed). Run it at
    /// start, before any writer exists: it would remove a writer's file in `incoming/`.
    /// - Returns: how many files it removed from `incoming/` and from `blobs/`.
    @discardableResult
    public func sweep(keeping referenced: Set<String>) throws -> (incoming: Int, orphans: Int) {
        var removedIncoming = 0
        for name in try Self.entries(of: self.incoming) where unlink(self.incoming + "/" + name) == 0 {
            removedIncoming += 1
        }
        var orphans = 0
        for fanOut in 0..<256 {
            let prefix = Self.hexByte(fanOut)
            let directory = self.blobs + "/" + prefix
            for name in try Self.entries(of: directory) {
                if Self.isValid(name), name.hasPrefix(prefix), referenced.contains(name) { continue }
                if unlink(directory + "/" + name) == 0 { orphans += 1 }
            }
        }
        return (removedIncoming, orphans)
    }

    // MARK: Paths

    /// `blobs/<first two hex digits>/<id>`. - Throws: ``BlobStoreError/invalidID(_:)``.
    func path(of blobID: String) throws -> String {
        guard Self.isValid(blobID) else { throw BlobStoreError.invalidID(blobID) }
        return self.fanOutDirectory(of: blobID) + "/" + blobID
    }

    func fanOutDirectory(of blobID: String) -> String {
        self.blobs + "/" + String(blobID.utf8.prefix(2).map { Character(Unicode.Scalar($0)) })
    }

    /// 32 lowercase hex digits: what ``Digest/randomHex32()`` makes, and nothing that could name another path.
    static func isValid(_ blobID: String) -> Bool {
        var count = 0
        for byte in blobID.utf8 {
            guard
                (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            else { return false }
            count += 1
        }
        return count == 32
    }

    static func hexByte(_ value: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[(value >> 4) & 0xF], digits[value & 0xF]])
    }

    // MARK: File system

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 { return }
        let error = errno
        var status = stat()
        if error == EEXIST, stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR { return }
        throw BlobStoreError.system("mkdir", path: path, errno: error)
    }

    /// `mkdir -p`: the data directory's parents may not exist yet.
    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            try self.makeDirectory(current)
        }
    }

    static func entries(of directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw BlobStoreError.system("readdir", path: directory, errno: EIO)
        }
    }

    /// Makes a directory's entries (a rename or a link into it) durable.
    static func syncDirectory(_ path: String) throws {
        let fd = SystemCall.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw BlobStoreError.system("open", path: path, errno: errno) }
        defer { SystemCall.close(fd) }
        guard fsync(fd) == 0 else { throw BlobStoreError.system("fsync", path: path, errno: errno) }
    }
}

/// Why a ``BlobStore`` operation failed.
public enum BlobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No blob has this id (never written, or deleted).
    case missing(String)
    /// Not a blob id (32 lowercase hex digits); refused before it reaches the file system.
    case invalidID(String)
    /// A read outside the blob, or a blob shorter than its recorded size.
    case outOfRange(blobID: String, offset: Int64, count: Int64, size: Int64)
    /// The writer was sealed or discarded, or the reader closed.
    case closed
    /// A system call failed.
    case system(String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .missing(let id): "no blob \(id)"
        case .invalidID(let id): "invalid blob id \(String(reflecting: id))"
        case .outOfRange(let id, let offset, let count, let size):
            "blob \(id): \(count) bytes at \(offset) are outside its \(size) bytes"
        case .closed: "the blob file is closed"
        case .system(let call, let path, let code): "\(call) \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// A blob being written: appends go to its file in `incoming/`; ``seal()`` makes it a blob. Used by one task at a
/// time (hence `@unchecked Sendable`: it moves between tasks, it is never shared by them).
///
/// Small appends are gathered into a buffer of ``coalescing`` bytes so that each trip to the thread pool writes a
/// large run. A full buffer is written while the caller goes on (receiving and hashing the next bytes into a new
/// buffer); only when that one is full too does the caller wait for the first write. So the disk and the network
/// overlap, and memory stays at two buffers per writer whatever the blob's size.
public final class BlobWriter: @unchecked Sendable {
    /// The size of a write(2): appends smaller than this are gathered until this many bytes are pending.
    static let coalescing = 512 * 1024

    public let blobID: String
    let directory: String
    let threadPool: NIOThreadPool
    /// Where the file is now: in `incoming/` until sealed.
    let incomingPath: String
    let blobPath: String
    var fd: Int32
    var written: Int64 = 0
    var pending: ByteBuffer
    /// The write running on the pool, if any (at most one: each waits for the one before it, so bytes land in order).
    var inFlight: Task<Void, any Error>?
    var state = State.open

    enum State {
        case open
        case sealed
        case discarded
    }

    init(store: BlobStore, id: String, fd: Int32, path: String) {
        self.blobID = id
        self.directory = store.fanOutDirectory(of: id)
        self.blobPath = self.directory + "/" + id
        self.threadPool = store.threadPool
        self.incomingPath = path
        self.fd = fd
        self.pending = ByteBuffer()
    }

    deinit {
        // A writer dropped without seal or discard (a cancelled request): its file must not outlive it.
        self.discard()
    }

    /// The bytes appended so far.
    public var size: Int64 { self.written + Int64(self.pending.readableBytes) }

    /// Appends `buffer`'s readable bytes. May return before they are written (a write failure then throws from a
    /// later call or ``seal()``). After a failure, ``discard()`` the writer.
    public func write(_ buffer: ByteBuffer) async throws {
        guard self.state == .open else { throw BlobStoreError.closed }
        if self.pending.readableBytes == 0, buffer.readableBytes >= Self.coalescing {
            try await self.startFlush(buffer)
            return
        }
        if self.pending.capacity == 0 {
            self.pending = ByteBufferAllocator().buffer(capacity: Self.coalescing)
        }
        var buffer = buffer
        self.pending.writeBuffer(&buffer)
        if self.pending.readableBytes >= Self.coalescing {
            try await self.startFlush(self.pending)
            // The full buffer belongs to the write now; the next append allocates the other one.
            self.pending = ByteBuffer()
        }
    }

    /// Writes what is pending, fsyncs the file, renames it into `blobs/` and fsyncs that directory (one trip to the
    /// pool): once this returns the blob survives a crash of the machine, and the caller may commit metadata that
    /// refers to it. After a failure, ``discard()`` the writer.
    public func seal() async throws -> BlobSegment {
        guard self.state == .open else { throw BlobStoreError.closed }
        try await self.finishFlush()
        guard self.fd >= 0 else { throw BlobStoreError.closed }
        let last = self.pending
        self.pending = ByteBuffer()
        let (fd, incoming, target, directory) = (self.fd, self.incomingPath, self.blobPath, self.directory)
        try await self.threadPool.runIfActive {
            try Self.writeAll(last, fd: fd, path: incoming)
            guard fsync(fd) == 0 else { throw BlobStoreError.system("fsync", path: incoming, errno: errno) }
            guard rename(incoming, target) == 0 else {
                throw BlobStoreError.system("rename", path: target, errno: errno)
            }
            do {
                try BlobStore.syncDirectory(directory)
            } catch {
                // Not durable under its name: give it back to incoming/ for discard() to remove.
                if rename(target, incoming) != 0 { unlink(target) }
                throw error
            }
        }
        SystemCall.close(fd)
        self.fd = -1
        self.written += Int64(last.readableBytes)
        self.state = .sealed
        return BlobSegment(blobID: self.blobID, size: self.written)
    }

    /// Closes and removes the unsealed file. Safe to call twice and after ``seal()`` (then it does nothing).
    public func discard() {
        guard self.state == .open else { return }
        self.state = .discarded
        unlink(self.incomingPath)
        let fd = self.fd
        self.fd = -1
        if let inFlight = self.inFlight {
            // A write still running uses the descriptor: close it only after that write ends, or the number could be
            // reused by another open file and receive this one's bytes.
            self.inFlight = nil
            if fd >= 0 {
                Task {
                    _ = try? await inFlight.value
                    SystemCall.close(fd)
                }
            }
        } else if fd >= 0 {
            SystemCall.close(fd)
        }
        self.pending = ByteBuffer()
    }

    /// Starts writing all of `buffer` at the end of the file on the pool, after the write in flight (if any) ended;
    /// returns once it started. The write holds `buffer`'s storage until it ends, so the caller appends to a new one.
    func startFlush(_ buffer: ByteBuffer) async throws {
        try await self.finishFlush()
        let (fd, path, pool) = (self.fd, self.incomingPath, self.threadPool)
        guard fd >= 0 else { throw BlobStoreError.closed }
        self.inFlight = Task {
            try await pool.runIfActive { try Self.writeAll(buffer, fd: fd, path: path) }
        }
        self.written += Int64(buffer.readableBytes)
    }

    /// Waits for the write in flight, if any; throws what it threw.
    func finishFlush() async throws {
        guard let inFlight = self.inFlight else { return }
        self.inFlight = nil
        try await inFlight.value
    }

    /// write(2) until all of `buffer` is written. Blocks: call it on the pool.
    static func writeAll(_ buffer: ByteBuffer, fd: Int32, path: String) throws {
        try buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var done = 0
            while done < bytes.count {
                let count = SystemCall.write(fd, base + done, bytes.count - done)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw BlobStoreError.system("write", path: path, errno: errno)
                }
                done += count
            }
        }
    }
}

/// An open blob. Reads go through the file it opened, so a blob deleted meanwhile (its object replaced or deleted
/// during a GET) is still read whole. Used by one task at a time; ``close()`` it when done (or let it go).
public final class BlobReader: @unchecked Sendable {
    /// What ``read(offset:count:chunkSize:_:)`` reads at a time unless told: 1 MiB, so a typical object is one pread
    /// and one trip to the pool, and a response write hands the connection a large run (memory: two chunks).
    public static let chunkSize = 1 << 20

    public let blobID: String
    public let size: Int64
    let threadPool: NIOThreadPool
    var fd: Int32

    init(blobID: String, fd: Int32, size: Int64, threadPool: NIOThreadPool) {
        self.blobID = blobID
        self.fd = fd
        self.size = size
        self.threadPool = threadPool
    }

    deinit {
        self.close()
    }

    /// Reads `count` bytes from `offset` in chunks of at most `chunkSize`, handing each to `body` in order. The next
    /// chunk is read (off the cooperative pool) while `body` handles the current one, so a slow consumer and the disk
    /// overlap; at most two chunks are in memory.
    /// - Throws: ``BlobStoreError/outOfRange(blobID:offset:count:size:)`` for a range outside the blob, or what `body`
    ///   threw.
    public func read(
        offset: Int64,
        count: Int64,
        chunkSize: Int = BlobReader.chunkSize,
        _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        guard self.fd >= 0 else { throw BlobStoreError.closed }
        guard offset >= 0, count >= 0, offset <= self.size, count <= self.size - offset else {
            throw BlobStoreError.outOfRange(blobID: self.blobID, offset: offset, count: count, size: self.size)
        }
        guard count > 0 else { return }
        let chunkSize = Int64(max(chunkSize, 1))
        let (fd, pool, id, size) = (self.fd, self.threadPool, self.blobID, self.size)
        let end = offset + count
        try await withThrowingTaskGroup(of: ByteBuffer.self) { group in
            var next = offset
            func readNext() {
                let (start, length) = (next, Int(min(chunkSize, end - next)))
                next += Int64(length)
                group.addTask {
                    try await pool.runIfActive {
                        try Self.pread(fd: fd, blobID: id, size: size, offset: start, count: length)
                    }
                }
            }
            readNext()
            while let chunk = try await group.next() {
                if next < end { readNext() }
                try await body(chunk)
            }
        }
    }

    /// Closes the file. Safe to call twice.
    public func close() {
        if self.fd >= 0 {
            SystemCall.close(self.fd)
            self.fd = -1
        }
    }

    static func pread(fd: Int32, blobID: String, size: Int64, offset: Int64, count: Int) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes -> Int in
            guard let base = bytes.baseAddress else { return 0 }
            var done = 0
            while done < count {
                let n = SystemCall.pread(fd, base + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BlobStoreError.system("pread", path: blobID, errno: errno)
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
        guard read == count else {
            throw BlobStoreError.outOfRange(blobID: blobID, offset: offset, count: Int64(count), size: size)
        }
        return buffer
    }
}

/// The C calls whose names the types above also use (`open`, `close`, `link`, `read`…), spelled once per platform.
enum SystemCall {
    #if canImport(Glibc)
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 { Glibc.open(path, flags, mode) }
    @discardableResult static func close(_ fd: Int32) -> Int32 { Glibc.close(fd) }
    static func link(_ source: String, _ target: String) -> Int32 { Glibc.link(source, target) }
    static func write(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, bytes, count) }
    static func pread(_ fd: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int, _ offset: off_t) -> Int {
        Glibc.pread(fd, bytes, count, offset)
    }
    #else
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 { Darwin.open(path, flags, mode) }
    @discardableResult static func close(_ fd: Int32) -> Int32 { Darwin.close(fd) }
    static func link(_ source: String, _ target: String) -> Int32 { Darwin.link(source, target) }
    static func write(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(fd, bytes, count) }
    static func pread(_ fd: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int, _ offset: off_t) -> Int {
        Darwin.pread(fd, bytes, count, offset)
    }
    #endif
}
