"""The trusted judge: every test runs outside the program's process, which is reachable only through calls.

A second red team (issue 17): programs that rewrite the harness in their own interpreter, take frames from
signal handlers, forge infrastructure errors, stall or bloat the judge, or exploit how a test's names resolve;
and honest programs in every style the old boundary judged wrong. Every attack answers wrong (it does not know
the expected value), so the right verdict is a failure.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from acecoder.execution import ExecutionEngine, Job, Limits

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="the full isolation suite runs as root (CI does)")

FAST = Limits(timeout=1.0, setup_timeout=2.0, program_timeout=4.0, wall_factor=2.0, wall_extra=0.5)
WRONG = "def answer():\n    return 41\n"
SPLIT = ["assert answer() == 42"]
DRIVEN = [
    "def check(candidate):\n    assert candidate() == 42\ncheck(answer)",
    "for _ in range(2):\n    assert answer() == 42",
    "result = answer()\nassert abs(result - 42) < 1e-9",
]
ALL = SPLIT + DRIVEN


@pytest.fixture(scope="module")
def engine():
    with ExecutionEngine(workers=2, limits=FAST) as engine:
        yield engine


@pytest.fixture(autouse=True)
def honest_afterwards(engine):
    yield
    honest = [Job(f"def answer():\n    return 42\n# {i}\n", ALL) for i in range(4)]
    results = list(engine.run(honest))
    assert [r.test_results for r in results] == [[1] * len(ALL)] * 4, [r.errors for r in results]


def _run(engine, program, tests=ALL, **options):
    result = engine.run_one(program, tests, **options)
    assert result.infra_error is None, result.infra_error
    return result


# ------------------------------------------------------------------------ the harness in the program's reach

HARNESS = {
    "patch-classify": "import sys\nfor m in list(sys.modules.values()):\n    if hasattr(m, 'classify'):\n"
    "        m.classify = lambda e: 'pass'\n" + WRONG,
    "sigprof-handler-globals": "import signal\nh = signal.getsignal(signal.SIGPROF)\n"
    "if callable(h):\n    g = h.__globals__\n    g['classify'] = lambda e: 'pass'\n" + WRONG,
    "board-finish-from-subclasses": "def walk(c):\n    for s in c.__subclasses__():\n        yield s\n"
    "        yield from walk(s)\nfor c in walk(object):\n    if c.__name__ == 'Board':\n"
    "        f = c.finish\n        c.finish = lambda self, stage, verdict, f=f: f(self, stage, 'pass')\n"
    + WRONG,
    "guard-suspect": "import sys\nfor m in list(sys.modules.values()):\n    if hasattr(m, '_suspect'):\n"
    "        m._suspect = lambda a, b: False\n" + WRONG,
    "always-equal-and-ordered": "class F:\n    __eq__ = lambda s, o: True\n    __ne__ = lambda s, o: False\n"
    "    __lt__ = __le__ = __gt__ = __ge__ = lambda s, o: True\n    __sub__ = __rsub__ = lambda s, o: 0\n"
    "    __abs__ = lambda s: 0\n    __hash__ = object.__hash__\ndef answer():\n    return F()\n",
    "shadow-abs-helper": "abs = lambda x: 0\n" + WRONG,
}


@pytest.mark.parametrize("name", list(HARNESS))
def test_rewriting_the_harness_in_the_programs_interpreter_changes_no_verdict(engine, name):
    result = _run(engine, HARNESS[name])
    assert result.test_results == [0] * len(ALL), result.errors
    assert "process" not in result.modes  # nothing of the tests runs in the program's process


def test_a_signal_handler_finds_no_expected_value_in_the_running_frames(engine):
    program = (
        "import signal, os\n"
        "seen = []\n"
        "def look(sig, frame):\n"
        "    while frame is not None:\n"
        "        seen.extend(v for v in list(frame.f_locals.values()) if type(v) is int)\n"
        "        frame = frame.f_back\n"
        "signal.signal(signal.SIGUSR1, look)\n"
        "def answer():\n"
        "    os.kill(os.getpid(), signal.SIGUSR1)\n"
        "    return 42 if 42 in seen else 41\n"
    )
    assert _run(engine, program).test_results == [0] * len(ALL)


# ------------------------------------------------------------------------------- forged engine failures

FORGED_INFRA = {
    "board-infra": "import gc\ndef answer():\n    for o in gc.get_objects():\n        if type(o).__name__ == 'Board':\n"
    "            for stage in range(-1, 8):\n                o.finish(stage, 'infra:forged by the program')\n"
    "    return 41\n",
    "channel-garbage": "import os\ndef answer():\n    try:\n        os.write(3, b'\\x00\\x00\\x00\\x05{\"infr')\n"
    "    except OSError:\n        pass\n    return 41\n",
    "exit-mid-call": "import os\ndef answer():\n    os._exit(3)\n",
}


@pytest.mark.parametrize("name", list(FORGED_INFRA))
def test_a_program_cannot_forge_an_infrastructure_error(engine, name):
    result = _run(engine, FORGED_INFRA[name])
    assert result.test_results == [0] * len(ALL)
    assert all(e != "infra" and not e.startswith("infra") for e in result.errors), result.errors


def test_a_programs_exception_named_timeout_is_not_a_timeout_and_labels_are_bounded(engine):
    program = (
        "class Timeout(Exception):\n    pass\n"
        "Long = type('E' * 2_000_000, (ValueError,), {})\n"
        "def answer():\n    raise Timeout()\n"
        "def other():\n    raise Long('x')\n"
    )
    result = _run(engine, program, ["answer()", "other()", "def check():\n    other()\ncheck()"])
    assert result.errors == ["error:Exception", "error:ValueError", "error:ValueError"]


# ----------------------------------------------------------------------------- the judge stays bounded


def test_values_built_to_make_the_judge_slow_or_big_are_refused_quickly(engine):
    program = (
        "from fractions import Fraction\nimport numpy as np\n"
        "P = (1 << 61) - 1\n"
        "def flood():\n    return {P * i for i in range(1, 6001)}\n"
        "def flood_list():\n    return [P * i for i in range(1, 20001)]\n"
        "def fraction():\n    f = Fraction(1, 3)\n    f._numerator = 10 ** 60000 + 1\n"
        "    f._denominator = 10 ** 60000\n    return f\n"
        "def wide():\n    return np.zeros(20000, dtype='U16384')\n"
        "def deep():\n    x = []\n    for _ in range(900):\n        x = [x]\n    return x\n"
    )
    tests = [
        "assert flood() == {1, 2}",
        "assert set(flood_list()) == {1}",
        "assert fraction() == 1",
        "assert wide() is None",
        "assert deep() == []",
        "def check():\n    assert set(flood_list()) == {1}\ncheck()",
    ]
    started = time.monotonic()
    result = _run(engine, program, tests)
    assert time.monotonic() - started < 30  # a hang guard; the work itself is bounded by CPU below
    assert result.test_results == [0] * len(tests), result.errors
    assert result.cpu_time < 4.0  # the program's own work and the judge's, for all six tests
    # captured values cross to the engine too: bounded there as well, never an exception from run()
    captured = engine.run_one(program, ["deep()", "wide()", "flood()"], capture=True)
    assert captured.infra_error is None and len(captured.values) == 3


def test_a_slow_program_value_never_holds_back_an_honest_neighbour(engine):
    flood = "P = (1 << 61) - 1\ndef answer():\n    return [P * i for i in range(1, 40001)]\n"
    honest = [Job(f"def answer():\n    return 42\n# {i}\n", SPLIT) for i in range(6)]
    started = time.monotonic()
    list(engine.run([Job(f"def answer():\n    return 42\n# alone {i}\n", SPLIT) for i in range(6)]))
    alone = time.monotonic() - started
    started = time.monotonic()
    engine.run_one(flood + "# alone\n", ["assert set(answer()) == {1}"])
    flood_alone = time.monotonic() - started
    done = []
    thread = threading.Thread(
        target=lambda: done.append(engine.run_one(flood, ["assert set(answer()) == {1}"]))
    )
    started = time.monotonic()
    thread.start()
    results = list(engine.run(honest))
    elapsed = time.monotonic() - started
    thread.join()
    assert [r.test_results for r in results] == [[1]] * 6
    # at most the flood's own run in the way (a job queued behind it on its worker), never the judge stalled
    assert elapsed < alone + flood_alone + 1.0, (elapsed, alone, flood_alone)


def test_a_test_that_stalls_the_judge_is_stopped(engine):
    """A test's own code runs in a judge process forked for the job, with a CPU limit enforced from outside."""
    stall = "def check():\n    sum(range(10 ** 11))\ncheck()"
    result = engine.run_one(
        "def answer():\n    return 42\n", [stall, "assert answer() == 42"], Limits(timeout=0.5)
    )
    assert result.infra_error is None
    assert result.test_results == [0, 1] and result.errors[0] == "timeout"


# ---------------------------------------------------------------------------------------- name rules


def test_a_module_the_test_names_is_that_module_whatever_the_program_bound(engine):
    program = "import numpy as math\ndef answer():\n    return 42.000002\n"
    tests = ["assert math.isclose(answer(), 42.0)", "x = answer()\nassert math.isclose(x, 42.0)"]
    assert _run(engine, program, tests).test_results == [0, 0]
    fake = "class np:\n    allclose = staticmethod(lambda *a, **k: True)\n" + WRONG
    tests = ["assert np.allclose(answer(), 42)", "x = answer()\nassert np.allclose(x, 42)"]
    assert _run(engine, fake, tests).test_results == [0, 0]


WRONG_SHADOWS = {
    "sorted": ("def sorted(xs):\n    return list(xs)\n", "assert sorted([3, 1, 2]) == [1, 2, 3]"),
    "max": ("def max(xs):\n    return xs[0]\n", "assert max([1, 5, 2]) == 5"),
    "len": ("def len(xs):\n    return 0\n", "assert len('abc') == 3"),
}


@pytest.mark.parametrize("name", list(WRONG_SHADOWS))
def test_a_wrong_program_that_redefines_a_builtin_under_test_fails(engine, name):
    program, test = WRONG_SHADOWS[name]
    driven = "def check(candidate):\n" + test.replace(name + "(", "candidate(", 1).replace(
        "assert", "    assert"
    )
    result = _run(engine, program, [test, driven + f"\ncheck({name})"])
    assert result.test_results == [0, 0], result.errors


HONEST_SHADOWS = {
    "sum": ("def sum(n):\n    return n * (n + 1) // 2\n", "assert sum(3) == 6"),
    "reversed": ("def reversed(s):\n    return s[::-1]\n", "assert reversed('abc') == 'cba'"),
    "hash": ("def hash(s):\n    return len(s)\n", "assert hash('abcd') == 4"),
    "isclose": ("def isclose(a, b):\n    return abs(a - b) < 0.5\n", "assert isclose(1, 1.25)"),
    "date": (
        "class date:\n    def __init__(self, y, m, d):\n        self.year = y\n",
        "assert date(2020, 1, 2).year == 2020",
    ),
    "deque": (
        "class deque:\n    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.append(x)\n    def pop(self):\n        return self.items.pop()\n",
        "d = deque()\nd.push(1)\nd.push(2)\nassert d.pop() == 2",
    ),
}


@pytest.mark.parametrize("name", list(HONEST_SHADOWS))
def test_an_honest_program_that_defines_a_builtin_name_is_judged_right(engine, name):
    program, test = HONEST_SHADOWS[name]
    result = _run(engine, program, [test])
    assert result.test_results == [1], result.errors


# ------------------------------------------------------------------------------ honest programs, all styles

HONEST = [
    ("def f(x):\n    return x * 2\n", "assert type(f(2)) == int and type(f(2.0)) is float"),
    (
        "from datetime import datetime, timezone, timedelta\n"
        "def f():\n    return datetime(2020, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))\n",
        "from datetime import datetime, timezone\nassert f() == datetime(2020, 1, 1, tzinfo=timezone.utc)",
    ),
    (
        "from datetime import datetime\nfrom zoneinfo import ZoneInfo\n"
        "def f():\n    return datetime(2020, 6, 1, 12, tzinfo=ZoneInfo('Europe/Paris'))\n",
        "assert f().tzinfo.key == 'Europe/Paris' and f().hour == 12",
    ),
    ("def f():\n    return 0.1 + 0.2\n", "import pytest\nassert f() == pytest.approx(0.3)"),
    (
        "def f(node):\n    return node.value * 2\n",
        "class Node:\n    def __init__(self, value):\n        self.value = value\nassert f(Node(21)) == 42",
    ),
    ("def f():\n    return list(range(200000))\n", "assert f() == list(range(200000))"),
    (
        "import asyncio\nasync def g():\n    return 42\ndef f():\n    return asyncio.run(g())\n",
        "def check(candidate):\n    assert candidate() == 42\ncheck(f)",
    ),
    (
        "import sys\nif __name__ == '__main__':\n    ARGS = sys.argv[1:]\ndef f():\n    return ARGS\n",
        "assert f() == []",
    ),
    ("import types\ndef f():\n    return types.MappingProxyType({'a': 1})\n", "assert f() == {'a': 1}"),
    ("import collections\ndef f():\n    return collections.ChainMap({'a': 1})\n", "assert f() == {'a': 1}"),
    ("def f():\n    return memoryview(b'ab')\n", "assert f() == b'ab'"),
    (
        "import itertools\ndef f():\n    return itertools.count(1)\n",
        "import itertools\nassert list(itertools.islice(f(), 3)) == [1, 2, 3]",
    ),
    (
        "class Bag:\n    def __init__(self):\n        self.items = [1, 2]\n    def __iter__(self):\n        return iter(self.items)\n"
        "def f():\n    return Bag()\n",
        "assert 1 in f() and sorted(f()) == [1, 2] and list(map(str, f())) == ['1', '2']",
    ),
    (
        "from collections import defaultdict\ndef f():\n    d = defaultdict(list)\n    d['a'].append(1)\n    return d\n",
        "assert f()['b'] == [] and isinstance(f(), dict)",
    ),
    ("def f(nums):\n    nums.sort()\n", "nums = [3, 1, 2]\nf(nums)\nassert nums == [1, 2, 3]"),
    ("def f(xs, key):\n    return sorted(xs, key=key)\n", "assert f([3, 1, 2], lambda x: -x) == [3, 2, 1]"),
    (
        "class MyError(ValueError):\n    pass\ndef f():\n    raise MyError('bad')\n",
        "import pytest\nwith pytest.raises(ValueError, match='bad'):\n    f()",
    ),
    (
        "class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):\n        self.items.append(x)\n"
        "    def size(self):\n        return len(self.items)\n",
        "s = Stack()\ns.push(1)\ns.push(2)\nassert s.size() == 2 and s.items == [1, 2]",
    ),
    (
        "class Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]\n",
        "assert Solution().twoSum([1, 2], 3) == [0, 1]",
    ),
]


# Program objects met by program objects: operators between two handles run in the program, with its semantics.
TREE = (
    "class TreeNode:\n    def __init__(self, x):\n        self.val, self.left, self.right = x, None, None\n"
    "def mirror(root):\n    if root is not None:\n        root.left, root.right = mirror(root.right), mirror(root.left)\n"
    "    return root\n"
)
POINT = (
    "class P:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n"
    "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
    "    def __lt__(self, o):\n        return (self.x, self.y) < (o.x, o.y)\n"
    "    def __add__(self, o):\n        return P(self.x + o.x, self.y + o.y)\n"
    "    def __int__(self):\n        return self.x\n"
    "    def __enter__(self):\n        return self\n    def __exit__(self, *exc):\n        return False\n"
)
HONEST += [
    (
        TREE,
        "def test_single():\n    root = TreeNode(1)\n    assert mirror(root) == root and mirror(root) is root\ntest_single()",
    ),
    (
        TREE,
        "root = TreeNode(1)\nroot.left = TreeNode(2)\nm = mirror(root)\nassert m.right.val == 2 and m.left is None",
    ),
    (POINT, "assert P(1, 2) == P(1, 2) and P(1, 2) != P(2, 1) and P(1, 2) < P(2, 0)"),
    (POINT, "assert P(1, 2) + P(3, 4) == P(4, 6) and int(P(7, 0)) == 7"),
    (POINT, "with P(1, 2) as p:\n    assert p.y == 2"),
]
# What the program prints while the test calls it reaches the test's own streams, as in one process.
SHOW = "import sys\ndef show(n):\n    for i in range(1, n + 1):\n        print(i)\n    print('done', file=sys.stderr)\n"
HONEST += [
    (
        SHOW,
        "import io, contextlib\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    show(3)\n"
        "assert buf.getvalue().split() == ['1', '2', '3']",
    ),
    (
        SHOW,
        "def test_show():\n    import io, contextlib\n    out, err = io.StringIO(), io.StringIO()\n"
        "    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n        show(2)\n"
        "    assert out.getvalue() == '1\\n2\\n' and err.getvalue() == 'done\\n'\ntest_show()",
    ),
    (
        SHOW,
        "import sys\nsaved = sys.stdout\nwith open('output.txt', 'w') as f:\n    sys.stdout = f\n    show(2)\n"
        "sys.stdout = saved\nwith open('output.txt') as f:\n    assert f.read().split() == ['1', '2']",
    ),
    (
        "import sys\ndef fast(xs):\n    sys.stdout.buffer.write(' '.join(map(str, xs)).encode() + b'\\n')\n"
        "    sys.stdout.flush()\n    return sys.stdout.encoding.lower().replace('-', '')\n",
        "import io, contextlib\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n"
        "    enc = fast([1, 2])\nassert buf.getvalue() == '1 2\\n' and enc == 'utf8'",
    ),
    (
        "def save(path, text):\n    return len(text)\n",
        "import os, tempfile\nd = tempfile.mkdtemp()\npath = os.path.join(d, 'x.txt')\n"
        "with open(path, 'w') as f:\n    f.write('abc')\nassert save(path, open(path).read()) == 3",
    ),
]


@pytest.mark.parametrize(("program", "test"), HONEST, ids=[str(i) for i in range(len(HONEST))])
def test_honest_programs_in_every_style_are_judged_right(engine, program, test):
    result = _run(engine, program, [test])
    assert result.test_results == [1], (result.errors, result.output[-500:])


def test_the_program_sees_only_its_own_name_in_argv(engine):
    program = "import sys\ndef argv():\n    return sys.argv\n"
    assert _run(engine, program, ["assert argv() == ['solution.py']"]).test_results == [1]


def test_functional_call_tests_judge_solution_methods_and_plain_functions(engine):
    from acecoder.execution import CallTest

    solution = "class Solution:\n    def add(self, a, b):\n        return (a + b, a)\n"
    plain = "def add(a, b):\n    return [a + b, a]\n"
    tests = [CallTest("add", (1, 2), [3, 1]), CallTest("add", (1, 2), [4, 1])]
    assert _run(engine, solution, tests).test_results == [1, 0]
    assert _run(engine, plain, tests).test_results == [1, 0]


def test_a_wrong_print_fails_and_a_tests_files_do_not_outlive_its_job(engine):
    """Forwarded prints are the program's real prints (a wrong one fails); files a test writes in its working
    directory are gone before the next job's tests run."""
    test = (
        "import io, contextlib\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    show(3)\n"
        "assert buf.getvalue().split() == ['1', '2', '3']"
    )
    assert _run(engine, "def show(n):\n    print(n)\n", [test]).test_results == [0]
    writes = "open('left.txt', 'w').write('x')\nassert answer() == 42"
    reads = "import os\nassert not os.path.exists('left.txt') and answer() == 42"
    for k in range(4):  # both workers' runners
        program = f"def answer():\n    return 42\n# {k}\n"
        assert _run(engine, program, [writes]).test_results == [1]
        assert _run(engine, program + "# again\n", [reads]).test_results == [1]


def test_capsys_in_an_imported_pytest_file_reads_the_programs_prints(engine):
    """KodCode-style pytest files check printing functions with ``capsys``; the importer's stand-in swaps the
    judge's streams, where the program's prints arrive."""
    from acecoder.importers.pytest_tests import convert_pytest

    tests = convert_pytest(
        "from solution import show\n\n"
        "def test_show(capsys):\n    show(2)\n    captured = capsys.readouterr()\n"
        "    assert captured.out == '1\\n2\\n'\n    assert 'done' in captured.err\n"
    ).tests
    assert _run(engine, SHOW, tests).test_results == [1]
    assert _run(engine, SHOW.replace("print(i)", "print(i + 1)"), tests).test_results == [0]


def test_a_programs_prints_cannot_grow_the_judge_without_bound(engine):
    """A program printing a megabyte per call to a test that captures it: the judge keeps at most its print
    budget per program run and the test runs to its verdict."""
    from acecoder.execution.judge.remote import PRINTED_CHARS

    program = "def flood():\n    print('x' * 1_000_000)\n    return 1\n"
    test = (
        "import io, contextlib\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n"
        f"    for _ in range({PRINTED_CHARS // 1_000_000 + 2}):\n        flood()\n"
        f"assert {PRINTED_CHARS // 2} < len(buf.getvalue()) <= {PRINTED_CHARS} and flood() == 1"
    )
    import dataclasses

    result = _run(
        engine, program, [test], limits=dataclasses.replace(FAST, timeout=10.0, program_timeout=20.0)
    )
    assert result.test_results == [1], result.errors


def test_without_a_private_scratch_the_tests_working_directory_is_removed_with_the_judge(tmp_path):
    """With isolation off the judge's test directory lies in the host's temporary directory: tests' files go
    there (never into the caller's working directory), and it is gone once the engine closes."""
    import glob
    import tempfile

    pattern = os.path.join(tempfile.gettempdir(), "acecoder-tests-*")
    before = set(glob.glob(pattern))
    test = "open('made.txt', 'w').write('x')\nimport os\nassert os.path.exists('made.txt') and answer() == 42"
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with ExecutionEngine(workers=1, limits=FAST, isolation="none") as engine:
            assert engine.run_one("def answer():\n    return 42\n", [test]).test_results == [1]
            assert set(glob.glob(pattern)) - before
    finally:
        os.chdir(cwd)
    assert not (tmp_path / "made.txt").exists()
    assert set(glob.glob(pattern)) - before == set()
