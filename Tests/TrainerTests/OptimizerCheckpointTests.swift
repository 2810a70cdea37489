import Foundation
@testable import Trainer
import XCTest

final class OptimizerCheckpointTests: XCTestCase {
    /// Two steps, save, a third step; against: two steps, save, load into a fresh optimizer, a third step.
    func testSavedMomentsContinueTheSameOptimisation() throws {
        func steps(_ optimizer: AdamW, _ parameters: inout [Float], _ gradients: [[Float]]) {
            for var gradient in gradients {
                parameters.withUnsafeMutableBufferPointer { p in gradient.withUnsafeMutableBufferPointer { _ = optimizer.update(parameters: p, gradient: $0) } }
            }
        }
        let gradients: [[Float]] = [[0.5, -1, 2], [1, 1, -3], [-0.25, 2, 0.5]]
        var straight: [Float] = [1, 2, 3]
        let first = AdamW(parameterCount: 3, learningRate: 0.05, weightDecay: 0.1)
        steps(first, &straight, Array(gradients.prefix(2)))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("adam-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        try OptimizerCheckpoint.write(first, to: file)
        var resumed = straight
        steps(first, &straight, [gradients[2]])

        let second = AdamW(parameterCount: 3, learningRate: 0.05, weightDecay: 0.1)
        try OptimizerCheckpoint.read(into: second, from: file)
        XCTAssertEqual(second.step, 2)
        steps(second, &resumed, [gradients[2]])
        XCTAssertEqual(straight, resumed)

        // A fresh optimizer (moments lost) would have moved differently: the test can tell.
        var fresh = resumed
        steps(AdamW(parameterCount: 3, learningRate: 0.05, weightDecay: 0.1), &fresh, [gradients[2]])
        XCTAssertNotEqual(fresh, straight)
    }

    func testWrongSizeAndTruncatedFilesAreClearErrors() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("adam-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        try OptimizerCheckpoint.write(AdamW(parameterCount: 8, learningRate: 0.1), to: file)
        XCTAssertThrowsError(try OptimizerCheckpoint.read(into: AdamW(parameterCount: 9, learningRate: 0.1), from: file)) {
            XCTAssertTrue("\($0)".contains("holds 8 parameters, the model has 9"), "\($0)")
        }
        let data = try Data(contentsOf: file)
        try data.prefix(40).write(to: file)
        XCTAssertThrowsError(try OptimizerCheckpoint.read(into: AdamW(parameterCount: 8, learningRate: 0.1), from: file)) {
            XCTAssertTrue("\($0)".contains("truncated"), "\($0)")
        }
    }
}
