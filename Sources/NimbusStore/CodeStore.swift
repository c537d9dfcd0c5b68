import Foundation
import NimbusCore
import ZIPFoundation

#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed storage of deployment packages: `<root>/<sha256hex>.zip` and the package unpacked once per
/// digest at `<root>/<sha256hex>/`, shared read-only by every environment that runs it.
///
/// Packages are untrusted. Unpacking refuses absolute paths, `..` components, symlinks that leave the package,
/// device files and packages that expand past the unzipped limit, and never leaves a half-unpacked directory: it
/// unpacks into a temporary directory and renames it into place.
public struct CodeStore: Sendable {
    public let root: String

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// Where the unpacked package of a digest lives.
    public func directory(for digestHex: String) -> String { "\(self.root)/\(digestHex)" }

    /// The stored zip of a digest.
    public func zipPath(for digestHex: String) -> String { "\(self.root)/\(digestHex).zip" }

    static let unzipError = NimbusError.invalidParameter(
        "Could not unzip uploaded file. Please check your file, then try to upload again.")

    /// Validates, stores and unpacks a zip. Idempotent per content.
    /// - Throws: `NimbusError` with AWS's messages for corrupt or oversized packages.
    public func store(zip: [UInt8]) throws(NimbusError) -> FunctionConfiguration.CodeInfo {
        if zip.count > Limits.maximumZippedCodeBytes {
            throw NimbusError(.requestTooLarge, "Zipped size must be smaller than \(Limits.maximumZippedCodeBytes) bytes")
        }
        let digest = Digest.sha256(zip)
        let hex = Digest.hex(digest)
        let info = { (unzipped: Int) in
            FunctionConfiguration.CodeInfo(
                digestHex: hex, sha256Base64: Data(digest).base64EncodedString(), size: zip.count,
                unzippedSize: unzipped)
        }
        let target = self.directory(for: hex)
        if let size = Self.readUnpackedSize(target) { return info(size) }

        let temporary = "\(self.root)/.tmp-\(hex)-\(Digest.randomHex32())"
        do {
            let size = try Self.unpack(zip, into: temporary)
            try Data(zip).write(to: URL(fileURLWithPath: self.zipPath(for: hex)), options: .atomic)
            // A directory without its size marker is the remains of an interrupted unpack: replace it.
            try? FileManager.default.removeItem(atPath: target)  // absent in the normal case
            guard rename(temporary, target) == 0 else {
                throw NimbusError.service("Could not move the unpacked code package into place at \(target).")
            }
            try Data("\(size)".utf8).write(to: URL(fileURLWithPath: self.markerPath(for: hex)), options: .atomic)
            return info(size)
        } catch let error as NimbusError {
            try? FileManager.default.removeItem(atPath: temporary)  // best effort: a leftover .tmp dir is inert
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)  // best effort: a leftover .tmp dir is inert
            throw NimbusError.service("Could not store the code package: \(error)")
        }
    }

    /// Removes a package that no function references any more.
    public func remove(digestHex: String) {
        // Best effort: a leftover package only costs disk space and is reused if uploaded again.
        try? FileManager.default.removeItem(atPath: self.directory(for: digestHex))
        try? FileManager.default.removeItem(atPath: self.zipPath(for: digestHex))
        try? FileManager.default.removeItem(atPath: self.markerPath(for: digestHex))
    }

    /// Whether a package's files are present (stored zip and unpacked tree).
    public func contains(digestHex: String) -> Bool {
        Self.readUnpackedSize(self.directory(for: digestHex)) != nil
    }

    func markerPath(for digestHex: String) -> String { "\(self.root)/\(digestHex).size" }

    static func readUnpackedSize(_ directory: String) -> Int? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: directory + ".size")
        else { return nil }
        return Int(String(decoding: data, as: UTF8.self))
    }

    /// Unpacks into `directory` (created), returning the total unpacked size.
    static func unpack(_ zip: [UInt8], into directory: String) throws -> Int {
        let archive: Archive
        do {
            archive = try Archive(data: Data(zip), accessMode: .read)
        } catch {
            throw Self.unzipError
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var entries: [(Entry, [String])] = []
        var declared: UInt64 = 0
        for entry in archive {
            let components = try Self.safeComponents(entry.path)
            declared += entry.uncompressedSize
            if declared > UInt64(Limits.maximumUnzippedCodeBytes) {
                throw NimbusError.invalidParameter(
                    "Unzipped size must be smaller than \(Limits.maximumUnzippedCodeBytes) bytes")
            }
            entries.append((entry, components))
            if entries.count > 100_000 {
                throw NimbusError.invalidParameter("The package holds more than 100000 entries.")
            }
        }
        var written = 0
        // Directories and files first, symlinks last, so that no write can follow a link planted by the package.
        for (entry, components) in entries where entry.type != .symlink {
            let path = directory + "/" + components.joined(separator: "/")
            if entry.type == .directory {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                continue
            }
            if components.count > 1 {
                try FileManager.default.createDirectory(
                    atPath: directory + "/" + components.dropLast().joined(separator: "/"),
                    withIntermediateDirectories: true)
            }
            let mode = Self.fileMode(entry)
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)
            guard fd >= 0 else { throw Self.unzipError }
            defer { close(fd) }
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    written += chunk.count
                    if written > Limits.maximumUnzippedCodeBytes {
                        throw NimbusError.invalidParameter(
                            "Unzipped size must be smaller than \(Limits.maximumUnzippedCodeBytes) bytes")
                    }
                    try chunk.withUnsafeBytes { raw in
                        var offset = 0
                        while offset < raw.count {
                            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                            if n <= 0 { throw NimbusError.service("Could not write the unpacked code package.") }
                            offset += n
                        }
                    }
                }
            } catch let error as NimbusError {
                throw error
            } catch {
                throw Self.unzipError
            }
            fchmod(fd, mode)
        }
        for (entry, components) in entries where entry.type == .symlink {
            var target = Data()
            do {
                _ = try archive.extract(entry) { target.append($0) }
            } catch {
                throw Self.unzipError
            }
            let targetPath = String(decoding: target, as: UTF8.self)
            guard Self.symlinkStaysInside(target: targetPath, at: components) else {
                throw NimbusError.invalidParameter(
                    "Could not unzip uploaded file. The package contains a symbolic link that points outside of it: \(components.joined(separator: "/")) -> \(targetPath)"
                )
            }
            let path = directory + "/" + components.joined(separator: "/")
            if components.count > 1 {
                try FileManager.default.createDirectory(
                    atPath: directory + "/" + components.dropLast().joined(separator: "/"),
                    withIntermediateDirectories: true)
            }
            if symlink(targetPath, path) != 0 { throw Self.unzipError }
        }
        return max(written, 0)
    }

    /// The path components of an entry, refusing anything that could land outside the package.
    static func safeComponents(_ path: String) throws(NimbusError) -> [String] {
        if path.hasPrefix("/") || path.contains("\0") {
            throw NimbusError.invalidParameter(
                "Could not unzip uploaded file. The package contains an entry with an absolute path: \(path)")
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            .filter { $0 != "." }
        if components.contains("..") {
            throw NimbusError.invalidParameter(
                "Could not unzip uploaded file. The package contains an entry that leaves the package: \(path)")
        }
        if components.isEmpty { throw Self.unzipError }
        return components
    }

    /// Whether a relative symlink at `components` resolves inside the package.
    static func symlinkStaysInside(target: String, at components: [String]) -> Bool {
        if target.isEmpty || target.hasPrefix("/") || target.contains("\0") { return false }
        var depth = components.count - 1
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                depth -= 1
                if depth < 0 { return false }
            } else {
                depth += 1
            }
        }
        return true
    }

    /// Permission bits from the entry (exec bits kept), never setuid/setgid/sticky, always owner-readable.
    static func fileMode(_ entry: Entry) -> mode_t {
        let declared = (entry.fileAttributes[.posixPermissions] as? NSNumber)?.uint16Value ?? 0o644
        var mode = mode_t(declared) & 0o777
        mode |= 0o444  // readable by the (non-root) function user
        if mode & 0o111 != 0 { mode |= 0o111 }
        return mode & 0o755
    }
}
