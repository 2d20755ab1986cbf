"""Execute AceCode rows: every inference of every row against the row's ``test_cases``."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from acecoder.execution.engine import ExecutionSummary, Executor, Job, JobResult
from acecoder.execution.program import extract_program

Row = dict[str, Any]


def row_jobs(row: Row) -> list[Job]:
    """One job per inference: the completion's program against the row's tests (none when it has no tests)."""
    tests = row.get("test_cases") or []
    if not tests:
        return []
    return [Job(extract_program(inf.get("completion") or ""), tests) for inf in row.get("inferences") or []]


def apply_results(row: Row, results: list[JobResult], *, errors: bool = False) -> Row:
    """Write ``test_results`` and ``pass_rate`` (null without tests) into each inference; keep every other field."""
    has_tests = bool(row.get("test_cases"))
    for index, inference in enumerate(row.get("inferences") or []):
        if has_tests:
            result = results[index]
            inference["test_results"] = result.test_results
            inference["pass_rate"] = result.pass_rate
            if errors:
                inference["test_errors"] = result.errors
        else:
            inference["test_results"] = []
            inference["pass_rate"] = None
            if errors:
                inference["test_errors"] = []
    return row


def execute_rows(
    rows: Iterable[Row],
    executor: Executor,
    *,
    summary: ExecutionSummary | None = None,
    errors: bool = False,
    on_result: Callable[[JobResult], None] | None = None,
) -> Iterator[Row]:
    """Yield each row, in order, with its inferences' verdicts filled in, keeping every worker busy across rows."""
    waiting: deque[tuple[Row, int]] = deque()

    def jobs() -> Iterator[Job]:
        for row in rows:
            row_job_list = row_jobs(row)
            waiting.append((row, len(row_job_list)))
            yield from row_job_list

    results: list[JobResult] = []
    for result in executor.run(jobs()):
        if summary is not None:
            summary.add(result)
        if on_result is not None:
            on_result(result)
        results.append(result)
        while waiting and len(results) >= waiting[0][1]:
            row, count = waiting.popleft()
            yield apply_results(row, results[:count], errors=errors)
            del results[:count]
    while waiting:  # rows after the last job (no tests, or no inferences)
        row, count = waiting.popleft()
        yield apply_results(row, results[:count], errors=errors)
        del results[:count]
