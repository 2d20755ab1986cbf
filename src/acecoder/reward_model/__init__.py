"""Reward models: Bradley-Terry training on preference pairs (TRL), scoring programs, AceCodeRM checkpoints.

Importing this package is cheap; torch and transformers load when a model is trained or loaded.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RewardModel": "scorer",
    "RewardModelConfig": "config",
    "load_config": "config",
    "train_reward_model": "train",
    "score_file": "rows",
    "score_rows": "rows",
    "ScoreSummary": "rows",
    "Renderer": "render",
    "PreferencePair": "dataset",
    "read_pairs": "dataset",
    "split_by_question": "dataset",
    "load_reward_model": "loading",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"acecoder.reward_model.{_EXPORTS[name]}"), name)
    raise AttributeError(name)


__all__ = sorted(_EXPORTS)
