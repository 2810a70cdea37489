import Foundation
@testable import Trainer
import XCTest

final class VectorExpTests: XCTestCase {
    /// Lane exp against double-precision exp across the range logits and scores reach.
    func testLaneExpIsAccurate() {
        var worst = 0.0
        for start in stride(from: -87.0, to: 88.0, by: 0.37) {
            let x = VectorExp.Lanes((0..<VectorExp.width).map { Float(start + Double($0) * 0.0231) })
            let y = VectorExp.exp(x)
            for i in 0..<VectorExp.width {
                let exact = Foundation.exp(Double(x[i]))
                worst = max(worst, abs(Double(y[i]) - exact) / exact)
            }
        }
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertLessThan(VectorExp.exp(VectorExp.Lanes(repeating: -1000))[0], 1e-37)
        XCTAssertEqual(VectorExp.exp(VectorExp.Lanes(repeating: 0))[0], 1)
    }

    /// The vocabulary loops (odd lengths, so the scalar tails run too) against plain loops.
    func testSoftmaxAndLogSumExpMatchPlainLoops() {
        let values = (0..<49_157).map { Float(sin(Double($0) * 0.7)) * 9 }
        var plainMaximum = -Float.infinity
        for v in values { plainMaximum = max(plainMaximum, v) }
        let plainSum = values.reduce(0.0) { $0 + Foundation.exp(Double($1 - plainMaximum)) }
        let logSum = values.withUnsafeBufferPointer { Kernels.logSumExp($0) }
        XCTAssertEqual(Double(logSum), log(plainSum) + Double(plainMaximum), accuracy: 1e-5)
        var softmax = values
        softmax.withUnsafeMutableBufferPointer { Kernels.softmax($0.baseAddress!, count: $0.count) }
        XCTAssertEqual(softmax.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-5)
        XCTAssertEqual(Double(softmax[12_345]), Foundation.exp(Double(values[12_345] - plainMaximum)) / plainSum, accuracy: 1e-9)
        let (logZ, entropy) = values.withUnsafeBufferPointer { Kernels.logSumExpAndEntropy($0.baseAddress!, count: $0.count) }
        let plainEntropy = -values.reduce(0.0) { total, v in
            let p = Foundation.exp(Double(v - plainMaximum)) / plainSum
            return total + p * log(p)
        }
        XCTAssertEqual(Double(logZ), Double(logSum), accuracy: 1e-5)
        XCTAssertEqual(Double(entropy), plainEntropy, accuracy: 1e-4)
    }
}
