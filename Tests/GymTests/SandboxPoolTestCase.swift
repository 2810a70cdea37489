import Sandbox
import XCTest

/// A test class whose tests share one sandbox pool (default policy, two zygotes), started once for the class.
class SandboxPoolTestCase: XCTestCase {
    static var pool: ZygotePool!

    override class func setUp() {
        super.setUp()
        pool = try! ZygotePool(policyNamed: "default", size: 2)
    }

    override class func tearDown() {
        pool.shutdown()
        super.tearDown()
    }
}
