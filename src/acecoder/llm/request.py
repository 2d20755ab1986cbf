"""Requests and results of chat generation, and the canonical cache key of a request."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Message = Mapping[str, Any]


@dataclass(frozen=True)
class ChatRequest:
    """One chat prompt and how to sample from it.

    ``prefill`` starts the assistant's answer: the backend continues it, and the returned texts are the
    continuation only. ``seed`` seeds sample ``i`` with ``seed + i`` where the backend can do so. ``extra``
    holds backend-specific sampling options (``top_k``, ``repetition_penalty``, ...); it is part of the key.
    """

    messages: Sequence[Message]
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 1024
    stop: Sequence[str] | None = None
    seed: int | None = None
    prefill: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if not self.messages:
            raise ValueError("a chat request needs at least one message")
        object.__setattr__(self, "messages", tuple(dict(m) for m in self.messages))
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        elif self.stop is not None:
            object.__setattr__(self, "stop", tuple(self.stop))

    def key(self, model: str) -> str:
        """Canonical hash of everything that shapes one sample: model, messages, sampling parameters and
        prefill. ``n`` is left out on purpose: sample ``i`` is cached under (key, i), so raising ``n`` reuses
        the samples already answered."""
        blob = {
            "model": model,
            "messages": list(self.messages),
            "temperature": float(self.temperature),
            "top_p": float(self.top_p),
            "max_tokens": int(self.max_tokens),
            "stop": list(self.stop) if self.stop else None,
            "seed": self.seed,
            "prefill": self.prefill,
            "extra": dict(self.extra),
        }
        text = json.dumps(blob, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def prompt_chars(self) -> int:
        """Characters of prompt text (messages and prefill), for token estimates."""
        chars = sum(len(str(m.get("content") or "")) for m in self.messages)
        return chars + len(self.prefill or "")


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __iadd__(self, other: Usage) -> Usage:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        return self


@dataclass
class Completion:
    """Sample ``index`` of a request: its text, or the reason it failed (``text`` is None then).

    Token counts are this sample's share of its call's usage (a call with ``n > 1`` pays the prompt once)."""

    index: int
    text: str | None
    finish_reason: str | None = None
    error: str | None = None
    cached: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None


@dataclass
class ChatResult:
    """All samples of one request, in sample-index order."""

    request: ChatRequest
    completions: list[Completion]

    @property
    def texts(self) -> list[str | None]:
        return [c.text for c in self.completions]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.completions)

    @property
    def errors(self) -> list[str]:
        return [c.error for c in self.completions if c.error]

    @property
    def usage(self) -> Usage:
        return Usage(
            sum(c.prompt_tokens for c in self.completions), sum(c.completion_tokens for c in self.completions)
        )


@dataclass(frozen=True)
class Job:
    """Part of a request a backend answers in one go: the sample indices still missing."""

    request: ChatRequest
    indices: tuple[int, ...]

    @property
    def seed(self) -> int | None:
        """The seed of the first index: ``request.seed + indices[0]``."""
        return None if self.request.seed is None else self.request.seed + self.indices[0]


@dataclass
class Sample:
    """What a backend returns per sample."""

    text: str
    finish_reason: str | None = None


@dataclass
class JobOutput:
    """A backend's answer to a job: samples for the first ``len(samples)`` indices (a server may return fewer
    than asked; the client asks again for the rest) and the call's token usage."""

    samples: list[Sample]
    usage: Usage = field(default_factory=Usage)
