"""Importers: published code-RL datasets as AceCode rows whose ``test_cases`` mix the three test kinds.

| format | rows | tests | comparator |
|---|---|---|---|
| ``livecodebench`` | LiveCodeBench ``test*.jsonl`` | public then private; stdin or functional (``metadata.func_name``) | ``livecodebench`` |
| ``apps`` / ``taco`` | APPS, TACO | ``input_output``: stdin, or calls of ``fn_name`` (``[ret]`` unwrapped) | ``apps`` |
| ``codecontests`` | DeepMind CodeContests | public, private, generated; ``time_limit``, ``memory_limit_bytes`` | ``codecontests`` |
| ``deepcoder`` | DeepCoder-Preview | ``tests`` in its subset's shape (LiveCodeBench, TACO, PrimeIntellect) | per shape |
| ``synthetic1`` | PrimeIntellect SYNTHETIC-1 ``verifiable_code`` | ``verification_info.test_cases`` | ``lines`` |
| ``kodcode`` | KodCode-V1 | pytest ``test_code``: one test per test item | (assert tests) |

``acecoder import-tests FORMAT IN OUT`` (:func:`import_file`). Rows that cannot be imported (no tests, another
language, unsafe private tests) are skipped and listed with the reason in ``OUT.rejected.jsonl``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acecoder.data import DataError, RowWriter, iter_rows
from acecoder.importers import apps, codecontests, deepcoder, kodcode, livecodebench, synthetic1
from acecoder.importers.common import Rejected

Converter = Callable[[dict[str, Any], int], dict[str, Any]]


@dataclass(frozen=True)
class Format:
    name: str
    convert: Converter
    summary: str


def _by_row(convert: Callable[[dict[str, Any]], dict[str, Any]]) -> Converter:
    return lambda row, line: convert(row)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("livecodebench", _by_row(livecodebench.convert), "LiveCodeBench test*.jsonl rows"),
        Format("apps", _by_row(apps.convert), "APPS rows (input_output)"),
        Format("taco", _by_row(apps.convert_taco), "TACO rows (input_output, time/memory limits)"),
        Format("codecontests", _by_row(codecontests.convert), "DeepMind CodeContests rows"),
        Format("deepcoder", deepcoder.convert, "DeepCoder-Preview rows (tests)"),
        Format("synthetic1", synthetic1.convert, "PrimeIntellect SYNTHETIC-1 verifiable_code rows"),
        Format("kodcode", kodcode.convert, "KodCode rows (pytest test_code)"),
    )
}


@dataclass
class ImportSummary:
    """What an import did: rows in and out, why rows were rejected, and the tests written by kind."""

    format: str
    rows: int = 0
    imported: int = 0
    rejected: Counter = field(default_factory=Counter)
    tests: Counter = field(default_factory=Counter)
    """Tests by kind: ``assert``, ``stdin:<comparator>``, ``call``."""

    def format_text(self) -> str:
        lines = [f"{self.format}: {self.imported:,} of {self.rows:,} rows imported"]
        if self.tests:
            lines.append("tests: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.tests.items())))
        for reason, count in self.rejected.most_common():
            lines.append(f"rejected ({reason}): {count:,}")
        return "\n".join(lines)


def _kind(test: Any) -> str:
    if isinstance(test, str):
        return "assert"
    if "stdin" in test:
        return f"stdin:{test.get('comparator', 'exact')}"
    return "call"


def import_row(fmt: str, row: dict[str, Any], line: int = 0) -> dict[str, Any]:
    """One row of ``fmt`` as an AceCode row; :class:`Rejected` when it cannot be one."""
    spec = FORMATS.get(fmt)
    if spec is None:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not isinstance(row, dict):
        raise Rejected("not an object")
    return spec.convert(row, line)


def rejected_path(output: str | os.PathLike) -> Path:
    output = Path(output)
    return output.with_name(output.name.split(".")[0] + ".rejected.jsonl")


def import_file(fmt: str, input_path: str | os.PathLike, output_path: str | os.PathLike) -> ImportSummary:
    """Convert every row of ``input_path`` (JSONL, JSONL.gz or Parquet) into ``output_path``; rejected rows go to
    ``OUT.rejected.jsonl`` with their reason. :class:`DataError` when no row could be imported."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    summary = ImportSummary(fmt)
    rejected_rows: list[dict[str, Any]] = []
    with RowWriter(output_path) as writer:
        for line, row in iter_rows(input_path):
            summary.rows += 1
            try:
                out = import_row(fmt, row, line)
            except Rejected as e:
                summary.rejected[e.reason] += 1
                ident = next(
                    (row.get(k) for k in ("question_id", "problem_id", "id", "name") if row.get(k)), None
                )
                rejected_rows.append({"row": line, "id": ident, "reason": e.reason, "detail": e.detail})
                continue
            summary.imported += 1
            summary.tests.update(_kind(t) for t in out["test_cases"])
            writer.write(out)
        if summary.rows and not summary.imported:
            reasons = ", ".join(f"{r} ({n})" for r, n in summary.rejected.most_common(3))
            raise DataError(f"no row could be imported as {fmt}: {reasons}", path=str(input_path))
        if not summary.rows:
            raise DataError("no rows", path=str(input_path))
    side = rejected_path(output_path)
    if rejected_rows:
        with RowWriter(side) as writer:
            for item in rejected_rows:
                writer.write(item)
    else:
        side.unlink(missing_ok=True)
    return summary


__all__ = ["FORMATS", "Format", "ImportSummary", "Rejected", "import_file", "import_row", "rejected_path"]
