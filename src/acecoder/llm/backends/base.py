"""The two kinds of backend the client drives, and chat-template rendering shared by in-process ones."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from acecoder.llm.request import ChatRequest, Job, JobOutput


class Backend(ABC):
    """A model behind some API. ``model`` names it in cache keys and price lookups."""

    model: str
    local: ClassVar[bool]

    async def start(self) -> None:
        """Open connections; called by the client inside its event loop."""
        return None

    async def aclose(self) -> None:
        """Close what :meth:`start` opened."""
        return None


class RemoteBackend(Backend):
    """A server reached over the network: many calls in flight, rate limits and retries apply."""

    local = False

    def max_samples_per_call(self, request: ChatRequest) -> int:
        """How many samples one call may ask for (``n``)."""
        return 1

    @abstractmethod
    async def send(self, job: Job) -> JobOutput:
        """Answer one job; raise :class:`~acecoder.llm.errors.RetryableError`, ``BackendError`` or
        ``FatalBackendError`` on failure."""


class LocalBackend(Backend):
    """A model in this process: the client hands it jobs in chunks, in a worker thread when
    ``run_in_thread`` (so an event loop stays responsive), else in the caller's thread."""

    local = True
    jobs_per_chunk: int = 32
    run_in_thread: bool = True

    @abstractmethod
    def generate(self, jobs: Sequence[Job]) -> list[JobOutput]:
        """Answer every job (all of its indices), in order."""


def prompt_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """The request's messages, with the prefill appended as an unfinished assistant message."""
    messages = [dict(m) for m in request.messages]
    if request.prefill is not None:
        messages.append({"role": "assistant", "content": request.prefill})
    return messages


def render_prompt(tokenizer: Any, request: ChatRequest) -> str:
    """Apply the tokenizer's chat template: a generation prompt, or, with a prefill, the prompt text ending
    with the prefill so the model continues it."""
    prefill = request.prefill is not None
    return tokenizer.apply_chat_template(
        prompt_messages(request),
        tokenize=False,
        add_generation_prompt=not prefill,
        continue_final_message=prefill,
    )


def cut_at_stop(text: str, stop: Sequence[str] | None) -> tuple[str, bool]:
    """Cut ``text`` before the first stop string (OpenAI semantics); say whether one was found."""
    cuts = [i for s in stop or () if s and (i := text.find(s)) >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)
