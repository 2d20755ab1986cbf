"""A run directory on disk, datatrove style:

    RUN_DIR/config.yaml                  the config of the last run (resolved paths)
    RUN_DIR/run.json                     the stages of the last run, in order
    RUN_DIR/STAGE/stage.json             fingerprint, settings, state, totals
    RUN_DIR/STAGE/shard-00000.parquet    the stage's dataset, one file per shard
    RUN_DIR/STAGE/shard-00000.done       completion marker: rows, seconds, cost, the stage function's summary
    RUN_DIR/cache/STAGE.llm_cache.sqlite LLM answers (kept when a stage is invalidated: unchanged requests are free)

A shard without its marker is unfinished (the stage function's own progress file beside it lets it continue).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from acecoder.data.io import write_json

SHARD_GLOB = "shard-*.parquet"


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.parquet"


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


class StageDir:
    """One stage's folder under the run directory."""

    def __init__(self, run_dir: Path, name: str):
        self.name = name
        self.path = run_dir / name

    @property
    def meta_path(self) -> Path:
        return self.path / "stage.json"

    def meta(self) -> dict[str, Any] | None:
        data = read_json(self.meta_path)
        return data if isinstance(data, dict) else None

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_json(self.meta_path, meta)

    def marker(self, index: int) -> Path:
        return self.path / shard_name(index).replace(".parquet", ".done")

    def shard(self, index: int) -> Path:
        return self.path / shard_name(index)

    def done(self, index: int) -> dict[str, Any] | None:
        data = read_json(self.marker(index))
        return data if isinstance(data, dict) else None

    def mark(self, index: int, info: dict[str, Any]) -> None:
        write_json(self.marker(index), {"shard": index, "finished": time.time(), **info})

    def markers(self) -> Iterator[dict[str, Any]]:
        for path in sorted(self.path.glob("shard-*.done")):
            data = read_json(path)
            if isinstance(data, dict):
                yield data

    def shards(self) -> list[Path]:
        """The dataset's files, in order (shards that came out empty have no file)."""
        return sorted(self.path.glob(SHARD_GLOB))

    def reset(self) -> None:
        """Remove everything the stage wrote (a changed setting or upstream invalidated it)."""
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)


def iter_dataset(paths: list[Path]) -> Iterator[dict[str, Any]]:
    """The rows of a dataset's files, in order."""
    from acecoder.data.io import iter_rows

    for path in paths:
        for _, row in iter_rows(path):
            yield row


def split_rows(source: Path, stage: StageDir, shard_rows: int) -> list[dict[str, Any]]:
    """Write ``source`` (JSONL, JSONL.gz or Parquet) into Parquet shards of ``shard_rows`` rows with markers;
    shards already marked are not rewritten. Returns the markers."""
    from itertools import islice

    from acecoder.data.io import RowWriter, iter_rows

    rows = iter_rows(source)
    markers, index = [], 0
    while True:
        chunk = list(islice(rows, shard_rows))
        if not chunk:
            break
        marker = stage.done(index)
        if marker is None:
            started = time.monotonic()
            with RowWriter(stage.shard(index)) as writer:
                for _, row in chunk:
                    writer.write(row)
            marker = {"rows_in": len(chunk), "rows_out": len(chunk), "seconds": time.monotonic() - started}
            stage.mark(index, marker)
        markers.append(marker)
        index += 1
    return markers


def reshard(single: Path, stage: StageDir, shard_rows: int) -> int:
    """Cut one Parquet file into shards of ``shard_rows`` rows (no row is decoded to Python) and remove it."""
    import pyarrow.parquet as pq

    table = pq.read_table(single)
    rows = table.num_rows
    for index, start in enumerate(range(0, rows, shard_rows)):
        tmp = stage.path / f".{shard_name(index)}.tmp"
        pq.write_table(table.slice(start, shard_rows), tmp)
        os.replace(tmp, stage.shard(index))
    single.unlink()
    return rows
