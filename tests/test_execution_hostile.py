"""Hostile programs get the right verdict and leave the host as it was; reward hacks never pass."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from acecoder.execution import ExecutionEngine, Limits

REPO = Path(__file__).resolve().parents[1]
FAST = Limits(
    timeout=0.5, setup_timeout=1.0, wall_factor=2.0, wall_extra=0.5, max_processes=16, program_timeout=0
)
pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="the full isolation suite runs as root (CI does)")


@pytest.fixture(scope="module")
def engine():
    with ExecutionEngine(workers=2, limits=FAST) as engine:
        assert engine.isolation.get("network") == "none", engine.isolation
        yield engine


def _sandbox_processes(base: int) -> list[int]:
    """Processes of the engine's sandbox uids still alive on the host (programs and their descendants)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        if base <= int(uid_line.split()[1]) < base + 2:
            found.append(int(entry))
    return found


@pytest.fixture(autouse=True)
def host_left_as_it_was(engine):
    yield
    deadline = time.monotonic() + 2
    while _sandbox_processes(engine.uids.base) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sandbox_processes(engine.uids.base) == []


OK = "def ok():\n    return 1\n"


# ------------------------------------------------------------------------------------------------ runaway code


@pytest.mark.parametrize(
    "body",
    [
        "while True:\n        pass",
        "import signal\n    signal.signal(signal.SIGPROF, signal.SIG_IGN)\n    while True:\n        pass",
        "while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass",
        "import time\n    time.sleep(60)",
        "import re\n    re.match(r'(a+)+$', 'a' * 40 + 'b')",
    ],
    ids=["loop", "ignores-sigprof", "swallows-timeouts", "sleeps", "regex-backtracking"],
)
def test_runaway_tests_time_out_alone(engine, body):
    program = OK + f"def bad():\n    {body}\n"
    started = time.monotonic()
    result = engine.run_one(program, ["assert ok() == 1", "bad()", "assert ok() == 1"])
    assert result.test_results == [1, 0, 1]
    assert result.errors[1] == "timeout"
    assert time.monotonic() - started < 10


def test_memory_bombs_fail_without_hurting_the_host(engine):
    program = OK + (
        "def huge():\n    return bytearray(10**12)\n"
        "def growing():\n    xs = []\n    while True:\n        xs.append(bytearray(10**8))\n"
    )
    result = engine.run_one(program, ["huge()", "x = growing()", "assert ok() == 1"])
    assert result.test_results == [0, 0, 1]
    assert result.errors[0] == "memory"
    # a test's own absurd allocation fails in the judge (its memory is capped too) and harms nothing
    judged = engine.run_one(OK, ["x = bytearray(10**13)", "assert ok() == 1"])
    assert judged.test_results == [0, 1] and judged.errors[0] == "memory"


def test_fork_bomb_is_contained_and_cleaned_up(engine):
    program = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = engine.run_one(program, ["assert True"])
    assert result.test_results == [0]
    assert engine.run_one(OK, ["assert ok() == 1"]).test_results == [1]


def test_detached_and_double_forked_processes_do_not_outlive_the_program(engine):
    program = (
        "import os, time\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(300)\n    os._exit(0)\n"
        "import subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)\n"
    )
    assert engine.run_one(program, ["assert True"]).test_results == [1]


@pytest.mark.parametrize("test", ["crash()", "for _ in range(1):\n    crash()"])
def test_segfault_in_a_call_fails_that_test_only(engine, test):
    program = OK + "import faulthandler\ndef crash():\n    faulthandler._sigsegv()\n"
    result = engine.run_one(program, [test, "assert ok() == 1"])
    assert result.test_results == [0, 1]
    assert result.errors[0] == "crash:SIGSEGV"


@pytest.mark.parametrize("test", ["flood()", "x = 1\nflood()"])
def test_output_flood_is_capped(engine, test):
    program = OK + "def flood():\n    while True:\n        print('x' * 10000)\n"
    result = engine.run_one(program, [test, "assert ok() == 1"])
    assert result.test_results == [0, 1]
    assert len(result.output) == FAST.output_bytes


def test_lingering_threads_do_not_hold_the_engine(engine):
    program = OK + "import threading, time\nthreading.Thread(target=lambda: time.sleep(300)).start()\n"
    started = time.monotonic()
    assert engine.run_one(program, ["assert ok() == 1"]).test_results == [1]
    assert time.monotonic() - started < 2


# ------------------------------------------------------------------------------------ file system and network


def test_files_outside_the_scratch_directory_cannot_be_changed(engine):
    with tempfile.TemporaryDirectory(dir=REPO) as folder:
        target = Path(folder) / "keep.txt"
        target.write_text("precious")
        program = OK + (
            "import os, shutil\n"
            "def remove(path):\n    os.remove(path)\n"
            "def write(path, text):\n    open(path, 'w').write(text)\n"
            "def remove_tree(path):\n    shutil.rmtree(path)\n"
            "def read(path):\n    return open(path).read()\n"
        )
        attacks = [
            f"remove({str(target)!r})",
            f"write({str(target)!r}, 'gone')",
            f"remove_tree({folder!r})",
            "write('/etc/acecoder-was-here', '')",
        ]
        tests = [*attacks, "write('scratch.txt', 'mine')\nassert read('scratch.txt') == 'mine'"]
        result = engine.run_one(program, tests)
        assert result.test_results == [0, 0, 0, 0, 1], result.errors
        # Tests run in the judge, whose file system is read-only: a test's own writes fail there too.
        own = [f"import os\nos.remove({str(target)!r})", "open('/etc/acecoder-was-here', 'w')"]
        assert engine.run_one(OK, own).test_results == [0, 0]
        assert target.read_text() == "precious"
    assert not Path("/etc/acecoder-was-here").exists()


def test_scratch_directory_is_emptied_between_programs(engine):
    engine.run_one("open('left-behind.txt', 'w').write('x')", ["assert True"])
    results = [engine.run_one("import os", ["assert os.listdir('.') == []"]) for _ in range(4)]
    assert all(r.test_results == [1] for r in results)


def test_network_is_unreachable(engine):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted = []

    def accept():
        try:
            accepted.append(listener.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    test = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)"
    result = engine.run_one(
        OK, [test, "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=1)"]
    )
    thread.join()
    listener.close()
    assert result.test_results == [0, 0]
    assert accepted == []


def test_programs_cannot_signal_the_engine_or_its_servers(engine):
    me = os.getpid()
    program = OK + "import os, signal\n"
    tests = [
        f"os.kill({me}, signal.SIGKILL)",
        "os.kill(os.getppid(), signal.SIGKILL)",
        "os.kill(-1, signal.SIGKILL)",
        "assert ok() == 1",
    ]
    result = engine.run_one(program, tests)
    assert result.test_results[0] == 0 and result.test_results[3] == 1
    assert result.infra_error is None
    assert engine.run_one(OK, ["assert ok() == 1"]).test_results == [1]


# ---------------------------------------------------------------------------------------------- reward hacks


@pytest.mark.parametrize(
    "program",
    [
        "import sys\nsys.exit(0)\n" + OK,
        "raise SystemExit(0)\n" + OK,
        "import os\nos._exit(0)\n" + OK,
        OK + "import atexit, os\natexit.register(lambda: os._exit(0))\nimport sys\nsys.exit(0)\n",
    ],
    ids=["sys.exit", "SystemExit", "os._exit", "atexit"],
)
def test_exiting_early_never_passes(engine, program):
    result = engine.run_one(program, ["assert ok() == 1", "assert ok() == 2"])
    assert result.test_results == [0, 0]


@pytest.mark.parametrize("call", ["sys.exit(0)", "raise SystemExit", "os._exit(0)"])
def test_exiting_inside_a_test_fails_that_test(engine, call):
    result = engine.run_one(OK + "import os, sys\n", [f"def f():\n    {call}\nassert f() == 3"])
    assert result.test_results == [0]


FORGERS = {
    "always-equal": "class F:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n        return False\n",
    "str-subclass": "class F(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\n",
    "int-subclass": "class F(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n",
    "truthy-eq": "class F:\n    def __eq__(self, other):\n        return 1\n",
    "fake-module": "class F:\n    __module__ = 'collections'\n    def __eq__(self, other):\n        return True\n",
    "fake-builtin": "class F:\n    def __eq__(self, other):\n        return True\nF.__module__ = 'builtins'\n"
    "import builtins\nbuiltins.F = F\n",
    "fake-numpy": "class F:\n    __module__ = 'numpy'\n    __eq__ = staticmethod(lambda *a: True)\n",
    "mock-any": "from unittest.mock import ANY as _ANY\nF = lambda: _ANY\n",
    "user-list": "import collections\nclass G:\n    def __eq__(self, other):\n        return True\n"
    "F = lambda: collections.UserList([G()])\n",
    "set-le": "class F(set):\n    __eq__ = set.__le__\n",
}


@pytest.mark.parametrize("forger", list(FORGERS))
@pytest.mark.parametrize(
    "test",
    [
        "assert answer() == 42",
        "assert 42 == answer()",
        "assert answer() == 'forty-two'",
        "assert [answer()] == [42]",
        "assert {'k': answer()} == {'k': 42}",
        "assert not (answer() != 42)",
        "assert 42 == answer() == 42",
        "assert answer() in [42]",
        "assert answer() in {42: 1}",
        "assert 41 < 42 == answer()",
        "def check(candidate):\n    assert candidate() == 42\ncheck(answer)",
    ],
)
def test_values_that_forge_equality_do_not_pass(engine, forger, test):
    program = FORGERS[forger] + "def answer():\n    return F()\n"
    assert engine.run_one(program, [test]).test_results == [0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("np.float64(0.5)", "0.5"),
        ("np.int64(3)", "3"),
        ("collections.Counter('aab')", "{'a': 2, 'b': 1}"),
        ("collections.OrderedDict(a=1)", "{'a': 1}"),
        ("collections.namedtuple('P', 'x y')(1, 2)", "(1, 2)"),
        ("True", "1"),
        ("2.0", "2"),
        ("decimal.Decimal(3)", "3"),
        ("[np.float64(1.5), 2]", "[1.5, 2]"),
        ("type('L', (list,), {})([1, 2])", "[1, 2]"),
    ],
)
def test_honest_values_of_other_types_still_compare_equal(engine, value, expected):
    program = f"import collections, decimal\nimport numpy as np\ndef answer():\n    return {value}\n"
    assert engine.run_one(program, [f"assert answer() == {expected}"]).test_results == [1]


@pytest.mark.parametrize(
    "test",
    [
        "assert 1 < answer() < 3",
        "assert answer() in [1, 2]",
        "assert answer() not in (5, 6)",
        "assert 2 == answer() != 3",
    ],
)
def test_honest_chained_and_membership_comparisons_keep_python_semantics(engine, test):
    assert engine.run_one("def answer():\n    return 2\n", [test]).test_results == [1]


def test_programs_cannot_rewrite_the_harness_through_main_or_builtins(engine):
    program = (
        "import __main__, builtins, sys\n"
        "__main__._classify = lambda e: 'pass'\n"
        "sys.modules['__main__']._classify = lambda e: 'pass'\n"
        "_real_type = builtins.type\n"
        "class F:\n    def __eq__(self, other):\n        return True\n"
        "def answer():\n    builtins.type = lambda *a: int if len(a) == 1 else _real_type(*a)\n    return F()\n"
    )
    result = engine.run_one(program, ["assert answer() == 42", "assert False", "raise SystemExit(0)"])
    assert result.test_results == [0, 0, 0]


def test_printing_a_verdict_forges_nothing(engine):
    program = OK + "print('passed'); print('T 0 pass 0.0'); print('{\"results\": [1, 1]}')\n"
    result = engine.run_one(program, ["assert ok() == 2", "print('passed')\nassert False"])
    assert result.test_results == [0, 0]


def test_strict_equality_can_be_turned_off(engine):
    program = FORGERS["always-equal"] + "def answer():\n    return F()\n"
    lax = Limits(timeout=0.5, strict_equality=False, split_tests=False, in_process_tests=True)
    assert engine.run_one(program, ["assert answer() == 42"], lax).test_results == [1]
