"""``pairs`` and ``hard`` in a run: :func:`acecoder.pairs.make_pairs` and :func:`acecoder.pairs.hard_subset`,
the functions of ``acecoder pairs`` and ``acecoder hard``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext, dataclass_defaults, pick


class Pairs(Stage):
    name = "pairs"
    help = "preference pairs with the AceCoder rule (acecoder pairs)"
    output = "dataset"
    path_settings = ("template",)

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        from acecoder.pairs import PairConfig

        return {**dataclass_defaults(PairConfig), "format": "pairs", "template": None}

    def check(self, ctx: StageContext) -> None:
        from acecoder.pairs import PairConfig

        self.pair_config = PairConfig(**pick(ctx.settings, dataclass_defaults(PairConfig)))

    def run_shard(self, ctx: StageContext, source: Path, output: Path) -> dict[str, Any]:
        from acecoder.data.io import count_rows
        from acecoder.pairs import make_pairs

        s = ctx.settings
        summary = make_pairs(
            source, output, self.pair_config, format=s["format"], template=s["template"], progress=False
        )
        return {"rows_in": count_rows(source), "rows_out": count_rows(output), "summary": summary.to_dict()}


class Hard(Stage):
    name = "hard"
    help = "the paper's hard subset: low mean pass rate, high spread (acecoder hard)"
    kind = "global"  # the thresholds are medians over all rows
    output = "dataset"

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        return {"models": None}

    def run_all(self, ctx: StageContext, output: Path) -> dict[str, Any]:
        from acecoder.pairs import hard_subset

        summary = hard_subset(ctx.inputs, output, ctx.settings["models"], progress=False)
        return {"rows_in": summary.rows_in, "rows_out": summary.rows_out, "summary": summary.to_dict()}
