"""Hostile programs against stdin tests: none may pass a test it does not solve, hang the engine, or disturb the
next test. The expected output is a fresh random string, so only reading it could produce it.

These run once the engine runs stdin tests (``acecoder.execution.SUPPORTS_TEST_KINDS``)."""

from __future__ import annotations

import secrets
import time

import pytest

import acecoder.execution
from acecoder.execution import ExecutionEngine, Job, Limits
from acecoder.execution.testkinds import StdinTest

pytestmark = pytest.mark.skipif(
    not getattr(acecoder.execution, "SUPPORTS_TEST_KINDS", False),
    reason="the engine does not run stdin tests yet (acecoder.execution.SUPPORTS_TEST_KINDS)",
)

LIMITS = Limits(timeout=2.0, program_timeout=None, wall_extra=1.0)


@pytest.fixture(scope="module")
def engine():
    with ExecutionEngine(workers=2, limits=LIMITS) as engine:
        yield engine


def _run(engine, program: str, tests: list[StdinTest]):
    started = time.monotonic()
    (result,) = list(engine.run([Job(program, tests)]))
    return result, time.monotonic() - started


def test_a_correct_program_passes(engine):
    result, _ = _run(engine, "print(int(input()) * 2)\n", [StdinTest("21\n", "42\n", "exact")])
    assert result.test_results == [1] and result.infra_error is None


SEARCH = r"""
import os, sys, glob
secret_prefix = "ACECODER-SECRET-"
found = []
def scan(text):
    i = text.find(secret_prefix)
    if i >= 0:
        found.append(text[i:i + 64].split()[0])
places = ["/proc/self/environ", "/proc/self/cmdline", "/proc/1/cmdline", "/proc/1/environ"]
places += glob.glob("/proc/*/cmdline") + glob.glob("/proc/*/environ") + glob.glob("/tmp/*") + glob.glob("./*")
places += glob.glob("/proc/self/fd/*") + glob.glob("/dev/shm/*")
for path in places:
    try:
        with open(path, "rb") as f:
            scan(f.read(1 << 20).decode("latin-1"))
    except Exception:
        pass
for key, value in os.environ.items():
    scan(value)
scan(" ".join(sys.argv))
try:
    with open("/proc/%d/mem" % os.getppid(), "rb") as f:
        scan(f.read(1 << 16).decode("latin-1"))
except Exception:
    pass
print(found[0] if found else "nothing")
"""


def test_the_expected_output_is_nowhere_the_program_can_read(engine):
    secret = "ACECODER-SECRET-" + secrets.token_hex(16)
    result, _ = _run(
        engine, SEARCH, [StdinTest("", secret + "\n", "exact"), StdinTest("x\n", secret, "livecodebench")]
    )
    assert result.test_results == [0, 0]


def test_megabytes_of_output_fail_without_hanging(engine):
    program = "import sys\nsys.stdout.write('9' * 50_000_000)\nsys.stdout.write('\\n' + input())\n"
    result, seconds = _run(engine, program, [StdinTest("ok\n", "ok\n", "livecodebench")])
    assert result.test_results == [0] and result.infra_error is None and seconds < 30
    # the right answer followed by megabytes of blanks is not forgiven by a whitespace-stripping comparator
    program = "print(input())\nimport sys\nsys.stdout.write(' ' * 20_000_000)\n"
    result, _ = _run(engine, program, [StdinTest("ok\n", "ok\n", "livecodebench")])
    assert result.test_results == [0]


def test_a_program_that_never_reads_stdin(engine):
    # a constant answer is a legitimate pass; blocking forever is a timeout, not a hang
    result, _ = _run(engine, "print(42)\n", [StdinTest("anything\n", "42\n", "exact")])
    assert result.test_results == [1]
    result, seconds = _run(
        engine, "import time\ntime.sleep(600)\nprint(42)\n", [StdinTest("", "42\n", "exact")]
    )
    assert result.test_results == [0] and seconds < 30


@pytest.mark.parametrize(
    "program",
    [
        "import os\nanswer = input()\nos.close(1)\nprint(answer)\n",
        "import sys\nanswer = input()\nsys.stdout.close()\nprint(answer)\n",
        "import os\nanswer = input()\nos.write(2, (answer + '\\n').encode())\n",  # stderr is not stdout
        "answer = input()\nopen('/dev/tty', 'w').write(answer + '\\n')\n",  # nor is the terminal
    ],
    ids=["close-fd-1", "close-sys-stdout", "stderr", "dev-tty"],
)
def test_output_elsewhere_than_stdout_does_not_count(engine, program):
    result, _ = _run(engine, program, [StdinTest("hello\n", "hello\n", "exact")])
    assert result.test_results == [0] and result.infra_error is None


def test_a_forked_child_printing_after_its_parent_exits(engine):
    program = (
        "import os, sys, time\n"
        "n = input().strip()\n"
        "if n == '1' and os.fork() == 0:\n"
        "    time.sleep(0.5)\n"
        "    print('B', flush=True)\n"
        "    os._exit(0)\n"
        "print('X')\n"
        "sys.stdout.flush()\n"
        "if n == '2':\n"
        "    time.sleep(1.0)\n"
    )
    # test 1 expects what the orphan prints late, test 2 what would pass only if that output leaked into it
    tests = [StdinTest("1\n", "X\nB\n", "exact"), StdinTest("2\n", "X\nB\n", "exact")]
    result, seconds = _run(engine, program, tests)
    assert result.test_results == [0, 0] and seconds < 30
    # and the engine is still well: the next program runs normally
    result, _ = _run(engine, "print(input())\n", [StdinTest("fine\n", "fine\n", "exact")])
    assert result.test_results == [1]
