import Foundation
import Trainer
import XCTest

/// `azr bench trainer --json` on a small micro-batch: the keys the trainer issue names, each a real measurement.
/// (Speed itself is judged by `make bench`, never by a unit test.)
final class TrainerBenchCommandTests: XCTestCase {
    func testJSONHasEveryFigure() throws {
        guard DefaultModel.locateSmall() != nil else { throw XCTSkip("the default model is not installed") }
        let data = try azr(["bench", "trainer", "--json", "--no-pytorch", "--sequences", "1", "--length", "48"])
        let figures = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["sgemm_gflops", "train_tokens_per_s", "decode_tokens_per_s_batch32", "decode_tokens_per_s_batch1",
                    "group_decode_tokens_per_s", "mfu_train", "peak_rss_gb", "train_peak_rss_gb"] {
            let value = try XCTUnwrap(figures[key] as? Double, key)
            XCTAssertTrue(value.isFinite && value > 0, "\(key) = \(value)")
        }
        XCTAssertLessThan(try XCTUnwrap(figures["mfu_train"] as? Double), 1, "MFU counts the model's own FLOPs")
        XCTAssertEqual(figures["train_sequences"] as? Int, 1)
        XCTAssertEqual(figures["train_length"] as? Int, 48)
        XCTAssertEqual(figures["architecture"] as? String, "llama")
        XCTAssertFalse(try XCTUnwrap(figures["blas_kernel"] as? String).isEmpty)
        XCTAssertNil(figures["pytorch"])
    }

    /// The tool never runs OpenBLAS's generic kernel on a CPU that has AVX2, even when the environment asks for it
    /// (OpenBLAS 0.3.21 falls back to Prescott on CPUs it does not know).
    func testTheChosenKernelIsNotTheGenericOneOnAnAVX2CPU() throws {
        guard DefaultModel.locateSmall() != nil else { throw XCTSkip("the default model is not installed") }
        let flags = BLASKernel.cpuFlags()
        guard flags.contains("avx2"), flags.contains("fma") else { throw XCTSkip("this CPU has no AVX2 + FMA: no better kernel than the generic one exists") }
        let data = try azr(["bench", "trainer", "--json", "--training-only", "--sequences", "1", "--length", "40"],
                           environment: ["OPENBLAS_CORETYPE": "Prescott", "AZR_BLAS_CORETYPE": ""])
        let figures = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let kernel = try XCTUnwrap(figures["blas_kernel"] as? String)
        XCTAssertEqual(kernel, BLASKernel.best(flags: flags))
        XCTAssertGreaterThanOrEqual(BLASKernel.rank(kernel) ?? 0, BLASKernel.rank("Haswell")!)
        XCTAssertTrue(try XCTUnwrap(figures["blas_selection"] as? String).contains("the library had chosen Prescott"))
    }
}
