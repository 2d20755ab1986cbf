"""``stats`` in a run: the paper's Table 1 through :func:`acecoder.synthesis.table1` (what ``acecoder stats``
computes), written to ``RUN_DIR/stats/table1.json`` and ``table1.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acecoder.data.io import write_atomic, write_json
from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext
from acecoder.rundir.store import iter_dataset as rows_of
from acecoder.synthesis.stats import run_notes


class Stats(Stage):
    name = "stats"
    help = "Table 1: examples and tests before/after filtering, pairs (acecoder stats)"
    kind = "global"
    output = None
    uses = ("synthesize", "filter-tests", "pairs")

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        return {}

    def run_all(self, ctx: StageContext, output: Path) -> dict[str, Any]:
        from acecoder.synthesis import format_table1, table1

        up = ctx.upstream
        before = rows_of(up["synthesize"]) if "synthesize" in up and "filter-tests" in up else None
        pairs = rows_of(up["pairs"]) if "pairs" in up else None
        columns = table1(rows_of(ctx.inputs), before_rows=before, pair_rows=pairs, count_pairs=pairs is None)
        data = [c.as_dict() for c in columns]
        write_json(ctx.dir.path / "table1.json", data)
        markdown = run_notes(format_table1(columns, "markdown"))
        write_atomic(ctx.dir.path / "table1.md", markdown + "\n")
        ctx.log(run_notes(format_table1(columns, "text")))
        overall = data[-1]
        return {
            "rows_in": overall["examples_after"] or overall["examples_before"],
            "summary": {"table1": data},
        }
