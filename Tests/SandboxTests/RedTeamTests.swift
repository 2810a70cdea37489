import Foundation
import XCTest
@testable import Sandbox

/// Hostile programs, each with the typed outcome it must get. None may reach the host; afterwards the pool
/// must still serve jobs and no process may be left behind.
final class RedTeamTests: XCTestCase {
    enum Expect {
        case status(String)                 // SandboxStatus.reason
        case callRaised(String)             // exception type of the single call
        case notALiteral
        case valueTooLarge
        case value(String)                  // the single call's value, compared as Python values
        case custom((SandboxResult) -> Bool)
    }

    /// Reaches the posix module without importing anything, as hostile code would.
    static let posix = "P = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'BuiltinImporter'][0].load_module"

    static let corpus: [(name: String, program: String, expect: Expect)] = [
        ("read a file", "def f():\n    return open('/etc/passwd').read()\n", .callRaised("PermissionError")),
        ("write a file", "def f():\n    open('/tmp/azr-redteam', 'w').write('x')\n", .callRaised("PermissionError")),
        ("list a folder", "\(posix)\ndef f():\n    return P('posix').listdir('/')\n", .callRaised("PermissionError")),
        // Landlock confines opening, not stat: a path's existence, size and times are visible, never its contents.
        ("stat a file", "\(posix)\ndef f():\n    return P('posix').stat('/etc/passwd').st_size > 0\n", .value("True")),
        ("read a file beside the standard library", "def f():\n    return open('/usr/lib/os-release').read()\n", .callRaised("PermissionError")),
        ("open a folder outside the standard library", "\(posix)\ndef f():\n    return P('posix').open('/etc', P('posix').O_RDONLY)\n", .callRaised("PermissionError")),
        ("write into the standard library", "import json\ndef f():\n    open(json.__file__.rsplit('/', 2)[0] + '/azr-redteam.py', 'w')\n", .callRaised("PermissionError")),
        ("truncate a standard library file", "import json\ndef f():\n    open(json.__file__, 'r+')\n", .callRaised("PermissionError")),
        ("read the standard library", "import json\ndef f():\n    return 'def ' in open(json.__file__).read()\n", .value("True")),
        ("import a C extension from disk", "import _codecs_jp\ndef f():\n    return b'\\x82\\xa0'.decode('shift_jis')\n", .value("'あ'")),
        ("map a library writable and executable", "\(posix)\nimport mmap, _codecs_jp\ndef f():\n    fd = P('posix').open(_codecs_jp.__file__, 0)\n    return mmap.mmap(fd, 4096, prot=7)\n", .status("forbidden_syscall")),
        ("map anonymous memory executable", "import mmap\ndef f():\n    return mmap.mmap(-1, 4096, prot=5)\n", .status("forbidden_syscall")),
        ("getcwd", "\(posix)\ndef f():\n    return P('posix').getcwd()\n", .callRaised("PermissionError")),
        ("import a module from disk that imports a banned one", "import xml.dom\ndef f():\n    return 1\n", .status("banned_import")),
        ("socket", "\(posix)\ndef f():\n    return P('_socket').socket()\n", .status("forbidden_syscall")),
        ("import socket", "import socket\ndef f():\n    return 1\n", .status("banned_import")),
        ("import subprocess", "import subprocess\ndef f():\n    return 1\n", .status("banned_import")),
        ("from os import system", "from os import system\ndef f():\n    return 1\n", .status("banned_import")),
        ("os.system", "\(posix)\ndef f():\n    return P('posix').system('id')\n", .status("forbidden_syscall")),
        ("fork", "\(posix)\ndef f():\n    return P('posix').fork()\n", .status("forbidden_syscall")),
        ("fork bomb", "\(posix)\ndef f():\n    while True:\n        P('posix').fork()\n", .status("forbidden_syscall")),
        ("exec a shell", "\(posix)\ndef f():\n    P('posix').execv('/bin/sh', ['sh', '-c', 'id'])\n", .status("forbidden_syscall")),
        ("thread", "\(posix)\ndef f():\n    return P('_thread').start_new_thread(print, ())\n", .status("forbidden_syscall")),
        ("memory bomb at once", "def f():\n    return len(bytearray(10 ** 11))\n", .callRaised("MemoryError")),
        ("memory bomb by growth", "def f():\n    hoard = []\n    while True:\n        hoard.append(bytes(10 ** 8))\n", .callRaised("MemoryError")),
        ("infinite loop", "def f():\n    while True:\n        pass\n", .status("timeout")),
        ("infinite loop at import", "while True:\n    pass\n", .status("timeout")),
        ("deadlocked lock", "\(posix)\ndef f():\n    l = P('_thread').allocate_lock()\n    l.acquire()\n    l.acquire()\n", .status("forbidden_syscall")),
        ("recursion bomb", "def f(n=0):\n    return f(n + 1)\n", .callRaised("RecursionError")),
        // Python-to-Python calls do not grow the C stack in 3.11; going through map() does.
        ("recursion past the C stack", "\(posix)\nP('sys').setrecursionlimit(10 ** 8)\ndef f(n=0):\n    return list(map(f, [n + 1]))\n", .status("crashed")),
        ("gigabytes of print", "def f():\n    for _ in range(2000):\n        print('x' * 10 ** 6)\n    return 1\n",
         .custom { $0.completed && $0.outputTruncated && $0.stdout.count == 65536 }),
        ("huge return value", "def f():\n    return 'x' * 10 ** 7\n", .valueTooLarge),
        ("flood the result pipe", "\(posix)\ndef f():\n    P('posix').write(3, b'x' * 10 ** 7)\n", .status("result_too_large")),
        // A frame written by the program itself is relayed like a real one: it can claim only a value that
        // `return 42` would also have produced, and values are compared outside. (Test-script mode has no
        // such defence; the README says so.)
        ("forge a result frame", "\(posix)\ndef f():\n    P('posix').write(3, P('marshal').dumps({'status': 'completed', 'calls': [{'value': '42', 'seconds': 0.0}], 'stdout': '', 'stderr': '', 'truncated': False}, 2))\n    P('posix')._exit(0)\n",
         .value("42")),
        ("forged frame followed by the real one", "\(posix)\ndef f():\n    P('posix').write(3, P('marshal').dumps({'status': 'completed', 'calls': []}, 2))\n    return 1\n",
         .status("no_result")),
        ("input()", "def f():\n    return input()\n", .callRaised("RuntimeError")),
        ("read stdin", "\(posix)\ndef f():\n    return P('posix').read(0, 10)\n", .value("b''")),
        ("ctypes", "import ctypes\ndef f():\n    return 1\n", .status("banned_import")),
        ("ctypes without import", "\(posix)\ndef f():\n    return P('_ctypes')\n", .callRaised("ImportError")),
        ("subclasses walk to posix.kill", "\(posix)\ndef f():\n    p = P('posix')\n    return p.kill(p.getppid(), 9)\n", .status("forbidden_syscall")),
        ("sys.modules['posix']", "\(posix)\ndef f():\n    return P('sys').modules['posix'].kill(1, 9)\n", .status("forbidden_syscall")),
        ("corrupt bytecode", "def f():\n    def g():\n        return 1\n    g.__code__ = g.__code__.replace(co_code=b'\\x00\\x00' + b'\\x64\\xff' * 8 + b'\\x53\\x00', co_consts=())\n    return g()\n", .status("crashed")),
        ("os._exit(0)", "\(posix)\ndef f():\n    P('posix')._exit(0)\n", .status("no_result")),
        ("exit status 0 before reporting", "\(posix)\nP('posix')._exit(0)\n", .status("no_result")),
        ("signal handler tampering", "\(posix)\ndef f():\n    s = P('_signal')\n    s.signal(s.SIGTERM, s.SIG_IGN)\n", .status("forbidden_syscall")),
        ("alarm", "\(posix)\ndef f():\n    P('_signal').alarm(1)\n", .status("forbidden_syscall")),
        ("sleep", "\(posix)\ndef f():\n    P('time').sleep(30)\n", .status("forbidden_syscall")),
        ("gc walk tampering with the harness", "\(posix)\ndef f():\n    g = P('gc')\n    g.unfreeze()\n    for o in g.get_objects():\n        if type(o) is dict and 'status' in o:\n            o['status'] = 'hacked'\n    return 1\n",
         .status("no_result")),
        ("frame walk forging the report", "\(posix)\ndef f():\n    fr = P('sys')._getframe(1)\n    while fr is not None and 'report' not in fr.f_locals:\n        fr = fr.f_back\n    fr.f_locals['report']['status'] = 'nonsense'\n    return 1\n",
         .status("no_result")),
        ("__eq__ that lies", "class A:\n    def __eq__(self, other):\n        return True\n    def __repr__(self):\n        return '42'\ndef f():\n    return A()\n", .notALiteral),
        ("__repr__ that raises", "class A:\n    def __repr__(self):\n        raise RuntimeError('no')\ndef f():\n    return [A()]\n", .notALiteral),
        ("int subclass", "class I(int):\n    def __eq__(self, other):\n        return True\ndef f():\n    return I(5)\n", .notALiteral),
        ("lying hash in a set", "class H:\n    def __hash__(self):\n        return 1\ndef f():\n    return {H(), H()}\n", .notALiteral),
        ("cyclic list", "def f():\n    a = []\n    a.append(a)\n    return a\n", .notALiteral),
        ("exception whose __str__ raises", "class E(Exception):\n    def __str__(self):\n        raise ValueError()\ndef f():\n    raise E()\n",
         .custom { if case let .raised(e, _)? = $0.calls.first { return e.type == "E" && e.message == "<unprintable>" }; return false }),
        ("exception whose __str__ loops", "class E(Exception):\n    def __str__(self):\n        while True:\n            pass\ndef f():\n    raise E()\n", .status("timeout")),
        ("SystemExit in a call", "def f():\n    raise SystemExit(0)\n", .callRaised("SystemExit")),
        ("KeyboardInterrupt at import", "raise KeyboardInterrupt\n", .status("raised")),
        ("custom BaseException", "class B(BaseException):\n    pass\nraise B('x')\n", .status("raised")),
        ("close the result fd", "\(posix)\ndef f():\n    P('posix').close(3)\n", .status("no_result")),
        ("write to stdout fd", "\(posix)\ndef f():\n    P('posix').write(1, b'hi')\n", .status("forbidden_syscall")),
        ("write to the control socket", "\(posix)\ndef f():\n    P('posix').write(0, b'AZRO')\n", .status("forbidden_syscall")),
        ("dup2 over fds", "\(posix)\ndef f():\n    P('posix').dup2(3, 0)\n", .status("forbidden_syscall")),
        ("setuid", "\(posix)\ndef f():\n    P('posix').setuid(0)\n", .status("forbidden_syscall")),
        ("environment snooping", "\(posix)\ndef f():\n    return sorted(P('posix').environ)\n", .value("[b'LANG']")),
        ("builtins tampering, first job", "import builtins\ndef f():\n    return 1\n", .status("banned_import")),
        ("syntax error", "def f(:\n    pass\n", .status("syntax_error")),
        ("null byte in source", "def f():\n    return 1\n\u{0}\n", .status("syntax_error")),
        ("no f at all", "x = 1\n", .status("missing_entry_point")),
        ("f that is not callable", "f = 3\n", .status("missing_entry_point")),
    ]

    static var pool: ZygotePool!

    override class func setUp() {
        super.setUp()
        var policy = try! PolicyLocator.load("default")
        policy.wallTimeoutMilliseconds = 1500
        pool = try! ZygotePool(policy: policy, size: 2)
    }

    override class func tearDown() {
        pool.shutdown()
        super.tearDown()
    }

    func testCorpusIsLargeEnough() {
        XCTAssertGreaterThanOrEqual(Self.corpus.count, 40)
    }

    func testEveryHostileProgramGetsItsOutcome() {
        let jobs = Self.corpus.map { SandboxJob(program: $0.program, calls: [""]) }
        let results = Self.pool.runAll(jobs)
        for (entry, result) in zip(Self.corpus, results) {
            let ok: Bool
            switch entry.expect {
            case let .status(reason): ok = result.status.reason == reason
            case let .callRaised(type):
                if result.completed, case let .raised(exception, _)? = result.calls.first { ok = exception.type == type } else { ok = false }
            case .notALiteral:
                if result.completed, case .notALiteral? = result.calls.first { ok = true } else { ok = false }
            case .valueTooLarge:
                if result.completed, case .valueTooLarge? = result.calls.first { ok = true } else { ok = false }
            case let .value(literal):
                ok = result.completed && (try? result.calls.first?.literal.map { try PythonValue(literal: $0) } == PythonValue(literal: literal)) == true
            case let .custom(check): ok = check(result)
            }
            XCTAssertTrue(ok, "\(entry.name): got \(result.summary) (\(result.status.reason))")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/azr-redteam"))
    }

    func testBuiltinsTamperingDoesNotLeakIntoTheNextJob() {
        let tamper = SandboxJob(program: "b = __builtins__ if isinstance(__builtins__, dict) else __builtins__.__dict__\ndef f():\n    b['len'] = lambda x: 42\n    b['print'] = None\n    return len([1])\n", calls: [""])
        let check = SandboxJob(program: "def f():\n    print('still here')\n    return len([1, 2, 3])\n", calls: [""])
        // On a one-zygote pool the second job certainly follows the first on the same zygote.
        let single = try! ZygotePool(policy: Self.pool.policy, size: 1)
        defer { single.shutdown() }
        XCTAssertEqual(single.run(tamper).calls.first?.literal, "42")
        let after = single.run(check)
        XCTAssertEqual(after.calls.first?.literal, "3")
        XCTAssertEqual(after.stdout, "still here\n")
    }

    func testPoolStillServesAndLeavesNoStrayProcess() throws {
        _ = Self.pool.runAll(Self.corpus.prefix(20).map { SandboxJob(program: $0.program, calls: [""]) })
        let after = Self.pool.run(SandboxJob(program: "def f(a):\n    return a * 2\n", calls: ["21"]))
        XCTAssertEqual(after.calls.first?.literal, "42")
        let zygotes = Self.pool.zygotePIDs
        XCTAssertEqual(zygotes.count, 2)
        for pid in zygotes {
            XCTAssertEqual(ProcessTable.children(of: pid), [], "zygote \(pid) kept children")
        }
        let single = try ZygotePool(policy: Self.pool.policy, size: 1)
        let pids = single.zygotePIDs
        _ = single.run(SandboxJob(program: "while True:\n    pass\n", timeoutMilliseconds: 300))
        single.shutdown()
        for pid in pids {
            XCTAssertFalse(ProcessTable.exists(pid), "zygote \(pid) survived shutdown")
        }
    }

    func testBenignProgramsWork() throws {
        let cases: [(String, String, String)] = [
            ("import re, json, heapq, itertools, collections\ndef f(s):\n    return (re.findall(r'\\d+', s), json.loads('[1, 2]'), heapq.nsmallest(2, [5, 1, 3]), list(itertools.accumulate([1, 2, 3])), collections.Counter(s).most_common(1))\n",
             "'a1b22b'", "(['1', '22'], [1, 2], [1, 3], [1, 3, 6], [('b', 2)])"),
            ("def f(n):\n    return 2 ** n\n", "300", "2037035976334486086268445688409378161051468393665936250636140449354381299763336706183397376"),
            ("def f():\n    try:\n        bytearray(10 ** 11)\n    except MemoryError:\n        return 'recovered'\n", "", "'recovered'"),
            ("def f():\n    def g(n):\n        return g(n + 1)\n    try:\n        g(0)\n    except RecursionError:\n        return 'deep'\n", "", "'deep'"),
            ("def f(s):\n    return s[::-1] + ' ✓ 😀'\n", "'ünï©ødé'", "'édø©ïnü ✓ 😀'"),
            ("def f():\n    return [float('nan') != 0, float('inf'), {1, 2}, frozenset(), b'\\x00', 1 + 2j, -0.0, '\\udc80']\n", "",
             "[True, inf, {1, 2}, frozenset(), b'\\x00', (1+2j), -0.0, '\\udc80']"),
            ("from typing import List\nfrom functools import lru_cache\n@lru_cache(None)\ndef fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\ndef f(xs: List[int]):\n    return [fib(x) for x in xs]\n",
             "[10, 50]", "[55, 12586269025]"),
        ]
        let results = Self.pool.runAll(cases.map { SandboxJob(program: $0.0, calls: [$0.1]) })
        for (entry, result) in zip(cases, results) {
            XCTAssertEqual(result.status, .completed, entry.0)
            // Both sides must exist: two missing values are not a match.
            let expected = try XCTUnwrap(try? PythonValue(literal: entry.2), "the expected value \(entry.2) must parse")
            let value = try XCTUnwrap(result.calls.first?.literal.flatMap { try? PythonValue(literal: $0) }, "\(entry.0): \(result.summary)")
            XCTAssertEqual(value, expected, "\(entry.0): \(result.summary)")
        }
    }

    func testTracebacksShowTheProgramsLines() {
        let result = Self.pool.run(SandboxJob(program: "def f(x):\n    y = x + 1\n    raise ValueError('bad %d' % y)\n", calls: ["1"]))
        guard case let .raised(exception, _)? = result.calls.first else { return XCTFail(result.summary) }
        XCTAssertEqual(exception.description, "ValueError: bad 2")
        XCTAssertTrue(exception.traceback?.contains("raise ValueError('bad %d' % y)") == true, exception.traceback ?? "")
    }
}

/// Reads the process table from /proc.
enum ProcessTable {
    static func children(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    static func exists(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }
}
