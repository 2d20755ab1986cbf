"""Red team: programs written to forge verdicts, poison workers, escape, or attack acecoder's own harness.

Every attack program answers wrong (it does not know the expected values: forging them is the point), so the
right verdict is a failure; each test also checks that nothing outside the engine was harmed and that the
engine still judges an honest program right afterwards.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from acecoder.execution import ExecutionEngine, Job, Limits

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="the full isolation suite runs as root (CI does)")

FAST = Limits(
    timeout=1.0, setup_timeout=2.0, program_timeout=4.0, wall_factor=2.0, wall_extra=0.5, max_processes=32
)
REPO = Path(__file__).resolve().parents[1]
WRONG = "def answer():\n    return 41\n"
SPLIT = ["assert answer() == 42", "assert abs(answer() - 42) < 1e-9", "assert [answer()] == [42]"]
IN_PROCESS = ["def check(candidate):\n    assert candidate() == 42\ncheck(answer)"]


@pytest.fixture(scope="module")
def engine():
    with ExecutionEngine(workers=2, limits=FAST) as engine:
        assert engine.isolation.get("root") == "minimal", engine.isolation
        yield engine


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    """A host file holding a secret, readable by root only, that no program may read or change."""
    path = tmp_path_factory.mktemp("host") / "answers.jsonl"
    path.write_text('{"expected": 42}\n')
    path.chmod(0o600)
    return path


def _uid_processes(engine) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        if engine.uids.base <= uid < engine.uids.base + engine.workers:
            found.append(int(entry))
    return found


@pytest.fixture(autouse=True)
def nothing_harmed_outside(engine, canary):
    yield
    deadline = time.monotonic() + 3
    while _uid_processes(engine) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _uid_processes(engine) == [], "a program's process outlived it"
    assert canary.read_text() == '{"expected": 42}\n'
    honest = [Job(f"def answer():\n    return 42\n# {i}\n", SPLIT + IN_PROCESS) for i in range(4)]
    assert [r.test_results for r in engine.run(honest)] == [[1, 1, 1, 1]] * 4, "the engine was poisoned"


def _verdicts(engine, program, tests=SPLIT + IN_PROCESS):
    result = engine.run_one(program, tests)
    assert result.infra_error is None, result.infra_error
    return result


# ---------------------------------------------------------------------------------- generic reward hacks

HACKS = {
    "caller-frame-constants": "import sys\ndef answer():\n    f = sys._getframe(1)\n"
    "    return [c for c in f.f_code.co_consts if isinstance(c, int)][-1]\n",
    "traceback-frame-walk": "def answer():\n    try:\n        raise ValueError\n    except ValueError as e:\n"
    "        f = e.__traceback__.tb_frame.f_back\n    return [c for c in f.f_code.co_consts if type(c) is int][-1]\n",
    "generator-frame": "def answer():\n    def g():\n        yield\n    it = g()\n    f = it.gi_frame.f_back\n"
    "    return f.f_locals.get('expected', 0)\n",
    "inspect-stack": "import inspect\ndef answer():\n    return inspect.stack()[1].frame.f_locals.get('x', 0)\n",
    "gc-scan-for-code": "import gc\ndef answer():\n    for o in gc.get_objects():\n        if type(o).__name__ == 'code' and o.co_filename == '<test>':\n"
    "            return [c for c in o.co_consts if type(c) is int][-1]\n    return 0\n",
    "gc-referrers": "import gc\ndef answer():\n    gc.get_referrers(answer)\n    return 0\n",
    "current-frames": "import sys\ndef answer():\n    return len(sys._current_frames())\n",
    "rebind-builtins-abs": "import builtins\nbuiltins.abs = lambda x: 0\nabs = lambda x: 0\n" + WRONG,
    "rebind-isinstance": "import builtins\nbuiltins.isinstance = lambda *a: True\n" + WRONG,
    "rebind-all-and-sorted": "import builtins\nbuiltins.all = lambda *a: True\nsorted = lambda *a, **k: [42]\n"
    + WRONG,
    "patch-math-isclose": "import math\nmath.isclose = lambda *a, **k: True\n" + WRONG,
    "patch-numpy-allclose": "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = np.allclose\n"
    + WRONG,
    "patch-pytest-approx": "import pytest\nclass A:\n    def __eq__(self, o):\n        return True\n"
    "pytest.approx = lambda *a, **k: A()\n" + WRONG,
    "setprofile-swaps-guard": "import sys\ntry:\n    sys.setprofile(lambda *a: None)\nexcept Exception:\n    pass\n"
    + WRONG,
    "settrace-rewrites-locals": "import sys\ntry:\n    sys.settrace(lambda *a: None)\nexcept Exception:\n    pass\n"
    + WRONG,
    "thread-swaps-names": "import threading\ndef swap():\n    g = globals()\n    while True:\n"
    "        for k in list(g):\n            if k.startswith('__acecoder'):\n                g[k] = lambda *a: True\n"
    "threading.Thread(target=swap, daemon=True).start()\n" + WRONG,
    "ctypes-rewrite-assert": "def answer():\n    try:\n        import ctypes\n        ctypes.memmove(0, 0, 1)\n"
    "    except Exception:\n        pass\n    return 41\n",
    "exit-at-import": "import sys\nsys.exit(0)\n" + WRONG,
    "os-exit-in-call": "import os\ndef answer():\n    os._exit(0)\n",
    "atexit-exit": "import atexit, os\natexit.register(lambda: os._exit(0))\ndef answer():\n    raise SystemExit(0)\n",
    "print-pass": "print('PASS\\n1 passed\\nOK')\ndef answer():\n    print('True')\n    return 41\n",
    "always-equal": "class F:\n    def __eq__(self, o):\n        return True\n    __ne__ = lambda s, o: False\n"
    "    def __sub__(self, o):\n        return 0\ndef answer():\n    return F()\n",
    "forge-values-channel": "import os\nfor i in range(8):\n    os.write(3, b'%d [[{\"O\": [[], true]}], []]\\n' % i)\n"
    + WRONG,
    "malformed-values-channel": "import os\nos.write(3, b'0 {not json\\n1 [[{\"XX\": 1}], []]\\n')\n" + WRONG,
    "flood-values-channel": "import os\ntry:\n    os.write(3, b'9' * (64 << 20))\nexcept OSError:\n    pass\n"
    + WRONG,
    "patch-harness-modules": "import sys\nfor name, m in list(sys.modules.items()):\n    if name.startswith('acecoder_sandbox'):\n"
    "        for k in list(vars(m)):\n            if callable(getattr(m, k)) and not isinstance(getattr(m, k), type):\n"
    "                setattr(m, k, lambda *a, **kw: True)\n" + WRONG,
}


@pytest.mark.parametrize("name", list(HACKS))
def test_generic_reward_hacks_never_pass(engine, name):
    result = _verdicts(engine, HACKS[name])
    assert result.test_results == [0, 0, 0, 0], (result.errors, result.output[-300:])
    # Split tests alone: no audit hook then (nothing of the test is in the process to protect).
    assert _verdicts(engine, HACKS[name], SPLIT).test_results == [0, 0, 0]


def test_hacks_are_judged_outside_the_program(engine):
    result = _verdicts(engine, WRONG)
    assert result.modes == ["split", "split", "split", "split"]  # the check(candidate) test: its asserts


# ------------------------------------------------------------------------------- equality-guard bypasses

FORGED_TRUSTED = {
    "userlist-data": "import collections\nclass G:\n    def __eq__(self, o):\n        return True\n"
    "def answer():\n    return collections.UserList([G()])\n",
    "fraction-numerator": "from fractions import Fraction\nclass G:\n    def __eq__(self, o):\n        return True\n"
    "    __hash__ = object.__hash__\ndef answer():\n    f = Fraction(1, 3)\n    f._numerator = G()\n    f._denominator = 1\n    return f\n",
    "metaclass-fake-mro": "class M(type):\n    @property\n    def __mro__(cls):\n        return (int, object)\n"
    "class F(metaclass=M):\n    def __eq__(self, o):\n        return True\ndef answer():\n    return F()\n",
    "metaclass-fake-module-flags": "class M(type):\n    __module__ = 'builtins'\n    @property\n    def __flags__(cls):\n        return 0\n"
    "class F(metaclass=M):\n    __module__ = 'numpy'\n    def __eq__(self, o):\n        return True\ndef answer():\n    return F()\n",
    "int-subclass-eq": "class F(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\ndef answer():\n    return F(7)\n",
}


@pytest.mark.parametrize("name", list(FORGED_TRUSTED))
def test_trusted_classes_with_forged_state_do_not_pass(engine, name):
    result = _verdicts(engine, FORGED_TRUSTED[name], SPLIT + IN_PROCESS)
    assert result.test_results == [0, 0, 0, 0], result.errors


@pytest.mark.parametrize(
    ("program", "test"),
    [
        ("import numpy as np\ndef f():\n    return np.array(3)\n", "assert f() == 3"),
        ("import numpy as np\ndef f():\n    return np.float64(0.5)\n", "assert f() == 0.5"),
        ("def f():\n    return {'a': 1, 'b': 2}.keys()\n", "assert f() == {'a', 'b'}"),
        ("def f():\n    return {'a': 1}.items()\n", "assert f() == {('a', 1)}"),
        ("import pytest\ndef f():\n    return 0.1 + 0.2\n", "assert f() == pytest.approx(0.3)"),
        (
            "from collections import Counter\ndef f():\n    return Counter('aab')\n",
            "assert f() == {'a': 2, 'b': 1}",
        ),
        (
            "from collections import OrderedDict\ndef f():\n    return OrderedDict(a=1)\n",
            "assert f() == {'a': 1}",
        ),
        ("from fractions import Fraction\ndef f():\n    return Fraction(1, 2)\n", "assert f() == 0.5"),
        (
            "from decimal import Decimal\ndef f():\n    return Decimal('1.5')\n",
            "assert f() == Decimal('1.5')",
        ),
        ("import math\ndef f():\n    return 0.1 + 0.2\n", "assert math.isclose(f(), 0.3)"),
        ("def f():\n    return (x * x for x in range(3))\n", "assert list(f()) == [0, 1, 4]"),
        (
            "class P:\n    def __init__(self):\n        self.v = 1\ndef f():\n    return P()\n",
            "assert isinstance(f(), P)",
        ),
        (
            "class P:\n    def __eq__(self, o):\n        return isinstance(o, P)\ndef f():\n    return P()\n",
            "assert f() == P()",
        ),
        ("def f():\n    return float('nan')\n", "assert f() != f()"),
    ],
)
def test_honest_values_are_judged_as_python_judges_them(engine, program, test):
    result = _verdicts(engine, program, [test])
    assert result.test_results == [1], result.errors


def test_stdlib_value_semantics_are_kept(engine):
    program = "from collections import deque, OrderedDict\ndef d():\n    return deque([1])\ndef o():\n    return OrderedDict(a=1, b=2)\n"
    tests = [
        "assert d() == [1]",
        "assert d() == deque([1])",
        "assert o() == OrderedDict(b=2, a=1)",
        "assert o() == {'b': 2, 'a': 1}",
    ]
    assert _verdicts(engine, program, tests).test_results == [0, 1, 0, 1]


# --------------------------------------------------------------------------------------- verdict memory

MEMORY = {
    "proc-self-maps": "def answer():\n    return len(open('/proc/self/maps').read())\n",
    "proc-self-mem": "def answer():\n    with open('/proc/self/mem', 'r+b') as f:\n        f.write(b'x')\n    return 42\n",
    "proc-map-files": "import os\ndef answer():\n    return len(os.listdir('/proc/self/map_files'))\n",
    "relative-proc-mem": "import os\ndef answer():\n    os.chdir('/proc/self')\n    return len(open('mem', 'rb').read(1))\n",
}


@pytest.mark.parametrize("name", list(MEMORY))
def test_process_memory_is_out_of_reach(engine, name):
    result = _verdicts(engine, MEMORY[name])
    assert result.test_results == [0, 0, 0, 0]


# --------------------------------------------------------------------------------------- worker poisoning

POISON = {
    "deep-directory-tree": "import os\nfor i in range(600):\n    os.mkdir('d')\n    os.chdir('d')\n" + WRONG,
    "long-paths": "import os\nfor i in range(40):\n    os.mkdir('x' * 200)\n    os.chdir('x' * 200)\nopen('f', 'w').write('x')\n"
    + WRONG,
    "delete-own-cwd": "import os, shutil\ncwd = os.getcwd()\ntry:\n    shutil.rmtree(cwd)\nexcept OSError:\n    pass\ntry:\n    os.rmdir(cwd)\nexcept OSError:\n    pass\n"
    + WRONG,
    "lock-own-cwd": "import os\nos.mkdir('locked')\nopen('locked/f', 'w').close()\nos.chmod('locked', 0)\nos.chmod('.', 0o500)\n"
    + WRONG,
    "fill-scratch": "try:\n    with open('big', 'wb') as f:\n        while True:\n            f.write(b'x' * (1 << 20))\nexcept OSError:\n    pass\n"
    + WRONG,
    "sysv-ipc": "import subprocess\nsubprocess.run(['ipcmk', '-M', '4096'], capture_output=True)\nsubprocess.run(['ipcmk', '-Q'], capture_output=True)\n"
    + WRONG,
    "posix-mqueue": "import ctypes\nrt = ctypes.CDLL('librt.so.1')\nrt.mq_open(b'/acecoder_poison', 0o100 | 2, 0o600, None)\n"
    + WRONG,
    "posix-shm": "from multiprocessing import shared_memory\nm = shared_memory.SharedMemory('acecoder_poison', create=True, size=4096)\nm.buf[0] = 7\n"
    + WRONG,
    "kill-namespace-init": "import os, signal\nfor sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):\n    try:\n        os.kill(1, sig)\n    except OSError:\n        pass\n"
    + WRONG,
    "kill-everything": "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
    + WRONG,
    "fork-bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        break\n"
    + WRONG,
}


@pytest.mark.parametrize("name", list(POISON))
def test_a_program_cannot_poison_its_worker(engine, name):
    result = engine.run_one(POISON[name], SPLIT)
    assert result.infra_error is None and result.test_results == [0, 0, 0]
    look = (  # the next programs find a clean, writable scratch space and no IPC object
        "import os, subprocess\n"
        "left = os.listdir('.') + os.listdir('/dev/shm') + os.listdir('/dev/mqueue')\n"
        "ipc = subprocess.run(['ipcs', '-m', '-q'], capture_output=True, text=True).stdout\n"
        "open('written', 'w').write('ok')\n"
        "def answer():\n"
        "    return 42 if left == [] and '0x' not in ipc else (left, ipc)\n"
    )
    for _ in range(4):  # both workers
        after = engine.run_one(look, SPLIT)
        assert after.test_results == [1, 1, 1], (after.errors, after.values, after.output)


# ------------------------------------------------------------------------------------------------ escapes


@pytest.fixture(scope="module")
def host_servers(tmp_path_factory):
    """A unix socket bound to a host path, an abstract unix socket and a loopback TCP server on the host."""
    path = str(tmp_path_factory.mktemp("sock") / "host.sock")
    servers = []
    for family, address in (
        (socket.AF_UNIX, path),
        (socket.AF_UNIX, f"\0acecoder-redteam-{os.getpid()}"),
        (socket.AF_INET, ("127.0.0.1", 0)),
    ):
        server = socket.socket(family, socket.SOCK_STREAM)
        server.bind(address)
        server.listen()
        servers.append(server)
    accepted = []
    for server in servers:
        threading.Thread(target=lambda s=server: accepted.append(s.accept()), daemon=True).start()
    yield path, servers[2].getsockname()[1], accepted
    for server in servers:
        server.close()


def test_host_sockets_are_unreachable(engine, host_servers):
    path, port, accepted = host_servers
    program = (
        "import socket\n"
        "def reach(family, address):\n"
        "    s = socket.socket(family, socket.SOCK_STREAM)\n"
        "    s.settimeout(0.5)\n"
        "    try:\n"
        "        s.connect(address)\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
    )
    tests = [
        f"assert reach(socket.AF_UNIX, {path!r}) is False",
        f"assert reach(socket.AF_UNIX, '\\0acecoder-redteam-{os.getpid()}') is False",
        f"assert reach(socket.AF_INET, ('127.0.0.1', {port})) is False",
    ]
    assert _verdicts(engine, program, tests).test_results == [1, 1, 1]
    assert accepted == []


def test_host_files_and_processes_are_out_of_reach(engine, canary):
    program = (
        "import os, glob\n"
        "def readable(path):\n"
        "    try:\n"
        "        open(path, 'rb').read(1)\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
        "def cmdlines():\n"
        "    out = []\n"
        "    for p in glob.glob('/proc/[0-9]*/cmdline'):\n"
        "        try:\n"
        "            out.append(open(p, 'rb').read())\n"
        "        except OSError:\n"
        "            pass\n"
        "    return out\n"
    )
    tests = [
        f"assert readable({str(canary)!r}) is False",
        "assert readable('/etc/shadow') is False",
        "assert os.path.exists('/root/.bashrc') is False",
        "assert not any(b'pytest' in c for c in cmdlines())",
        "assert len(glob.glob('/proc/[0-9]*')) < 10",
        f"assert not os.path.exists({str(REPO / 'README.md')!r}) and not os.path.exists('/home')",
    ]
    result = _verdicts(engine, program, tests)
    assert result.test_results == [1] * 6, (result.errors, result.output)


def test_no_new_privileges_and_no_user_namespaces(engine):
    program = (
        "import os, subprocess, sys, sysconfig\n"
        "def run(*cmd):\n"
        "    return subprocess.run(list(cmd), capture_output=True, text=True).returncode\n"
        "def writable(path):\n"
        "    try:\n"
        "        open(os.path.join(path, 'x.py'), 'w').close()\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
    )
    tests = [
        "assert run('unshare', '-U', 'true') != 0",
        "assert run('unshare', '-U', '-r', 'true') != 0",
        "assert os.getuid() != 0 and os.geteuid() != 0",
        "assert writable(sysconfig.get_paths()['purelib']) is False",
        "assert writable(os.path.dirname(os.__file__)) is False",
        "assert writable('/') is False and writable('/usr/lib') is False",
    ]
    result = _verdicts(engine, program, tests)
    assert result.test_results == [1] * 6, (result.errors, result.output)


# --------------------------------------------------------------------------------- limits over the tree


def test_forked_children_cannot_evade_the_cpu_limit(engine):
    program = (
        "import os\n"
        "def answer():\n"
        "    for _ in range(4):\n"
        "        if os.fork() == 0:\n"
        "            while True:\n"
        "                pass\n"
        "    os.wait()\n"
    )
    started = time.monotonic()
    result = _verdicts(engine, program, ["answer()", "assert True"])
    assert result.errors[0].startswith("timeout") and time.monotonic() - started < 8


def test_children_together_cannot_exceed_the_memory_cap(engine):
    """Six children of 400 MiB each under a 1 GiB cap for the whole tree: most are killed, the host is not."""
    program = (
        "import os, time\n"
        "def answer():\n"
        "    pids = []\n"
        "    for _ in range(6):\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            b = bytearray(400 << 20)\n"
        "            for i in range(0, len(b), 4096):\n"
        "                b[i] = 1\n"
        "            time.sleep(1)\n"
        "            os._exit(0)\n"
        "        pids.append(pid)\n"
        "    return sum(os.waitpid(pid, 0)[1] == 0 for pid in pids)\n"
    )
    limits = Limits(timeout=4.0, program_timeout=8.0, memory_mb=1024, wall_extra=2.0)
    result = engine.run_one(program, ["assert answer() == 6", "assert answer() <= 2"], limits)
    assert result.test_results[0] == 0 and result.errors[0] in ("assertion", "memory"), result.errors


def test_a_programs_busy_children_do_not_starve_an_honest_neighbour(engine):
    hog = (
        "import os, time\n"
        "for _ in range(8):\n"
        "    if os.fork() == 0:\n"
        "        while True:\n"
        "            pass\n"
        "def answer():\n"
        "    time.sleep(2)\n"
    )
    honest = "import time\ndef answer():\n    t = time.process_time()\n    while time.process_time() - t < 0.3:\n        pass\n    return 42\n"
    jobs = [Job(hog, ["answer()"])] + [Job(f"{honest}# {i}\n", ["assert answer() == 42"]) for i in range(6)]
    results = list(engine.run(jobs))
    assert [r.test_results for r in results[1:]] == [[1]] * 6, [r.errors for r in results[1:]]


def test_concurrent_engines_use_disjoint_uids(engine):
    with ExecutionEngine(workers=1, limits=FAST) as other:
        assert not (
            set(range(other.uids.base, other.uids.base + 1))
            & set(range(engine.uids.base, engine.uids.base + 2))
        )
        bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
        jobs = [Job(bomb, ["assert True"])]
        results = {}
        thread = threading.Thread(target=lambda: results.setdefault("bomb", list(other.run(jobs))))
        thread.start()
        assert engine.run_one("def answer():\n    return 42\n", SPLIT).test_results == [1, 1, 1]
        thread.join()
        assert results["bomb"][0].test_results == [0]


def test_a_pass_written_into_the_sandbox_verdicts_never_passes_a_split_test():
    """The sandbox's own verdict slots are in the program's reach (ctypes, numpy's array interface): for a
    split test only the judge's verdict counts, so a forged "pass" there fails the test."""
    from acecoder.execution.judge.job import JobRun
    from acecoder.execution.sandbox import wire

    judge_end, server_end = socket.socketpair()

    def forging_server():
        wire.recv(server_end.fileno())
        forged = {"results": [1, 1], "errors": [None, None], "values": [], "setup": None, "cpu": 0.0}
        wire.send(server_end.fileno(), forged, b"")

    thread = threading.Thread(target=forging_server)
    thread.start()
    job = {
        "program": WRONG,
        "tests": ["assert answer() == 42", "assert answer() > 0"],
        "limits": FAST.to_wire(),
    }
    reply = JobRun(job, judge_end).run()
    thread.join()
    assert reply["results"] == [0, 0]
    assert reply["errors"] == ["error:ForgedVerdict", "error:ForgedVerdict"]


def test_hardening_applies_to_in_process_tests_only(engine):
    """Programs may use what honest libraries need (frames for tracebacks, ctypes): nothing of the test is in
    their process. The audit hook comes on only where the caller runs tests inside the program's process."""
    program = "import traceback, sys\ndef answer():\n    sys._getframe(0)\n    return 42\n"
    assert engine.run_one(program, SPLIT + IN_PROCESS).test_results == [1, 1, 1, 1]
    in_process = engine.run_one(program, IN_PROCESS, Limits(in_process_tests=True))
    assert in_process.errors == ["setup:error:SandboxRestriction"] or in_process.test_results == [0]
