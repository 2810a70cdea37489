import Foundation
@testable import Trainer
import XCTest

/// Installing a model from parts: the hash decides, and a mismatch leaves nothing behind. No network involved.
final class ModelCatalogTests: XCTestCase {
    func testSHA256KnownAnswers() {
        XCTAssertEqual(SHA256.hex(of: Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in uneven pieces, across block boundaries.
        var hash = SHA256()
        let million = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        var offset = 0, piece = 1
        while offset < million.count {
            let end = min(million.count, offset + piece)
            hash.update(million.subdata(in: offset..<end))
            offset = end
            piece = piece * 3 + 7
        }
        XCTAssertEqual(hash.finalize(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func parts(in folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try ["part one, ", "part two, ", "part three"].enumerated().map { index, text in
            let url = folder.appendingPathComponent("part0\(index + 1).bin")
            try Data(text.utf8).write(to: url)
            return url
        }
    }

    func testJoinedPartsAreInstalledOnlyWhenTheHashMatches() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("azr-catalog-\(getpid())-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pieces = try parts(in: folder.appendingPathComponent("parts"))
        let whole = Data("part one, part two, part three".utf8)
        let destination = folder.appendingPathComponent("cache/model.gguf")

        XCTAssertThrowsError(try ModelCatalog.join(pieces, into: destination, byteCount: whole.count, sha256: String(repeating: "0", count: 64))) { error in
            guard case ModelCatalogError.wrongHash(_, let got) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(got, SHA256.hex(of: whole))
            XCTAssertTrue("\(error)".contains("nothing was installed"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination.deletingLastPathComponent().path), [],
                       "no partial file is left")

        XCTAssertThrowsError(try ModelCatalog.join(pieces, into: destination, byteCount: whole.count + 1, sha256: SHA256.hex(of: whole))) { error in
            guard case ModelCatalogError.wrongSize = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination.path))

        try ModelCatalog.join(pieces, into: destination, byteCount: whole.count, sha256: SHA256.hex(of: whole).uppercased())
        XCTAssertEqual(try Data(contentsOf: destination), whole)
    }

    func testNamesResolveAndUnknownNamesAreNamed() {
        XCTAssertNotNil(ModelCatalog.model(named: "Qwen2.5-Coder-0.5B"))
        XCTAssertThrowsError(try ModelCatalog.resolve("qwen-9000")) { error in
            XCTAssertTrue("\(error)".contains("no model is named qwen-9000"), "\(error)")
        }
        XCTAssertThrowsError(try ModelCatalog.resolve("/nowhere/model.gguf")) { error in
            XCTAssertTrue("\(error)".contains("no model file at /nowhere/model.gguf"), "\(error)")
        }
    }
}
