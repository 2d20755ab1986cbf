"""Where an LLM answers, in one place for the command-line verbs and the pipeline's stages: base URLs as every
option and config gives them (one URL, comma-separated URLs or a list), which backends need none, and the client
built from these settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from acecoder.llm.client import LLMClient

LOCAL_BACKENDS = ("transformers", "hf", "vllm")
"""Backends that run in process: they take no server and no API key."""

# The defaults of every LLM verb, stage and client (``llm:`` in a run config, the verbs' options).
BACKEND = "openai"
API_KEY_ENV = "OPENAI_API_KEY"
CONCURRENCY = 64
"""Requests in flight."""
MAX_ATTEMPTS = 6
"""Tries per request before it is recorded as failed."""


def split_base_urls(value: Any, where: str = "base_url") -> tuple[str, ...]:
    """The servers of a ``base_url`` setting: a URL, comma-separated URLs or a list of URLs (blanks dropped;
    None: none). Anything else raises ValueError naming ``where``."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Any = value.split(",")
    elif isinstance(value, (list, tuple)) and all(isinstance(u, str) for u in value):
        items = value
    else:
        raise ValueError(f"{where}: 'base_url' must be a string or a list of strings")
    return tuple(u.strip() for u in items if u.strip())


def has_endpoint(backend: str, base_url: Any) -> bool:
    """Whether a backend can answer: it runs in process, or it has a server."""
    return backend.lower() in LOCAL_BACKENDS or bool(split_base_urls(base_url))


def build_client(
    backend: str,
    model: str,
    base_url: Any,
    *,
    api_key_env: str,
    cache_path: str | os.PathLike | Path,
    concurrency: int,
    rpm: float | None,
    tpm: float | None,
    max_attempts: int,
    progress: bool,
    prices: str | os.PathLike | None = None,
) -> LLMClient:
    """The LLM client of a verb or stage: ``backend`` serving ``model`` at ``base_url`` (none: the backend's
    default), its request cache, rate limits and retries, and the price table file ``prices`` for the cost
    figures."""
    from acecoder.llm import LLMClient, PriceTable, make_backend

    opts = {"api_key_env": api_key_env} if backend.lower() not in LOCAL_BACKENDS else {}
    llm_backend = make_backend(backend, model, list(split_base_urls(base_url)) or None, **opts)
    return LLMClient(
        llm_backend,
        cache_path=cache_path,
        max_concurrency=concurrency,
        requests_per_minute=rpm,
        tokens_per_minute=tpm,
        max_attempts=max_attempts,
        prices=PriceTable.from_file(prices) if prices else None,
        progress=progress,
    )
