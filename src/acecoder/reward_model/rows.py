"""Scoring AceCode rows: ``rm_score`` for every inference, resumable (``acecoder score``)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from acecoder.data import DataError, validate_acecode_row
from acecoder.data.checkpoint import Checkpoint, file_identity, fingerprint
from acecoder.data.io import count_rows, file_format, iter_rows
from acecoder.execution.program import extract_program
from acecoder.reward_model.scorer import RewardModel

Row = dict[str, Any]


@dataclass
class ScoreSummary:
    rows: int = 0  # rows written (resumed ones included)
    rows_resumed: int = 0
    programs: int = 0  # programs scored by this run
    truncated: int = 0  # of which cut to max_length
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        rate = self.programs / self.seconds if self.seconds > 0 else 0.0
        return (
            f"rows: {self.rows} ({self.rows_resumed} resumed)   programs scored: {self.programs}   "
            f"truncated to max_length: {self.truncated}\ntime: {self.seconds:.1f}s   programs/s: {rate:.1f}"
        )


def score_rows(
    rows: Iterable[Row], model: RewardModel, *, chunk: int | None = None, on_batch=None
) -> Iterator[Row]:
    """Yield each row, in order, with ``rm_score`` on every inference; programs of consecutive rows are scored
    together, ``chunk`` programs at a time (default 16 batches), so length bucketing has room to work."""
    chunk = chunk or model.batch_size * 16
    pending: list[Row] = []
    items: list[tuple[str, str]] = []

    def flush() -> Iterator[Row]:
        scores = model.score_prompted(items, progress=on_batch)
        at = 0
        for row in pending:
            for inference in row.get("inferences") or []:
                inference["rm_score"] = scores[at]
                at += 1
            yield row
        pending.clear()
        items.clear()

    for row in rows:
        inferences = row.get("inferences") or []
        if inferences:  # the program each completion stands for, as execute and pairs read it
            user = model.renderer.user_message(row["question"], row.get("test_cases"))
            items.extend((user, extract_program(inf["completion"])) for inf in inferences)
        pending.append(row)
        if len(items) >= chunk:
            yield from flush()
    if pending:
        yield from flush()


def _validated(path: Path, skip: int) -> Iterator[Row]:
    for number, row in iter_rows(path):
        if skip:
            skip -= 1
            continue
        require = ("question", "inferences") if row.get("inferences") else ()
        yield validate_acecode_row(row, require=require, path=str(path), line=number)


def _model_identity(model: RewardModel) -> dict[str, Any]:
    files = sorted(p for p in model.path.iterdir() if p.suffix in (".safetensors", ".bin", ".json"))
    return {
        "path": str(model.path.resolve()),
        "files": [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files],
        "template": model.template.to_dict(),
        "max_length": model.max_length,
    }


def score_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    model: RewardModel,
    *,
    resume: bool = True,
    progress: bool = True,
    chunk: int | None = None,
    notify=None,
) -> ScoreSummary:
    """Write ``input_path``'s rows to ``output_path`` with ``rm_score`` on every inference, all other fields
    kept. Finished rows go to ``OUTPUT.partial.jsonl`` as they complete; a rerun of the same command (same
    input, model and settings) continues after them, even after ``kill -9``; ``notify(message)`` hears about
    a resumed run."""
    from tqdm import tqdm

    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise DataError("no such file", path=str(input_path))
    if input_path.resolve() == output_path.resolve():
        raise DataError("the output would overwrite the input", path=str(output_path))
    file_format(output_path)
    run_id = fingerprint(input=file_identity(input_path), model=_model_identity(model), verb="score")
    checkpoint = Checkpoint(output_path, run_id, resume=resume)
    summary = ScoreSummary(rows_resumed=checkpoint.done)
    if checkpoint.done and notify is not None:
        notify(f"resuming: {checkpoint.done} rows already done in {checkpoint.path}")
    started, truncated_before = time.monotonic(), model.truncated
    bar = tqdm(
        total=count_rows(input_path),
        initial=checkpoint.done,
        unit="row",
        disable=not progress,
        dynamic_ncols=True,
    )

    def on_batch(n: int) -> None:
        summary.programs += n
        bar.set_postfix(programs=summary.programs, refresh=False)

    try:
        with bar:
            for row in score_rows(
                _validated(input_path, checkpoint.done), model, chunk=chunk, on_batch=on_batch
            ):
                checkpoint.append(row)
                bar.update(1)
    except BaseException:
        checkpoint.close()
        raise
    summary.rows = checkpoint.finalize()
    summary.truncated = model.truncated - truncated_before
    summary.seconds = time.monotonic() - started
    return summary
