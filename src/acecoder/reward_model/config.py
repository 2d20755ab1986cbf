"""The reward-model training configuration: one dataclass, read from YAML with command-line overrides.

The defaults are the paper's recipe (AceCodeRM: full fine-tune, lr 1e-5, one epoch, cosine schedule, warmup
0.1, global batch 128, sequences up to 2048 tokens, bf16 where the hardware has it); the bundled
``paper`` config spells it out with the paper's base model. Anything of TRL's ``RewardConfig`` that is not a
field here goes in ``trl``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from acecoder.data.settings import config_from

BUNDLED = {"paper": "paper.yaml"}


@dataclass(frozen=True)
class RewardModelConfig:
    # Model
    model: str = (
        ""  # base model: a folder or hub id of a causal LM (a scalar head is added) or a reward model
    )
    template: str | None = None  # prompt: preset (sampling, acecodepair) or file; None: see render.py
    chat_template: str | None = None  # Jinja file replacing the tokenizer's chat template
    max_length: int | None = 2048  # pairs with a longer side are dropped (TRL) and counted
    lora: bool = False  # train LoRA adapters (peft) plus the head, merged into the saved model
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: str | list = "all-linear"
    # Optimisation
    learning_rate: float = 1e-5
    epochs: float = 1.0
    max_steps: int | None = None  # overrides epochs when set
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    batch_size: int = 4  # pairs per device per step
    global_batch_size: int | None = (
        128  # pairs per optimizer step; sets grad_accum from batch_size and devices
    )
    grad_accum: int | None = None  # explicit gradient accumulation (then global_batch_size is ignored)
    margin_scale: float = (
        0.0  # > 0: loss -log sigmoid(r_c - r_r - scale * pass-rate gap) (acecoder pairs rows)
    )
    center_rewards_coefficient: float | None = None  # TRL's reward centering (0.01 is its suggestion)
    bf16: bool | None = None  # None: on where a GPU supports it, off on CPU
    gradient_checkpointing: bool | None = None  # None: on with a GPU, off on CPU
    seed: int = 0
    # Held-out evaluation
    eval_split: float = 0.05  # fraction of questions held out (all their pairs); 0: none
    eval_pairs: str | None = None  # a held-out pair file instead of the split
    eval_steps: int | None = None  # evaluate every N steps; None: about 5 times; 0: only at the end
    eval_batch_size: int | None = None  # default: 2 x batch_size
    # Run
    logging_steps: int = 10
    save_steps: int | None = None  # keep trainer checkpoints every N steps (a rerun resumes from the last)
    num_threads: int | None = None  # torch CPU threads (default: torch's, which follows OMP_NUM_THREADS)
    max_pairs: int | None = None  # read at most this many pairs (quick runs)
    trl: dict = field(default_factory=dict)  # further trl.RewardConfig keyword arguments

    def __post_init__(self) -> None:
        checks = [
            (self.learning_rate > 0, "learning_rate must be positive"),
            (self.epochs > 0, "epochs must be positive"),
            (self.max_steps is None or self.max_steps > 0, "max_steps must be positive"),
            (0.0 <= self.warmup_ratio < 1.0, "warmup_ratio must be in [0, 1)"),
            (self.batch_size >= 1, "batch_size must be at least 1"),
            (self.grad_accum is None or self.grad_accum >= 1, "grad_accum must be at least 1"),
            (self.global_batch_size is None or self.global_batch_size >= 1, "global_batch_size must be >= 1"),
            (self.max_length is None or self.max_length >= 8, "max_length must be at least 8"),
            (0.0 <= self.eval_split < 1.0, "eval_split must be in [0, 1)"),
            (self.eval_steps is None or self.eval_steps >= 0, "eval_steps must not be negative"),
            (self.margin_scale >= 0, "margin_scale must not be negative"),
            (self.num_threads is None or self.num_threads >= 1, "num_threads must be at least 1"),
            (self.max_pairs is None or self.max_pairs >= 1, "max_pairs must be at least 1"),
            (self.lora_r >= 1, "lora_r must be at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def accumulation(self, world_size: int = 1) -> int:
        """Gradient accumulation steps: explicit, or what makes ``global_batch_size`` with this batch size."""
        if self.grad_accum is not None or self.global_batch_size is None:
            return self.grad_accum or 1
        per_step = self.batch_size * world_size
        if self.global_batch_size % per_step:
            raise ValueError(
                f"global_batch_size {self.global_batch_size} is not a multiple of batch_size x devices "
                f"({self.batch_size} x {world_size}); change batch_size or set grad_accum"
            )
        return self.global_batch_size // per_step

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def config_path(name_or_path: str | os.PathLike) -> Path:
    """A bundled config by name (``paper``) or a file."""
    if str(name_or_path) in BUNDLED:
        ref = resources.files("acecoder").joinpath("resources", "reward_model", BUNDLED[str(name_or_path)])
        return Path(str(ref))
    return Path(name_or_path)


def load_config(
    path: str | os.PathLike | None = None,
    options: dict[str, Any] | None = None,
    sets: list[str] | None = None,
) -> RewardModelConfig:
    """The config file (a bundled name or a path), then command-line ``options`` (None: not given), then
    ``key=value`` settings. An explicit ``grad_accum`` wins over the file's ``global_batch_size``."""
    file = config_path(path) if path is not None else None
    config = config_from(RewardModelConfig, file, options, sets or ())
    named = {k for k, v in (options or {}).items() if v is not None}
    named |= {s.partition("=")[0].strip() for s in sets or ()}
    if "grad_accum" in named and "global_batch_size" not in named and config.grad_accum is not None:
        config = dataclasses.replace(config, global_batch_size=None)
    return config
