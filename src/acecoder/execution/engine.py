"""The execution engine: a pool of pre-started sandbox fork servers, one per worker, fed from one job stream.

Every stage that runs code (test filtering, pass rates, evaluation, RL rewards) goes through
:class:`ExecutionEngine`, so they all share one semantics. A Ray backend can implement :class:`Executor`
by running one engine per node.
"""

from __future__ import annotations

import copy
import json
import os
import select
import struct
import subprocess
import sys
import tempfile
import threading
import warnings
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from acecoder.execution.judge import judge
from acecoder.execution.limits import DEFAULT_PRELOAD, Limits
from acecoder.execution.split import InProcessTest, SplitTest, split_cached
from acecoder.execution.uids import UidRange
from acecoder.execution.values import decode_records

SANDBOX_DIR = Path(__file__).with_name("sandbox")
# The server is the stdlib-only package in sandbox/, loaded by path under a name no program would import, so it
# runs under any interpreter a user picks (which need not have acecoder installed).
_BOOT = (
    "import sys, importlib.util as u\n"
    "sys.path[:] = [p for p in sys.path if p]\n"
    "d = sys.argv[1]\n"
    "s = u.spec_from_file_location('acecoder_sandbox', d + '/__init__.py', submodule_search_locations=[d])\n"
    "m = u.module_from_spec(s); sys.modules['acecoder_sandbox'] = m; s.loader.exec_module(m)\n"
    "from acecoder_sandbox.server import run_main\n"
    "run_main()\n"
)
_HEADER = struct.Struct(">I")
_RETRIES = 2  # fresh servers a job may kill before it is reported as an infrastructure error
_DEPTH = 2  # jobs queued per server, so that it never waits for the engine between two programs
# A second job is queued behind a running one only when it fits in the pipe with room to spare, so that neither
# side can block on a full pipe while the other does.
_PIPELINE_BYTES = 16384
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")


@dataclass(frozen=True)
class Job:
    """One program to run against its tests (each test is Python source run after the program, over its names).

    ``stop_on_failure``: stop at the first test that fails (later tests fail as "skipped"; a wrong value found by
    the judge does not stop the sandbox, an exception or timeout does). ``capture``: keep the value of each
    test that is a bare expression in ``JobResult.values``. ``timeouts``: CPU seconds per test, overriding
    ``limits.timeout``."""

    program: str
    tests: Sequence[str]
    limits: Limits | None = None
    stop_on_failure: bool = False
    capture: bool = False
    timeouts: Sequence[float] | None = None


@dataclass
class JobResult:
    """Verdicts of one program: ``test_results[i]`` is 1 when test i passed, else 0 with ``errors[i]`` saying why."""

    test_results: list[int]
    errors: list[str | None]
    setup_error: str | None = None
    """Why the program itself failed before any test ran (syntax error, exception, exit, timeout), if it did."""
    infra_error: str | None = None
    """The engine, not the program, failed: the verdicts are not to be trusted as the program's."""
    output: str = ""
    wall_time: float = 0.0
    restarts: int = 0
    cpu_time: float = 0.0
    """CPU seconds the program and its tests used (over its whole process tree when cgroups are available)."""
    modes: list[str] = field(default_factory=list)
    """How each test ran: "split" (probes in the sandbox, check by the trusted judge) or "process" (inside
    the program's process, with mitigations)."""
    values: list[Any] | None = None
    """With ``Job(capture=True)``: each bare-expression test's value (see :mod:`acecoder.execution.values`)."""
    reused: bool = False
    """The verdicts of an identical job (same program, tests, limits and options) earlier in the same run,
    which ran once for both (``ExecutionEngine(dedupe=False)`` runs every copy); its CPU and wall time are 0."""

    @property
    def pass_rate(self) -> float | None:
        """passed / tests; None without tests and when the engine (not the program) failed."""
        if self.infra_error or not self.test_results:
            return None
        return sum(self.test_results) / len(self.test_results)

    @property
    def passed_all(self) -> bool:
        return bool(self.test_results) and all(self.test_results)


class Executor(Protocol):
    """What runs jobs: the local engine today, a Ray pool of engines for clusters."""

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]: ...

    def close(self) -> None: ...


class SandboxError(RuntimeError):
    """A sandbox server could not start or keeps dying."""


class _Server:
    """Handle on one sandbox fork server process."""

    def __init__(self, config: dict[str, Any], interpreter: str):
        self.config, self.interpreter = config, interpreter
        self.process: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}

    def start(self) -> None:
        env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
        env.update(
            PYTHONHASHSEED="0",
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONIOENCODING="utf-8",
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        env.setdefault("LANG", "C.UTF-8")
        # `python` in a program's subprocess is the interpreter that runs the program (as in a runtime image)
        if os.path.dirname(self.interpreter):
            env["PATH"] = os.pathsep.join([os.path.dirname(self.interpreter), env.get("PATH") or os.defpath])
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
        self.process = subprocess.Popen(
            [self.interpreter, "-s", "-B", "-c", _BOOT, str(SANDBOX_DIR), json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            start_new_session=True,
        )

    def wait_ready(self) -> dict[str, Any]:
        try:
            self.info = self.recv()
        except EOFError:
            self.log.seek(0)
            detail = self.log.read().decode(errors="replace").strip().splitlines()[-5:]
            raise SandboxError(
                f"sandbox server failed to start with {self.interpreter}: " + " | ".join(detail)
            ) from None
        return self.info

    def send(self, data: bytes) -> None:
        """Write one framed message."""
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def fileno(self) -> int:
        return self.process.stdout.fileno()

    def _read_exact(self, size: int) -> bytes:
        chunks, fd = [], self.fileno()
        while size:
            chunk = os.read(fd, size)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def recv(self) -> dict[str, Any]:
        """One whole message (blocking; called once the pipe is readable)."""
        (size,) = _HEADER.unpack(self._read_exact(_HEADER.size))
        return json.loads(self._read_exact(size))

    def recv_reply(self) -> tuple[dict[str, Any], bytes]:
        """A job's reply: its header and the raw probe values that follow it."""
        reply = self.recv()
        (size,) = _HEADER.unpack(self._read_exact(_HEADER.size))
        return reply, self._read_exact(size) if size else b""

    def stop(self) -> None:
        if self.process is None:
            return
        self.hang_up()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.log.close()
        self.process = None

    def hang_up(self) -> None:
        """Close the server's input: it finishes its job and exits."""
        try:
            self.process.stdin.close()
        except OSError:
            pass

    def restart(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.stop()
        self.start()
        self.wait_ready()


class ExecutionEngine:
    """Runs programs against tests in isolated, resource-limited processes, in parallel.

    Use as a context manager; :meth:`run` takes any iterable of :class:`Job` and yields one
    :class:`JobResult` per job, in input order, while keeping every worker busy.
    """

    def __init__(
        self,
        workers: int | None = None,
        limits: Limits | None = None,
        *,
        interpreter: str | None = None,
        isolation: str = "auto",
        preload: Sequence[str] = DEFAULT_PRELOAD,
        uid_base: int | None = None,
        scratch_mb: int = 256,
        dedupe: bool = True,
    ):
        if isolation not in ("auto", "namespaces", "none"):
            raise ValueError(f"isolation must be auto, namespaces or none, got {isolation!r}")
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers or os.cpu_count() or 1
        self.limits = limits or Limits()
        # Identical jobs of a run run once (verdicts are deterministic: seeded runs, CPU-time limits).
        self.dedupe = dedupe
        self.interpreter = interpreter or sys.executable
        # Programs of different engines never share a uid (one could exhaust the other's process limit).
        self.uids = UidRange(self.workers, base=uid_base)
        self._servers = [
            _Server(
                {
                    "uid": self.uids.base + i,
                    "isolation": isolation,
                    "preload": list(preload),
                    "scratch_mb": scratch_mb,
                    "engine": f"acecoder-{self.uids.name}",
                    "worker": i,
                    "workers": self.workers,
                    "limits": self.limits.to_wire(),
                },
                self.interpreter,
            )
            for i in range(self.workers)
        ]
        self._cgroup_dirs: set[str] = set()
        self._lock = threading.Lock()
        self._runner: int | None = None  # the thread consuming the current run
        self._wire: dict[Limits, dict[str, Any]] = {}
        self.isolation: dict[str, Any] = {}
        self._started = False

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self) -> ExecutionEngine:
        if self._started:
            return self
        for server in self._servers:
            server.start()
        try:
            infos = [server.wait_ready() for server in self._servers]
        except BaseException:
            for server in self._servers:
                server.stop()
            raise
        self.isolation = infos[0].get("isolation", {})
        for info in infos:
            self._cgroup_dirs.update(info.get("cgroups", []))
        _remove_stale_cgroups({os.path.dirname(os.path.dirname(d)) for d in self._cgroup_dirs})
        for message in dict.fromkeys(w for info in infos for w in info.get("warnings", [])):
            warnings.warn(f"sandbox: {message}", RuntimeWarning, stacklevel=2)
        self._started = True
        return self

    def close(self) -> None:
        if not self._started:
            return
        for server in self._servers:  # every server winds down at once
            server.hang_up()
        for server in self._servers:
            server.stop()
        parents = {os.path.dirname(d) for d in self._cgroup_dirs}
        for directory in sorted(self._cgroup_dirs | parents, key=len, reverse=True):  # workers, then engine
            try:
                os.rmdir(directory)
            except OSError:
                pass
        self._started = False

    def __del__(self) -> None:
        self.uids.release()

    def __enter__(self) -> ExecutionEngine:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------- running
    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Yield one result per job, in input order, keeping every server busy.

        One run at a time: other threads wait for the current run to finish; starting a second run from the
        thread that is consuming the first is an error (it would wait for itself)."""
        yield from self._run(iter(jobs), ordered=True, wakeup=None)

    def stream(self, jobs: Iterator[Job | None], wakeup: int) -> Iterator[tuple[int, JobResult]]:
        """Yield ``(index of the job in jobs, result)`` as each job finishes, for callers whose work arrives
        while the run goes on (reward servers): a slow program holds back no other result.

        ``jobs`` yields None when nothing is ready now; the engine then waits for its servers or for the
        file descriptor ``wakeup`` (an eventfd or pipe the producer writes to when more is ready; made
        non-blocking and drained here; closing its writer is an error) before asking again. The run ends when
        ``jobs`` is exhausted and every job has finished."""
        yield from self._run(jobs, ordered=False, wakeup=wakeup)

    def _run(self, jobs: Iterator, ordered: bool, wakeup: int | None) -> Iterator:
        if self._runner == threading.get_ident():
            raise RuntimeError("ExecutionEngine.run called while this thread is still consuming another run")
        with self._lock:
            self._runner = threading.get_ident()
            try:
                self.start()
                yield from self._dispatch(jobs, ordered, wakeup)
            finally:
                self._runner = None

    def run_one(
        self, program: str, tests: Sequence[str], limits: Limits | None = None, **options: Any
    ) -> JobResult:
        return next(iter(self.run([Job(program, tests, limits, **options)])))

    def _dispatch(self, source: Iterator, ordered: bool, wakeup: int | None) -> Iterator:
        """Keep up to two jobs queued at each server (it starts the next one without waiting for us) and
        collect replies with one poll loop in the caller's thread."""
        queues: dict[_Server, deque[_Pending]] = {server: deque() for server in self._servers}
        by_fd = {server.fileno(): server for server in self._servers}
        done: dict[int, JobResult] = {}
        poller = select.poll()
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        if wakeup is not None:
            os.set_blocking(wakeup, False)
            poller.register(wakeup, select.POLLIN)
        submitted = emitted = outstanding = 0
        exhausted = idle = False
        carry: _Pending | None = None  # pulled from the source, waiting for a server that can take it
        copies = _Copies()
        rerun: deque[tuple[int, Job]] = deque()  # copies of a job the engine failed: each runs after all

        def finish(pending: _Pending, result: JobResult) -> None:
            done[pending.index] = result
            for index, job in copies.finished(pending, result):
                if result.infra_error is None:
                    done[index] = _reused(result)
                else:  # an engine failure is not the program's verdict: its copies run themselves
                    rerun.append((index, job))

        try:
            while True:
                while (carry is not None or rerun or not (exhausted or idle)) and len(done) + (
                    copies.waiting if ordered else 0
                ) < self.workers * 64:
                    if carry is None:
                        if rerun:
                            index, job = rerun.popleft()
                        else:
                            job = next(source, _END)
                            if job is _END:
                                exhausted = True
                                break
                            if job is None:
                                if wakeup is None:
                                    raise TypeError("ExecutionEngine.run got None instead of a Job")
                                idle = True  # a live source has nothing now: wait for its wake-up
                                break
                            index, submitted = submitted, submitted + 1
                        if not job.tests:
                            done[index] = JobResult([], [], values=[] if job.capture else None)
                            continue
                        key = job_key(job, self.limits) if self.dedupe else None
                        if key is not None and copies.follow(key, index, job, done):
                            continue
                        carry = _Pending(index, job, *self._encode(job), key=key)
                        copies.lead(key, index)
                    server = min(queues, key=lambda s: len(queues[s]))
                    queue = queues[server]
                    if queue and (
                        len(queue) >= _DEPTH
                        or carry.data_size > _PIPELINE_BYTES
                        or queue[-1].data_size > _PIPELINE_BYTES
                    ):
                        break
                    self._send(server, carry.data, by_fd, poller, queues)
                    queue.append(carry)
                    outstanding += 1
                    carry = None
                if ordered:
                    while emitted in done:
                        yield done.pop(emitted)
                        emitted += 1
                else:
                    while done:
                        yield done.popitem()
                if not outstanding:
                    if exhausted and carry is None and not rerun:
                        return
                    if not idle or rerun:
                        continue
                for fd, event in poller.poll():
                    if fd == wakeup:
                        if event & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                            raise RuntimeError("the engine's wake-up descriptor was closed")
                        _drain_wakeup(wakeup)
                        idle = False
                        continue
                    server = by_fd[fd]
                    queue = queues[server]
                    if not queue:  # an idle server hung up (killed from outside): replace it, lose nothing
                        self._restart(server, by_fd, poller)
                        continue
                    head = queue[0]
                    try:
                        reply, blob = server.recv_reply()
                        result = _result(head, reply, blob)
                    except (EOFError, OSError, ValueError, struct.error):
                        # The server died under its first job (e.g. a program signalled it): restart, retry that
                        # job a bounded number of times, and resend the jobs queued behind it.
                        self._restart(server, by_fd, poller)
                        head.attempt += 1
                        if head.attempt > _RETRIES:
                            finish(head, _infra_result(head.job, "sandbox server died running this program"))
                            queue.popleft()
                            outstanding -= 1
                        for pending in queue:
                            server.send(pending.data)
                        continue
                    finish(head, result)
                    queue.popleft()
                    outstanding -= 1
                    if reply.get("retire"):  # it could not clean up after a program: a fresh server
                        self._restart(server, by_fd, poller)
                        for pending in queue:
                            server.send(pending.data)
        finally:
            for server, queue in queues.items():  # abandoned mid-run: stale replies would follow, so replace
                if queue:
                    self._restart(server, by_fd, None)

    def _encode(self, job: Job) -> tuple[bytes, list[SplitTest | InProcessTest]]:
        """The wire message (expected values of split tests never in it) and each test's split."""
        limits = job.limits or self.limits
        wire = self._wire.get(limits)
        if wire is None:
            wire = self._wire[limits] = limits.to_wire()
        if job.timeouts is not None:
            if len(job.timeouts) != len(job.tests):
                raise ValueError(f"{len(job.timeouts)} timeouts for {len(job.tests)} tests")
            wire = dict(wire, timeouts=[float(t) for t in job.timeouts])
        splits = [
            split_cached(test) if limits.split_tests else InProcessTest(test, "split off")
            for test in job.tests
        ]
        tests = [
            {"probes": list(t.probes), "names": list(t.names)}
            if isinstance(t, SplitTest)
            else {"source": t.source}
            for t in splits
        ]
        message = {
            "program": job.program,
            "tests": tests,
            "limits": wire,
            "stop_on_failure": job.stop_on_failure,
        }
        return _frame(message), splits

    def _send(self, server: _Server, data: bytes, by_fd, poller, queues) -> None:
        try:
            server.send(data)
        except OSError:  # died while idle: nothing of it is lost
            self._restart(server, by_fd, poller)
            for pending in queues[server]:
                server.send(pending.data)
            server.send(data)

    @staticmethod
    def _restart(server: _Server, by_fd: dict[int, _Server], poller: select.poll | None) -> None:
        old = server.fileno()
        if poller is not None:
            poller.unregister(old)
        by_fd.pop(old, None)
        server.restart()
        by_fd[server.fileno()] = server
        if poller is not None:
            poller.register(server.fileno(), select.POLLIN)


def _remove_stale_cgroups(roots: set[str]) -> None:
    """Remove the (empty) cgroups engines that died without closing left behind."""
    for root in roots:
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in names:
            if (
                not name.startswith("acecoder-e")
                or not name[10:].isdigit()
                or UidRange.in_use(int(name[10:]))
            ):
                continue
            engine_dir = os.path.join(root, name)
            for worker in os.listdir(engine_dir) if os.path.isdir(engine_dir) else []:
                if os.path.isdir(os.path.join(engine_dir, worker)):
                    try:
                        os.rmdir(os.path.join(engine_dir, worker))
                    except OSError:
                        pass
            try:
                os.rmdir(engine_dir)
            except OSError:
                pass


def _drain_wakeup(fd: int) -> None:
    try:
        while True:
            if not os.read(fd, 4096):
                raise RuntimeError("the engine's wake-up descriptor was closed")
    except BlockingIOError:
        pass


_END = object()
_RECENT = 1024  # finished results a run keeps for identical jobs that come later
_RECENT_OUTPUT = 4096  # ... when their output is at most this long and they captured no values


def job_key(job: Job, default_limits: Limits | None = None) -> tuple | None:
    """What makes two jobs one run: program, tests, limits (``default_limits`` for a job without its own) and
    options. None when a part is unhashable (a caller's own test objects): such a job is never shared."""
    key = (
        job.program,
        tuple(job.tests),
        job.limits or default_limits,
        job.stop_on_failure,
        job.capture,
        tuple(job.timeouts) if job.timeouts is not None else None,
    )
    try:
        hash(key)  # building the tuple hashes nothing: an unhashable part shows here
    except TypeError:
        return None
    return key


class _Copies:
    """Identical jobs in one run: the first runs, the others get copies of its result (pulled while it runs, or
    later from the last ``_RECENT`` finished results)."""

    def __init__(self) -> None:
        self.running: dict[tuple, int] = {}  # key -> index of the job that runs
        self.followers: dict[int, list[tuple[int, Job]]] = {}
        self.recent: OrderedDict[tuple, JobResult] = OrderedDict()
        self.waiting = 0

    def follow(self, key: tuple, index: int, job: Job, done: dict[int, JobResult]) -> bool:
        """True when ``index`` needs no run: its result is in ``done`` now or comes with its leader's."""
        if key in self.recent:
            self.recent.move_to_end(key)
            done[index] = _reused(self.recent[key])
            return True
        leader = self.running.get(key)
        if leader is None:
            return False
        self.followers.setdefault(leader, []).append((index, job))
        self.waiting += 1
        return True

    def lead(self, key: tuple | None, index: int) -> None:
        if key is not None:
            self.running[key] = index

    def finished(self, pending: _Pending, result: JobResult) -> list[tuple[int, Job]]:
        """The copies waiting for ``pending`` (given its result, or run again when the engine failed it)."""
        if pending.key is None:
            return []
        self.running.pop(pending.key, None)
        if result.infra_error is None and result.values is None and len(result.output) <= _RECENT_OUTPUT:
            self.recent[pending.key] = _reused(result)  # a private copy: the caller may change its own
            if len(self.recent) > _RECENT:
                self.recent.popitem(last=False)
        followers = self.followers.pop(pending.index, [])
        self.waiting -= len(followers)
        return followers


def _reused(result: JobResult) -> JobResult:
    return replace(
        result,
        test_results=list(result.test_results),
        errors=list(result.errors),
        modes=list(result.modes),
        values=copy.deepcopy(result.values),
        wall_time=0.0,
        cpu_time=0.0,
        restarts=0,
        reused=True,
    )


@dataclass(eq=False)
class _Pending:
    index: int
    job: Job
    data: bytes
    splits: list[SplitTest | InProcessTest]
    attempt: int = 0
    key: tuple | None = None

    @property
    def data_size(self) -> int:
        return len(self.data)


def _frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message).encode()
    return _HEADER.pack(len(data)) + data


def _result(pending: _Pending, reply: dict[str, Any], blob: bytes) -> JobResult:
    """The job's result: the sandbox's verdicts, with every split test judged here on its probes' values."""
    job, splits = pending.job, pending.splits
    if reply.get("infra"):
        return _infra_result(job, reply["infra"])
    results, errors = reply["results"], reply["errors"]
    records = decode_records(
        {test: blob[offset : offset + size] for test, offset, size in reply.get("values", [])}
    )
    values: list[Any] | None = [None] * len(splits) if job.capture else None
    first_failure = None
    for index, split in enumerate(splits):
        if isinstance(split, SplitTest) and errors[index] in ("values", "raised"):
            verdict, value = judge(split, records.get(index))
            results[index], errors[index] = (1, None) if verdict is None else (0, verdict)
            if values is not None and split.expression:
                values[index] = value
        elif isinstance(split, SplitTest) and results[index]:
            # Only the judge passes a split test: a "pass" from the sandbox was written by the program.
            results[index], errors[index] = 0, "error:ForgedVerdict"
        if job.stop_on_failure and first_failure is None and errors[index] is not None:
            first_failure = index
        elif first_failure is not None:
            results[index], errors[index] = 0, "skipped"
    return JobResult(
        test_results=results,
        errors=errors,
        setup_error=reply.get("setup"),
        output=reply.get("output", ""),
        wall_time=reply.get("wall", 0.0),
        restarts=reply.get("restarts", 0),
        cpu_time=reply.get("cpu", 0.0),
        modes=["split" if isinstance(split, SplitTest) else "process" for split in splits],
        values=values,
    )


def _infra_result(job: Job, reason: str) -> JobResult:
    n = len(job.tests)
    return JobResult([0] * n, ["infra"] * n, infra_error=reason, values=[None] * n if job.capture else None)


@dataclass
class ExecutionSummary:
    """Counts over many results, for progress displays and end-of-run summaries."""

    programs: int = 0
    tests: int = 0
    passed: int = 0
    all_passed: int = 0
    timeouts: int = 0
    infra_errors: int = 0
    budget_exhausted: int = 0
    """Programs that spent their whole CPU budget (``Limits.program_timeout``) before their last test."""
    split_tests: int = 0
    """Tests judged outside the program's process (the rest ran inside it, with mitigations)."""
    reused: int = 0
    """Programs identical to one run earlier in the same run, given its verdicts (see ``JobResult.reused``)."""
    errors: dict[str, int] = field(default_factory=dict)
    setup_errors: dict[str, int] = field(default_factory=dict)

    def add(self, result: JobResult) -> None:
        self.programs += 1
        self.reused += result.reused
        self.tests += len(result.test_results)
        self.passed += sum(result.test_results)
        self.all_passed += result.passed_all
        self.split_tests += result.modes.count("split")
        if result.infra_error:
            self.infra_errors += 1
        if result.setup_error:
            self.setup_errors[result.setup_error] = self.setup_errors.get(result.setup_error, 0) + 1
        self.budget_exhausted += "timeout:budget" in result.errors
        for error in result.errors:
            if error is None:
                continue
            kind = error.split(":", 1)[0] if error.startswith(("setup:", "test:", "timeout:")) else error
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.timeouts += kind == "timeout"

    @property
    def pass_rate(self) -> float:
        return self.passed / self.tests if self.tests else 0.0
