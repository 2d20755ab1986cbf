"""``report`` in a run: :func:`acecoder.report.write_report` (``acecoder report RUN_DIR``) on the run so far."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext


class Report(Stage):
    name = "report"
    help = "RUN_DIR/report.html: tables and figures of every stage (acecoder report)"
    kind = "global"
    output = None
    reads = None
    always = True

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        return {}

    def run_all(self, ctx: StageContext, output: Path) -> dict[str, Any]:
        from acecoder.report import write_report

        path = write_report(ctx.run_dir)
        ctx.log(f"wrote {path}")
        return {"summary": {"report": str(path)}}
