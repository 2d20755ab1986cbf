"""``execute`` in a run: :func:`acecoder.execution.execute_file.execute_file`, the function ``acecoder execute``
calls, on the configured executor (local or Ray); ``program`` builds programs from row fields as ``--program``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext, dataclass_defaults, pick


class Execute(Stage):
    name = "execute"
    help = "every program against every test: test_results and pass_rate (acecoder execute)"

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        from acecoder.execution import Limits

        return {**dataclass_defaults(Limits), "errors": False, "program": None}  # the sampled-program budget

    def check(self, ctx: StageContext) -> None:
        from acecoder.execution import Limits

        self.limits = Limits(
            **pick(ctx.settings, dataclass_defaults(Limits))
        )  # bad values fail before any work

    def open(self, ctx: StageContext) -> None:
        self.engine = ctx.executor(self.limits)

    def run_shard(self, ctx: StageContext, source: Path, output: Path) -> dict[str, Any]:
        from acecoder.execution.execute_file import execute_file

        done = execute_file(
            source,
            output,
            self.engine,
            limits=self.limits,
            program=ctx.settings["program"],
            errors=ctx.settings["errors"],
        )
        count = done.finalize()
        summary = done.summary
        return {
            "rows_in": count,
            "rows_out": count,
            "workers": getattr(self.engine, "workers", None),
            "summary": {**asdict(summary), "pass_rate": summary.pass_rate},
        }
