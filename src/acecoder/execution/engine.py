"""The execution engine: a pool of workers (a sandbox server and its trusted judge each), fed from one job stream.

Every stage that runs code (test filtering, pass rates, evaluation, RL rewards) goes through
:class:`ExecutionEngine`, so they all share one semantics. A Ray backend can implement :class:`Executor`
by running one engine per node.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import warnings
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from acecoder.execution.dedupe import Copies, job_key, reused
from acecoder.execution.jobs import ExecutionSummary, Executor, Job, JobResult
from acecoder.execution.limits import DEFAULT_PRELOAD, Limits
from acecoder.execution.sandbox import wire
from acecoder.execution.stale import remove_stale_cgroups
from acecoder.execution.testkinds import dump_test
from acecoder.execution.uids import UidRange
from acecoder.execution.values import decode_value
from acecoder.execution.worker import SANDBOX_DIR, SandboxError, Worker

__all__ = [
    "DEFAULT_PRELOAD",
    "SANDBOX_DIR",
    "ExecutionEngine",
    "ExecutionSummary",
    "Executor",
    "Job",
    "JobResult",
    "SandboxError",
    "job_key",
]

_RETRIES = 2  # fresh workers a job may kill before it is reported as an infrastructure error
_DEPTH = 2  # jobs queued per worker, so that it never waits for the engine between two programs
# A second job is queued behind a running one only when it fits in the pipe with room to spare, so that neither
# side can block on a full pipe while the other does.
_PIPELINE_BYTES = 16384
_JUDGE_MEMORY_MB = 8192


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
        # Programs of different engines never share a uid (one could exhaust the other's process limit); each
        # worker's judge has a uid of its own, never a program's.
        self.uids = UidRange(self.workers * 2, base=uid_base)
        judge_memory = max(_JUDGE_MEMORY_MB, 4 * self.limits.value_bytes // (1 << 20))
        self._servers = [
            Worker(
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
                {"uid": self.uids.base + self.workers + i, "isolation": isolation, "memory_mb": judge_memory},
                self.interpreter,
            )
            for i in range(self.workers)
        ]
        self._cgroup_dirs: set[str] = set()
        self._lock = threading.Lock()
        self._runner: int | None = None  # the thread consuming the current run
        self._wire: dict[Limits, dict[str, Any]] = {}
        self.isolation: dict[str, Any] = {}
        self.oversubscribed: str | None = None
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
        self.isolation = dict(infos[0].get("isolation", {}), judge=infos[0].get("judge", {}))
        for info in infos:
            self._cgroup_dirs.update(info.get("cgroups", []))
        remove_stale_cgroups({os.path.dirname(os.path.dirname(d)) for d in self._cgroup_dirs})
        for message in dict.fromkeys(w for info in infos for w in info.get("warnings", [])):
            warnings.warn(f"sandbox: {message}", RuntimeWarning, stacklevel=2)
        self.oversubscribed = oversubscription(self.workers)
        if self.oversubscribed:
            warnings.warn(self.oversubscribed, RuntimeWarning, stacklevel=2)
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
        queues: dict[Worker, deque[_Pending]] = {server: deque() for server in self._servers}
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
        copies = Copies()
        rerun: deque[tuple[int, Job]] = deque()  # copies of a job the engine failed: each runs after all

        def finish(pending: _Pending, result: JobResult) -> None:
            done[pending.index] = result
            for index, job in copies.finished(pending.index, pending.key, result):
                if result.infra_error is None:
                    done[index] = reused(result)
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
                        carry = _Pending(index, job, self._encode(job), key=key)
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
                        reply = server.recv()
                        if reply.get("infra") and reply.get("retire"):
                            raise _WorkerFailed(str(reply["infra"]))
                        result = _result(head, reply, (head.job.limits or self.limits).value_bytes)
                    except (EOFError, OSError, ValueError, KeyError, TypeError, _WorkerFailed) as e:
                        # The worker died under its first job (its judge, or the sandbox server the judge drives):
                        # restart, retry that job a bounded number of times, and resend the jobs behind it.
                        self._restart(server, by_fd, poller)
                        head.attempt += 1
                        if head.attempt > _RETRIES:
                            reason = (
                                str(e) if isinstance(e, _WorkerFailed) else "the worker died running this job"
                            )
                            finish(head, _infra_result(head.job, reason))
                            queue.popleft()
                            outstanding -= 1
                        for pending in queue:
                            server.send(pending.data)
                        continue
                    finish(head, result)
                    queue.popleft()
                    outstanding -= 1
                    if reply.get("retire"):  # it could not clean up after a program: a fresh worker
                        self._restart(server, by_fd, poller)
                        for pending in queue:
                            server.send(pending.data)
        finally:
            for server, queue in queues.items():  # abandoned mid-run: stale replies would follow, so replace
                if queue:
                    self._restart(server, by_fd, None)

    def _encode(self, job: Job) -> bytes:
        """The judge's message: the program, its tests and limits (the judge splits and judges the tests)."""
        limits = job.limits or self.limits
        wire_limits = self._wire.get(limits)
        if wire_limits is None:
            wire_limits = self._wire[limits] = limits.to_wire()
        message: dict[str, Any] = {
            "program": job.program,
            "tests": [dump_test(t) for t in job.tests],
            "limits": wire_limits,
            "stop_on_failure": job.stop_on_failure,
            "capture": job.capture,
        }
        if job.timeouts is not None:
            if len(job.timeouts) != len(job.tests):
                raise ValueError(f"{len(job.timeouts)} timeouts for {len(job.tests)} tests")
            message["timeouts"] = [float(t) for t in job.timeouts]
        return wire.frame(message)

    def _send(self, server: Worker, data: bytes, by_fd, poller, queues) -> None:
        try:
            server.send(data)
        except OSError:  # died while idle: nothing of it is lost
            self._restart(server, by_fd, poller)
            for pending in queues[server]:
                server.send(pending.data)
            server.send(data)

    @staticmethod
    def _restart(server: Worker, by_fd: dict[int, Worker], poller: select.poll | None) -> None:
        old = server.fileno()
        if poller is not None:
            poller.unregister(old)
        by_fd.pop(old, None)
        server.restart()
        by_fd[server.fileno()] = server
        if poller is not None:
            poller.register(server.fileno(), select.POLLIN)


def oversubscription(workers: int) -> str | None:
    """A sentence when ``workers`` exceed the cores free now by more than one (cores this process may use minus the load
    average): programs then run slower than alone. Verdicts do not change (limits count CPU time, and the idle
    backstop counts only time a program is neither running nor waiting for a CPU), but throughput does."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        return None
    free = max(cores - load, 0.0)
    if workers <= free + 1:
        return None
    return (
        f"the machine is oversubscribed: {workers} workers, {free:.1f} of {cores} cores free (load {load:.1f}); "
        "verdicts stay the same (CPU-time limits), throughput will not"
    )


def _drain_wakeup(fd: int) -> None:
    try:
        while True:
            if not os.read(fd, 4096):
                raise RuntimeError("the engine's wake-up descriptor was closed")
    except BlockingIOError:
        pass


_END = object()


class _WorkerFailed(Exception):
    """The judge reported that its sandbox server died: the worker is restarted and the job retried."""


@dataclass(eq=False)
class _Pending:
    index: int
    job: Job
    data: bytes
    attempt: int = 0
    key: tuple | None = None

    @property
    def data_size(self) -> int:
        return len(self.data)


def _result(pending: _Pending, reply: dict[str, Any], value_bytes: int) -> JobResult:
    """The job's result, as the judge reported it."""
    job = pending.job
    if reply.get("infra"):
        return _infra_result(job, str(reply["infra"]))
    values = None
    if job.capture:
        values = [_value(text, value_bytes) for text in reply.get("values") or [None] * len(job.tests)]
    return JobResult(
        test_results=[int(r) for r in reply["results"]],
        errors=reply["errors"],
        setup_error=reply.get("setup"),
        output=reply.get("output", ""),
        wall_time=float(reply.get("wall", 0.0)),
        restarts=int(reply.get("restarts", 0)),
        cpu_time=float(reply.get("cpu", 0.0)),
        modes=reply.get("modes") or [],
        values=values,
    )


def _value(text: str | None, value_bytes: int) -> Any:
    if text is None:
        return None
    try:
        return decode_value(text, max_bytes=value_bytes)
    except ValueError as e:
        from acecoder.execution.values import Opaque

        return Opaque(f"unreadable value: {e}")


def _infra_result(job: Job, reason: str) -> JobResult:
    n = len(job.tests)
    return JobResult([0] * n, ["infra"] * n, infra_error=reason, values=[None] * n if job.capture else None)
