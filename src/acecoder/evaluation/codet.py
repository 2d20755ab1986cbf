"""CodeT (Chen et al., ICLR 2023; microsoft/CodeT): rank programs by dual execution agreement.

Programs that pass exactly the same set of model-written tests form a consensus set, scored
``sqrt(#programs in the set) x #tests in the set``; every program of the best set ranks first. Tests and programs
count with multiplicity, as CodeT counts duplicate generations (a test written three times weighs three). A
program that passes no test is unranked (score 0), so when no program passes anything the pick is uniform.

Test extraction follows CodeT's ``src/postprocess.py``: split a generated text on ``assert``, keep the parts that
mention the entry point, cut each at CodeT's stop tokens, keep those that compile, and take the first
``limit`` (5) per generated sample.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Sequence

from acecoder.data import DataError, iter_rows
from acecoder.evaluation.benchmarks import Benchmark

STOP_TOKENS = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
TEST_LIMIT = 5
_TARGET = re.compile(r"#\s*check the correctness of\s+([A-Za-z_]\w*)")


def truncate(text: str) -> str:
    """CodeT's cut: at each stop token in turn, keep what comes before it."""
    for token in STOP_TOKENS:
        if token in text:
            text = text.split(token)[0]
    return text


def _compiles(test: str) -> bool:
    if not test.strip() or "assert" not in test:
        return False
    body = test.replace("\n", "\n    ")
    try:
        compile(f"try:\n    {body}\nexcept:\n    pass\n", "<test>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def extract_tests(generated: str, entry_point: str, limit: int | None = TEST_LIMIT) -> list[str]:
    """The asserts CodeT keeps from one generated test sample (the prompt ended with ``assert ``)."""
    parts = [
        f"assert {part}".strip()
        for part in f"assert {generated}".split("assert ")
        if entry_point.strip() in part and part.strip()
    ]
    tests = [t for t in (truncate(p).strip() for p in parts) if _compiles(t)]
    return tests[:limit] if limit is not None else tests


def load_tests(
    path: str | os.PathLike, benchmark: Benchmark, *, limit: int | None = TEST_LIMIT
) -> dict[str, list[str]]:
    """Model-written tests per task, duplicates kept. Rows are either ``{task_id, tests: [str]}`` or CodeT's raw
    test generations ``{prompt, samples: [str]}`` (the prompt names the function: ``# check the correctness of
    f``), from which :func:`extract_tests` takes ``limit`` asserts per sample."""
    by_entry: dict[str, str] = {}
    for task in benchmark.tasks.values():
        by_entry.setdefault(task.entry_point, task.task_id)
    tests: dict[str, list[str]] = {}
    for line, row in iter_rows(path):
        loc = {"path": str(path), "row": line}
        if "task_id" in row:
            task_id = str(row["task_id"])
            if task_id not in benchmark.tasks:
                raise DataError(f"unknown task id {task_id!r} for {benchmark.name}", field="task_id", **loc)
            value = row.get("tests")
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                raise DataError("expected a list of test strings", field="tests", **loc)
            tests.setdefault(task_id, []).extend(value)
        elif isinstance(row.get("prompt"), str) and isinstance(row.get("samples"), list):
            match = _TARGET.search(row["prompt"])
            if match is None or match.group(1) not in by_entry:
                raise DataError(
                    "cannot tell the task: the prompt names no function of this benchmark "
                    "('# check the correctness of <function>')",
                    field="prompt",
                    **loc,
                )
            entry = match.group(1)
            extracted = [
                t for s in row["samples"] if isinstance(s, str) for t in extract_tests(s, entry, limit)
            ]
            tests.setdefault(by_entry[entry], []).extend(extracted)
        else:
            raise DataError("expected {task_id, tests} or CodeT's {prompt, samples}", **loc)
    return tests


def pooled_tests(tests: Sequence[str]) -> tuple[list[str], list[int]]:
    """Distinct tests (sorted, so runs are reproducible) and how many times each was written."""
    counts = Counter(tests)
    distinct = sorted(counts)
    return distinct, [counts[t] for t in distinct]


def consensus_scores(passed: Sequence[frozenset[int] | None], weights: Sequence[int]) -> list[float]:
    """CodeT's score of each program: ``sqrt(size of its consensus set) x weight of the tests it passes``;
    0 for a program that passes no test (or could not run: None)."""
    sizes = Counter(p for p in passed if p)
    return [math.sqrt(sizes[p]) * sum(weights[i] for i in p) if p else 0.0 for p in passed]
