"""``execute`` in a run: :func:`acecoder.execution.rows.execute_rows` with a resumable
:class:`~acecoder.pipeline.Checkpoint`, as ``acecoder execute`` does, on the configured executor (local or Ray)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext, dataclass_defaults, pick


def _validated_rows(path: Path, *, skip: int) -> Iterator[dict[str, Any]]:
    from acecoder.data import iter_rows, validate_acecode_row

    for number, row in iter_rows(path):
        if skip:
            skip -= 1
            continue
        require = ("inferences",) if row.get("inferences") is not None else ()
        yield validate_acecode_row(row, require=require, path=str(path), line=number)


class Execute(Stage):
    name = "execute"
    help = "every program against every test: test_results and pass_rate (acecoder execute)"

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        from acecoder.execution import Limits

        return {**dataclass_defaults(Limits), "errors": False}

    def check(self, ctx: StageContext) -> None:
        from acecoder.execution import Limits

        self.limits = Limits(
            **pick(ctx.settings, dataclass_defaults(Limits))
        )  # bad values fail before any work

    def open(self, ctx: StageContext) -> None:
        self.engine = ctx.executor(self.limits)

    def run_shard(self, ctx: StageContext, source: Path, output: Path) -> dict[str, Any]:
        from acecoder.execution import ExecutionSummary
        from acecoder.execution.rows import execute_rows
        from acecoder.pipeline.checkpoint import Checkpoint, file_identity, fingerprint

        errors = ctx.settings["errors"]
        run_id = fingerprint(input=file_identity(source), limits=asdict(self.limits), errors=errors)
        checkpoint = Checkpoint(output, run_id)
        summary = ExecutionSummary()
        try:
            rows = _validated_rows(source, skip=checkpoint.done)
            for row in execute_rows(rows, self.engine, summary=summary, errors=errors):
                checkpoint.append(row)
        finally:
            checkpoint.close()
        count = checkpoint.finalize()
        return {
            "rows_in": count,
            "rows_out": count,
            "workers": getattr(self.engine, "workers", None),
            "summary": {**asdict(summary), "pass_rate": summary.pass_rate},
        }
