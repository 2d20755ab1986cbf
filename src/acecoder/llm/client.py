"""The one entry point for chat generation: cache lookup per sample, sending only what is missing, limits,
retries, live progress with tokens and cost, and a run summary."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from acecoder.llm import endpoints
from acecoder.llm.backends.base import Backend, LocalBackend, RemoteBackend
from acecoder.llm.cache import RequestCache
from acecoder.llm.costs import PriceTable
from acecoder.llm.errors import BackendError, FatalBackendError, RetryableError
from acecoder.llm.limits import RateLimiter, backoff_delay
from acecoder.llm.request import ChatRequest, ChatResult, Completion, Job, JobOutput

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What one :meth:`LLMClient.generate` call did. Tokens and cost count only calls made in this run."""

    model: str
    requests: int = 0
    samples: int = 0
    cached: int = 0
    generated: int = 0
    failed: int = 0
    calls: int = 0
    retries: int = 0
    rate_limit_pauses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = 0.0
    elapsed: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)

    def cost_text(self) -> str:
        return "$?" if self.cost is None else f"${self.cost:.4f}"

    def __str__(self) -> str:
        lines = [
            f"{self.model}: {self.requests} requests, {self.samples} samples "
            f"({self.cached} cached, {self.generated} generated, {self.failed} failed) in {self.elapsed:.1f}s",
            f"  {self.calls} calls, {self.retries} retries, {self.rate_limit_pauses} rate-limit pauses; "
            f"tokens in {self.prompt_tokens:,} out {self.completion_tokens:,}; cost {self.cost_text()}",
        ]
        lines += [f"  {count} samples failed: {reason}" for reason, count in self.errors.most_common(3)]
        return "\n".join(lines)


class LLMClient:
    """Generate chat completions through a backend with a persistent per-sample cache.

    Sample ``i`` of a request is cached under ``(request.key(model), i)`` as soon as it arrives; a rerun
    sends only the samples with no cached answer (recorded failures are retried unless ``retry_failed`` is
    off). Identical requests in one call are sent once. ``max_concurrency``, the rate limits and the retry
    policy apply to remote backends; a call that still fails after ``max_attempts`` is recorded as a failed
    sample, not raised. Only :class:`FatalBackendError` (bad key, unknown model) stops a run.
    """

    def __init__(
        self,
        backend: Backend,
        cache_path: str | os.PathLike | None = None,
        *,
        max_concurrency: int = endpoints.CONCURRENCY,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        max_attempts: int = endpoints.MAX_ATTEMPTS,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        max_retry_after: float = 300.0,
        retry_failed: bool = True,
        prices: PriceTable | None = None,
        progress: bool = True,
    ):
        self.backend = backend
        self.cache = RequestCache(cache_path if cache_path is not None else ":memory:")
        self.max_concurrency = max_concurrency
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.retry_failed = retry_failed
        self.prices = prices or PriceTable()
        self.progress = progress
        self.summary = RunSummary(backend.model)

    def generate(self, requests: Sequence[ChatRequest], *, desc: str = "generate") -> list[ChatResult]:
        """Results in request order; see :attr:`summary` for what the run did."""
        return asyncio.run(self.agenerate(requests, desc=desc))

    async def agenerate(self, requests: Sequence[ChatRequest], *, desc: str = "generate") -> list[ChatResult]:
        """:meth:`generate` for callers already inside an event loop."""
        run = _Run(self, requests, desc)
        return await run.execute()

    def close(self) -> None:
        self.cache.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Run:
    """State of one generate call."""

    def __init__(self, client: LLMClient, requests: Sequence[ChatRequest], desc: str):
        self.client, self.backend, self.desc = client, client.backend, desc
        self.model = client.backend.model
        self.requests = list(requests)
        self.keys = [r.key(self.model) for r in self.requests]
        # Identical requests share one slot list, long enough for the largest n among them.
        self.n_by_key: dict[str, int] = {}
        self.req_by_key: dict[str, ChatRequest] = {}
        for key, req in zip(self.keys, self.requests, strict=True):
            if req.n > self.n_by_key.get(key, 0):
                self.n_by_key[key], self.req_by_key[key] = req.n, req
        self.slots: dict[str, list[Completion | None]] = {k: [None] * n for k, n in self.n_by_key.items()}
        self.summary = RunSummary(self.model, requests=len(self.requests))
        client.summary = self.summary
        self.bar = None

    def _missing_jobs(self) -> list[Job]:
        cached = self.client.cache.lookup(self.slots)
        jobs: list[Job] = []
        for key, slots in self.slots.items():
            found = cached.get(key, {})
            missing = []
            for i in range(len(slots)):
                hit = found.get(i)
                if hit is not None and (hit.ok or not self.client.retry_failed):
                    slots[i] = hit
                    self.summary.cached += 1
                else:
                    missing.append(i)
            if missing:
                jobs.extend(self._split(Job(self.req_by_key[key], tuple(missing))))
        return jobs

    def _split(self, job: Job) -> list[Job]:
        if isinstance(self.backend, LocalBackend):
            return [job]
        size = max(1, self.backend.max_samples_per_call(job.request))
        return [Job(job.request, job.indices[i : i + size]) for i in range(0, len(job.indices), size)]

    async def execute(self) -> list[ChatResult]:
        start = time.monotonic()
        jobs = self._missing_jobs()
        total = sum(len(s) for s in self.slots.values())
        self.summary.samples = total
        if jobs:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total, initial=self.summary.cached, desc=self.desc, unit="sample",
                disable=not self.client.progress, dynamic_ncols=True,
            )  # fmt: skip
            await self.backend.start()
            try:
                if isinstance(self.backend, LocalBackend):
                    await self._run_local(jobs)
                else:
                    await self._run_remote(jobs)
            finally:
                await self.backend.aclose()
                self.bar.close()
        self.summary.elapsed = time.monotonic() - start
        if jobs:
            log.info("%s", self.summary)
            if self.client.progress:
                from tqdm.auto import tqdm

                tqdm.write(str(self.summary), file=sys.stderr)
        lost = "not generated (the run stopped early)"
        return [
            ChatResult(
                req, [s or Completion(i, None, error=lost) for i, s in enumerate(self.slots[key][: req.n])]
            )
            for key, req in zip(self.keys, self.requests, strict=True)
        ]

    # -- recording ---------------------------------------------------------------------------------------

    def _record(self, job: Job, out: JobOutput) -> Job | None:
        """Store a job's answers; return a job for the indices the backend did not answer."""
        k = min(len(out.samples), len(job.indices))
        p_share, p_rest = divmod(out.usage.prompt_tokens, k)
        c_share, c_rest = divmod(out.usage.completion_tokens, k)
        comps = [
            Completion(
                index=i, text=s.text, finish_reason=s.finish_reason,
                prompt_tokens=p_share + (p_rest if j == 0 else 0),
                completion_tokens=c_share + (c_rest if j == 0 else 0),
            )
            for j, (i, s) in enumerate(zip(job.indices, out.samples, strict=False))
        ]  # fmt: skip
        self.summary.generated += k
        self.summary.calls += 1
        self.summary.prompt_tokens += out.usage.prompt_tokens
        self.summary.completion_tokens += out.usage.completion_tokens
        cost = self.client.prices.cost(self.model, out.usage.prompt_tokens, out.usage.completion_tokens)
        if isinstance(self.backend, LocalBackend):
            cost = 0.0
        self.summary.cost = None if cost is None or self.summary.cost is None else self.summary.cost + cost
        self._store(job.request, comps)
        return Job(job.request, job.indices[k:]) if k < len(job.indices) else None

    def _fail(self, job: Job, reason: str) -> None:
        self.summary.failed += len(job.indices)
        first = reason[:200] not in self.summary.errors
        self.summary.errors[reason[:200]] += len(job.indices)
        if first:  # later failures of the same kind are only counted (see the summary)
            log.warning(
                "%s: a request for %d samples failed for good: %s (every failure is counted in the summary)",
                self.model,
                len(job.indices),
                reason,
            )
        self._store(job.request, [Completion(index=i, text=None, error=reason) for i in job.indices])

    def _store(self, request: ChatRequest, comps: list[Completion]) -> None:
        key = request.key(self.model)
        self.client.cache.put(key, self.model, comps)
        for c in comps:
            self.slots[key][c.index] = c
        if self.bar is not None:
            s = self.summary
            self.bar.set_postfix_str(
                f"fail={s.failed} retry={s.retries} tok={s.prompt_tokens:,}/{s.completion_tokens:,} "
                f"{s.cost_text()}",
                refresh=False,
            )
            self.bar.update(len(comps))

    # -- local backends ----------------------------------------------------------------------------------

    async def _run_local(self, jobs: list[Job]) -> None:
        backend = self.backend
        assert isinstance(backend, LocalBackend)
        size = max(1, backend.jobs_per_chunk)
        for start in range(0, len(jobs), size):
            chunk = jobs[start : start + size]
            try:
                outs = await self._call_local(chunk)
            except FatalBackendError:
                raise
            except Exception as exc:
                if len(chunk) == 1:
                    self._fail(chunk[0], f"{type(exc).__name__}: {exc}")
                    continue
                log.warning("a batch of %d jobs failed (%s); retrying them one by one", len(chunk), exc)
                for job in chunk:
                    await self._run_local_one(job)
                continue
            for job, out in zip(chunk, outs, strict=True):
                self._record_local(job, out)

    async def _run_local_one(self, job: Job) -> None:
        try:
            (out,) = await self._call_local([job])
        except FatalBackendError:
            raise
        except Exception as exc:
            self._fail(job, f"{type(exc).__name__}: {exc}")
            return
        self._record_local(job, out)

    async def _call_local(self, jobs: list[Job]) -> list[JobOutput]:
        backend = self.backend
        assert isinstance(backend, LocalBackend)
        if backend.run_in_thread:
            return await asyncio.to_thread(backend.generate, jobs)
        return backend.generate(jobs)

    def _record_local(self, job: Job, out: JobOutput) -> None:
        rest = self._record(job, out) if out.samples else job
        if rest is not None:
            self._fail(rest, "the backend returned fewer samples than asked")

    # -- remote backends ---------------------------------------------------------------------------------

    async def _run_remote(self, jobs: list[Job]) -> None:
        client = self.client
        self.limiter = RateLimiter(client.requests_per_minute, client.tokens_per_minute)
        queue: asyncio.Queue[Job] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        fatal: list[BaseException] = []

        async def worker() -> None:
            while True:
                job = await queue.get()
                try:
                    rest = await self._send_with_retries(job)
                    if rest is not None:
                        for part in self._split(rest):
                            queue.put_nowait(part)
                except FatalBackendError as exc:
                    fatal.append(exc)
                    while not queue.empty():  # drain so join() returns
                        queue.get_nowait()
                        queue.task_done()
                finally:
                    queue.task_done()

        workers = [asyncio.create_task(worker()) for _ in range(max(1, client.max_concurrency))]
        try:
            await queue.join()
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self.summary.rate_limit_pauses = self.limiter.pauses
        if fatal:
            raise fatal[0]

    async def _send_with_retries(self, job: Job) -> Job | None:
        client, backend = self.client, self.backend
        assert isinstance(backend, RemoteBackend)
        req = job.request
        reserve = req.prompt_chars() // 4 + req.max_tokens * len(job.indices)
        reason = "no attempt made"
        for attempt in range(1, client.max_attempts + 1):
            await self.limiter.acquire(reserve)
            try:
                out = await backend.send(job)
            except FatalBackendError:
                raise
            except RetryableError as exc:
                reason, hint, rate_limited = str(exc), exc.retry_after, exc.rate_limited
            except BackendError as exc:
                self.limiter.settle(reserve, 0)
                self._fail(job, str(exc))
                return None
            except Exception as exc:  # an unexpected client-side error: retry, bounded
                reason, hint, rate_limited = f"{type(exc).__name__}: {exc}", None, False
            else:
                self.limiter.settle(reserve, out.usage.prompt_tokens + out.usage.completion_tokens)
                return self._record(job, out)
            self.limiter.settle(reserve, 0)
            if attempt == client.max_attempts:
                break
            self.summary.retries += 1
            delay = backoff_delay(attempt, client.backoff_base, client.backoff_max)
            if hint is not None:
                delay = max(delay, min(hint, client.max_retry_after))
            log.debug("retry %d of %s in %.2fs: %s", attempt, job.indices, delay, reason)
            if rate_limited:
                self.limiter.pause(delay)
                self.summary.rate_limit_pauses = self.limiter.pauses
            else:
                await asyncio.sleep(delay)
        self._fail(job, f"gave up after {client.max_attempts} attempts: {reason}")
        return None
