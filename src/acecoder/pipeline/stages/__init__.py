"""The stage registry of ``acecoder run``: stage name -> adapter class, in pipeline order.

Each adapter is a few lines around the function its CLI verb calls (see :class:`acecoder.pipeline.stage.Stage`).
A new stage plugs in with :func:`register` (or a line in :data:`STAGES`); the stages of branches that have not
landed yet have their places reserved in :data:`PLANNED`, with what each adapter must call and write.
"""

from __future__ import annotations

from acecoder.pipeline.stage import Stage
from acecoder.pipeline.stages.execute import Execute
from acecoder.pipeline.stages.pairs import Hard, Pairs
from acecoder.pipeline.stages.report import Report
from acecoder.pipeline.stages.reward_model import Score, TrainRM
from acecoder.pipeline.stages.rewards import Rewards
from acecoder.pipeline.stages.sampling import Sample
from acecoder.pipeline.stages.stats import Stats
from acecoder.pipeline.stages.synthesis import FilterTests, Synthesize

STAGES: dict[str, type[Stage]] = {
    stage.name: stage
    for stage in (
        Synthesize,
        FilterTests,
        Sample,
        Execute,
        Pairs,
        Hard,
        Stats,
        TrainRM,
        Score,
        Rewards,
        Report,
    )
}

# ---- REGISTRATION POINTS for the stages landing from other branches ---------------------------------------------
# Each entry: the stage name and what its adapter does; all go before "report", in this order. To plug one
# in: write a Stage subclass in pipeline/stages/<module>.py calling the same function as the CLI verb, then
# `register(TheStage, before=...)` below (or add it to STAGES in order) and delete its PLANNED entry.
#
# evaluate (acecoder.evaluation, branch eval): kind "global", reads "score" (AceCode-shaped samples), output
#   "dataset" (the per-sample statuses); settings = benchmark, k, rank_by (include "rm_score"), ...; write
#   ctx.dir.path / "summary.json" as {"benchmark": str, "rows": [{"method": "Greedy"|"Average"|"Oracle"|
#   "best-of-N (<ranker>)", "pass@1": float, ...}], "best_of_n": {ranker: {"N": pass@1}}}: the report draws the
#   best-of-N curves and the Table-2-style table from it.
PLANNED: dict[str, str] = {
    "evaluate": "best-of-N evaluation (acecoder.evaluation, issue 10)",
}


def register(stage: type[Stage], *, before: str | None = None) -> None:
    """Add a stage to the registry (before the stage ``before``, else at the end)."""
    items = [(k, v) for k, v in STAGES.items() if k != stage.name]
    index = next((i for i, (k, _) in enumerate(items) if k == before), len(items))
    items.insert(index, (stage.name, stage))
    STAGES.clear()
    STAGES.update(items)
    PLANNED.pop(stage.name, None)


__all__ = ["PLANNED", "STAGES", "register"]
