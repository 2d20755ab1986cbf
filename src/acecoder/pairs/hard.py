"""The hard subset of AceCode rows (the paper's selection for RL).

For each row, the pass rates of its samples (optionally only some models' samples) give a mean and a
population standard deviation. Keep the rows whose mean is at most the median of the row means; of those, keep
the rows whose standard deviation is at least the median of *their* standard deviations. Rows with no pass rate
take no part (and are counted). Medians follow :func:`statistics.median` (the mean of the two middle values
for an even count). Each row's statistics are computed from its sorted pass rates with exact summation, so two
rows with the same pass rates get bit-identical statistics.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from acecoder.data import DataError, RowWriter, UniqueIds, iter_rows, validate_acecode_row
from acecoder.pairs.build import _progress, _table
from acecoder.pairs.rates import parse_models, scored_samples


@dataclass
class HardSummary:
    rows_in: int = 0
    rows_without_pass_rates: int = 0
    rows_scored: int = 0
    median_mean: float | None = None
    rows_after_mean_filter: int = 0
    median_std: float | None = None
    rows_out: int = 0
    models: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        def num(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.6g}"

        return _table(
            [
                ("models counted", ", ".join(self.models) if self.models else "all"),
                ("rows in", self.rows_in),
                ("rows without pass rates (left out)", self.rows_without_pass_rates),
                ("rows with pass rates", self.rows_scored),
                ("median of row means", num(self.median_mean)),
                ("rows with mean <= median", self.rows_after_mean_filter),
                ("median std of those rows", num(self.median_std)),
                ("rows with std >= median (out)", self.rows_out),
            ]
        )


def rate_stats(rates: Iterable[float]) -> tuple[float, float] | None:
    """``(mean, population std)`` of pass rates, or None for none."""
    values = sorted(rates)
    if not values:
        return None
    mean = math.fsum(values) / len(values)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
    return mean, std


def row_stats(
    row: dict[str, Any],
    models: Sequence[str] | None = None,
    *,
    path: str | None = None,
    line: int | None = None,
) -> tuple[float, float] | None:
    """A validated row's ``(mean, std)`` over the pass rates of ``models``' samples (all models for None)."""
    validate_acecode_row(row, require=("id",), path=path, line=line)
    if "inferences" not in row:
        raise DataError("missing", path=path, row=line, field="inferences")
    wanted = set(models) if models else None
    return rate_stats(
        r
        for _, m, r in scored_samples(row, path=path, line=line)
        if r is not None and (wanted is None or m in wanted)
    )


def select_hard(stats: Sequence[tuple[float, float] | None]) -> tuple[list[bool], HardSummary]:
    """Which rows are hard, given each row's ``(mean, std)`` (None: no pass rates), and the summary."""
    summary = HardSummary(rows_in=len(stats))
    scored = [s for s in stats if s is not None]
    summary.rows_scored = len(scored)
    summary.rows_without_pass_rates = len(stats) - len(scored)
    keep = [False] * len(stats)
    if not scored:
        return keep, summary
    summary.median_mean = statistics.median(m for m, _ in scored)
    low = [i for i, s in enumerate(stats) if s is not None and s[0] <= summary.median_mean]
    summary.rows_after_mean_filter = len(low)
    summary.median_std = statistics.median(stats[i][1] for i in low)
    for i in low:
        if stats[i][1] >= summary.median_std:
            keep[i] = True
    summary.rows_out = sum(keep)
    return keep, summary


def _check_models(models: tuple[str, ...] | None, present: Iterable[str], where: str | None) -> None:
    if not models:
        return
    present = set(present)
    missing = [m for m in models if m not in present]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        listing = ", ".join(sorted(present)) or "none"
        raise DataError(
            f"--models: {names} match{'es' if len(missing) == 1 else ''} no sample; models present: {listing}",
            path=where,
        )


def hard_rows(
    rows: Iterable[dict[str, Any]], models: str | Sequence[str] | None = None, *, dedupe_ids: bool = False
) -> tuple[list[dict[str, Any]], HardSummary]:
    """The hard subset of in-memory rows (kept in input order) and the summary. Row ids must be unique
    (``dedupe_ids`` renames repeats)."""
    models = parse_models(models)
    rows = list(rows)
    present: set[str] = set()
    stats = []
    ids = UniqueIds(dedupe=dedupe_ids)
    for line, row in enumerate(rows, 1):
        stats.append(row_stats(row, models, line=line))
        ids.check(row, line)
        present.update(m for _, m, _ in scored_samples(row, line=line))
    _check_models(models, present, None)
    keep, summary = select_hard(stats)
    summary.models = list(models) if models else None
    return [row for row, k in zip(rows, keep, strict=True) if k], summary


def hard_subset(
    input_path: str | os.PathLike | Sequence[str | os.PathLike],
    output_path: str | os.PathLike,
    models: str | Sequence[str] | None = None,
    *,
    progress: bool | None = None,
    dedupe_ids: bool = False,
) -> HardSummary:
    """Write the hard subset of ``input_path`` (a file, or several files read as one: e.g. the Parquet shards of
    a pipeline stage) to ``output_path`` (format by extension).

    Two passes over the input: the first computes each row's statistics (a few floats per row in memory), the
    second copies the kept rows unchanged. Raises :class:`DataError` for bad rows and for a model in ``models``
    that no sample has, and for a repeated row id (``dedupe_ids`` renames repeats instead).
    """
    models = parse_models(models)
    paths = [str(input_path)] if isinstance(input_path, (str, os.PathLike)) else [str(p) for p in input_path]

    def numbered() -> Iterator[tuple[str, int, dict[str, Any]]]:
        ids = UniqueIds(paths[0] if len(paths) == 1 else None, dedupe=dedupe_ids)  # unique across all inputs
        for path in paths:
            for line, row in iter_rows(path):
                yield path, line, ids.check(row, line)

    present: set[str] = set()
    stats: list[tuple[float, float] | None] = []
    for path, line, row in _progress(numbered(), progress, "hard: scoring"):
        stats.append(row_stats(row, models, path=path, line=line))
        present.update(m for _, m, _ in scored_samples(row, path=path, line=line))
    _check_models(models, present, paths[0] if len(paths) == 1 else None)
    keep, summary = select_hard(stats)
    summary.models = list(models) if models else None
    # The output is written atomically, so it may replace the input (the rows were read in the first pass).
    with RowWriter(output_path) as writer:
        for index, (_, _, row) in enumerate(
            _progress(numbered(), progress, "hard: writing", total=len(keep))
        ):
            if index < len(keep) and keep[index]:
                writer.write(row)
    return summary
