"""Tiny random-weight Qwen2 chat models for tests (built by :mod:`acecoder.reward_model.tiny`, no Hub).
Build once per session: ``tiny_chat_model()`` caches folders by their settings in a temp dir."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from acecoder.reward_model.tiny import CHAT_TEMPLATE, build_tiny_chat_model

__all__ = ["CHAT_TEMPLATE", "build_tiny_chat_model", "tiny_chat_model"]


@functools.cache
def tiny_chat_model(**settings: object) -> Path:
    """:func:`build_tiny_chat_model` into a per-process temp dir, built once per distinct ``settings``."""
    root = Path(tempfile.mkdtemp(prefix="acecoder-tiny-"))
    return build_tiny_chat_model(root / "model", **settings)  # type: ignore[arg-type]
