import Foundation
import Testing
import ZIPFoundation

@testable import NimbusCore
@testable import NimbusStore

@Suite struct CodeStoreTests {
    enum Item {
        case file(String, String, permissions: UInt16 = 0o644)
        case symlink(String, target: String)
    }

    static func zip(_ items: [Item]) throws -> [UInt8] {
        let archive = try Archive(data: Data(), accessMode: .create)
        for item in items {
            switch item {
            case .file(let path, let content, let permissions):
                let data = Data(content.utf8)
                try archive.addEntry(
                    with: path, type: .file, uncompressedSize: Int64(data.count), permissions: permissions,
                    compressionMethod: .deflate
                ) { position, size in data.subdata(in: Int(position)..<Int(position) + size) }
            case .symlink(let path, let target):
                let data = Data(target.utf8)
                try archive.addEntry(with: path, type: .symlink, uncompressedSize: Int64(data.count)) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
        }
        return Array(archive.data!)
    }

    func withStore(_ body: (CodeStore, String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-code-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(try CodeStore(root: "\(root)/code"), root)
    }

    @Test func storesAndUnpacksOncePerDigest() throws {
        try self.withStore { store, _ in
            let zip = try Self.zip([.file("app.py", "print(1)"), .file("bin/bootstrap", "#!/bin/sh", permissions: 0o755)])
            let info = try store.store(zip: zip)
            #expect(info.digestHex == Digest.sha256Hex(zip))
            #expect(info.sha256Base64 == Data(Digest.sha256(zip)).base64EncodedString())
            #expect(info.size == zip.count)
            let dir = store.directory(for: info.digestHex)
            #expect(FileManager.default.contents(atPath: "\(dir)/app.py") == Data("print(1)".utf8))
            #expect(FileManager.default.isExecutableFile(atPath: "\(dir)/bin/bootstrap"))
            #expect(try store.store(zip: zip) == info)
        }
    }

    func rejection(_ zip: [UInt8]) -> NimbusError? {
        var result: NimbusError?
        try? self.withStore { store, root in
            do {
                _ = try store.store(zip: zip)
            } catch {
                result = error as? NimbusError
            }
            // Nothing half-written is left behind: only the code root itself.
            let left = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/code")) ?? []
            #expect(left.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "\(root)/evil.py"))
        }
        return result
    }

    @Test func rejectsCorruptZips() {
        let error = self.rejection(Array("this is not a zip file at all".utf8))
        #expect(error?.message == "Could not unzip uploaded file. Please check your file, then try to upload again.")
    }

    @Test func rejectsPathTraversal() throws {
        let error = self.rejection(try Self.zip([.file("ok.py", "x"), .file("../evil.py", "x")]))
        #expect(error?.code == .invalidParameterValue)
        #expect(error?.message.contains("leaves the package") == true)
    }

    @Test func rejectsSymlinksOutOfThePackage() throws {
        #expect(self.rejection(try Self.zip([.symlink("passwd", target: "/etc/passwd")]))?.code == .invalidParameterValue)
        #expect(self.rejection(try Self.zip([.symlink("a/up", target: "../../x")]))?.code == .invalidParameterValue)
    }

    @Test func keepsSymlinksInsideThePackage() throws {
        try self.withStore { store, _ in
            let info = try store.store(zip: try Self.zip([.file("lib/real.py", "x"), .symlink("link.py", target: "lib/real.py")]))
            let dir = store.directory(for: info.digestHex)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/link.py") == "lib/real.py")
        }
    }

    @Test func symlinkContainment() {
        #expect(CodeStore.symlinkStaysInside(target: "b", at: ["a", "link"]))
        #expect(CodeStore.symlinkStaysInside(target: "../b", at: ["a", "link"]))
        #expect(!CodeStore.symlinkStaysInside(target: "../../b", at: ["a", "link"]))
        #expect(!CodeStore.symlinkStaysInside(target: "/etc", at: ["link"]))
    }
}
