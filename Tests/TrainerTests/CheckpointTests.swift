import Foundation
@testable import Trainer
import XCTest

final class CheckpointTests: XCTestCase {
    func folder() -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("azr-ckpt-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) } // a checkpoint here is ~260 MB
        return url
    }

    func testFloat32RoundTripIsExactAndReadableByTheReference() throws {
        let model = TinyModel.make(seed: 5)
        let url = folder().appendingPathComponent("tiny.gguf")
        try LlamaCheckpoint.write(model.parameters, to: url, tokenizerFrom: nil)
        let file = try GGUFFile(path: url.path)
        let loaded = try LlamaParameters(gguf: file)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(Array(loaded.storage), Array(model.parameters.storage))

        let data = try python([referenceFile("gguf_reference.py"), url.path, "blk.1.attn_q.weight"])
        let report = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let metadata = report["metadata"] as! [String: Any]
        XCTAssertEqual(metadata["llama.block_count"] as? Int, 2)
        XCTAssertEqual(metadata["general.alignment"] as? Int, 32)
        let first = (report["values"] as! [String: [String: Any]])["blk.1.attn_q.weight"]!["first"] as! [Double]
        let query = model.parameters[model.parameters.layers[1].query]
        for (i, value) in first.enumerated() { XCTAssertEqual(Float(value), query[i]) }
    }

    func testHalfPrecisionCheckpointOfTheDefaultModelStillGenerates() throws {
        guard let path = DefaultModel.locateSmall() else { throw XCTSkip("the default model is not installed") }
        let source = try GGUFFile(path: path)
        let parameters = try LlamaParameters(gguf: source)
        let url = folder().appendingPathComponent("half.gguf")
        try LlamaCheckpoint.write(parameters, to: url, tokenizerFrom: source, half: true)
        let reloaded = try GGUFFile(path: url.path)
        XCTAssertEqual(try reloaded.tensor("blk.0.attn_q.weight").type, .f16)
        let tokenizer = try BPETokenizer(gguf: reloaded)
        let model = LlamaModel(parameters: try LlamaParameters(gguf: reloaded))
        let continuation = try model.greedy(tokenizer.encode("def is_prime(n):\n    "), count: 12)
        XCTAssertTrue(tokenizer.decode(continuation).hasPrefix(" if n == 1:\n        return True"), tokenizer.decode(continuation))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        XCTAssertEqual(leftovers, ["half.gguf"], "no temporary file is left behind")
    }
}
