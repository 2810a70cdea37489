import Foundation
@testable import Sandbox
import XCTest

/// Whole programs through the zygote pool (``ZygotePool/runScript(_:)``) under the service policy: what they
/// print, how they end, and where they may write.
final class ScriptJobTests: XCTestCase {
    static var pool: ZygotePool!
    var directory = ""

    override class func setUp() {
        pool = try! ZygotePool(policyNamed: "service", size: 2)
    }

    override class func tearDown() {
        pool.shutdown()
    }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "azr-script-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func run(_ source: String, stdin: String = "", timeout: Int = 5000, memoryMB: Int? = nil, inDirectory: Bool = true) -> ScriptResult {
        Self.pool.runScript(ScriptJob(source: source, stdin: Array(stdin.utf8), directory: inDirectory ? directory : nil,
                                      timeoutMilliseconds: timeout, memoryBytes: memoryMB.map { $0 << 20 }))
    }

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    func testExitStatusesInTheSetUpRangeAreTheProgramsOwn() {
        for status in [0, 1, 119, 121, 124, 126, 255] {
            XCTAssertEqual(run("import sys\nsys.exit(\(status))").ending, .exited(Int32(status)))
        }
        XCTAssertEqual(run("import sys\nsys.exit(256 + 7)").ending, .exited(7))
    }

    func testAFailedSetUpIsASandboxFailureNotAnExitStatus() {
        let missing = Self.pool.runScript(ScriptJob(source: "print(1)", directory: directory + "/absent", timeoutMilliseconds: 2000))
        guard case let .sandboxFailure(reason) = missing.ending else { return XCTFail("\(missing.ending)") }
        XCTAssertTrue(reason.contains("set-up failed"), reason)
        XCTAssertEqual(missing.stdout, [])
    }

    func testStdinStdoutAndStderrAreTheProgramsOwn() {
        let result = run("import sys\nname = input()\nprint('hello', name)\nprint('to stderr', file=sys.stderr)\nprint(repr(sys.stdin.read()))",
                         stdin: "world\nrest")
        XCTAssertEqual(result.ending, .exited(0))
        XCTAssertEqual(text(result.stdout), "hello world\n'rest'\n")
        XCTAssertEqual(text(result.stderr), "to stderr\n")
    }

    func testUncaughtExceptionsPrintTheProgramsTraceback() {
        let result = run("def f():\n    raise KeyError('k')\nf()\n")
        XCTAssertEqual(result.ending, .exited(1))
        let stderr = text(result.stderr)
        XCTAssertTrue(stderr.hasPrefix("Traceback (most recent call last):\n  File \"\(directory)/main.py\", line 3, in <module>\n"), stderr)
        XCTAssertTrue(stderr.hasSuffix("KeyError: 'k'\n"), stderr)
    }

    func testOutputPastThePolicysCapIsDrainedAndFlagged() {
        let cap = Self.pool.policy.outputBytes
        let result = run("import sys\nsys.stdout.write('z' * \(cap * 2))\nsys.stderr.write('ok')")
        XCTAssertEqual(result.ending, .exited(0))
        XCTAssertEqual(result.stdout.count, cap)
        XCTAssertTrue(result.stdoutTruncated)
        XCTAssertFalse(result.stderrTruncated)
        XCTAssertEqual(text(result.stderr), "ok")
    }

    func testATimeoutKeepsTheLinesPrintedBeforeIt() {
        let result = run("print('one')\nprint('two')\nwhile True:\n    pass", timeout: 500)
        XCTAssertEqual(result.ending, .timedOut)
        XCTAssertEqual(text(result.stdout), "one\ntwo\n")
        XCTAssertGreaterThanOrEqual(result.wallSeconds, 0.5)
    }

    func testTheMemoryLimitIsOnTopOfTheInterpreter() {
        XCTAssertEqual(run("x = bytearray(48 << 20)\nprint(len(x))", memoryMB: 64).ending, .exited(0))
        let over = run("x = bytearray(96 << 20)", memoryMB: 64)
        XCTAssertEqual(over.ending, .exited(1))
        XCTAssertTrue(text(over.stderr).contains("MemoryError"), text(over.stderr))
    }

    func testWritesStayInTheRunsDirectory() throws {
        let inside = run("import os\nos.mkdir('d')\nopen('d/f.txt', 'w').write('kept')\nos.rename('d/f.txt', 'd/g.txt')\nprint(os.listdir('d'))")
        XCTAssertEqual(text(inside.stdout), "['g.txt']\n", text(inside.stderr))
        XCTAssertEqual(try String(contentsOfFile: directory + "/d/g.txt", encoding: .utf8), "kept")
        let outside = NSTemporaryDirectory() + "azr-script-escape-\(getpid())"
        for source in ["open('\(outside)', 'w')", "open('/etc/hostname').read()", "import os\nos.listdir('..')",
                       "import os\nos.symlink('/etc/passwd', 'link')", "import os\nos.rename('.', '\(outside)')"] {
            let result = run(source)
            XCTAssertEqual(result.ending, .exited(1), source)
            XCTAssertTrue(text(result.stderr).contains("PermissionError") || text(result.stderr).contains("OSError"), "\(source): \(text(result.stderr))")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: outside))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/link"))
    }

    func testWithoutADirectoryNothingIsWritable() {
        let result = run("open('anything.txt', 'w')", inDirectory: false)
        XCTAssertEqual(result.ending, .exited(1))
        XCTAssertTrue(text(result.stderr).contains("PermissionError"), text(result.stderr))
    }

    func testAForbiddenSystemCallIsSIGSYS() {
        // mount is EPERM by policy; a raw syscall the policy does not name (ptrace's cousin process_vm_readv) kills.
        let result = run("import ctypes\nctypes.CDLL(None).syscall(310, 1, 0, 0, 0, 0, 0)")
        XCTAssertEqual(result.ending, .signaled(SIGSYS))
    }

    func testAPolicysPythonPathIsImportableAndReadOnly() throws {
        let packages = directory + "/packages"
        try FileManager.default.createDirectory(atPath: packages, withIntermediateDirectories: true)
        try "ANSWER = 42\n".write(toFile: packages + "/extra_module.py", atomically: true, encoding: .utf8)
        let url = try PolicyLocator.locate("service")
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var python = try XCTUnwrap(json["python"] as? [String: Any])
        python["path"] = [packages]
        json["python"] = python
        let policy = try SandboxPolicy(json: try JSONSerialization.data(withJSONObject: json), file: "test.json")
        let pool = try ZygotePool(policy: policy, size: 1)
        defer { pool.shutdown() }
        let result = pool.runScript(ScriptJob(source: "import extra_module\nprint(extra_module.ANSWER)\nopen(extra_module.__file__, 'a')",
                                              timeoutMilliseconds: 5000))
        XCTAssertEqual(text(result.stdout), "42\n")
        XCTAssertTrue(text(result.stderr).contains("PermissionError"), text(result.stderr))
    }

    func testAPythonPathMustBeAbsolute() {
        let json = #"{"name": "p", "seccomp": {"default_action": "kill", "allow": []}, "limits": {"cpu_seconds": 1, "address_space_mb": 64, "wall_timeout_ms": 100, "output_chars": 10, "result_bytes": 100, "value_chars": 10, "max_value_depth": 1, "max_value_nodes": 1}, "python": {"preimport": [], "banned_imports": [], "path": ["relative/dir"]}}"#
        XCTAssertThrowsError(try SandboxPolicy(json: Data(json.utf8), file: "p.json")) { error in
            XCTAssertTrue("\(error)".contains("python.path[0]"), "\(error)")
        }
    }
}
