"""Semantics of the execution engine: one program, many tests, each with its own verdict."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acecoder.execution import ExecutionEngine, Job, Limits, SandboxError, extract_program

ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def engine():
    with ExecutionEngine(workers=2, limits=Limits(timeout=0.5, setup_timeout=2.0, wall_extra=0.5)) as engine:
        yield engine


def test_verdicts_per_test_in_order(engine):
    result = engine.run_one(ADD, ["assert add(1, 2) == 3", "assert add(1, 2) == 4", "assert add(0, 0) == 0"])
    assert result.test_results == [1, 0, 1]
    assert result.errors == [None, "assertion", None]
    assert result.pass_rate == pytest.approx(2 / 3)
    assert not result.passed_all


def test_error_kinds_are_reported(engine):
    result = engine.run_one(ADD, ["add(1)", "assert undefined_name", "raise ValueError('x')"])
    assert result.test_results == [0, 0, 0]
    assert result.errors == ["error:TypeError", "error:NameError", "error:ValueError"]


def test_check_function_style_tests(engine):
    test = "def check(candidate):\n    assert candidate(2, 2) == 4\n    assert candidate(-1, 1) == 0\n\ncheck(add)\n"
    assert engine.run_one(ADD, [test]).test_results == [1]
    assert engine.run_one("def add(a, b):\n    return a - b\n", [test]).test_results == [0]


def test_tests_share_the_program_namespace_and_run_after_it(engine):
    program = "state = []\ndef push(x):\n    state.append(x)\n    return len(state)\n"
    result = engine.run_one(program, ["assert push(1) == 1", "assert push(1) == 2", "assert state == [1, 1]"])
    assert result.test_results == [1, 1, 1]


def test_program_errors_fail_every_test(engine):
    syntax = engine.run_one("def f(:\n", ["assert True", "assert True"])
    assert syntax.test_results == [0, 0] and syntax.setup_error == "compile:SyntaxError"
    raising = engine.run_one("raise RuntimeError('boom')", ["assert True"])
    assert raising.setup_error == "error:RuntimeError"


def test_a_test_that_does_not_compile_fails_alone(engine):
    result = engine.run_one(ADD, ["assert add(1, 1) == 2", "assert (", "assert add(2, 2) == 4"])
    assert result.test_results == [1, 0, 1]
    assert result.errors[1] == "test:SyntaxError"


CRASHING = ADD + (
    "import os, signal\n"
    "def leave():\n    os._exit(0)\n"
    "def segfault():\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
)


@pytest.mark.parametrize(
    "style",
    [
        ["leave()", "segfault()"],  # split: probes in the sandbox
        ["x = 1\nleave()", "for _ in range(1):\n    segfault()"],  # driven: the test runs in the judge
    ],
)
def test_a_test_that_crashes_the_program_fails_alone_and_the_rest_run_in_a_fresh_process(engine, style):
    tests = ["assert add(1, 1) == 2", style[0], "assert add(2, 2) == 4", style[1], "assert add(3, 3) == 6"]
    result = engine.run_one(CRASHING, tests)
    assert result.test_results == [1, 0, 1, 0, 1], result.errors
    assert result.errors[1] == "exit"
    assert result.errors[3] == "crash:SIGSEGV"
    # split tests re-run the program after each crash; tests run in the judge re-run it when a test follows
    assert result.restarts == (2 if style[0] == "leave()" else 1)


def test_a_timeout_fails_one_test_only(engine):
    program = ADD + "def spin():\n    while True:\n        pass\n"
    tests = ["assert add(1, 1) == 2", "spin()", "assert add(2, 2) == 4"]
    result = engine.run_one(program, tests, Limits(timeout=0.5, wall_extra=0.5, program_timeout=0))
    assert result.test_results == [1, 0, 1]
    assert result.errors[1] == "timeout"


def test_per_test_limit_is_cpu_time_not_shared_wall_time(engine):
    """Eight tests of 0.3 s CPU each pass under a 0.5 s per-test limit (a shared 0.5 s budget would fail most)."""
    program = "import time\ndef work():\n    start = time.process_time()\n    while time.process_time() - start < 0.3:\n        pass\n    return True\n"
    result = engine.run_one(program, ["assert work()"] * 8, Limits(timeout=0.5, program_timeout=None))
    assert result.test_results == [1] * 8


def test_the_program_budget_counts_every_test_and_ends_a_looping_program_cheaply(engine):
    """A program whose every test loops costs one budget, not one timeout per test; tests not reached fail as
    timeouts; the budget covers the program's forked children too."""
    loop = "def f(x):\n    while True:\n        pass\n"
    started = time.monotonic()
    result = engine.run_one(loop, ["assert f(1) == 1"] * 20, Limits(timeout=0.5, program_timeout=1.0))
    assert result.test_results == [0] * 20 and set(result.errors) <= {"timeout", "timeout:budget"}
    assert result.cpu_time < 1.6 and time.monotonic() - started < 6
    forker = (
        "import os\ndef f(x):\n    if os.fork() == 0:\n        while True:\n            pass\n    os.wait()\n"
    )
    result = engine.run_one(forker, ["f(1)"] * 10, Limits(timeout=5.0, program_timeout=1.0))
    assert result.test_results == [0] * 10 and result.cpu_time < 2.0


def test_a_program_that_blocks_gets_one_wall_clock_allowance_not_one_per_test(engine):
    """Blocking uses no CPU: the wall-clock backstop covers the whole program across its restarts."""
    sleeper = "import time\ndef f(x):\n    time.sleep(30)\n"
    limits = Limits(timeout=0.3, program_timeout=0.5, wall_factor=1.0, wall_extra=0.2)
    started = time.monotonic()
    result = engine.run_one(sleeper, ["assert f(1) is None"] * 8, limits)
    elapsed = time.monotonic() - started
    assert result.test_results == [0] * 8 and result.errors[0] == "timeout"
    assert set(result.errors[1:]) == {"timeout:budget"}
    assert elapsed < 2.0  # one test's 0.5 s allowance, then the program's 0.7 s; not 8 x 0.5 s


def test_no_tests_means_no_pass_rate(engine):
    result = engine.run_one(ADD, [])
    assert result.test_results == [] and result.pass_rate is None


def test_results_come_back_in_input_order_across_workers(engine):
    jobs = [
        Job(f"def f():\n    return {i}\n", [f"assert f() == {i}", f"assert f() == {i + 1}"])
        for i in range(60)
    ]
    results = list(engine.run(jobs))
    assert [r.test_results for r in results] == [[1, 0]] * 60


def test_a_stream_yields_results_as_they_finish_and_waits_for_work_on_its_wakeup(engine):
    loop = Job("while True:\n    pass\n", ["assert True"])
    quick = [Job(f"x = {i}\n", [f"assert x == {i}"]) for i in range(6)]
    wakeup = os.eventfd(0, os.EFD_NONBLOCK)
    arrived: list = []  # jobs the "producer" adds once the engine has asked and found nothing

    def source():
        yield loop
        yield from quick[:3]
        yield None  # nothing ready: the engine must wait on wakeup, not end the run or spin
        while not arrived:
            yield None
        yield from arrived
        # exhausted: the run ends once every job has finished

    order = []
    try:
        for index, result in engine.stream(source(), wakeup):
            order.append(index)
            if len(order) == 2:  # the engine is idle but for the loop: more work arrives
                arrived.extend(quick[3:])
                os.eventfd_write(wakeup, 1)
            assert result.test_results == ([0] if index == 0 else [1])
    finally:
        os.close(wakeup)
    assert sorted(order) == list(range(7))
    # the looping program (1 s of CPU) held back none of the quick ones but the one queued on its worker
    assert order.index(0) >= 5, order


def test_identical_jobs_of_a_run_run_once_and_get_their_own_copy_of_the_verdicts(engine):
    counter = "def f():\n    return 1\n"
    tests = ["assert f() == 1", "assert f() == 2"]
    jobs = (
        [Job(counter, tests)] * 5
        + [Job(counter, tests, Limits(timeout=0.4))]
        + [Job(ADD, ["add(1, 1) == 2"])]
    )
    results = list(engine.run(jobs))
    assert [r.test_results for r in results[:6]] == [[1, 0]] * 6
    assert [r.reused for r in results] == [False, True, True, True, True, False, False]
    assert [r.cpu_time for r in results[1:5]] == [0.0] * 4
    results[1].test_results[0] = 7  # each copy is the caller's own
    assert results[0].test_results == [1, 0] and results[2].test_results == [1, 0]
    with ExecutionEngine(workers=1, dedupe=False) as every_copy:
        assert not any(r.reused for r in every_copy.run([Job(counter, tests)] * 3))


def test_a_caller_changing_a_result_changes_no_later_copy(engine):
    job = Job("def f():\n    return 1\n# changed later\n", ["assert f() == 1"])
    wakeup = os.eventfd(0, os.EFD_NONBLOCK)
    changed: list = []

    def source():
        yield job
        while not changed:
            yield None
        yield job  # pulled after the first result was changed by its caller

    results = []
    try:
        for _, result in engine.stream(source(), wakeup):
            results.append(result)
            if len(results) == 1:
                result.test_results[0], result.errors[0] = 0, "changed by the caller"
                changed.append(True)
                os.eventfd_write(wakeup, 1)
    finally:
        os.close(wakeup)
    assert results[1].reused and results[1].test_results == [1] and results[1].errors == [None]


def test_run_refuses_none_instead_of_waiting_forever(engine):
    with pytest.raises(TypeError, match="None instead of a Job"):
        list(engine.run([Job(ADD, ["assert add(1, 1) == 2"]), None]))


def test_output_is_captured_and_capped(engine):
    limits = Limits(timeout=0.5, output_bytes=1000)
    result = engine.run_one("print('hello')\nprint('x' * 10**6)\n", ["print('in test')"], limits)
    assert result.test_results == [1]
    assert result.output.startswith("hello\n")
    assert len(result.output) == 1000


def test_execution_is_deterministic(engine):
    program = "import random\nvalues = [random.random() for _ in range(3)]\norder = list({'a', 'b', 'c', 'd', 'e'})\n"
    probe = "print(values, order)"
    outputs = {engine.run_one(program, [probe]).output for _ in range(4)}
    assert len(outputs) == 1


def test_standard_runtime_has_numpy_and_pytest(engine):
    program = "import numpy as np\nimport pytest\ndef mean(xs):\n    return float(np.mean(xs))\n"
    assert engine.run_one(program, ["assert mean([1, 2, 3]) == 2.0"]).test_results == [1]


def test_limits_are_validated():
    with pytest.raises(ValueError, match="timeout"):
        Limits(timeout=0)
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=0)


def _python(version: str) -> str | None:
    """A working python<version>: on PATH, or installed by pyenv (whose shims may not select it)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [
        shutil.which(f"python{version}"),
        *sorted(map(str, pyenv.glob(f"{version}.*/bin/python{version}"))),
    ]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_in_process_tests_may_build_namedtuples_enums_and_typed_tuples_on_each_python(version):
    """The audit hook refuses frame introspection; the standard library's own uses of the frame (namedtuple,
    enum, typing, logging) must keep working on every interpreter the sandbox supports (3.12 added
    ``sys._getframemodulename``, which namedtuple calls without catching an error)."""
    interpreter = _python(version)
    if interpreter is None:
        pytest.skip(f"python{version} is not installed here")
    test = (
        "import collections, enum, typing, logging.handlers\n"
        "P = collections.namedtuple('P', 'x y')\n"
        "class Color(enum.Enum):\n    RED = 1\n"
        "class T(typing.NamedTuple):\n    a: int\n"
        "assert add(P(1, 2).x, T(1).a) == 2 and Color.RED.value == 1"
    )
    with ExecutionEngine(workers=1, interpreter=interpreter) as engine:
        in_process = engine.run_one(ADD, [test, "assert add(1, 1) == 2"], Limits(in_process_tests=True))
        judged = engine.run_one(ADD, [test, "assert add(1, 1) == 2"])
    assert in_process.modes == ["process", "split"]
    assert in_process.test_results == [1, 1], in_process.errors
    assert judged.modes == ["judge", "split"] and judged.test_results == [1, 1], judged.errors


def test_a_missing_interpreter_is_a_clear_error():
    with (
        pytest.raises((SandboxError, OSError)),
        ExecutionEngine(workers=1, interpreter="/nonexistent/python"),
    ):
        pass


def test_the_interpreter_is_configurable():
    with ExecutionEngine(workers=1, interpreter=sys.executable) as engine:
        assert engine.run_one(
            "import sys\nv = sys.version_info[:2]\n", [f"assert v == {sys.version_info[:2]}"]
        ).passed_all


@pytest.mark.parametrize(
    ("completion", "program"),
    [
        ("def f():\n    return 1\n", "def f():\n    return 1\n"),
        ("Here it is:\n```python\ndef f():\n    return 1\n```\nDone.", "def f():\n    return 1\n"),
        ("```\nx = 1\n```\n```python\ny = 2\n```", "y = 2\n"),
        ("```py\ndef f():\n    pass", "def f():\n    pass"),
    ],
)
def test_program_is_the_fenced_block_when_there_is_one(completion, program):
    assert extract_program(completion) == program


@pytest.mark.parametrize("process", ["sandbox", "judge"])
def test_a_server_killed_while_idle_is_replaced_without_losing_jobs(process):
    with ExecutionEngine(workers=2) as engine:
        os.kill(getattr(engine._servers[0], process).pid, signal.SIGKILL)
        results = list(engine.run([Job(f"{ADD}# {i}\n", ["assert add(1, 1) == 2"]) for i in range(6)]))
        assert [r.test_results for r in results] == [[1]] * 6
        assert all(r.infra_error is None for r in results)


def test_programs_do_not_see_files_an_earlier_program_left_anywhere():
    with ExecutionEngine(workers=1) as engine:
        if not engine.isolation.get("pid_namespace"):
            pytest.skip("needs the private namespaces")
        places = "('.', '/dev/shm', __import__('tempfile').gettempdir(), '/tmp', '/var/tmp')"
        leave = (
            f"import os\nfor d in {places}:\n    try:\n        open(os.path.join(d, 'left'), 'w').close()\n"
            "    except OSError:\n        pass\n"
            "os.mkdir('locked')\nopen('locked/f', 'w').close()\nos.chmod('locked', 0o500)\n"
        )
        look = f"import os\nfound = [d for d in {places} if os.path.exists(os.path.join(d, 'left'))]\n"
        engine.run_one(leave, ["assert True"])
        result = engine.run_one(look, ["assert found == []", "assert not os.path.exists('locked')"])
        assert result.test_results == [1, 1]


def test_an_interpreter_installed_under_tmp_runs_and_tempfile_works(tmp_path):
    """The interpreter's own tree is visible wherever it is installed (here a venv under /tmp); the caller's
    other files are not."""
    import subprocess

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (tmp_path / "helper_mod.py").write_text("VALUE = 7\n")
    program = f"import os, sys, tempfile\nhelper = {str(tmp_path / 'helper_mod.py')!r}\n"
    program += "def temporary():\n    fd, name = tempfile.mkstemp()\n    return name.startswith(tempfile.gettempdir())\n"
    tests = [
        f"assert sys.prefix.startswith({str(tmp_path)!r})",
        "assert temporary()",
        "assert not os.path.exists(helper)",
    ]
    with ExecutionEngine(workers=1, interpreter=str(venv / "bin" / "python")) as engine:
        result = engine.run_one(program, tests)
        assert result.test_results == [1, 1, 1], result.errors


def test_lone_surrogates_in_completions_do_not_break_writing(tmp_path):
    from acecoder.data import read_rows, write_rows

    row = {"id": "x", "inferences": [{"completion": "s = '\ud83d'"}]}
    write_rows(tmp_path / "rows.jsonl", [row])
    assert read_rows(tmp_path / "rows.jsonl") == [row]


def test_a_nested_run_in_the_same_thread_fails_clearly_instead_of_deadlocking(engine):
    outer = engine.run([Job(ADD, ["assert add(1, 1) == 2"])] * 3)
    assert next(outer).test_results == [1]
    with pytest.raises(RuntimeError, match="still consuming another run"):
        engine.run_one(ADD, ["assert add(2, 2) == 4"])
    assert [r.test_results for r in outer] == [[1], [1]]
    assert engine.run_one(ADD, ["assert add(2, 2) == 4"]).test_results == [1]


def test_without_namespaces_programs_still_run_in_a_private_scratch_directory():
    with ExecutionEngine(workers=1, isolation="none") as engine:
        assert engine.isolation.get("network") == "host"
        locker = "import os\nos.mkdir('d')\nopen('d/f', 'w').close()\nos.chmod('d', 0)\nos.chmod('.', 0)\n"
        assert engine.run_one(locker, ["assert True"]).test_results == [1]
        look = "import os\nopen('f', 'w').write('x')\nleft = os.listdir('.')\n"
        assert engine.run_one(look + ADD, ["assert left == ['f']", "assert add(1, 2) == 3"]).test_results == [
            1,
            1,
        ]


def _hogs(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def test_verdicts_do_not_depend_on_load():
    """Programs that use CPU are judged by their CPU: beside CPU hogs (the machine several times oversubscribed)
    a program whose work takes several times its wall-clock allowance still passes, and a sleeper still fails."""
    work = (
        "import time\n"
        "def work(seconds):\n"
        "    start = time.process_time()\n"
        "    while time.process_time() - start < seconds:\n"
        "        pass\n"
        "    return True\n"
        "def sleep():\n"
        "    time.sleep(30)\n"
    )
    limits = Limits(timeout=0.6, program_timeout=None, wall_factor=1.0, wall_extra=0.05)
    jobs = [Job(f"{work}# {i}\n", ["assert work(0.3)", "assert work(0.05)", "sleep()"]) for i in range(6)]
    with ExecutionEngine(workers=2, limits=limits) as engine:
        alone = [r.test_results for r in engine.run(jobs)]
        hogs = _hogs(6)
        try:
            loaded = [r.test_results for r in engine.run(jobs)]
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
    assert alone == loaded == [[1, 1, 0]] * 6


def test_an_oversubscribed_machine_is_reported():
    from acecoder.execution.engine import oversubscription

    assert oversubscription(1024) and "oversubscribed" in oversubscription(1024)


def test_a_test_that_spends_the_program_budget_fails_every_later_test_alike(engine):
    """A runaway test stopped on the program's budget spends it: the later tests fail as timeout:budget every
    time, not only when the timer's tick happened to leave a few milliseconds over (a verdict must not depend on
    the machine's timing)."""
    program = "def gcd(a, b):\n    while a != b:\n        if a < b:\n            a, b = b, a\n        a = a - b\n    return a\n"
    # the last test is judge-driven (two statements): a later request, which must find the budget spent too
    tests = [
        "assert gcd(1, 0) == 1",
        "assert gcd(9, 6) == 3",
        "assert gcd(1, 1) == 1",
        "x = gcd(4, 2)\nassert x == 2",
    ]
    limits = Limits(timeout=1.0, program_timeout=0.25, wall_extra=0.5)
    for copy in range(4):
        result = engine.run_one(program + f"# {copy}\n", tests, limits)
        assert result.test_results == [0, 0, 0, 0]
        assert result.errors == ["timeout"] + ["timeout:budget"] * 3, result.errors
