"""Any OpenAI-compatible chat server (OpenAI, vLLM, SGLang, llama.cpp) through the official ``openai`` client.

Several base URLs spread the load (data parallelism): each call goes to the URL with the fewest calls in
flight, skipping one that just refused connections. Retries are the client's job: the SDK's own are off.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from acecoder.llm import endpoints
from acecoder.llm.backends.base import RemoteBackend, prompt_messages
from acecoder.llm.errors import BackendError, FatalBackendError, RetryableError, require
from acecoder.llm.request import ChatRequest, Job, JobOutput, Sample, Usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PrefillMode = Literal["continue", "message"]


def _split_urls(base_urls: str | Sequence[str] | None) -> list[str]:
    if base_urls is None:
        base_urls = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    urls = [u.rstrip("/") for u in endpoints.split_base_urls(base_urls)]
    if not urls:
        raise ValueError("no base URL given")
    return urls


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The server's ``retry-after-ms`` / ``retry-after`` hint (seconds or an HTTP date), if any."""
    if not headers:
        return None
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


class OpenAIBackend(RemoteBackend):
    """Chat completions from an OpenAI-compatible server.

    ``prefill_mode="continue"`` sends the prefill as a final assistant message with vLLM/SGLang's
    ``continue_final_message=True, add_generation_prompt=False``; ``"message"`` sends the assistant message
    alone (llama.cpp continues it on its own). With ``per_sample_seed`` a seeded request is sent one sample
    per call with seed ``seed + i``, so every sample index is reproducible across reruns; otherwise up to
    ``max_n`` samples go in one call (a prompt paid once), seeded with ``seed + first index``.
    The API key comes from the environment variable ``api_key_env`` only.
    """

    def __init__(
        self,
        model: str,
        base_urls: str | Sequence[str] | None = None,
        *,
        api_key_env: str = endpoints.API_KEY_ENV,
        timeout: float = 600.0,
        max_n: int = 128,
        per_sample_seed: bool = True,
        prefill_mode: PrefillMode = "continue",
        max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens",
        extra_body: Mapping[str, Any] | None = None,
        cooldown: float = 5.0,
    ):
        require("openai", "llm")
        self.model = model
        self.base_urls = _split_urls(base_urls)
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_n = max_n
        self.per_sample_seed = per_sample_seed
        self.prefill_mode = prefill_mode
        self.max_tokens_field = max_tokens_field
        self.extra_body = dict(extra_body or {})
        self.cooldown = cooldown
        if not os.environ.get(api_key_env) and DEFAULT_BASE_URL in self.base_urls:
            raise FatalBackendError(f"set the API key in the environment variable {api_key_env}")
        self._clients: list[Any] = []
        self._in_flight = [0] * len(self.base_urls)
        self._down_until = [0.0] * len(self.base_urls)

    async def start(self) -> None:
        import openai

        key = os.environ.get(self.api_key_env) or "EMPTY"
        self._clients = [
            openai.AsyncOpenAI(api_key=key, base_url=url, timeout=self.timeout, max_retries=0)
            for url in self.base_urls
        ]

    async def aclose(self) -> None:
        for client in self._clients:
            await client.close()
        self._clients = []

    def max_samples_per_call(self, request: ChatRequest) -> int:
        if request.seed is not None and self.per_sample_seed:
            return 1
        return self.max_n

    def _pick(self) -> int:
        now = time.monotonic()
        return min(range(len(self.base_urls)), key=lambda i: (self._down_until[i] > now, self._in_flight[i]))

    def body(self, job: Job) -> dict[str, Any]:
        """Keyword arguments of ``chat.completions.create`` for this job."""
        req = job.request
        extra = dict(self.extra_body)
        if req.prefill is not None and self.prefill_mode == "continue":
            extra.update(continue_final_message=True, add_generation_prompt=False)
        extra.update(req.extra)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": prompt_messages(req),
            "n": len(job.indices),
            "temperature": req.temperature,
            "top_p": req.top_p,
            self.max_tokens_field: req.max_tokens,
        }
        if req.stop:
            kwargs["stop"] = list(req.stop)
        if job.seed is not None:
            kwargs["seed"] = job.seed
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    async def send(self, job: Job) -> JobOutput:
        import openai

        if not self._clients:
            await self.start()
        slot = self._pick()
        self._in_flight[slot] += 1
        try:
            resp = await self._clients[slot].chat.completions.create(**self.body(job))
        except openai.APIConnectionError as exc:  # includes timeouts
            if not isinstance(exc, openai.APITimeoutError):
                self._down_until[slot] = time.monotonic() + self.cooldown
            raise RetryableError(f"{type(exc).__name__} at {self.base_urls[slot]}: {exc}") from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
            raise FatalBackendError(f"{exc.status_code} from {self.base_urls[slot]}: {exc.message}") from exc
        except openai.APIStatusError as exc:
            code, wait = exc.status_code, retry_after_seconds(exc.response.headers)
            if code == 429 or code >= 500 or code in (408, 409):
                raise RetryableError(
                    f"HTTP {code}: {exc.message}", retry_after=wait, rate_limited=code == 429
                ) from exc
            raise BackendError(f"HTTP {code}: {exc.message}") from exc
        except openai.APIError as exc:  # malformed response body
            raise RetryableError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._in_flight[slot] -= 1
        choices = sorted(resp.choices or [], key=lambda c: c.index)
        samples = [Sample(c.message.content or "", c.finish_reason) for c in choices[: len(job.indices)]]
        if not samples:
            raise RetryableError("the server returned no choices")
        usage = (
            Usage(resp.usage.prompt_tokens or 0, resp.usage.completion_tokens or 0) if resp.usage else Usage()
        )
        if len(samples) < len(job.indices):  # a server that ignores n (llama.cpp): ask for less next time
            self.max_n = max(1, len(samples))
        return JobOutput(samples, usage)
