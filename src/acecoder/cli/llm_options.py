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
        from acecoder.llm import FatalBackendError
        from acecoder.llm.endpoints import build_client
    except ImportError as e:
        raise fail(f"the LLM layer needs extra packages ({e}): pip install 'acecoder[llm]'") from None
    try:
        return build_client(
            backend,
            model,
            base_url,
            api_key_env=api_key_env,
            cache_path=cache,
            concurrency=concurrency,
            rpm=rpm,
            tpm=tpm,
            max_attempts=max_attempts,
            progress=progress,
        )
    except (FatalBackendError, ValueError, ImportError) as e:
        raise fail(str(e)) from None


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
