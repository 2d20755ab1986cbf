"""Settings of ``acecoder train-rl``: a YAML file (the bundled paper recipe by default) plus ``key=value``
overrides; the ``trainer`` mapping holds ``trl.GRPOConfig`` fields.

How the paper's Reinforce++ (OpenRLHF) maps onto TRL's GRPO, and what it cannot express:

* samples per prompt, rollout batch, train batch, learning rate, temperature, generation length and one pass
  over each rollout are ``num_generations``, ``generation_batch_size``, ``per_device_train_batch_size`` x
  ``gradient_accumulation_steps``, ``learning_rate``, ``temperature``, ``max_completion_length`` and
  ``num_iterations``;
* advantages: Reinforce++ normalises rewards over the whole batch. TRL always subtracts the mean reward of the
  prompt's group; with ``scale_rewards: batch`` it then divides by the batch's standard deviation, which is
  OpenRLHF's ``reinforce_baseline`` estimator (Reinforce++ with a group baseline). Plain Reinforce++ (a batch
  mean instead of the group mean) is not offered by TRL;
* KL: Reinforce++ subtracts ``0.01 x KL`` from each token's reward; TRL adds ``beta x KL`` to the loss
  (``beta: 0.01``). TRL has no KL-in-reward option.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from acecoder.data.settings import config_from
from acecoder.execution.limits import SAMPLED, program_budget
from acecoder.reward.scoring import check_mode

PAPER_RECIPE = "acecoder_paper.yaml"
REWARDS = ("binary", "pass_rate", "rm", "rm+binary")


@dataclass
class RLConfig:
    """What ``acecoder train-rl`` runs (see the bundled ``resources/rl/acecoder_paper.yaml``)."""

    reward: str = "binary"
    reward_model: str | None = None
    reward_weights: list[float] | None = None
    template: str = "sampling"
    prefill: bool = True
    reward_workers: int = 0
    test_timeout: float = SAMPLED.test
    program_timeout: float | None = SAMPLED.program
    """The sampled-program budget (:data:`acecoder.execution.limits.SAMPLED`); 0 or None: no budget."""
    trainer: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reward = self.reward.replace("-", "_") if self.reward in ("pass-rate",) else self.reward
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {', '.join(REWARDS)}, got {self.reward!r}")
        if self.reward.startswith("rm") and not self.reward_model:
            raise ValueError(f"reward {self.reward} needs reward_model (a reward model folder)")
        if not isinstance(self.trainer, dict):
            raise ValueError("trainer must be a mapping of trl.GRPOConfig fields")
        if self.test_timeout <= 0:
            raise ValueError(f"test_timeout must be positive, got {self.test_timeout}")
        self.program_timeout = program_budget(self.program_timeout)

    @property
    def test_mode(self) -> str:
        return check_mode("pass_rate" if self.reward == "pass_rate" else "binary")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def paper_recipe_path() -> Path:
    return Path(str(resources.files("acecoder") / "resources" / "rl" / PAPER_RECIPE))


def load_rl_config(
    path: str | os.PathLike | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    options: dict[str, Any] | None = None,
) -> RLConfig:
    """The config in ``path`` (default: the paper recipe), then command-line ``options`` (None: not given), then
    ``key=value`` overrides (the one ``--set`` grammar, :func:`acecoder.data.settings.apply_override`:
    ``trainer.learning_rate=1e-6``, ``reward=pass_rate``, ``reward_weights=[1, 0.5]``), as train-rm reads its
    config; unknown keys and wrong types are named with the file or override."""
    path = Path(path) if path is not None else paper_recipe_path()
    return config_from(RLConfig, path, options, overrides, what="RL config")
