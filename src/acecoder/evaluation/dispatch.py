"""Run plans (a sample's jobs, asked for in rounds) through one executor run, without idle gaps between rounds.

A plan's next round depends on its previous results (differential inputs go in growing chunks: the next chunk
only after the previous one passed). All plans share one ``executor.run``: the job stream hands out whatever
rounds are ready, and when none is ready while jobs are still running it hands out an empty job, which the
engine answers at once without a sandbox (it pulls only a bounded number of jobs ahead of its results, so these
placeholders just wait for results). Identical jobs among recent ones run once: the engine is deterministic
(fixed hash seed, seeded random generators, CPU-time limits), and sampling 100 programs per task yields
duplicates.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Iterator
from typing import Protocol

from acecoder.execution import Executor, Job, JobResult
from acecoder.execution.dedupe import WINDOW, Recent, job_key

IN_FLIGHT = 64  # plans started and not yet handed back
_PLACEHOLDER = Job("", ())


class Plan(Protocol):
    def next_jobs(self) -> list[Job]: ...

    def feed(self, results: list[JobResult]) -> None: ...

    @property
    def done(self) -> bool: ...


class DedupStats:
    def __init__(self) -> None:
        self.jobs = 0
        self.ran = 0


class _Dispatcher:
    def __init__(self, plans: Iterable[Plan], window: int, in_flight: int, stats: DedupStats):
        self.source, self.in_flight, self.stats = iter(plans), in_flight, stats
        self.started: deque[Plan] = deque()  # input order, until handed back
        self.finished: deque[Plan] = deque()  # done, in input order, to hand back
        self.ready: deque[Plan] = deque()  # their next round can be sent
        self.asked: dict[int, tuple[Plan, list[int]]] = {}  # id(plan) -> the job ids of its round
        self.waiting: Counter[int] = Counter()  # id(plan) -> results of its round still to come
        self.blocked: dict[int, list[int]] = {}  # job id -> plans waiting for its result
        self.recent = Recent(window)
        self.forgotten: set[int] = set()
        self.refs: Counter[int] = Counter()
        self.results: dict[int, JobResult] = {}
        self.real: set[int] = set()  # ids of jobs sent (not placeholders) whose result has not arrived
        self.next_id = self.running = 0
        self.exhausted = False

    # ------------------------------------------------------------------------------------------- jobs out
    def jobs(self) -> Iterator[Job]:
        while True:
            if self.ready:
                yield from self._submit(self.ready.popleft())
            elif not self.exhausted and len(self.started) < self.in_flight:
                plan = next(self.source, None)
                if plan is None:
                    self.exhausted = True
                    continue
                self.started.append(plan)
                if plan.done:
                    self._drain()
                else:
                    self.ready.append(plan)
            elif self.running:
                self.next_id += 1
                yield _PLACEHOLDER  # nothing to send until results arrive
            else:
                return

    def _submit(self, plan: Plan) -> Iterator[Job]:
        ids = []
        for job in plan.next_jobs():
            self.stats.jobs += 1
            key = job_key(job)
            job_id = self.recent.find(key)
            if job_id is None:
                job_id, self.next_id = self.next_id, self.next_id + 1
                if key is None:  # never shared: its result goes once its plan has it
                    self.forgotten.add(job_id)
                elif (fallen := self.recent.keep(key, job_id)) is not None:
                    self.forgotten.add(fallen[1])
                    self._release(fallen[1])
                self.stats.ran += 1
                self.running += 1
                self.real.add(job_id)
                yield job  # its result may come back before this plan's other jobs are even sent
            self.refs[job_id] += 1
            ids.append(job_id)
        self.asked[id(plan)] = (plan, ids)
        for job_id in ids:
            if job_id not in self.results:
                self.waiting[id(plan)] += 1
                self.blocked.setdefault(job_id, []).append(id(plan))
        if not self.waiting[id(plan)]:
            self._complete(id(plan))

    # --------------------------------------------------------------------------------------- results in
    def receive(self, job_id: int, result: JobResult) -> None:
        if job_id not in self.real:
            return  # a placeholder
        self.real.discard(job_id)
        self.results[job_id] = result
        self.running -= 1
        for plan_id in self.blocked.pop(job_id, ()):
            self.waiting[plan_id] -= 1
            if not self.waiting[plan_id]:
                self._complete(plan_id)

    def _complete(self, plan_id: int) -> None:
        plan, ids = self.asked.pop(plan_id)
        del self.waiting[plan_id]
        plan.feed([self.results[i] for i in ids])
        for job_id in ids:
            self.refs[job_id] -= 1
            self._release(job_id)
        if plan.done:
            self._drain()
        else:
            self.ready.append(plan)

    def _drain(self) -> None:
        while self.started and self.started[0].done and id(self.started[0]) not in self.asked:
            self.finished.append(self.started.popleft())

    def _release(self, job_id: int) -> None:
        if self.refs[job_id] <= 0 and job_id in self.forgotten and job_id in self.results:
            del self.results[job_id]
            self.forgotten.discard(job_id)
            del self.refs[job_id]


def run_plans(
    executor: Executor,
    plans: Iterable[Plan],
    *,
    window: int = WINDOW,
    in_flight: int = IN_FLIGHT,
    stats: DedupStats | None = None,
) -> Iterator[Plan]:
    """Run every plan to completion; yield each, in input order, once it is done."""
    dispatcher = _Dispatcher(plans, window, in_flight, stats or DedupStats())
    for job_id, result in enumerate(executor.run(dispatcher.jobs())):
        dispatcher.receive(job_id, result)
        while dispatcher.finished:
            yield dispatcher.finished.popleft()
    dispatcher._drain()
    while dispatcher.finished:
        yield dispatcher.finished.popleft()
    if dispatcher.started:
        raise RuntimeError("the executor stopped before every job was run")
