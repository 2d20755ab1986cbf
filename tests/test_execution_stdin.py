"""Stdin tests and functional calls in the engine: a whole program on a real stdin, its output judged outside."""

from __future__ import annotations

import os

import pytest

from acecoder.execution import CallTest, ExecutionEngine, Limits, StdinTest

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="the full isolation suite runs as root (CI does)")

SUM = [StdinTest("1 2\n", "3\n"), StdinTest("20 22\n", "42\n")]


@pytest.fixture(scope="module")
def engine():
    with ExecutionEngine(
        workers=2, limits=Limits(timeout=2.0, program_timeout=None, output_bytes=4096)
    ) as engine:
        yield engine


IDIOMS = {
    "input": "a, b = map(int, input().split())\nprint(a + b)\n",
    "iterate-stdin": "import sys\nfor line in sys.stdin:\n    a, b = map(int, line.split())\n    print(a + b)\n",
    "readlines": "import sys\nlines = sys.stdin.readlines()\nprint(sum(map(int, lines[0].split())))\n",
    "buffer-readline": "import sys\nline = sys.stdin.buffer.readline()\nrest = sys.stdin.buffer.readline()\n"
    "sys.stdout.buffer.write(str(sum(map(int, line.split()))).encode() + b'\\n')\n",
    "open-0": "print(sum(map(int, open(0).read().split())))\n",
    "from-sys-import": "from sys import stdin, stdout\nstdout.write(str(sum(map(int, stdin.read().split()))) + '\\n')\n",
    "main-guard-and-exit": "def main():\n    a, b = map(int, input().split())\n    print(a + b)\n    exit()\n"
    "if __name__ == '__main__':\n    main()\n",
    "global-at-top-level": "total = 0\ndef add(x):\n    global total\n    total += x\nfor v in input().split():\n"
    "    add(int(v))\nprint(total)\n",
    "quit-after-print": "print(sum(map(int, input().split())))\nquit()\n",
    # competitive programmers run main in a thread for a bigger stack; it prints after the top level ends
    "main-in-a-thread": "import sys, threading\ndef main():\n    import time\n    time.sleep(0.05)\n"
    "    print(sum(map(int, sys.stdin.read().split())))\nthreading.stack_size(1 << 26)\n"
    "threading.Thread(target=main).start()\n",
}


@pytest.mark.parametrize("name", list(IDIOMS))
def test_every_io_idiom_works_as_in_a_terminal(engine, name):
    result = engine.run_one(IDIOMS[name], SUM)
    assert result.test_results == [1, 1], (result.errors, result.output)
    assert result.modes == ["stdin", "stdin"]


FAILING = {
    "wrong": ("print(0)\n", "wrong-output"),
    "raises": ("raise ValueError('no')\n", "error:ValueError"),
    "exit-1": ("print(3)\nimport sys\nsys.exit(1)\n", "exit"),
    "loops": ("while True:\n    pass\n", "timeout"),
    "sleeps": ("import time\ntime.sleep(60)\n", "timeout"),
    "never-reads": ("print('3')\n", "wrong-output"),
    "thread-never-ends": (
        "import threading, time\nprint(42)\nthreading.Thread(target=time.sleep, args=(60,)).start()\n",
        "timeout",
    ),
}


@pytest.mark.parametrize("name", list(FAILING))
def test_wrong_programs_fail_with_the_right_label(engine, name):
    program, label = FAILING[name]
    result = engine.run_one(program, [StdinTest("20 22\n", "42\n")], Limits(timeout=0.5, wall_extra=0.5))
    assert result.test_results == [0] and result.errors == [label], result.errors


HOSTILE = {
    # the expected output is nowhere in the sandbox: not in the environment, files, memory or the arguments
    "look-for-expected": "import os, sys, gc\nseen = ' '.join(sys.argv) + str(dict(os.environ))\n"
    "for root, dirs, files in os.walk('/'):\n    if root.startswith(('/proc', '/sys', '/dev')):\n        continue\n"
    "    for f in files[:50]:\n        try:\n            seen += open(os.path.join(root, f), errors='ignore').read(2000)\n"
    "        except Exception:\n            pass\n"
    "print('42' if 'EXPECTED-4242' in seen or any('EXPECTED-4242' in repr(o) for o in gc.get_objects()[:200000]) else 'no')\n",
    "megabytes": "import sys\nsys.stdout.write('x' * (64 << 20))\n",
    "close-stdout": "import os\nos.close(1)\nprint('EXPECTED-4242')\n",
    "write-terminal": "try:\n    open('/dev/tty', 'w').write('EXPECTED-4242\\n')\nexcept OSError:\n    pass\n",
    "child-prints-later": "import os, time\nif os.fork() == 0:\n    time.sleep(0.3)\n    print('EXPECTED-4242', flush=True)\n"
    "    os._exit(0)\n",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_stdin_programs_fail(engine, name):
    result = engine.run_one(
        HOSTILE[name], [StdinTest("", "EXPECTED-4242\n")], Limits(timeout=3.0, value_bytes=1 << 20)
    )
    assert result.infra_error is None and result.test_results == [0], result.errors


def test_stdin_tests_mix_with_asserts_and_calls_in_one_job(engine):
    program = "import sys\ndef add(a, b):\n    return a + b\nif __name__ == '__main__' and not sys.stdin.isatty():\n"
    program += "    data = sys.stdin.read().split()\n    if data:\n        print(add(*map(int, data)))\n"
    tests = [
        "assert add(1, 2) == 3",
        StdinTest("1 2\n", "3\n"),
        CallTest("add", (2, 2), 4),
        "assert add(0, 0) == 1",
    ]
    result = engine.run_one(program, tests)
    assert result.test_results == [1, 1, 1, 0], result.errors
    assert result.modes == ["split", "stdin", "judge", "split"]


def test_binary_rewards_stop_at_the_first_failing_stdin_test(engine):
    tests = [StdinTest("1 2\n", "4\n"), *SUM]
    result = engine.run_one(IDIOMS["input"], tests, stop_on_failure=True)
    assert result.test_results == [0, 0, 0] and result.errors[1:] == ["skipped", "skipped"]


def test_an_unknown_comparator_fails_the_test_with_its_name(engine):
    result = engine.run_one(IDIOMS["input"], [StdinTest("1 2\n", "3\n", comparator="no-such-comparator")])
    assert result.test_results == [0] and "comparator" in result.errors[0]
