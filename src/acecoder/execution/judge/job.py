"""One job in the judge: every test judged here, the program reached through its worker's sandbox server.

Phases, each only when the job has such tests:

1. **Batched**: split asserts (and, where the caller allows them, tests run inside the program's process) go to
   the sandbox in one request; the child runs the program, then every probe, and the values come back in one
   reply; each check is judged here. A check whose names the program shadows (it defines its own ``sorted``)
   moves to phase 3.
2. **Stdin**: each stdin test runs the whole program once with that input; its output is compared here.
3. **Driven**: tests that are not plain asserts (``check(candidate)``, loops, several statements, pytest-style
   functions, functional calls) run here, in a process forked for the job, with the program reached only through
   calls on a channel (:mod:`.remote`); the child re-runs the program after a test that killed it.

Only this process and the sandbox server's own observations decide verdicts and infrastructure errors: nothing
the program's process writes can be read as either.
"""

from __future__ import annotations

import ast
import gc
import os
import select
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from acecoder.execution.judge import names as names_mod
from acecoder.execution.judge import prefetch
from acecoder.execution.judge.checks import Shadowed, judge, raised_kind
from acecoder.execution.judge.expand import expand_check
from acecoder.execution.judge.remote import Channel, ChildGone, JudgeTimeout, Remote, ValueRefused
from acecoder.execution.sandbox import cleanup, codec, wire
from acecoder.execution.split import InProcessTest, SplitTest, split_cached
from acecoder.execution.testkinds import CallTest, StdinTest, parse_test

WRONG_OUTPUT = "wrong-output"


class ServerGone(Exception):
    """The sandbox server died or broke the protocol: an infrastructure error."""


@dataclass
class Outcome:
    """The verdicts of one job, as the engine receives them."""

    n: int
    results: list[int] = field(init=False)
    errors: list[str | None] = field(init=False)
    modes: list[str] = field(init=False)
    values: list[Any] = field(init=False)
    setup: str | None = None
    infra: str | None = None
    output: list[str] = field(default_factory=list)
    cpu: float = 0.0
    restarts: int = 0
    retire: str | None = None

    def __post_init__(self) -> None:
        self.results = [0] * self.n
        self.errors = [None] * self.n
        self.modes = ["split"] * self.n
        self.values = [None] * self.n

    def set(self, index: int, error: str | None, value: Any = None) -> None:
        self.results[index] = 1 if error is None else 0
        self.errors[index] = error
        if value is not None:
            self.values[index] = value

    def message(self, capture: bool, wall: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "results": self.results,
            "errors": self.errors,
            "modes": self.modes,
            "setup": self.setup,
            "output": "".join(self.output),
            "cpu": self.cpu,
            "wall": wall,
            "restarts": self.restarts,
        }
        if capture:
            out["values"] = [_capture(v) for v in self.values]
        if self.infra:
            out["infra"] = self.infra
        if self.retire:
            out["retire"] = self.retire
        return out


def _capture(value: Any) -> str | None:
    """A captured test value as canonical JSON text for the engine (program objects are opaque there)."""
    if value is None:
        return None
    try:
        return codec.dumps(_CAPTURE.encode(value))
    except Exception as e:
        return codec.dumps({"U": f"{type(e).__name__}: {str(e)[:100]}"})


def _opaque_remote(value: Any) -> dict:
    if isinstance(value, Remote):
        return {"O": [[[0, str(value._acecoder_info.get("t", "object"))]], True]}
    return codec.opaque(value, type(value))


_CAPTURE = codec.Encoder(_opaque_remote)


def label(exc: BaseException) -> str:
    """A failure's label from the engine's vocabulary."""
    if isinstance(exc, JudgeTimeout):
        return "timeout"
    if isinstance(exc, ChildGone):
        return exc.reason
    if isinstance(exc, ValueRefused):
        return "error:BadValue"
    return raised_kind(codec.builtin_base(type(exc)))


@dataclass(frozen=True)
class BadTest:
    """A test that is not one of the three kinds (or names an unknown comparator): it fails alone."""

    reason: str


@dataclass
class Plan:
    """How each test of a job is judged."""

    tests: list[Any]
    batched: list[int]
    stdin: list[int]
    driven: list[int]
    expanded: dict[int, tuple[SplitTest, ...]] = field(default_factory=dict)
    """``check(candidate)`` tests of plain asserts, batched as those asserts (:mod:`.expand`)."""


def plan(raw_tests: list[Any], limits: dict) -> Plan:
    tests: list[Any] = []
    batched, stdin, driven = [], [], []
    expanded: dict[int, tuple[SplitTest, ...]] = {}
    in_process = bool(limits.get("in_process_tests"))
    split = limits.get("split_tests", True)
    for index, raw in enumerate(raw_tests):
        try:
            test = parse_test(raw, where=f"test_cases[{index}]")
        except ValueError as e:  # a malformed test fails alone, saying why
            tests.append(BadTest(str(e)))
            continue
        if isinstance(test, str):
            test = split_cached(test) if split else InProcessTest(test, "split off")
        tests.append(test)
        if isinstance(test, SplitTest) or (isinstance(test, InProcessTest) and in_process):
            batched.append(index)
        elif isinstance(test, StdinTest):
            stdin.append(index)
        elif isinstance(test, InProcessTest) and split and (parts := expand_check(test.source)) is not None:
            expanded[index] = parts
            batched.append(index)
        else:
            driven.append(index)
    return Plan(tests, batched, stdin, driven, expanded)


class JobRun:
    """Runs one job (the engine's message) against the sandbox server on ``link``."""

    def __init__(self, job: dict, link: socket.socket):
        self.job = job
        self.link = link
        self.limits = dict(job["limits"])
        n = len(job["tests"])
        self.timeouts = [float(t) for t in (job.get("timeouts") or [self.limits["timeout"]] * n)]
        self.limits["timeouts"] = self.timeouts
        self.budget = float(self.limits.get("program_timeout") or 0) or float("inf")
        self.spent = False  # the sandbox said the program's budget ran out: later requests get none of it
        self.batched_bound = False  # the batched request's budget was the program's rest, not the tests' own
        self.batched_left = float("inf")
        self.stop = bool(job.get("stop_on_failure"))
        self.capture = bool(job.get("capture"))
        self.outcome = Outcome(n)
        self.restarts = 0  # runs of the program again after a test killed it
        self.started = time.monotonic()
        self.clock = time.process_time

    # ------------------------------------------------------------------------------------------------ run
    def run(self) -> dict[str, Any]:
        """The whole job, talking to the sandbox server alone."""
        if self.begin():
            return self.resume(*recv_reply(self.link))
        return self.resume(None, b"")

    def begin(self) -> bool:
        """Plan the job and send its batched request, if it has one, without waiting for the answer (the judge
        keeps the server busy with the next job meanwhile). True when an answer is awaited."""
        self.began_cpu = self.clock()
        outcome = self.outcome
        self.plan = None
        try:
            self.plan = plan(self.job["tests"], self.limits)
        except ValueError as e:
            outcome.infra = f"bad test: {e}"
            return False
        the_plan = self.plan
        for index, test in enumerate(the_plan.tests):
            if isinstance(test, BadTest):
                outcome.set(index, "error:bad-test: " + test.reason[:200])
                outcome.modes[index] = "judge"
                continue
            if index in the_plan.expanded:
                continue  # judged from its asserts' probes: "split"
            if not isinstance(test, SplitTest):
                outcome.modes[index] = "process" if index in the_plan.batched else "judge"
        if not the_plan.batched:
            return False
        self.parts = [
            (index, part)
            for index in the_plan.batched
            for part in the_plan.expanded.get(index, (the_plan.tests[index],))
        ]
        wire_tests = [
            {"probes": list(t.probes), "names": list(t.names)}
            if isinstance(t, SplitTest)
            else {"source": t.source}
            for _, t in self.parts
        ]
        # an expanded check's asserts share its time, as its one test would
        tests_time, self.batched_left = sum(self.timeouts[i] for i in the_plan.batched), self._left()
        self.batched_bound = self.batched_left <= tests_time
        request = {
            "op": "run",
            "program": self.job["program"],
            "tests": wire_tests,
            "limits": dict(self.limits, timeouts=[self.timeouts[i] for i, _ in self.parts]),
            "stop_on_failure": self.stop,
            "budget": min(self.batched_left, tests_time),
        }
        try:
            wire.send(self.link.fileno(), request)
        except OSError as e:
            raise ServerGone(str(e)) from None
        return True

    def needs_server(self) -> bool:
        """Whether the job has more to ask the sandbox server after its batched answer (stdin tests, or tests
        the judge runs); known only once that answer is judged, so true whenever it may."""
        the_plan = self.plan
        return the_plan is not None and bool(the_plan.stdin or the_plan.driven or the_plan.batched)

    def resume(self, reply: dict | None, blob: bytes, quiesce=None) -> dict[str, Any]:
        """Judge the batched answer (``reply``), then run the job's other phases; ``quiesce()`` is called first
        when those phases need the sandbox server alone (other jobs' answers are then collected)."""
        outcome = self.outcome
        the_plan = self.plan
        if the_plan is None:
            return outcome.message(self.capture, 0.0)
        tests = the_plan.tests
        later = list(the_plan.driven)
        if reply is not None:
            later += self._batched(tests, reply, blob)
            later.sort()
        for index in later:
            if index in the_plan.expanded:
                outcome.modes[index] = "judge"
        more = (the_plan.stdin and not self._stopped()) or (
            later and not self._stopped() and outcome.setup is None and not outcome.infra
        )
        if more and quiesce is not None:
            quiesce()
        if the_plan.stdin and not self._stopped():
            self._stdin(tests, the_plan.stdin)
        if later and not self._stopped() and outcome.setup is None and not outcome.infra:
            self._driven(tests, later)
        self._finish_skips()
        if outcome.setup is not None:  # the program failed before any test: every test not judged fails so
            self._mark(list(range(outcome.n)), "setup:" + outcome.setup)
        outcome.restarts = self.restarts
        outcome.cpu += self.clock() - self.began_cpu
        return outcome.message(self.capture, time.monotonic() - self.started)

    def _stopped(self) -> bool:
        return (self.stop and any(e not in (None, "skipped") for e in self.outcome.errors)) or bool(
            self.outcome.infra
        )

    def _budget_ran_out(self, errors) -> bool:
        """Whether a test of the batched request stopped on the program's budget (its own limit was larger than
        what the budget had left), or a later one found it spent."""
        for position, error in enumerate(errors):
            if error == "timeout:budget":
                return True
            if error == "timeout" and self.timeouts[self.parts[position][0]] >= self.batched_left:
                return True
        return False

    def _left(self) -> float:
        if self.spent:
            return 0.0
        return self.budget - self.outcome.cpu

    def _finish_skips(self) -> None:
        """With ``stop_on_failure``, every test after the first failure is "skipped"."""
        if not self.stop:
            return
        errors, first = self.outcome.errors, None
        for index, error in enumerate(errors):
            if first is None and error is not None and error != "skipped":
                first = index
            elif first is not None:
                self.outcome.results[index], errors[index] = 0, "skipped"

    def _mark(self, indexes: list[int], error: str) -> None:
        for index in indexes:
            if self.outcome.errors[index] is None and not self.outcome.results[index]:
                self.outcome.set(index, error)

    # -------------------------------------------------------------------------------------------- batched
    def _batched(self, tests: list[Any], reply: dict, blob: bytes) -> list[int]:
        """Phase 1's answer; returns the tests to judge by running them instead (their names are shadowed, or
        the program returned objects only a handle can show)."""
        outcome = self.outcome
        parts = self.parts
        if reply.get("infra"):
            outcome.infra = str(reply["infra"])
            return []
        outcome.output.append(reply.get("output", ""))
        outcome.cpu += float(reply.get("cpu", 0.0))
        self.restarts += int(reply.get("restarts", 0))
        if reply.get("retire"):
            outcome.retire = str(reply["retire"])
        outcome.setup = reply.get("setup")
        if self.batched_bound and self._budget_ran_out(reply.get("errors", ())):
            # spent to the last timer tick or not, the budget is gone for every later request alike
            self.spent = True
        records = {int(t): blob[o : o + s] for t, o, s in reply.get("values", [])}
        value_bytes = int(self.limits.get("value_bytes", 1 << 24))
        verdicts: dict[int, tuple[str | None, Any]] = {}
        again: set[int] = set()
        for position, (index, test) in enumerate(parts):
            if index in again or (index in verdicts and verdicts[index][0] is not None):
                continue  # a check's first failing assert decides it
            error = reply["errors"][position]
            value = None
            if isinstance(test, SplitTest) and error in ("values", "raised"):
                record = _decode_record(records.get(position), value_bytes)
                try:
                    with _judge_time(self.timeouts[index]):
                        verdict, value = judge(test, record)
                except Shadowed:
                    again.add(index)
                    continue
                except JudgeTimeout:
                    verdict = "timeout"
                if verdict is not None and _has_opaque(record):
                    # The program returned an object only it can interpret (its own iterable, a class
                    # instance): judge the test again with the object as a handle the test can call into.
                    again.add(index)
                    continue
            elif isinstance(test, SplitTest) and reply["results"][position]:
                verdict = "error:ForgedVerdict"  # only the judge passes a split test
            else:
                verdict = None if reply["results"][position] else (error or "error:NoVerdict")
            verdicts[index] = (
                verdict,
                value if self.capture and isinstance(test, SplitTest) and test.expression else None,
            )
        for index, (verdict, value) in verdicts.items():
            if index not in again:
                outcome.set(index, verdict, value)
        if outcome.setup is not None:
            return []
        return sorted(again)

    # ---------------------------------------------------------------------------------------------- stdin
    def _stdin(self, tests: list[Any], indexes: list[int]) -> None:
        """Phase 2: one run of the whole program per test; its output compared here."""
        from acecoder.execution.comparators import compare

        outcome = self.outcome
        for index in indexes:
            if self._stopped():
                break
            if self._left() <= 0:
                self._mark([i for i in indexes if outcome.errors[i] is None], "timeout:budget")
                break
            test: StdinTest = tests[index]
            request = {
                "op": "stdin",
                "program": self.job["program"],
                "stdin": test.stdin,
                "limits": self.limits,
                "timeout": self.timeouts[index],
                "budget": self._left(),
            }
            reply, _blob = self._ask(request)
            if reply.get("infra"):
                outcome.infra = str(reply["infra"])
                return
            outcome.cpu += float(reply.get("cpu", 0.0))
            outcome.output.append(reply.get("output", ""))
            if reply.get("retire"):
                outcome.retire = str(reply["retire"])
            status = reply.get("status", "ok")
            if status == "timeout" and self.timeouts[index] >= request["budget"]:
                self.spent = True  # it ran out of the program's budget, not of its own limit
            if status != "ok":
                outcome.set(index, str(status))
            elif reply.get("truncated"):
                outcome.set(index, "output-limit")
            else:
                try:
                    with _judge_time(max(self.timeouts[index], 1.0)):
                        same = compare(test.comparator, reply.get("stdout", ""), test.stdout)
                except JudgeTimeout:
                    same = False
                except (KeyError, ValueError) as e:
                    outcome.set(index, f"error:comparator:{str(e)[:60]}")
                    continue
                outcome.set(
                    index, None if same else WRONG_OUTPUT, reply.get("stdout") if self.capture else None
                )
            outcome.modes[index] = "stdin"

    # --------------------------------------------------------------------------------------------- driven
    def _driven(self, tests: list[Any], indexes: list[int]) -> None:
        """Phase 3, in the judge's runner process (a test that makes the judge itself slow is stopped there,
        and its code never runs in this process)."""
        allowance = min(self._left(), sum(self.timeouts[i] for i in indexes) + self.limits["setup_timeout"])
        part, judge_cpu = RUNNER.run(self, indexes, allowance)
        outcome = self.outcome
        if part is None:  # the runner was stopped: its tests took too long
            self._mark(indexes, "timeout")
            outcome.cpu += judge_cpu
            outcome.retire = "the judge stopped a job mid-conversation with the sandbox"
            return
        for key in ("setup", "infra"):
            if part.get(key) and not getattr(outcome, key):
                setattr(outcome, key, part[key])
        outcome.cpu += float(part.get("cpu", 0.0)) + judge_cpu
        self.restarts += int(part.get("restarts", 0))
        outcome.output.append(part.get("output", ""))
        if part.get("retire"):
            outcome.retire = str(part["retire"])
        for index, error, value, mode in part.get("verdicts", []):
            outcome.set(index, error, codec.loads(value) if value is not None else None)
            outcome.modes[index] = mode

    # ------------------------------------------------------------------------------------------- protocol
    def _ask(self, request: dict) -> tuple[dict, bytes]:
        try:
            wire.send(self.link.fileno(), request)
            return recv_reply(self.link)
        except (EOFError, OSError, ValueError) as e:
            raise ServerGone(str(e) or type(e).__name__) from None


def recv_reply(link: socket.socket) -> tuple[dict, bytes]:
    """A final report of the sandbox server and its values frame."""
    reply = wire.recv(link.fileno())
    blob = wire.recv_bytes(link.fileno())
    return reply, blob


def _decode_record(data: bytes | None, value_bytes: int):
    if data is None:
        return None
    decoder = codec.Decoder(max_bytes=value_bytes)
    try:
        record = decoder.loads(data)
        values, bindings = record
        if not isinstance(values, list) or not isinstance(bindings, list):
            raise codec.BadValue("a record is not [values, bindings]")
        return values, {str(name): binding for name, binding in bindings}
    except (codec.BadValue, TypeError, ValueError) as e:
        return e if isinstance(e, codec.BadValue) else codec.BadValue(str(e))


def _has_opaque(record: Any) -> bool:
    if not isinstance(record, tuple):
        return False
    return any(isinstance(v, codec.Opaque) and not v.type_name.startswith("unencodable") for v in record[0])


def _on_judge_timeout(signum: int, frame: Any) -> None:
    raise JudgeTimeout()


class _judge_time:
    """Bound the judge's own CPU on one test (an itimer raising :class:`JudgeTimeout` in the judge)."""

    def __init__(self, seconds: float):
        self.seconds = max(float(seconds), 0.001)

    def __enter__(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, self.seconds, 0.05)

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)


class Runner:
    """The process where tests' own code runs: forked from the judge on first use, it runs the driven phase of
    job after job (each with a fresh namespace and reseeded ``random``); the judge supervises each job's CPU
    and time from outside and replaces a runner that overran (or died)."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.requests = self.replies = -1

    def _start(self, link: socket.socket) -> None:
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        gc.freeze()  # the child's collector then never walks (and so never copies) this process's objects
        pid = os.fork()
        if pid == 0:
            os.close(request_w)
            os.close(reply_r)
            code = 0
            try:
                _serve_runner(request_r, reply_w, link)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        gc.unfreeze()
        os.close(request_r)
        os.close(reply_w)
        self.pid, self.requests, self.replies = pid, request_w, reply_r

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.requests)
        os.close(self.replies)
        self.pid = None

    def run(self, job: JobRun, indexes: list[int], allowance: float) -> tuple[dict | None, float]:
        """(the runner's verdicts, or None when it had to be stopped; its CPU seconds for this job)."""
        if self.pid is None:
            self._start(job.link)
        before = _process_cpu(self.pid)
        try:
            wire.send(self.requests, {"job": job.job, "indexes": indexes, "budget": job._left()})
            reply = self._wait(allowance, job.limits, before)
        except (OSError, EOFError, ValueError):
            reply = None
        used = max(_process_cpu(self.pid) - before, 0.0) if self.pid is not None else 0.0
        if reply is None:
            self.stop()
        return reply, used

    def _wait(self, allowance: float, limits: dict, cpu_before: float) -> dict | None:
        cpu_limit = allowance * 2 + 1.0
        idle_limit = allowance * float(limits.get("wall_factor", 3.0)) + float(limits.get("wall_extra", 1.0))
        deadline = time.monotonic() + max(idle_limit, 10.0) + cpu_limit
        poller = select.poll()
        poller.register(self.replies, select.POLLIN)
        while not poller.poll(100):
            if _process_cpu(self.pid) - cpu_before > cpu_limit or time.monotonic() > deadline:
                return None
        return wire.recv(self.replies)


WORK_DIR: str | None = None  # made by the judge (which removes it when it ends), before it forks runners


def make_working_directory() -> str | None:
    """The runners' working directory, where a test's relative files go (``open('out.txt', 'w')``): a fresh one
    in the temporary directory (the judge's private scratch when it is confined); the judge calls this once."""
    global WORK_DIR
    try:
        WORK_DIR = tempfile.mkdtemp(prefix="acecoder-tests-")
    except OSError:
        WORK_DIR = None
    return WORK_DIR


def _working_directory() -> str | None:
    """The judge's working directory for tests, entered (emptied before every job by :func:`_empty`)."""
    work = WORK_DIR if WORK_DIR is not None else make_working_directory()
    try:
        if work is not None:
            os.chdir(work)
    except OSError:
        return None
    return work


def _empty(work: str | None) -> None:
    """Empty the working directory (and go back to it: a test may have changed directory)."""
    if work is None:
        return
    try:
        os.chdir(work)
        cleanup.empty_directory(work)
    except OSError:
        pass


def _serve_runner(requests: int, replies: int, link: socket.socket) -> None:
    """The runner's loop: a job's driven phase per request, until the judge closes the pipe."""
    import random

    from acecoder.execution.sandbox import isolation

    isolation.libc.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    signal.signal(signal.SIGPROF, _on_judge_timeout)
    profile = None
    if os.environ.get("ACECODER_JUDGE_PROFILE"):  # a developer's view of where the judge's time goes
        import cProfile

        profile = cProfile.Profile(time.process_time)
    work = _working_directory()
    while True:
        try:
            request = wire.recv(requests)
        except EOFError:
            return
        random.seed(0)
        job = JobRun(request["job"], link)
        job.budget = float(request["budget"]) + job.outcome.cpu
        driven = Driven(job, plan(job.job["tests"], job.limits).tests, request["indexes"])
        _empty(work)
        part = profile.runcall(driven.run) if profile is not None else driven.run()
        wire.send(replies, part)
        if profile is not None:
            import pstats
            import sys

            pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(12)


RUNNER = Runner()


def _process_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Driven:
    """Phase 3 in the forked judge: each test run here against a serving child of the sandbox."""

    def __init__(self, job: JobRun, tests: list[Any], indexes: list[int]):
        self.job = job
        self.tests = tests
        self.indexes = indexes
        self.link = job.link
        self.limits = job.limits
        self.timeouts = job.timeouts
        self.verdicts: list[list[Any]] = []
        self.cpu = 0.0  # the program's CPU over its runs, as the sandbox server measured it
        self.output: list[str] = []
        self.restarts = 0
        self.setup: str | None = None
        self.infra: str | None = None
        self.retire: str | None = None
        self.budget_left = job._left()
        self.own_cpu = time.process_time()
        self.failed = False

    def run(self) -> dict[str, Any]:
        channel: Channel | None = None
        scope: dict[str, Any] = {}
        pending = list(self.indexes)
        while pending:
            index = pending[0]
            if self.job.stop and self.failed:
                break
            if self._used() >= self.budget_left:
                for late in pending:
                    self.verdicts.append([late, "timeout:budget", None, "judge"])
                pending = []
                break
            if channel is None or not channel.alive:
                if channel is not None:
                    self._ended(channel)
                    self.restarts += 1
                channel, scope = self._start(pending), {}
                if channel is None:
                    break
            pending.pop(0)
            error, value, mode = self._test(channel, scope, index)
            self.failed |= error is not None
            self.verdicts.append([index, error, _capture(value) if self.job.capture else None, mode])
        if channel is not None:
            channel.hang_up()
            self._ended(channel)
        if self.setup is not None or self.infra is not None:
            done = {v[0] for v in self.verdicts}
            for late in pending:
                if late not in done:
                    self.verdicts.append([late, "setup:" + (self.setup or "infra"), None, "judge"])
        return {
            "verdicts": self.verdicts,
            "cpu": self.cpu,
            "output": "".join(self.output),
            "restarts": self.restarts,
            "setup": self.setup,
            "infra": self.infra,
            "retire": self.retire,
        }

    def _used(self) -> float:
        return self.cpu + (time.process_time() - self.own_cpu)

    def _ended(self, channel: Channel) -> None:
        final = channel.final or {}
        if final.get("infra"):
            self.infra = str(final["infra"])
        self.cpu += float(final.get("cpu", 0.0))
        self.output.append(str(final.get("output", "")))
        if final.get("retire"):
            self.retire = str(final["retire"])

    def _start(self, pending: list[int]) -> Channel | None:
        """A child that runs the program, then serves this judge; None when the program failed at its top
        level (or the server could not run it). The first test's known calls go out before the program is
        even ready, so that they cost no round trip of their own."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request = {
            "op": "run",
            "program": self.job.job["program"],
            "tests": [],
            "limits": self.limits,
            "serve": True,
            "budget": max(self.budget_left - self._used(), 0.001),
            "serve_limit": sum(self.timeouts[i] for i in pending),
        }
        try:
            wire.send_fd(self.link, request, theirs.fileno())
        except OSError as e:
            self.infra = f"the sandbox server died: {e}"
            return None
        finally:
            theirs.close()
        channel = Channel(ours.detach(), self.link, self.limits)
        try:
            first = self.tests[pending[0]]
            if isinstance(first, InProcessTest):
                _code, _expression, _roles, used = _compile(first.source)
                channel.start_prefetch(prefetch.planned_calls(_tree(first.source), used - names_mod.STANDARD))
            channel.wait_ready()
        except ChildGone:
            self._failed_start(channel.final or {})
            self._ended(channel)
            return None
        except ValueRefused:
            channel.abort()
            channel.hang_up()
            self._ended(channel)
            self.setup = "error:BadValue"
            return None
        return channel

    def _failed_start(self, final: dict) -> None:
        if final.get("infra"):
            self.infra = str(final["infra"])
        else:
            self.setup = str(final.get("setup") or final.get("ended") or "exit")
            self.cpu += float(final.get("cpu", 0.0))
            self.output.append(str(final.get("output", "")))

    def _test(self, channel: Channel, scope: dict[str, Any], index: int) -> tuple[str | None, Any, str]:
        test = self.tests[index]
        timeout = self.timeouts[index]
        channel.time_left = timeout
        channel.idle_allowance = timeout * float(self.limits["wall_factor"]) + float(
            self.limits["wall_extra"]
        )
        mode = "split" if isinstance(test, SplitTest) else "judge"
        value = None
        try:
            with _judge_time(timeout):
                if isinstance(test, SplitTest):
                    try:
                        values, bindings, _raised = channel.probes(list(test.probes), list(test.names))
                        error, value = judge(test, (values, bindings))
                    except Shadowed:
                        mode = "judge"
                        error, value = self._source(channel, scope, _source_of(test, self.job.job, index))
                elif isinstance(test, CallTest):
                    error, value = self._call(channel, scope, test)
                else:
                    error, value = self._source(channel, scope, test.source)
        except BaseException as e:
            error, value = label(e), None
        return error, value, mode

    def _source(self, channel: Channel, scope: dict[str, Any], source: str) -> tuple[str | None, Any]:
        code, expression, roles, used = _compile(source)
        if isinstance(code, str):
            return "test:" + code, None
        plan = names_mod.scope_names(roles, used, channel.names)
        names_mod.bind(channel, scope, plan)
        remote = {name for name, (kind, _) in plan.items() if kind == "remote"}
        if channel.prefetching is None:
            channel.start_prefetch(prefetch.planned_calls(_tree(source), remote))
        channel.finish_prefetch(remote)
        scope.setdefault("__name__", "__main__")
        scope.setdefault("__builtins__", __builtins__)
        try:
            value = eval(code, scope) if expression else exec(code, scope)
        except AssertionError:
            return "assertion", None
        return None, value

    def _call(self, channel: Channel, scope: dict[str, Any], test: CallTest) -> tuple[str | None, Any]:
        """A functional test: ``Solution().fn(*args)`` when the program defines ``Solution`` (one instance per
        run of the program, as LiveCodeBench), else ``fn(*args)``; equal to ``expected`` (a top-level tuple
        equals a list)."""
        if "Solution" in channel.names:
            instance = scope.get("__acecoder_solution__")
            if instance is None:
                instance = scope["__acecoder_solution__"] = channel.global_name("Solution")()
            function = getattr(instance, test.fn_name)
        elif test.fn_name in channel.names:
            function = channel.global_name(test.fn_name)
        else:
            return "error:NameError", None
        result = function(*test.args)
        if isinstance(result, tuple):
            result = list(result)
        if isinstance(result, Remote) or not _equal(result, test.expected):
            return "assertion", result
        return None, result


def _equal(left: Any, right: Any) -> bool:
    try:
        return bool(left == right)
    except Exception:
        return False


def _source_of(test: SplitTest, job: dict, index: int) -> str:
    raw = job["tests"][index]
    return raw if isinstance(raw, str) else str(raw)


_COMPILED: dict[str, tuple[Any, bool, Any, set[str]]] = {}
_TREES: dict[str, Any] = {}


def _tree(source: str) -> Any:
    tree = _TREES.get(source)
    if tree is None:
        try:
            tree = ast.parse(source, "<test>", "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        if len(_TREES) < 4096:
            _TREES[source] = tree
    return tree


def _compile(source: str) -> tuple[Any, bool, Any, set[str]]:
    """A test's code (evaluated when it is one bare expression, so its value can be captured), the roles of its
    names (:func:`~.names.usage`) and the names it may load."""
    found = _COMPILED.get(source)
    if found is not None:
        return found
    try:
        tree = ast.parse(source, "<test>", "exec")
        expression = len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)
        mode = "eval" if expression else "exec"
        code = compile(source.strip() if expression else tree, "<test>", mode, dont_inherit=True)
        found = (code, expression, names_mod.usage(tree), names_mod.used_names(code))
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError) as e:
        found = (type(e).__name__, False, None, set())
    if len(_COMPILED) < 4096:
        _COMPILED[source] = found
    return found
