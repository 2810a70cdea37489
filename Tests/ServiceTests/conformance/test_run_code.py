"""SandboxFusion's /run_code contract as veRL uses it, checked against a running `azr serve`.

Needs only requests and pytest. The Swift test ConformanceTests starts the servers and sets:
AZR_SERVE_URL (8 workers, 1 MiB body limit), AZR_SERVE_SMALL_URL (1 worker, 1 waiting slot), and
AZR_SERVE_TOKEN_FILE (the bearer token both require).
"""
import base64
import concurrent.futures
import os
import time

import pytest
import requests

URL = os.environ["AZR_SERVE_URL"]
SMALL_URL = os.environ["AZR_SERVE_SMALL_URL"]
TOKEN = open(os.environ["AZR_SERVE_TOKEN_FILE"]).read().strip()
MAX_BODY = int(os.environ["AZR_SERVE_MAX_BODY"])
AUTH = {"Authorization": "Bearer " + TOKEN}


def run(code, base=URL, **fields):
    """POSTs like veRL's client; the client gives up at compile + run timeout + 10 s, as veRL does."""
    body = {"code": code, "language": "python", **fields}
    deadline = body.get("compile_timeout", 10) + body.get("run_timeout", 10) + 10
    response = requests.post(base + "/run_code", json=body, headers=AUTH, timeout=deadline)
    assert response.status_code == 200, response.text
    return response.json()


def test_ping():
    response = requests.get(URL + "/v1/ping", timeout=5)
    assert response.status_code == 200
    assert response.json() == "pong"


def test_success_has_every_field():
    result = run("print('hello')\nprint(__name__)")
    assert result["status"] == "Success"
    assert result["message"] == ""
    assert result["compile_result"] is None
    assert result["files"] == {}
    assert "executor_pod_name" in result
    run_result = result["run_result"]
    assert run_result["status"] == "Finished"
    assert run_result["return_code"] == 0
    assert run_result["stdout"] == "hello\n__main__\n"
    assert run_result["stderr"] == ""
    assert 0 <= run_result["execution_time"] < 5


def test_wrong_output_is_still_a_successful_run():
    # The service runs; the caller judges (veRL compares stdout with the expected output).
    result = run("print(2 + 2 == 5)")
    assert result["status"] == "Success"
    assert result["run_result"]["stdout"].rstrip("\n") == "False"


def test_runtime_error_fails_with_traceback():
    result = run("x = 1\ny = x / 0\n")
    assert result["status"] == "Failed"
    assert result["run_result"]["status"] == "Finished"
    assert result["run_result"]["return_code"] == 1
    stderr = result["run_result"]["stderr"]
    assert stderr.startswith("Traceback (most recent call last):\n")
    assert 'main.py", line 2, in <module>' in stderr
    assert "y = x / 0" in stderr
    assert stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "_azr" not in stderr  # the harness's own frames are not shown


def test_syntax_error_fails_with_the_compiler_message():
    result = run("def f(:\n    pass\n")
    assert result["status"] == "Failed"
    assert result["run_result"]["return_code"] == 1
    assert "SyntaxError" in result["run_result"]["stderr"]
    assert 'main.py", line 1' in result["run_result"]["stderr"]


def test_exit_codes_are_the_programs_own():
    assert run("import sys\nsys.exit(3)")["run_result"]["return_code"] == 3
    # 119..126 are the sandbox's own set-up codes; a program that exits with them is still just a program.
    result = run("raise SystemExit(121)")
    assert (result["status"], result["run_result"]["return_code"]) == ("Failed", 121)
    result = run("exit('bye')")
    assert result["run_result"]["return_code"] == 1
    assert result["run_result"]["stderr"] == "bye\n"
    assert run("quit()")["status"] == "Success"


def test_timeout_keeps_partial_output():
    started = time.monotonic()
    result = run("import sys\nprint('started')\nsys.stderr.write('warming up\\n')\nwhile True:\n    pass\n", run_timeout=1)
    elapsed = time.monotonic() - started
    assert result["status"] == "Failed"
    assert result["run_result"]["status"] == "TimeLimitExceeded"
    assert result["run_result"]["return_code"] is None
    assert result["run_result"]["stdout"] == "started\n"
    assert result["run_result"]["stderr"] == "warming up\n"
    assert 1.0 <= result["run_result"]["execution_time"] < 2.5
    assert elapsed < 5


def test_fractional_timeout_and_sleep():
    result = run("import time\ntime.sleep(0.2)\nprint('woke')", run_timeout=0.5)
    assert result["status"] == "Success", result
    result = run("import time\ntime.sleep(5)", run_timeout=0.3)
    assert result["run_result"]["status"] == "TimeLimitExceeded"
    assert result["run_result"]["execution_time"] < 1.5


@pytest.mark.parametrize("stdin", [None, ""])
def test_absent_stdin_is_end_of_file(stdin):
    result = run("import sys\nprint(repr(sys.stdin.read()))\ntry:\n    input()\nexcept EOFError:\n    print('eof')", stdin=stdin)
    assert result["run_result"]["stdout"] == "''\neof\n"


STDIN = "3 4\nline two\n" + "x" * 200000 + "\n"


@pytest.mark.parametrize(
    "code",
    [
        "a, b = map(int, input().split())\nimport sys\nsecond = sys.stdin.readline()\nrest = sys.stdin.read()\n",
        "a, b = map(int, open(0).readline().split())\n",
        "import sys\nlines = sys.stdin.buffer.read().split(b'\\n')\na, b = map(int, lines[0].split())\n",
    ],
    ids=["input and sys.stdin", "open(0)", "sys.stdin.buffer"],
)
def test_stdin_is_the_programs_standard_input(code):
    result = run(code + "print(a + b)\n", stdin=STDIN)
    assert result["status"] == "Success", result
    assert result["run_result"]["stdout"] == "7\n"
    if "rest" in code:
        assert run(code + "print(second.strip(), len(rest))", stdin=STDIN)["run_result"]["stdout"] == "line two 200001\n"


def test_output_is_byte_exact_and_large():
    code = "import sys\nsys.stdout.write('é' * 100000 + '\\n')\nsys.stdout.write('no newline at the end')"
    result = run(code)
    assert result["run_result"]["stdout"] == "é" * 100000 + "\nno newline at the end"


def test_output_past_the_cap_is_cut_without_a_false_timeout():
    # SandboxFusion cuts near 214 KiB and can turn a full pipe into a timeout; we keep 4 MiB and drain the rest.
    result = run("import sys\nfor _ in range(1000):\n    sys.stdout.write('y' * 10000 + '\\n')\nprint('done', file=sys.stderr)", run_timeout=10)
    assert result["status"] == "Success", result["message"]
    assert result["run_result"]["status"] == "Finished"
    assert len(result["run_result"]["stdout"]) == 4 * 1024 * 1024
    assert result["run_result"]["stderr"] == "done\n"
    assert "stdout cut at 4194304 bytes" in result["message"]


def test_files_in_and_out():
    files = {
        "data/input.txt": base64.b64encode(b"alpha\nbeta\n").decode(),
        "helper.py": base64.b64encode(b"def double(x):\n    return 2 * x\n").decode(),
        "empty.txt": None,
    }
    code = (
        "import helper, os\n"
        "lines = open('data/input.txt').read().split()\n"
        "os.makedirs('out', exist_ok=True)\n"
        "with open('out/result.bin', 'wb') as f:\n"
        "    f.write(bytes(range(256)))\n"
        "print(lines, helper.double(21), open('empty.txt').read() == '', sorted(os.listdir('.')))\n"
    )
    result = run(code, files=files, fetch_files=["out/result.bin", "data/input.txt", "missing.txt"])
    assert result["status"] == "Success", result
    assert result["run_result"]["stdout"] == "['alpha', 'beta'] 42 True ['data', 'empty.txt', 'helper.py', 'out']\n"
    assert base64.b64decode(result["files"]["out/result.bin"]) == bytes(range(256))
    assert base64.b64decode(result["files"]["data/input.txt"]) == b"alpha\nbeta\n"
    assert "missing.txt" not in result["files"]
    assert "missing.txt" in result["message"]


def test_runs_do_not_see_each_others_files():
    first = run("open('secret.txt', 'w').write('mine')\nimport os\nprint(os.getcwd())")
    where = first["run_result"]["stdout"].strip()
    second = run("import os\nprint(os.listdir('.'))\ntry:\n    open(%r + '/secret.txt')\nexcept OSError as e:\n    print(type(e).__name__)" % where)
    assert second["run_result"]["stdout"] == "[]\nFileNotFoundError\n" or "PermissionError" in second["run_result"]["stdout"]


def test_memory_limit_counts_the_programs_own_memory():
    # 1024 MB is what veRL sends: 300 MB must fit whatever the interpreter itself maps.
    ok = run("x = bytearray(300 * 1024 * 1024)\nprint(len(x))", memory_limit_MB=1024)
    assert ok["status"] == "Success", ok
    small = run("x = bytearray(20 * 1024 * 1024)\nprint('fits')\ny = bytearray(200 * 1024 * 1024)", memory_limit_MB=64)
    assert small["run_result"]["stdout"] == "fits\n"
    assert small["status"] == "Failed"
    assert "MemoryError" in small["run_result"]["stderr"]


def test_signal_death_is_a_negative_return_code():
    result = run("import ctypes\nctypes.string_at(0)")
    assert result["status"] == "Failed"
    assert result["run_result"]["status"] == "Finished"
    assert result["run_result"]["return_code"] == -11


def test_each_run_is_freshly_seeded():
    outputs = {run("import random\nprint(random.random())")["run_result"]["stdout"] for _ in range(4)}
    assert len(outputs) == 4


def test_other_languages_are_a_sandbox_error_naming_them():
    result = run("console.log(1)", language="nodejs")
    assert result["status"] == "SandboxError"
    assert "nodejs" in result["message"]


def test_missing_language_is_python():
    response = requests.post(URL + "/run_code", json={"code": "print(1)"}, headers=AUTH, timeout=20)
    assert response.json()["run_result"]["stdout"] == "1\n"


def test_unknown_fields_are_ignored():
    assert run("print(1)", dataset="x", extra={"a": 1})["status"] == "Success"


@pytest.mark.parametrize(
    "body, location",
    [
        ({"language": "python"}, ["body", "code"]),
        ({"code": 5}, ["body", "code"]),
        ({"code": "print(1)", "run_timeout": "soon"}, ["body", "run_timeout"]),
        ({"code": "print(1)", "run_timeout": 0}, ["body", "run_timeout"]),
        ({"code": "print(1)", "memory_limit_MB": 1.5}, ["body", "memory_limit_MB"]),
        ({"code": "print(1)", "stdin": 3}, ["body", "stdin"]),
        ({"code": "print(1)", "files": {"../escape.txt": ""}}, ["body", "files", "../escape.txt"]),
        ({"code": "print(1)", "files": {"a.txt": "not base64!"}}, ["body", "files", "a.txt"]),
        ({"code": "print(1)", "fetch_files": ["/etc/passwd"]}, ["body", "fetch_files", "0"]),
    ],
)
def test_bad_bodies_get_422_naming_the_field(body, location):
    response = requests.post(URL + "/run_code", json=body, headers=AUTH, timeout=10)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [item["loc"] for item in detail] == [location]
    assert all(item["msg"] and item["type"] for item in detail)


def test_body_that_is_not_json_gets_422():
    response = requests.post(URL + "/run_code", data=b"{not json", headers=AUTH, timeout=10)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_wrong_method_and_path():
    assert requests.get(URL + "/run_code", headers=AUTH, timeout=10).status_code == 405
    assert requests.post(URL + "/v1/ping", headers=AUTH, timeout=10).status_code == 405
    assert requests.get(URL + "/nothing", headers=AUTH, timeout=10).status_code == 404


def test_oversized_body_gets_413():
    response = requests.post(URL + "/run_code", json={"code": "#" * (MAX_BODY + 10)}, headers=AUTH, timeout=10)
    assert response.status_code == 413


def test_token_is_required():
    body = {"code": "print(1)"}
    assert requests.post(URL + "/run_code", json=body, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer " + TOKEN + "x"}
    assert requests.post(URL + "/run_code", json=body, headers=wrong, timeout=10).status_code == 401
    assert requests.post(URL + "/run_code", json=body, headers=AUTH, timeout=10).status_code == 200


def test_saturation_answers_504_at_once():
    def post(index):
        started = time.monotonic()
        response = requests.post(SMALL_URL + "/run_code", json={"code": "import time\ntime.sleep(1.5)"}, headers=AUTH, timeout=30)
        return response.status_code, time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(post, range(4)))
    refused = [elapsed for status, elapsed in results if status == 504]
    assert sorted(status for status, _ in results).count(200) >= 2
    assert refused, results
    assert all(elapsed < 1.0 for elapsed in refused), results


VERL_STYLE_HARNESS = '''
import string, re, datetime, collections, heapq, bisect, copy, math, random, statistics, itertools
import functools, operator, io, sys, json, builtins, typing, traceback
from string import *
from re import *
from datetime import *
from collections import *
from heapq import *
from bisect import *
from copy import *
from math import *
from random import *
from statistics import *
from itertools import *
from functools import *
from operator import *
from io import *
from sys import *
from json import *
from builtins import *
from typing import *

class Solution:
    def twoSum(self, nums: List[int], target: int) -> List[int]:
        seen = {}
        for index, value in enumerate(nums):
            if target - value in seen:
                return [seen[target - value], index]
            seen[value] = index

if __name__ == "__main__":
    arguments = [json.loads(line) for line in sys.stdin.read().split("\\n") if line.strip()]
    answer = Solution().twoSum(*arguments)
    print(json.dumps(answer))
'''


def test_verl_style_fn_name_harness():
    result = run(VERL_STYLE_HARNESS, stdin="[2, 7, 11, 15]\n9\n")
    assert result["status"] == "Success", result
    assert result["run_result"]["stdout"] == "[0, 1]\n"
    # The twenty stdlib modules are loaded in the zygote, so this costs no imports from disk.
    assert result["run_result"]["execution_time"] < 0.5


def test_hundred_concurrent_requests_with_sleeps_and_timeouts():
    jobs = []
    for index in range(100):
        if index % 10 == 0:
            jobs.append(("while True:\n    pass", 1, "TimeLimitExceeded"))
        elif index % 3 == 0:
            jobs.append(("import time\ntime.sleep(0.5)\nprint(%d)" % index, 5, "Finished"))
        else:
            jobs.append(("print(%d)" % index, 5, "Finished"))

    session = requests.Session()

    def post(job):
        code, timeout, expected = job
        result = run(code, run_timeout=timeout)
        return result["run_result"]["status"] == expected

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(100) as pool:
        outcomes = list(pool.map(post, jobs))
    assert all(outcomes)
    assert time.monotonic() - started < 20  # each client's own deadline is 1 + 10 + 10 s or more
    session.close()


def raised(name):
    return lambda result: result["run_result"]["return_code"] == 1 and name in result["run_result"]["stderr"]


def killed_by(signal_number):
    return lambda result: result["run_result"]["return_code"] == -signal_number


def timed_out(result):
    return result["run_result"]["status"] == "TimeLimitExceeded"


# The Sandbox tests' red-team programs (Tests/SandboxTests/RedTeamTests.swift), as whole scripts, with what the
# service policy answers: the same confinement, with files, sleeping and more syscalls allowed.
RED_TEAM = [
    ("read a file outside", "print(open('/etc/passwd').read())", raised("PermissionError")),
    ("read beside the standard library", "print(open('/usr/lib/os-release').read())", raised("PermissionError")),
    ("list the root", "import os\nprint(os.listdir('/'))", raised("PermissionError")),
    ("list the other runs", "import os\nprint(os.listdir('..'))", raised("PermissionError")),
    ("write outside", "open('/tmp/azr-serve-escape.txt', 'w').write('x')", raised("PermissionError")),
    ("write into the standard library", "import json\nopen(json.__file__.rsplit('/', 2)[0] + '/azr-escape.py', 'w')", raised("PermissionError")),
    ("truncate a standard library file", "import json\nopen(json.__file__, 'r+')", raised("PermissionError")),
    ("socket", "import socket\nsocket.create_connection(('127.0.0.1', 80))", raised("PermissionError")),
    ("process", "import subprocess\nsubprocess.run(['id'])", raised("PermissionError")),
    # glibc's system() cannot spawn the shell (clone is EPERM) and reports status 127 << 8.
    ("os.system", "import os\nprint(os.system('id'))\nexit(1)", lambda r: r["run_result"]["stdout"] == "32512\n"),
    ("fork", "import os\nos.fork()", raised("PermissionError")),
    ("fork bomb", "import os\nwhile True:\n    os.fork()", raised("PermissionError")),
    ("exec a shell", "import os\nos.execv('/bin/sh', ['sh', '-c', 'id'])", raised("PermissionError")),
    ("thread", "import threading\nthreading.Thread(target=print).start()", raised("RuntimeError")),
    ("kill the server", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", raised("PermissionError")),
    ("kill everything", "import os, signal\nos.kill(-1, signal.SIGKILL)", raised("PermissionError")),
    ("symlink out", "import os\nos.symlink('/etc/passwd', 'p')", raised("PermissionError")),
    ("hard link out", "import os\nos.link('/etc/passwd', 'p')", raised("PermissionError")),
    ("fifo", "import os\nos.mkfifo('p')", raised("PermissionError")),
    ("raise a limit", "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))", raised("Error")),
    ("setuid", "import os\nos.setuid(0)", killed_by(31)),
    ("map anonymous memory executable", "import mmap\nmmap.mmap(-1, 4096, prot=5)", killed_by(31)),
    ("map a library writable and executable", "import mmap, os, _codecs_jp\nfd = os.open(_codecs_jp.__file__, 0)\nmmap.mmap(fd, 4096, prot=7)", killed_by(31)),
    ("memory bomb at once", "print(len(bytearray(10 ** 11)))", raised("MemoryError")),
    ("infinite loop at import", "while True:\n    pass", timed_out),
    ("deadlocked lock", "import _thread\nl = _thread.allocate_lock()\nl.acquire()\nl.acquire()", timed_out),
    ("recursion bomb", "def f(n=0):\n    return f(n + 1)\nf()", raised("RecursionError")),
    ("recursion past the C stack", "import sys\nsys.setrecursionlimit(10 ** 8)\ndef f(n=0):\n    return list(map(f, [n + 1]))\nf()", killed_by(11)),
    ("corrupt bytecode", "def g():\n    return 1\ng.__code__ = g.__code__.replace(co_code=b'\\x00\\x00' + b'\\x64\\xff' * 8 + b'\\x53\\x00', co_consts=())\ng()", lambda r: r["run_result"]["return_code"] < 0),
    ("flood the result pipe", "import os\nos.write(3, b'x' * 10 ** 7)", killed_by(9)),
    # fd 0 is the run's own stdin (/dev/null or its stdin's memfd), never the zygote's control socket.
    ("write to fd 0", "import os\nos.write(0, b'AZRO')\nexit(2)", lambda r: r["run_result"]["return_code"] == 2),
    ("close every fd", "import os\nos.closerange(0, 64)\nprint('gone')", lambda r: r["run_result"]["return_code"] != 0 or r["run_result"]["stdout"] == ""),
    ("signal handler tampering", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass", timed_out),
    ("environment snooping", "import os\nprint(sorted(os.environ))\nexit(1)", lambda r: r["run_result"]["stdout"] == "['LANG']\n"),
    ("gc walk tampering with the harness", "import gc\ngc.unfreeze()\nfor o in gc.get_objects():\n    if type(o) is dict and 'source' in o:\n        o['source'] = 'hacked'\nexit(3)", lambda r: r["run_result"]["return_code"] == 3),
    ("read /proc", "print(open('/proc/self/environ').read())", raised("PermissionError")),
]


@pytest.mark.parametrize("name, code, check", RED_TEAM, ids=[name for name, _, _ in RED_TEAM])
def test_hostile_programs_stay_inside(name, code, check):
    result = run(code, run_timeout=3)
    assert result["status"] == "Failed", result
    assert check(result), result
    assert not os.path.exists("/tmp/azr-serve-escape.txt")
    assert requests.get(URL + "/v1/ping", timeout=5).json() == "pong"
    assert run("print(6 * 7)")["run_result"]["stdout"] == "42\n"


def test_a_memory_bomb_fails_alone():
    result = run("x = []\nwhile True:\n    x.append(bytearray(10 ** 7))", run_timeout=10, memory_limit_MB=256)
    assert result["status"] == "Failed"
    assert "MemoryError" in result["run_result"]["stderr"]
    assert run("print('still here')")["run_result"]["stdout"] == "still here\n"
