import Foundation
import Trainer
import XCTest

/// `azr bench trainer --json` on a small micro-batch: the keys the trainer issue names, each a real measurement.
/// (Speed itself is judged by `make bench`, never by a unit test.)
final class TrainerBenchCommandTests: XCTestCase {
    func testJSONHasEveryFigure() throws {
        guard DefaultModel.locate() != nil else { throw XCTSkip("the default model is not installed") }
        let data = try azr(["bench", "trainer", "--json", "--no-pytorch", "--batch", "1", "--length", "48"])
        let figures = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["sgemm_gflops", "train_tokens_per_s", "decode_tokens_per_s_batch32", "decode_tokens_per_s_batch1", "mfu_train"] {
            let value = try XCTUnwrap(figures[key] as? Double, key)
            XCTAssertTrue(value.isFinite && value > 0, "\(key) = \(value)")
        }
        XCTAssertEqual(figures["train_batch"] as? Int, 1)
        XCTAssertEqual(figures["train_length"] as? Int, 48)
        XCTAssertNil(figures["pytorch"])
    }
}
