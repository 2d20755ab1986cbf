"""DeepMind CodeContests rows (``deepmind/code_contests``): stdin tests from ``public_tests``, ``private_tests``
and ``generated_tests`` (each ``{"input": [...], "output": [...]}``), in that order, exact repeats dropped;
judged with the ``codecontests`` comparator (its ``OutputsMatch``). ``time_limit`` (``{"seconds", "nanos"}``)
and ``memory_limit_bytes`` become the row's limits; Python 3 ``solutions`` are kept as ``solutions``. Problems
that read a named file instead of stdin (``input_file``) are rejected.
"""

from __future__ import annotations

from typing import Any

from acecoder.execution.testkinds import AnyTest
from acecoder.importers.common import (
    Rejected,
    json_field,
    make_row,
    parse_memory_mb,
    parse_seconds,
    stdin_test,
)

COMPARATOR = "codecontests"
PARTS = ("public_tests", "private_tests", "generated_tests")
_PYTHON3 = 3  # ContestProblem.Solution.Language.PYTHON3


def _part(row: dict[str, Any], key: str) -> list[AnyTest]:
    value = json_field(row, key, default=None)
    if value is None:
        return []
    if isinstance(value, dict):
        inputs, outputs = value.get("input") or [], value.get("output") or []
        if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
            raise Rejected("bad tests", f"{key}: 'input' and 'output' must be lists of the same length")
        pairs = list(zip(inputs, outputs, strict=True))
    elif isinstance(value, list):  # [{"input", "output"}] as some re-exports write it
        pairs = [(c.get("input"), c.get("output")) for c in value if isinstance(c, dict)]
    else:
        raise Rejected("bad tests", f"{key} is {type(value).__name__}")
    return [stdin_test(i, o, COMPARATOR, where=f"{key}[{n}]") for n, (i, o) in enumerate(pairs)]


def _python_solutions(row: dict[str, Any]) -> list[str] | None:
    value = row.get("solutions")
    if isinstance(value, dict):
        languages, programs = value.get("language") or [], value.get("solution") or []
        found = [
            p for lang, p in zip(languages, programs, strict=False) if lang == _PYTHON3 and isinstance(p, str)
        ]
        return found or None
    return None


def convert(row: dict[str, Any]) -> dict[str, Any]:
    if not row.get("name"):
        raise Rejected("missing field", "name")
    if row.get("input_file") or row.get("output_file"):
        raise Rejected("reads a file", f"input_file={row.get('input_file')!r}")
    tests: list[AnyTest] = []
    for part in PARTS:
        tests += _part(row, part)
    return make_row(
        row["name"],
        "codecontests",
        row.get("description") or "",
        tests,
        time_limit=parse_seconds(row.get("time_limit")),
        memory_limit=parse_memory_mb(row.get("memory_limit_bytes"), unit_bytes=True),
        solutions=_python_solutions(row),
        difficulty=row.get("difficulty"),
        cf_rating=row.get("cf_rating") or None,
        cf_tags=row.get("cf_tags") or None,
    )
