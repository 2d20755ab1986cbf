"""What the LLM stages share: their endpoint settings (run-wide ``llm:`` defaults, per-stage overrides), the
rule that skips a stage with no endpoint, and the client."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

from acecoder.llm.endpoints import has_endpoint
from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import StageContext, StageSkipped

# Settings that change how fast answers come, not what they are.
VOLATILE = ("concurrency", "rpm", "tpm", "max_attempts", "batch_size", "prices")


def llm_defaults(config: RunConfig) -> dict[str, Any]:
    return asdict(config.llm)


def no_endpoint(stage: str, what: str = "") -> StageSkipped:
    """The skip that says how to enable an LLM stage."""
    return StageSkipped(
        f"no LLM endpoint configured{what}; to enable it set llm.base_url (or stages.{stage}.base_url) "
        "to an OpenAI-compatible server, e.g. --set llm.base_url=http://localhost:8000/v1 (several: a list)"
    )


def require_endpoint(ctx: StageContext, what: str = "") -> None:
    """Skip the stage, saying how to enable it, when it has no endpoint."""
    if not has_endpoint(ctx.settings["backend"], ctx.settings["base_url"]):
        raise no_endpoint(ctx.name, what)


def client(
    ctx: StageContext,
    model: str,
    *,
    backend: str | None = None,
    base_url: Any = None,
    api_key_env: str | None = None,
) -> Any:
    """An LLM client for ``model`` with the stage's settings and the run's request cache; closed with the stage."""
    from acecoder.llm.endpoints import build_client

    s = ctx.settings
    llm = build_client(
        backend or s["backend"],
        model,
        base_url or s["base_url"],
        api_key_env=api_key_env or s["api_key_env"],
        cache_path=ctx.cache_path(),
        concurrency=s["concurrency"],
        rpm=s["rpm"],
        tpm=s["tpm"],
        max_attempts=s["max_attempts"],
        prices=s.get("prices"),
        progress=sys.stderr.isatty(),
    )
    return ctx.enter(llm)
