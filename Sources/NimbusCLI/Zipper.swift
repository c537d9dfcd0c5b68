import Foundation
import ZIPFoundation

/// Zips a directory in memory, keeping permission bits (so `bootstrap` stays executable) and symlinks.
enum Zipper {
    static func zip(directory: String) throws -> [UInt8] {
        let base = URL(fileURLWithPath: directory).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ZipperError(message: "\(directory) is not a directory")
        }
        let archive = try Archive(data: Data(), accessMode: .create)
        guard let enumerator = FileManager.default.enumerator(atPath: base.path) else {
            throw ZipperError(message: "cannot read \(directory)")
        }
        var paths: [String] = []
        while let path = enumerator.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            if name == "__pycache__" || name == ".git" || name == ".build" {
                enumerator.skipDescendants()
                continue
            }
            paths.append(path)
        }
        for path in paths.sorted() {
            try archive.addEntry(with: path, relativeTo: base, compressionMethod: .deflate)
        }
        guard let data = archive.data else { throw ZipperError(message: "could not build the zip") }
        return Array(data)
    }

    struct ZipperError: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }
}
