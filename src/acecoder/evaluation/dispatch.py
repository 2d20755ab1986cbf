"""Run groups of jobs through an executor, deduplicating identical jobs.

The engine is deterministic (fixed hash seed, seeded random generators, CPU-time limits), so a job identical to
a recent one (the same program against the same tests: duplicate samples are common when sampling 100 programs
per task) is answered from that job's result instead of running again.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from acecoder.execution import Executor, Job, JobResult

T = TypeVar("T")
WINDOW = 512  # recent distinct jobs remembered for deduplication


def job_key(job: Job) -> tuple:
    timeouts = getattr(job, "timeouts", None)
    return (
        job.program,
        tuple(job.tests),
        job.limits,
        bool(getattr(job, "capture", False)),
        tuple(timeouts) if timeouts is not None else None,
        bool(getattr(job, "stop_on_failure", False)),
    )


class DedupStats:
    def __init__(self) -> None:
        self.jobs = 0
        self.ran = 0


def run_groups(
    executor: Executor,
    groups: Iterable[tuple[T, list[Job]]],
    *,
    window: int = WINDOW,
    stats: DedupStats | None = None,
) -> Iterator[tuple[T, list[JobResult]]]:
    """Yield each ``(item, results of its jobs)`` in input order, as soon as its jobs are done."""
    stats = stats or DedupStats()
    recent: OrderedDict[tuple, int] = OrderedDict()
    forgotten: set[int] = set()  # ids out of the window: dropped once nothing waits for them
    refs: Counter[int] = Counter()
    results: dict[int, JobResult] = {}
    waiting: deque[tuple[Any, list[int]]] = deque()

    def release(job_id: int) -> None:
        if refs[job_id] <= 0 and job_id in forgotten and job_id in results:
            del results[job_id]
            forgotten.discard(job_id)
            del refs[job_id]

    def unique_jobs() -> Iterator[Job]:
        next_id = 0
        for item, jobs in groups:
            ids = []
            for job in jobs:
                stats.jobs += 1
                key = job_key(job)
                job_id = recent.get(key)
                if job_id is None:
                    job_id, next_id = next_id, next_id + 1
                    recent[key] = job_id
                    if len(recent) > window:
                        _, old = recent.popitem(last=False)
                        forgotten.add(old)
                        release(old)
                    stats.ran += 1
                    yield job
                else:
                    recent.move_to_end(key)
                refs[job_id] += 1
                ids.append(job_id)
            waiting.append((item, ids))

    def ready() -> Iterator[tuple[T, list[JobResult]]]:
        while waiting and all(i in results for i in waiting[0][1]):
            item, ids = waiting.popleft()
            done = [results[i] for i in ids]
            for i in ids:
                refs[i] -= 1
                release(i)
            yield item, done

    for index, result in enumerate(executor.run(unique_jobs())):
        results[index] = result
        yield from ready()
    yield from ready()
    if waiting:  # the executor returned fewer results than jobs
        raise RuntimeError("the executor stopped before every job was run")
