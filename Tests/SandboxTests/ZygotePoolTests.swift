import Foundation
import XCTest
@testable import Sandbox

final class ZygotePoolTests: XCTestCase {
    static var pool: ZygotePool!

    override class func setUp() {
        super.setUp()
        pool = try! ZygotePool(policyNamed: "default", size: 2)
    }

    override class func tearDown() {
        pool.shutdown()
        super.tearDown()
    }

    func testManyCallsInOneJobKeepTheirOrderAndFreshArguments() {
        let job = SandboxJob(program: "def f(xs, k=0):\n    xs.append(k)\n    return xs\n",
                             calls: ["[1]", "[1], 5", "[], -1", "[2], 1000000000000000000000000000000"])
        let result = Self.pool.run(job)
        XCTAssertEqual(result.calls.compactMap(\.literal), ["[1, 0]", "[1, 5]", "[-1]", "[2, 1000000000000000000000000000000]"])
    }

    func testArgumentsThatAreNotLiteralsAreRejectedOutsideTheSandbox() {
        let job = SandboxJob(program: "def f(x):\n    return x\n", calls: ["1", "__import__('os')", "'ok'", "[1,"])
        let result = Self.pool.run(job)
        XCTAssertEqual(result.status, .completed)
        XCTAssertEqual(result.calls.count, 4)
        XCTAssertEqual(result.calls[0].literal, "1")
        guard case .badArguments = result.calls[1], case .badArguments = result.calls[3] else {
            return XCTFail("\(result.calls)")
        }
        XCTAssertEqual(result.calls[2].literal, "'ok'")
    }

    /// A dataset's argument source that is not a literal is evaluated inside the child, with the program's
    /// names and the sandbox's limits, never in our process.
    func testArgumentExpressionsAreEvaluatedOnlyInsideTheSandbox() {
        var job = SandboxJob(program: "K = 2\ndef f(x, n=1):\n    return x * n\n",
                             calls: ["''.join(['A'] * 3)", "[1], K", "1 / 0", "open('/etc/passwd').read()",
                                     "__import__('os').system('true')", "'a' # a comment", "7"])
        job.evaluatesArguments = true
        let result = Self.pool.run(job)
        XCTAssertEqual(result.status, .completed)
        XCTAssertEqual(result.calls.count, 7)
        XCTAssertEqual(result.calls[0].literal, "'AAA'")
        XCTAssertEqual(result.calls[1].literal, "[1, 1]")
        for index in [2, 3] {
            guard case .raised = result.calls[index] else { return XCTFail("call \(index): \(result.calls[index])") }
        }
        // `os` is banned under the default policy: the expression raises there, it does not run a shell.
        guard case let .raised(error, _) = result.calls[4] else { return XCTFail("\(result.calls[4])") }
        XCTAssertTrue(error.description.contains("os"), error.description)
        XCTAssertEqual(result.calls[5].literal, "'a'")
        XCTAssertEqual(result.calls[6].literal, "7")
        // Without the flag the same texts never reach the child.
        job.evaluatesArguments = false
        let refused = Self.pool.run(job)
        guard case .badArguments = refused.calls[0] else { return XCTFail("\(refused.calls[0])") }
        XCTAssertEqual(refused.calls[6].literal, "7")
    }

    func testRunAllKeepsOrderAcrossZygotes() {
        let jobs = (0..<40).map { SandboxJob(program: "def f(n):\n    return n * n\n", calls: ["\($0)"]) }
        let results = Self.pool.runAll(jobs)
        XCTAssertEqual(results.map { $0.calls.first?.literal }, (0..<40).map { "\($0 * $0)" })
    }

    func testAZygoteThatDiesIsReplacedAndItsJobReported() throws {
        let pool = try ZygotePool(policyNamed: "default", size: 1)
        defer { pool.shutdown() }
        let victim = try XCTUnwrap(pool.zygotePIDs.first)
        // Killed once the job's child exists (not after a fixed delay, which a busy machine can outlast).
        let killer = DispatchQueue(label: "killer")
        killer.async {
            let deadline = Date().addingTimeInterval(20)
            while ProcessTable.children(of: victim).isEmpty && Date() < deadline { usleep(1000) }
            kill(victim, SIGKILL)
        }
        let lost = pool.run(SandboxJob(program: "while True:\n    pass\n", timeoutMilliseconds: 30_000))
        guard case .sandboxFailure = lost.status else { return XCTFail("got \(lost.summary)") }
        let next = pool.run(SandboxJob(program: "def f():\n    return 'alive'\n", calls: [""]))
        XCTAssertEqual(next.calls.first?.literal, "'alive'")
        XCTAssertEqual(pool.restartCount, 1)
        XCTAssertNotEqual(pool.zygotePIDs.first, victim)
    }

    /// The zygote reads a child's result into a buffer of its own; children must not inherit what one large
    /// result left resident there (each later fork would copy it). A child's peak RSS counts inherited pages.
    func testALargeResultDoesNotEnlargeLaterChildren() throws {
        let pool = try ZygotePool(policyNamed: "default", size: 1)
        defer { pool.shutdown() }
        let trivial = SandboxJob(program: "def f():\n    return 1\n", calls: [""])
        let before = (0..<5).map { _ in pool.run(trivial).maxResidentKilobytes }.min()!
        let floodKilobytes = 10_000_000 / 1024
        let flood = pool.run(SandboxJob(program: "\(RedTeamTests.posix)\ndef f():\n    P('posix').write(3, b'x' * 10_000_000)\n", calls: [""]))
        XCTAssertEqual(flood.status, .resultTooLarge)
        let after = (0..<5).map { _ in pool.run(trivial).maxResidentKilobytes }.min()!
        // Against this run's own baseline: an inherited result would add about all of its size.
        XCTAssertLessThan(after - before, floodKilobytes / 10, "children grew from \(before) kB to \(after) kB")
    }

    func testCPULimitIsEnforcedSeparatelyFromTheWallClock() throws {
        var policy = try PolicyLocator.load("default")
        policy.cpuSeconds = 1
        policy.wallTimeoutMilliseconds = 10_000
        let pool = try ZygotePool(policy: policy, size: 1)
        defer { pool.shutdown() }
        let result = pool.run(SandboxJob(program: "while True:\n    pass\n"))
        // The CPU limit, not the wall clock, ended it: its status says so, and it used most of the one CPU second
        // allowed (the wall time depends on how busy the machine is, so it is not bounded here; the child's
        // rusage read 0.84 s beside a two-thread job, so the bound leaves room for the accounting's lag).
        XCTAssertEqual(result.status, .cpuLimitExceeded)
        XCTAssertGreaterThanOrEqual(result.cpuSeconds, 0.5)
        XCTAssertLessThan(result.wallSeconds, Double(policy.wallTimeoutMilliseconds) / 1000)
    }

    func testDeterminismCheck() {
        let steady = Self.pool.runTwice(SandboxJob(program: "def f(s):\n    return sorted(set(s))\n", calls: ["'hello'"]))
        XCTAssertTrue(steady.deterministic, steady.difference ?? "")
        // String hashing is pinned (PYTHONHASHSEED), so even set iteration order is stable across zygotes.
        let sets = Self.pool.runTwice(SandboxJob(program: "def f():\n    return list({'apple', 'pear', 'fig', 'kiwi'})\n", calls: [""]))
        XCTAssertTrue(sets.deterministic, sets.difference ?? "")
        // Object addresses differ between zygotes (each has its own address-space layout).
        let addresses = Self.pool.runTwice(SandboxJob(program: "def f():\n    return id(object()) % 1000003\n", calls: [""]))
        XCTAssertFalse(addresses.deterministic)
        let nan = Self.pool.runTwice(SandboxJob(program: "def f():\n    return float('nan')\n", calls: [""]))
        XCTAssertTrue(nan.deterministic, "identical reprs are the same output even when == says otherwise")
    }

    /// Two runs in one zygote's children share its address-space layout, so an `id()`-dependent result would
    /// agree with itself. However busy the pool (every zygote taken by other jobs and other checks), each check
    /// runs its copies in two different zygotes — and a one-zygote pool starts a second one for it.
    func testTheDeterminismCheckUsesTwoZygotesUnderFullConcurrency() throws {
        let pool = try ZygotePool(policyNamed: "default", size: 2)
        defer { pool.shutdown() }
        let addresses = SandboxJob(program: "def f():\n    return [id(object()) for _ in range(3)]\n", calls: [""])
        let steady = SandboxJob(program: "def f(n):\n    return sorted(str(i) for i in range(n))\n", calls: ["30"])
        let busy = SandboxJob(program: "def f():\n    return sum(range(200000))\n", calls: [""])
        var reports = [DeterminismReport?](repeating: nil, count: 16)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 24) { index in
            if index >= 16 { _ = pool.runAll([busy, busy, busy]); return }
            let report = pool.runTwice(index % 2 == 0 ? addresses : steady)
            lock.lock(); reports[index] = report; lock.unlock()
        }
        for (index, report) in reports.enumerated() {
            let report = try XCTUnwrap(report)
            XCTAssertEqual(report.first.status, .completed)
            XCTAssertEqual(report.deterministic, index % 2 == 1, "check \(index): \(report.difference ?? "agreed")")
        }
        let single = try ZygotePool(policyNamed: "default", size: 1)
        defer { single.shutdown() }
        XCTAssertFalse(single.runTwice(addresses).deterministic)
        XCTAssertTrue(single.runTwice(steady).deterministic)
        XCTAssertEqual(single.zygotePIDs.count, 1, "the extra zygote is stopped")
    }

    func testTestScriptMode() {
        let program = "def add(a, b):\n    return a + b\n"
        let passing = Self.pool.run(SandboxJob(program: program, entryPoint: "add",
                                               testScript: "def check(c):\n    assert c(1, 2) == 3\ncheck(add)\n"))
        XCTAssertEqual(passing.status, .completed)
        let failing = Self.pool.run(SandboxJob(program: program, entryPoint: "add",
                                               testScript: "def check(c):\n    assert c(1, 2) == 4, 'wrong sum'\ncheck(add)\n"))
        guard case let .raised(exception) = failing.status else { return XCTFail(failing.summary) }
        XCTAssertEqual(exception.type, "AssertionError")
        XCTAssertEqual(exception.message, "wrong sum")
    }

    func testOversizedJobsAreRefusedBeforeAnyZygote() {
        let big = String(repeating: "#", count: ZygotePool.maxSourceBytes + 1)
        guard case .sandboxFailure = Self.pool.run(SandboxJob(program: big)).status else { return XCTFail() }
        guard case .sandboxFailure = Self.pool.run(SandboxJob(program: "", entryPoint: "os.system")).status else { return XCTFail() }
    }

    func testAPolicyThatCannotWorkStopsThePoolFromStarting() throws {
        var policy = try PolicyLocator.load("default")
        policy.allow.removeAll { $0.syscall == "exit_group" }
        XCTAssertThrowsError(try ZygotePool(policy: policy, size: 1)) { error in
            XCTAssertEqual("\(error)", "sandbox zygote failed to start: a confined test child was killed before it could exit (does the policy allow exit_group?)")
        }
        policy = try PolicyLocator.load("default")
        policy.preimport.append("no_such_module_anywhere")
        XCTAssertThrowsError(try ZygotePool(policy: policy, size: 1)) { error in
            XCTAssertEqual("\(error)", "sandbox zygote failed to start: prelude failed: No module named 'no_such_module_anywhere'")
        }
    }

    func testLenientValuesAreForBenchmarksOnly() throws {
        let program = "import collections, re\nclass Loud(int):\n    def __repr__(self):\n        return 'lies'\ndef f(kind):\n    if kind == 0:\n        return collections.Counter('abca')\n    if kind == 1:\n        return [Loud(7), collections.OrderedDict(x=1)]\n    return re.match('a+', 'aab')\n"
        let benchmark = try ZygotePool(policyNamed: "benchmark", size: 1)
        defer { benchmark.shutdown() }
        let lenient = benchmark.run(SandboxJob(program: program, calls: ["0", "1", "2"]))
        XCTAssertEqual(lenient.calls[0].literal.flatMap { try? PythonValue(literal: $0) }, try PythonValue(literal: "{'a': 2, 'b': 1, 'c': 1}"))
        XCTAssertEqual(lenient.calls[1].literal, "[7, {'x': 1}]", "a lying __repr__ is never consulted")
        guard case let .opaque(repr, _) = lenient.calls[2] else { return XCTFail("\(lenient.calls[2])") }
        XCTAssertEqual(repr, "<re.Match object; span=(0, 2), match='aa'>")
        let strict = Self.pool.run(SandboxJob(program: program.replacingOccurrences(of: "import collections, re", with: "import collections\nimport re"), calls: ["0", "1"]))
        for call in strict.calls {
            guard case .notALiteral = call else { return XCTFail("\(call)") }
        }
    }

    func testTheStandardLibraryLoadsLazilyOnlyWhereThePolicyLetsItBeRead() throws {
        // The zygote pre-imports none of these; `_codecs_jp` is a C extension, so loading it maps a library.
        let program = "def f():\n    import difflib, encodings.shift_jis\n    return [b'\\x82\\xa0'.decode('shift_jis'), difflib.SequenceMatcher(None, 'ab', 'ac').ratio()]\n"
        let lazy = Self.pool.run(SandboxJob(program: program, calls: [""]))
        XCTAssertEqual(lazy.calls.first?.literal, "['あ', 0.5]", lazy.summary)
        let strict = try ZygotePool(policyNamed: "strict", size: 1)
        defer { strict.shutdown() }
        XCTAssertEqual(try PolicyLocator.load("strict").readablePaths, [])
        guard case let .raised(exception, _)? = strict.run(SandboxJob(program: program, calls: [""])).calls.first else { return XCTFail() }
        XCTAssertEqual(exception.type, "ModuleNotFoundError")
    }

    func testAReadablePathThatCannotBeOpenedStopsThePoolFromStarting() throws {
        var policy = try PolicyLocator.load("default")
        // A path that exists but cannot be opened, even with O_PATH, by a component that is not a directory.
        policy.readablePaths.append("/dev/null/below")
        XCTAssertThrowsError(try ZygotePool(policy: policy, size: 1)) { error in
            XCTAssertEqual("\(error)", "sandbox zygote failed to start: cannot open readable path /dev/null/below: Not a directory")
        }
    }

    func testStrictPolicyHasNoEntropy() throws {
        let pool = try ZygotePool(policyNamed: "strict", size: 1)
        defer { pool.shutdown() }
        let result = pool.run(SandboxJob(program: "\(RedTeamTests.posix)\ndef f():\n    return P('posix').urandom(4)\n", calls: [""]))
        guard case .raised? = result.calls.first else { return XCTFail(result.summary) }
    }

    func testBenchmarkPolicyAllowsCommonModules() throws {
        let pool = try ZygotePool(policyNamed: "benchmark", size: 1)
        defer { pool.shutdown() }
        let result = pool.run(SandboxJob(program: "import hashlib, random, datetime\ndef f(s):\n    random.seed(1)\n    return hashlib.md5(s.encode()).hexdigest(), random.randint(1, 6), datetime.date(2024, 1, 31).isoformat()\n",
                                         calls: ["'Hello world'"]))
        XCTAssertEqual(result.calls.first?.literal, "('3e25960a79dbc69b674cd4ec67a72c62', 2, '2024-01-31')", result.summary)
    }
}

final class SandboxPolicyTests: XCTestCase {
    func load(_ json: String) throws -> SandboxPolicy {
        try SandboxPolicy(json: Data(json.utf8), file: "test.json")
    }

    func testShippedPoliciesLoadAndCompile() throws {
        for name in ["default", "strict", "benchmark"] {
            let policy = try PolicyLocator.load(name)
            XCTAssertEqual(policy.name, name)
            let program = try SeccompCompiler.compile(policy, file: name)
            // Attach cost grows with filter length: keep every shipped filter short.
            XCTAssertLessThan(program.count / 8, 80, "\(name) filter has \(program.count / 8) instructions")
        }
    }

    func testMalformedPoliciesNameTheField() throws {
        let valid = try JSONSerialization.jsonObject(with: Data(contentsOf: PolicyLocator.locate("default"))) as! [String: Any]
        func expectError(_ mutate: (inout [String: Any]) -> Void, field: String) {
            var copy = valid
            mutate(&copy)
            let data = try! JSONSerialization.data(withJSONObject: copy)
            XCTAssertThrowsError(try SandboxPolicy(json: data, file: "bad.json").compiledForTest()) { error in
                guard case let SandboxError.invalidPolicy(_, reported, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(reported, field)
            }
        }
        expectError({ $0["limits"] = ["cpu_seconds": 1] }, field: "limits.address_space_mb")
        expectError({ var l = $0["limits"] as! [String: Any]; l["cpu_seconds"] = -1; $0["limits"] = l }, field: "limits.cpu_seconds")
        expectError({ var l = $0["limits"] as! [String: Any]; l["cpu_seconds"] = true; $0["limits"] = l }, field: "limits.cpu_seconds")
        expectError({ var s = $0["seccomp"] as! [String: Any]; s["default_action"] = "allow"; $0["seccomp"] = s }, field: "seccomp.default_action")
        expectError({ var s = $0["seccomp"] as! [String: Any]; s["allow"] = [["syscall": "wrte"]]; $0["seccomp"] = s }, field: "seccomp.allow[0].syscall")
        expectError({ var s = $0["seccomp"] as! [String: Any]; s["allow"] = [["syscall": "write", "args": [["index": 9, "op": "eq", "value": 1]]]]; $0["seccomp"] = s },
                    field: "seccomp.allow[0].args[0].index")
        expectError({ var s = $0["seccomp"] as! [String: Any]; s["allow"] = [["syscall": "write", "args": [["index": 0, "op": "eq", "value": "fd_of_doom"]]]]; $0["seccomp"] = s },
                    field: "seccomp.allow[0].args[0].value")
        expectError({ var s = $0["seccomp"] as! [String: Any]; s["errno"] = ["EWHAT": ["open"]]; $0["seccomp"] = s }, field: "seccomp.errno.EWHAT")
        expectError({ var p = $0["python"] as! [String: Any]; p["preimport"] = ["os; import evil"]; $0["python"] = p }, field: "python.preimport[0]")
        expectError({ $0.removeValue(forKey: "name") }, field: "name")
        expectError({ $0["filesystem"] = ["read": ["lib/python3"]] }, field: "filesystem.read[0]")
        expectError({ $0["filesystem"] = ["read": ["python_stdlib"], "write": ["/tmp"]] }, field: "filesystem.write")
        expectError({ $0["filesystem"] = ["read": "python_stdlib"] }, field: "filesystem.read")
        XCTAssertThrowsError(try load("{not json")) { error in
            XCTAssertEqual("\(error)", "policy test.json: (file): not valid JSON")
        }
    }

    func testUnknownPolicyNameListsWhereItLooked() {
        XCTAssertThrowsError(try PolicyLocator.load("no-such-policy")) { error in
            XCTAssertTrue("\(error)".hasPrefix("no sandbox policy named 'no-such-policy' (looked in "), "\(error)")
        }
    }
}

extension SandboxPolicy {
    /// Parsing alone does not resolve syscall names; compiling does. Tests want both errors.
    func compiledForTest() throws -> [UInt8] { try SeccompCompiler.compile(self, file: "bad.json") }
}
