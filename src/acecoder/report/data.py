"""What a report shows, read from a run directory: the stages of the last run, their datasets, markers and
metrics files."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acecoder.rundir.store import StageDir, read_json


@dataclass
class RunData:
    run_dir: Path
    stages: list[dict[str, Any]]
    """run.json's stages, each with its stage.json as ``meta``."""
    status: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, run_dir: str | Path) -> RunData:
        from acecoder.rundir.status import run_status

        run_dir = Path(run_dir)
        status = run_status(run_dir, exclude="report")  # raises ValueError for a folder that is not a run
        run = read_json(run_dir / "run.json")
        stages = []
        for planned in run["stages"]:
            meta = StageDir(run_dir, planned["name"]).meta() or {}
            stages.append({**planned, "meta": meta})
        return cls(run_dir, stages, status)

    def done(self, name: str) -> dict[str, Any] | None:
        """The stage.json of a finished stage of the run, else None."""
        for stage in self.stages:
            if stage["name"] == name and stage["meta"].get("state") == "done" and not stage.get("skip"):
                return stage["meta"]
        return None

    def shards(self, name: str) -> list[Path]:
        return StageDir(self.run_dir, name).shards() if self.done(name) else []

    def markers(self, name: str) -> list[dict[str, Any]]:
        return list(StageDir(self.run_dir, name).markers()) if self.done(name) else []

    def file(self, name: str, filename: str) -> Any:
        """A JSON file a finished stage wrote (metrics.json, summary.json...), or None."""
        return read_json(self.run_dir / name / filename) if self.done(name) else None

    def rows_stage(self) -> str | None:
        """The last finished stage of the run's main line of AceCode rows: the full set every question went
        through (``execute``, or ``score`` after it), not a subset a later stage read (``rewards`` reads the hard
        subset). The data sections describe its rows."""
        main, name = {"input"}, None
        for stage in self.stages:
            if stage.get("output") == "rows" and stage.get("source") in main and self.done(stage["name"]):
                main.add(stage["name"])
                name = stage["name"]
        return name

    def rows_out(self, name: str) -> int | None:
        """The rows a finished stage wrote (its stage.json), or None."""
        meta = self.done(name)
        value = meta.get("rows_out") if meta else None
        return value if isinstance(value, int) else None

    def source(self, name: str) -> str | None:
        """The dataset a stage read (``input`` or a stage name), as run.json records it."""
        return next((s.get("source") for s in self.stages if s["name"] == name), None)


def iter_columns(paths: list[Path], columns: list[str]) -> Iterator[dict[str, Any]]:
    """Rows of Parquet shards with only ``columns`` (those a shard lacks are None)."""
    import pyarrow.parquet as pq

    for path in paths:
        pf = pq.ParquetFile(path)
        present = [c for c in columns if c in pf.schema_arrow.names]
        if not present:
            continue
        for batch in pf.iter_batches(columns=present, batch_size=1024):
            for row in batch.to_pylist():
                yield {c: row.get(c) for c in columns}


@dataclass
class RowStats:
    """Per-question and per-model figures of a rows dataset."""

    rows: int = 0
    tests: list[int] = field(default_factory=list)
    pass_rates: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    samples: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)


def row_stats(paths: list[Path]) -> RowStats:
    out = RowStats()
    for row in iter_columns(paths, ["source", "test_cases", "inferences"]):
        out.rows += 1
        out.tests.append(len(row["test_cases"] or []))
        out.sources[str(row["source"] or "unknown")] += 1
        for inference in row["inferences"] or []:
            model = str(inference.get("model_name") or "unknown")
            out.samples[model] += 1
            rate = inference.get("pass_rate")
            if isinstance(rate, (int, float)):
                out.pass_rates[model].append(float(rate))
    return out


def hard_points(paths: list[Path], models: list[str] | None) -> list[tuple[str, float, float]]:
    """``(id, mean, std)`` of every row with pass rates, computed as the hard-subset selection computes them."""
    from acecoder.pairs import row_stats as hard_row_stats

    out = []
    for row in iter_columns(paths, ["id", "inferences"]):
        stats = hard_row_stats({**row, "inferences": row["inferences"] or []}, models)
        if stats is not None:
            out.append((str(row["id"]), *stats))
    return out


def ids(paths: list[Path]) -> set[str]:
    return {str(row["id"]) for row in iter_columns(paths, ["id"])}
