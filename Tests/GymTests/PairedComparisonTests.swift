@testable import Gym
import XCTest

/// The experiment's statistics against values worked by hand.
final class PairedComparisonTests: XCTestCase {
    func testMcNemarExactAndTheIntervalOnAKnownSplit() {
        // 100 problems: 10 gained, 2 lost, 30 solved both times.
        let before = Array(repeating: true, count: 30) + Array(repeating: true, count: 2) + Array(repeating: false, count: 10) + Array(repeating: false, count: 58)
        let after = Array(repeating: true, count: 30) + Array(repeating: false, count: 2) + Array(repeating: true, count: 10) + Array(repeating: false, count: 58)
        let comparison = PairedComparison(before: before, after: after)
        XCTAssertEqual(comparison.gained, 10)
        XCTAssertEqual(comparison.lost, 2)
        XCTAssertEqual(comparison.before, 0.32, accuracy: 1e-12)
        XCTAssertEqual(comparison.after, 0.40, accuracy: 1e-12)
        // P(X ≤ 2 | n = 12, ½) = (1 + 12 + 66) / 4096, doubled.
        XCTAssertEqual(comparison.pValue, 2 * 79 / 4096, accuracy: 1e-12)
        // 0.08 ± 1.96 · sqrt((0.12 − 0.0064) / 100).
        XCTAssertEqual(comparison.low, 0.08 - 1.959964 * (0.001136).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(comparison.high, 0.08 + 1.959964 * (0.001136).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(comparison.text, "+8.0 [+1.4, +14.6], p = 0.039")
    }

    func testNoChangeIsNotSignificant() {
        let same = [true, false, true]
        let comparison = PairedComparison(before: same, after: same)
        XCTAssertEqual(comparison.pValue, 1)
        XCTAssertEqual(comparison.low, 0)
        XCTAssertEqual(comparison.high, 0)
        XCTAssertEqual(PairedComparison(before: [false], after: [true]).pValue, 1)
    }
}
