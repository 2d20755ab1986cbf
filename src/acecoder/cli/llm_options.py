"""What the LLM-using verbs (synthesize, filter-tests, sample) share: the client they build from their options."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from acecoder.cli.base import fail
from acecoder.cli.options import (  # kept importable from here
    ApiKeyEnv,
    Cache,
    Concurrency,
    MaxAttempts,
    Rpm,
    Seed,
    TopP,
    Tpm,
)

if TYPE_CHECKING:
    from acecoder.llm import LLMClient

# Backends that run in-process and take no API key.
_LOCAL_BACKENDS = ("transformers", "hf", "vllm")


def cache_path(cache: Path | None, output: Path) -> Path:
    """The request cache: ``cache`` if given, else ``OUTPUT.llm_cache.sqlite`` next to the output."""
    return cache or output.with_name(output.name + ".llm_cache.sqlite")


def make_client(
    backend: str,
    model: str,
    base_url: str | None,
    api_key_env: str,
    cache: Path,
    *,
    concurrency: int,
    rpm: float | None,
    tpm: float | None,
    max_attempts: int,
    progress: bool,
) -> LLMClient:
    """An LLM client for a CLI verb (``base_url``: comma-separated servers); errors become clean CLI failures."""
    try:
        from acecoder.llm import FatalBackendError, LLMClient, make_backend
    except ImportError as e:
        raise fail(f"the LLM layer needs extra packages ({e}): pip install 'acecoder[llm]'") from None
    opts = {"api_key_env": api_key_env} if backend.lower() not in _LOCAL_BACKENDS else {}
    urls = [u.strip() for u in base_url.split(",") if u.strip()] if base_url else None
    try:
        llm_backend = make_backend(backend, model, urls, **opts)
    except (FatalBackendError, ValueError, ImportError) as e:
        raise fail(str(e)) from None
    return LLMClient(
        llm_backend,
        cache_path=cache,
        max_concurrency=concurrency,
        requests_per_minute=rpm,
        tokens_per_minute=tpm,
        max_attempts=max_attempts,
        progress=progress,
    )


__all__ = [
    "ApiKeyEnv",
    "Cache",
    "Concurrency",
    "MaxAttempts",
    "Rpm",
    "Seed",
    "TopP",
    "Tpm",
    "cache_path",
    "make_client",
]
