import Foundation
@testable import Trainer
import XCTest

final class BLASKernelTests: XCTestCase {
    func testTheBestKernelFollowsTheCPUFlags() {
        XCTAssertEqual(BLASKernel.best(flags: ["sse3", "sse4_2"]), "Nehalem")
        XCTAssertEqual(BLASKernel.best(flags: ["sse3", "sse4_2", "avx", "avx2", "fma"]), "Haswell")
        let avx512: Set = ["sse3", "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        XCTAssertEqual(BLASKernel.best(flags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernel.best(flags: avx512.union(["avx512_bf16"])), "Cooperlake")
        XCTAssertEqual(BLASKernel.best(flags: avx512.subtracting(["avx512vl"])), "Haswell", "every flag a kernel needs")
        XCTAssertNil(BLASKernel.best(flags: []))
        XCTAssertEqual(BLASKernel.rank("Zen"), BLASKernel.rank("Haswell"))
        XCTAssertNil(BLASKernel.rank("SapphireRapids"))
    }

    func testFlagsAreReadFromCPUInfo() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse3 avx2 fma avx512f\nbugs\t\t: spectre\n"
        XCTAssertEqual(BLASKernel.cpuFlags(cpuinfo: cpuinfo), ["fpu", "sse3", "avx2", "fma", "avx512f"])
        XCTAssertEqual(BLASKernel.cpuFlags(cpuinfo: nil), [])
    }

    /// The running kernel computes the trainer's shapes correctly (the check the CLI runs at start-up).
    func testTheRunningKernelPassesItsNumericalCheck() {
        XCTAssertNil(BLASKernel.verify())
        XCTAssertFalse(BLASKernel.current.isEmpty)
    }
}
