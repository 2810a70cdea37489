import Foundation
@testable import Trainer
import XCTest

/// qwen2 (projection biases, half-split RoPE, untied output) against the numpy reference: a tiny random qwen2
/// model is committed as reference/tiny_qwen2.gguf (written by `TinyModel` and `LlamaCheckpoint`) with the
/// reference's logits in tiny_qwen2.json (`llama_reference.py tiny_qwen2.gguf 3,17,5,36,0,22,9,14 4`).
/// Set AZR_REGENERATE_REFERENCE=1 to rewrite the GGUF after changing `TinyModel`.
final class Qwen2Tests: XCTestCase {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("reference")

    func testTinyQwen2MatchesTheReference() throws {
        let url = folder.appendingPathComponent("tiny_qwen2.gguf")
        let made = TinyModel.make(seed: 31, qwen2: true)
        if ProcessInfo.processInfo.environment["AZR_REGENERATE_REFERENCE"] == "1" {
            // A file just written from `made` would be compared with itself: regenerate, then check in another run.
            try LlamaCheckpoint.write(made.parameters, to: url, tokenizerFrom: nil)
            throw XCTSkip("rewrote \(url.lastPathComponent); run again without AZR_REGENERATE_REFERENCE to check it")
        }
        let file = try GGUFFile(path: url.path)
        let loaded = try LlamaParameters(gguf: file)
        XCTAssertEqual(loaded.config.architecture, "qwen2")
        XCTAssertEqual(loaded.config.ropeStyle, .halves)
        XCTAssertTrue(loaded.config.attentionBias)
        XCTAssertFalse(loaded.config.tiedEmbedding)
        XCTAssertEqual(Array(loaded.storage), Array(made.parameters.storage), "the committed file is TinyModel(seed: 31, qwen2)")

        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("tiny_qwen2.json"))) as! [String: Any]
        let ids = (expected["ids"] as! [Int]).map(Int32.init)
        let model = LlamaModel(parameters: loaded)
        let logits = try model.forward(ids, cache: KVCache(config: model.config, capacity: 16), lastOnly: false)
        let V = model.config.vocabulary
        let last = Array(logits[(ids.count - 1) * V..<ids.count * V]).map(Double.init)
        let reference = expected["last_strided"] as! [Double]
        XCTAssertEqual(last.count, reference.count)
        for (ours, theirs) in zip(last, reference) { XCTAssertEqual(ours, theirs, accuracy: 1e-4 * max(1, abs(theirs))) }
        for (row, position) in (expected["positions"] as! [[String: Any]]).enumerated() {
            for (id, value) in zip(position["top_ids"] as! [Int], position["top_logits"] as! [Double]) {
                XCTAssertEqual(Double(logits[row * V + id]), value, accuracy: 1e-4 * max(1, abs(value)), "position \(row)")
            }
        }
        XCTAssertEqual(try model.greedy(ids, count: 4).map(Int.init), expected["greedy"] as! [Int])
        // The batched path (prefill of several prompts, then decoding) agrees with one-at-a-time greedy.
        let prompts: [[Int32]] = [ids, [5, 9], Array(ids.prefix(3))]
        let batched = try model.generate(prompts: prompts, maxTokens: 4, temperature: 0)
        for (prompt, result) in zip(prompts, batched) { XCTAssertEqual(result.tokens, try model.greedy(prompt, count: 4)) }
    }
}
