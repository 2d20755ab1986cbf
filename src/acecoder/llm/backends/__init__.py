"""Backends: OpenAI-compatible servers, in-process transformers, offline vLLM. Heavy stacks load lazily."""

from __future__ import annotations

from typing import Any

from acecoder.llm.backends.base import Backend, LocalBackend, RemoteBackend, render_prompt

KINDS = ("openai", "transformers", "vllm")


def make_backend(kind: str, model: str, base_urls: str | list[str] | None = None, **opts: Any) -> Backend:
    """Build a backend by name: ``openai`` (any OpenAI-compatible server; ``base_urls`` one or several),
    ``transformers`` (in process) or ``vllm`` (offline ``vllm.LLM``). ``opts`` go to the backend's class."""
    kind = kind.lower().replace("_", "-")
    if kind in ("openai", "vllm-server", "sglang", "llama.cpp", "llamacpp"):
        from acecoder.llm.backends.openai_backend import OpenAIBackend

        if kind in ("llama.cpp", "llamacpp"):
            opts.setdefault("prefill_mode", "message")
        return OpenAIBackend(model, base_urls, **opts)
    if base_urls is not None:
        raise ValueError(f"backend {kind!r} runs in process and takes no base_urls")
    if kind in ("transformers", "hf"):
        from acecoder.llm.backends.transformers_backend import TransformersBackend

        return TransformersBackend(model, **opts)
    if kind == "vllm":
        from acecoder.llm.backends.vllm_backend import VLLMBackend

        return VLLMBackend(model, **opts)
    raise ValueError(f"unknown backend {kind!r}; choose one of {', '.join(KINDS)}")


__all__ = ["KINDS", "Backend", "LocalBackend", "RemoteBackend", "make_backend", "render_prompt"]
