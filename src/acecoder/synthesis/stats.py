"""The paper's Table 1 for any set of rows: per source, examples and average tests before and after test
filtering, and preference pairs when there are any.

What counts as "before" and "after":

* rows not yet filtered (no ``n_tests_before``): their tests are the "before" figures;
* filtered rows (``acecoder filter-tests`` output): their tests are the "after" figures; the "before" figures come
  from ``--before FILE`` (the synthesized rows), else from the filter's ``<file>.summary.json`` beside the file,
  else from the kept rows' ``n_tests_before`` (the dropped questions are then unknown, shown with ``*``);
* augmented rows (``acecoder augment-tests`` output, with ``n_tests_augmented``): the tests added are left out of
  the filter figures and shown in their own line, with the mean mutation score before and after augmentation
  (rows with a ``mutation_score``);
* pairs: counted from a pair file (``--pairs``; rows with ``chosen``/``rejected``, matched to a source through
  ``question_id``), from pair rows in the file itself, or built with the release's rule from rows whose
  ``inferences`` carry pass rates.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acecoder.data import iter_rows

OVERALL = "Overall"
# Display names of the paper's subsets.
SOURCE_NAMES = {"evol": "Evol", "oss": "OSS", "bigcode_python_fns": "Stack Python"}


@dataclass
class Table1Column:
    source: str
    examples_before: int | None = None
    tests_before: int = 0
    examples_after: int | None = None
    tests_after: int = 0
    pairs: int | None = None
    before_partial: bool = False  # "before" counts only the questions that survived filtering
    without_tests: int = 0  # questions with no test (counted in the examples, with 0 tests)
    examples_augmented: int | None = None  # rows augment-tests wrote (augmented or left as they were)
    tests_augmented: int = 0  # all tests of those rows, the added ones included
    mutation_rows: int = 0
    mutation_before: float = 0.0  # sums over mutation_rows
    mutation_after: float = 0.0

    @property
    def avg_tests_before(self) -> float | None:
        return self.tests_before / self.examples_before if self.examples_before else None

    @property
    def avg_tests_after(self) -> float | None:
        return self.tests_after / self.examples_after if self.examples_after else None

    @property
    def avg_tests_augmented(self) -> float | None:
        return self.tests_augmented / self.examples_augmented if self.examples_augmented else None

    @property
    def mutation_score_before(self) -> float | None:
        return self.mutation_before / self.mutation_rows if self.mutation_rows else None

    @property
    def mutation_score_after(self) -> float | None:
        return self.mutation_after / self.mutation_rows if self.mutation_rows else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "examples_before": self.examples_before,
            "avg_tests_before": _round(self.avg_tests_before),
            "examples_after": self.examples_after,
            "avg_tests_after": _round(self.avg_tests_after),
            "pairs": self.pairs,
            "before_partial": self.before_partial,
            "without_tests": self.without_tests,
            "examples_augmented": self.examples_augmented,
            "avg_tests_augmented": _round(self.avg_tests_augmented),
            "mutation_score_before": _round(self.mutation_score_before),
            "mutation_score_after": _round(self.mutation_score_after),
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _is_pair(row: dict[str, Any]) -> bool:
    return "chosen" in row and "rejected" in row


def table1(
    rows: Iterable[dict[str, Any]],
    *,
    before_rows: Iterable[dict[str, Any]] | None = None,
    pair_rows: Iterable[dict[str, Any]] | None = None,
    filter_summary: dict[str, Any] | None = None,
    count_pairs: bool = True,
) -> list[Table1Column]:
    """Table 1 columns, one per source (first-seen order) and an ``Overall`` column."""
    cols: dict[str, Table1Column] = {}
    source_of: dict[str, str] = {}
    pairs: dict[str, int] = {}
    filtered_seen = False

    def col(source: str) -> Table1Column:
        return cols.setdefault(source, Table1Column(source))

    pair_list: list[dict[str, Any]] = []
    for row in rows:
        if _is_pair(row):
            pair_list.append(row)
            continue
        source = str(row.get("source") or "unknown")
        source_of[str(row.get("id"))] = source
        all_tests = len(row.get("test_cases") or [])
        added = row.get("n_tests_augmented")
        tests = all_tests - added if isinstance(added, int) and 0 <= added <= all_tests else all_tests
        c = col(source)
        c.without_tests += not tests
        if isinstance(added, int):
            c.examples_augmented = (c.examples_augmented or 0) + 1
            c.tests_augmented += all_tests
        score = row.get("mutation_score")
        scored = isinstance(score, dict) and all(
            isinstance(score.get(k), (int, float)) for k in ("before", "after")
        )
        if scored:
            c.mutation_rows += 1
            c.mutation_before += score["before"]  # type: ignore[index]
            c.mutation_after += score["after"]  # type: ignore[index]
        if "n_tests_before" in row:
            filtered_seen = True
            c.examples_after = (c.examples_after or 0) + 1
            c.tests_after += tests
            c.examples_before = (c.examples_before or 0) + 1
            c.tests_before += int(row["n_tests_before"])
            c.before_partial = True
        else:
            c.examples_before = (c.examples_before or 0) + 1
            c.tests_before += tests
        if count_pairs and isinstance(row.get("inferences"), list) and row["inferences"]:
            n = _row_pairs(row)
            if n is not None:
                pairs[source] = pairs.get(source, 0) + n
    if before_rows is not None or filter_summary is not None:
        for c in cols.values():
            c.examples_before, c.tests_before, c.before_partial = None, 0, False
        if before_rows is not None:
            for row in before_rows:
                source = str(row.get("source") or "unknown")
                c = col(source)
                c.examples_before = (c.examples_before or 0) + 1
                c.tests_before += len(row.get("test_cases") or [])
        else:
            assert filter_summary is not None
            for source, counts in (filter_summary.get("by_source") or {}).items():
                c = col(source)
                c.examples_before, c.tests_before = counts.get("rows_in", 0), counts.get("tests_before", 0)
    if filtered_seen:
        for c in cols.values():
            c.examples_after = c.examples_after or 0
    if pair_rows is not None:
        pair_list.extend(pair_rows)
    for row in pair_list:
        source = row.get("source")
        if not isinstance(source, str):
            qid = str(row.get("question_id", str(row.get("id", "")).rsplit("/", 1)[0]))
            source = source_of.get(qid, "unknown")
        pairs[source] = pairs.get(source, 0) + 1
    for source, n in pairs.items():
        col(source).pairs = n
    if pairs:
        for c in cols.values():
            c.pairs = c.pairs or 0
    ordered = list(cols.values())
    overall = Table1Column(OVERALL)
    for c in ordered:
        if c.examples_before is not None:
            overall.examples_before = (overall.examples_before or 0) + c.examples_before
        overall.tests_before += c.tests_before
        if c.examples_after is not None:
            overall.examples_after = (overall.examples_after or 0) + c.examples_after
        overall.tests_after += c.tests_after
        if c.pairs is not None:
            overall.pairs = (overall.pairs or 0) + c.pairs
        overall.before_partial |= c.before_partial
        overall.without_tests += c.without_tests
        if c.examples_augmented is not None:
            overall.examples_augmented = (overall.examples_augmented or 0) + c.examples_augmented
        overall.tests_augmented += c.tests_augmented
        overall.mutation_rows += c.mutation_rows
        overall.mutation_before += c.mutation_before
        overall.mutation_after += c.mutation_after
    return [*ordered, overall]


def _row_pairs(row: dict[str, Any]) -> int | None:
    try:
        from acecoder.pairs.build import PairConfig, pairs_for_row
    except ImportError:  # pragma: no cover - the pairs stage is part of the package
        return None
    if not any(isinstance(i, dict) and i.get("pass_rate") is not None for i in row["inferences"]):
        return None
    return len(pairs_for_row(row, PairConfig()))


def table1_file(
    path: str | os.PathLike,
    *,
    before: str | os.PathLike | None = None,
    pairs: str | os.PathLike | None = None,
    count_pairs: bool = True,
) -> list[Table1Column]:
    """Table 1 for a file (see the module docstring for where each figure comes from)."""
    filter_summary = None
    if before is None:
        summary_path = Path(str(path) + ".summary.json")
        if summary_path.is_file():
            try:
                data = json.loads(summary_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # unreadable, not UTF-8 or not JSON: not a filter summary
                data = None
            if isinstance(data, dict) and "rows_in" in data and isinstance(data.get("by_source"), dict):
                filter_summary = data
    return table1(
        (row for _, row in iter_rows(path)),
        before_rows=(row for _, row in iter_rows(before)) if before is not None else None,
        pair_rows=(row for _, row in iter_rows(pairs)) if pairs is not None else None,
        filter_summary=filter_summary,
        count_pairs=count_pairs,
    )


def format_table1(columns: list[Table1Column], fmt: str = "text") -> str:
    """Render like the paper (sources as columns): ``text``, ``markdown`` or ``json``."""
    if fmt == "json":
        return json.dumps([c.as_dict() for c in columns], indent=2)

    def num(x: int | None, star: bool = False) -> str:
        return "-" if x is None else f"{x:,}" + ("*" if star else "")

    def avg(x: float | None, star: bool = False) -> str:
        return "-" if x is None else f"{x:.2f}" + ("*" if star else "")

    header = ["Subset", *(SOURCE_NAMES.get(c.source, c.source) for c in columns)]
    body = [
        ["#Examples (before filter)", *(num(c.examples_before, c.before_partial) for c in columns)],
        ["#Avg tests (before filter)", *(avg(c.avg_tests_before, c.before_partial) for c in columns)],
        ["#Examples (after filter)", *(num(c.examples_after) for c in columns)],
        ["#Avg tests (after filter)", *(avg(c.avg_tests_after) for c in columns)],
    ]
    if any(c.examples_augmented is not None for c in columns):
        body.append(["#Avg tests (after augmentation)", *(avg(c.avg_tests_augmented) for c in columns)])
    if any(c.mutation_rows for c in columns):
        body.append(
            ["Mutation score (before augmentation)", *(avg(c.mutation_score_before) for c in columns)]
        )
        body.append(["Mutation score (after augmentation)", *(avg(c.mutation_score_after) for c in columns)])
    if any(c.pairs is not None for c in columns):
        body.append(["#Pairs", *(num(c.pairs) for c in columns)])
    notes = []
    if any(c.before_partial for c in columns):
        notes.append("* only the questions that survived filtering (pass --before FILE for the dropped ones)")
    if all(c.examples_after is None for c in columns):
        notes.append(
            "(after filter) '-': no row here was filtered (filtered rows carry n_tests_before, written by "
            "`acecoder filter-tests`); for both columns pass the filtered file with --before the unfiltered one"
        )
    if all(c.examples_before is None for c in columns):
        notes.append("(before filter) '-': no question rows here (only pairs)")
    overall = columns[-1]
    if overall.without_tests:
        notes.append(f"{overall.without_tests:,} questions have no test (counted in #Examples, with 0 tests)")
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
    elif fmt == "text":
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        lines = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in [header, *body]
        ]
    else:
        raise ValueError(f"unknown format {fmt!r}; expected text, markdown or json")
    return "\n".join([*lines, *notes])


# Notes of `acecoder stats` that name its options, and what they mean in a run (which has no such options).
_RUN_NOTES = {
    "*": "* only the questions that survived filtering (the run has no synthesize stage before filter-tests)",
    "(after filter)": "(after filter) '-': no row was filtered (the run has no filter-tests stage)",
}


def run_notes(text: str) -> str:
    """Table 1 as :func:`format_table1` renders it, with the notes about ``acecoder stats --before`` said as they
    apply to a run."""
    lines = []
    for line in text.splitlines():
        if "--before" in line:
            line = next((note for start, note in _RUN_NOTES.items() if line.startswith(start)), None)
            if line is None:
                continue
        lines.append(line)
    return "\n".join(lines)
