"""The stage registry of ``acecoder run``: stage name -> adapter class, in pipeline order.

Each adapter is a few lines around the function its CLI verb calls (see :class:`acecoder.pipeline.stage.Stage`).
A new stage plugs in with :func:`register` (or a line in :data:`STAGES`).
"""

from __future__ import annotations

from acecoder.pipeline.stage import Stage
from acecoder.pipeline.stages.augment import Augment
from acecoder.pipeline.stages.evaluate import Evaluate
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
        Augment,
        Sample,
        Execute,
        Pairs,
        Hard,
        Stats,
        TrainRM,
        Score,
        Evaluate,
        Rewards,
        Report,
    )
}

# Stages of branches not landed yet: name -> what it will do (listed by `acecoder run --help`-style messages).
PLANNED: dict[str, str] = {}


def register(stage: type[Stage], *, before: str | None = None) -> None:
    """Add a stage to the registry (before the stage ``before``, else at the end)."""
    items = [(k, v) for k, v in STAGES.items() if k != stage.name]
    index = next((i for i, (k, _) in enumerate(items) if k == before), len(items))
    items.insert(index, (stage.name, stage))
    STAGES.clear()
    STAGES.update(items)
    PLANNED.pop(stage.name, None)


__all__ = ["PLANNED", "STAGES", "register"]
