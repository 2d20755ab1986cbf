"""Identical jobs of a run run once: one policy, in this module, used by the engine (:class:`Copies`) and by
the evaluation's dispatcher (:mod:`acecoder.evaluation.dispatch`, which keeps its own results).

Runs are seeded and limits count CPU, so a copy of a job is what a re-run gives. Two jobs are copies when their
:func:`job_key` is equal; the first runs, the others get private copies of its result (pulled while it runs, or
from the last ``RECENT`` finished results, kept in a :class:`Recent` table).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from acecoder.execution.jobs import Job, JobResult
from acecoder.execution.limits import Limits

RECENT = 1024  # finished results a run keeps for identical jobs that come later
RECENT_OUTPUT = 4096  # ... when their output is at most this long and they captured no values
WINDOW = 512  # distinct jobs a dispatcher that keeps results (captured values included) remembers


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


class Recent(OrderedDict):
    """The last ``size`` distinct jobs by key, least recently used first out."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def find(self, key: tuple | None) -> Any:
        """What is kept for ``key`` (now the most recent), or None."""
        if key is None or key not in self:
            return None
        self.move_to_end(key)
        return self[key]

    def keep(self, key: tuple, value: Any) -> tuple[tuple, Any] | None:
        """Keep ``value`` for ``key``; return the (key, value) that fell out, if one did."""
        self[key] = value
        return self.popitem(last=False) if len(self) > self.size else None


class Copies:
    """Identical jobs in one run: the first runs, the others get copies of its result (pulled while it runs, or
    later from the last ``RECENT`` finished results)."""

    def __init__(self) -> None:
        self.running: dict[tuple, int] = {}  # key -> index of the job that runs
        self.followers: dict[int, list[tuple[int, Job]]] = {}
        self.recent = Recent(RECENT)
        self.waiting = 0

    def follow(self, key: tuple, index: int, job: Job, done: dict[int, JobResult]) -> bool:
        """True when ``index`` needs no run: its result is in ``done`` now or comes with its leader's."""
        kept = self.recent.find(key)
        if kept is not None:
            done[index] = reused(kept)
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

    def finished(self, index: int, key: tuple | None, result: JobResult) -> list[tuple[int, Job]]:
        """The copies waiting for job ``index`` (given its result, or run again when the engine failed it)."""
        if key is None:
            return []
        self.running.pop(key, None)
        if result.infra_error is None and result.values is None and len(result.output) <= RECENT_OUTPUT:
            self.recent.keep(key, reused(result))  # a private copy: the caller may change its own
        followers = self.followers.pop(index, [])
        self.waiting -= len(followers)
        return followers


def reused(result: JobResult) -> JobResult:
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
