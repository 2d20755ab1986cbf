"""Request keys, the SQLite cache, prices, Retry-After parsing and the rate limiter (no server, no model)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from acecoder.llm import (
    ChatRequest,
    Completion,
    FatalBackendError,
    JobOutput,
    LLMClient,
    LocalBackend,
    Price,
    PriceTable,
    RateLimiter,
    RequestCache,
    Sample,
    Usage,
    make_backend,
)
from acecoder.llm.backends.base import cut_at_stop
from acecoder.llm.backends.openai_backend import retry_after_seconds
from acecoder.llm.errors import require

MSG = [{"role": "user", "content": "Write f."}]


def test_key_changes_with_every_generation_parameter_but_not_n():
    base = ChatRequest(MSG, n=4, temperature=0.7, max_tokens=64, seed=1, prefill="Here:", stop=["```"])
    key = base.key("m")
    assert key == ChatRequest(
        list(MSG), n=4, temperature=0.7, max_tokens=64, seed=1, prefill="Here:", stop=("```",)
    ).key("m")
    assert dataclasses.replace(base, n=16).key("m") == key  # n only says how many sample indices exist
    variants = [
        dataclasses.replace(base, temperature=0.8),
        dataclasses.replace(base, top_p=0.9),
        dataclasses.replace(base, max_tokens=65),
        dataclasses.replace(base, seed=2),
        dataclasses.replace(base, seed=None),
        dataclasses.replace(base, prefill="Here"),
        dataclasses.replace(base, prefill=None),
        dataclasses.replace(base, stop=None),
        dataclasses.replace(base, extra={"top_k": 5}),
        dataclasses.replace(base, messages=[{"role": "user", "content": "Write g."}]),
    ]
    keys = {v.key("m") for v in variants} | {base.key("other-model")}
    assert key not in keys and len(keys) == len(variants) + 1


def test_request_validation_and_normalisation():
    assert ChatRequest(MSG, stop="\n").stop == ("\n",)
    with pytest.raises(ValueError):
        ChatRequest(MSG, n=0)
    with pytest.raises(ValueError):
        ChatRequest([])


def test_cache_roundtrip_failures_never_overwrite_answers(tmp_path):
    path = tmp_path / "c.sqlite"
    with RequestCache(path) as cache:
        cache.put("k", "m", [Completion(0, "a", "stop", prompt_tokens=3, completion_tokens=1)])
        cache.put("k", "m", [Completion(0, None, error="boom"), Completion(1, None, error="boom")])
        cache.put("k", "m", [Completion(1, None, error="boom again")])
    with RequestCache(path) as cache:  # persisted
        got = cache.lookup(["k", "missing"])
        assert set(got) == {"k"}
        assert (
            got["k"][0].ok
            and got["k"][0].text == "a"
            and got["k"][0].cached
            and got["k"][0].prompt_tokens == 3
        )
        assert not got["k"][1].ok and got["k"][1].error == "boom again"
        assert cache.counts() == {"ok": 1, "failed": 1}
        assert cache._db.execute("SELECT attempts FROM samples WHERE idx = 1").fetchone() == (2,)
        cache.put("k", "m", [Completion(1, "b")])  # an answer replaces a failure
        assert cache.counts() == {"ok": 2, "failed": 0}
        assert cache._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_prices():
    table = PriceTable({"my-model": {"input": 1.0, "output": 2.0}, "tuple-model": (3, 4)})
    assert table.cost("my-model", 1_000_000, 500_000) == pytest.approx(2.0)
    assert table.cost("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)  # longest prefix
    assert table.cost("openai/gpt-4o-2024-08-06", 0, 1_000_000) == pytest.approx(10.0)
    assert table.get("tuple-model") == Price(3, 4)
    assert table.cost("unknown", 10, 10) is None


def test_price_file(tmp_path):
    (tmp_path / "p.yaml").write_text("m1: {input: 0.5, output: 1.5}\n")
    assert PriceTable.from_file(tmp_path / "p.yaml").get("m1") == Price(0.5, 1.5)


def test_retry_after_parsing():
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after": "0.5"}) == 0.5
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # a past date
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_cut_at_stop():
    assert cut_at_stop("abc```def", ["```", "d"]) == ("abc", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)
    assert cut_at_stop("abc", None) == ("abc", False)


def test_rate_limiter_spaces_requests_and_pauses():
    async def run() -> tuple[float, float]:
        limiter = RateLimiter(requests_per_minute=600, burst_seconds=0.1)  # 10/s, no burst
        start = time.monotonic()
        for _ in range(4):
            await limiter.acquire()
        spaced = time.monotonic() - start
        limiter.pause(0.3)
        start = time.monotonic()
        await limiter.acquire()
        return spaced, time.monotonic() - start

    spaced, paused = asyncio.run(run())
    assert 0.25 <= spaced < 1.0
    assert paused >= 0.29


def test_token_limiter_settles_real_usage():
    async def run() -> float:
        limiter = RateLimiter(tokens_per_minute=6000, burst_seconds=1)  # 100 tokens/s, bucket of 100
        await limiter.acquire(100)
        limiter.settle(100, 10)  # only 10 used: 90 come back
        start = time.monotonic()
        await limiter.acquire(90)
        return time.monotonic() - start

    assert asyncio.run(run()) < 0.1


class FlakyLocal(LocalBackend):
    """Answers every job except those whose prompt says "boom", which break any batch they are in."""

    model = "flaky"
    jobs_per_chunk = 4

    def __init__(self) -> None:
        self.calls: list[int] = []

    def generate(self, jobs):
        self.calls.append(len(jobs))
        if any("boom" in j.request.messages[-1]["content"] for j in jobs):
            raise RuntimeError("kaboom")
        return [
            JobOutput([Sample(f"{j.request.messages[-1]['content']}#{i}") for i in j.indices], Usage(2, 1))
            for j in jobs
        ]


def test_local_backend_batch_failure_isolates_the_bad_job(tmp_path):
    reqs = [ChatRequest([{"role": "user", "content": c}], n=2) for c in ("a", "boom", "c", "d", "e")]
    backend = FlakyLocal()
    with LLMClient(backend, tmp_path / "c.sqlite", progress=False) as client:
        results = client.generate(reqs)
        assert [r.ok for r in results] == [True, False, True, True, True]
        assert results[0].texts == ["a#0", "a#1"] and "kaboom" in results[1].errors[0]
        assert backend.calls == [4, 1, 1, 1, 1, 1]
        assert client.summary.failed == 2 and client.summary.generated == 8 and client.summary.cost == 0.0
        backend.calls.clear()
        client.generate(reqs)  # only the failed request is tried again
        assert backend.calls == [1]


def test_generate_inside_an_event_loop_and_empty_input():
    async def run():
        with LLMClient(FlakyLocal(), progress=False) as client:
            assert await client.agenerate([]) == []
            return await client.agenerate([ChatRequest([{"role": "user", "content": "x"}])])

    (res,) = asyncio.run(run())
    assert res.texts == ["x#0"]


def test_make_backend_errors():
    with pytest.raises(ValueError, match="unknown backend"):
        make_backend("nope", "m")
    with pytest.raises(ValueError, match="no base_urls"):
        make_backend("transformers", "m", base_urls="http://x")


def test_missing_stack_names_the_extra():
    with pytest.raises(ImportError, match=r"pip install 'acecoder\[vllm\]'"):
        require("acecoder_no_such_module", "vllm")


def test_openai_backend_needs_a_key_for_the_official_api(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(FatalBackendError, match="OPENAI_API_KEY"):
        make_backend("openai", "gpt-4o-mini")


def test_base_urls_read_the_same_everywhere():
    from acecoder.llm.backends.openai_backend import OpenAIBackend
    from acecoder.llm.endpoints import has_endpoint, split_base_urls
    from acecoder.sampling import policy_models

    both = ("http://a:8000/v1", "http://b:8000/v1")
    for given in ("http://a:8000/v1, http://b:8000/v1,", [" http://a:8000/v1", "http://b:8000/v1", ""]):
        assert split_base_urls(given) == both
        assert has_endpoint("openai", given) and policy_models(["m"], base_urls=[given])[0].base_urls == both
        assert tuple(OpenAIBackend("m", given, api_key_env="NO_SUCH_KEY_VAR").base_urls) == both
    assert split_base_urls(None) == () and not has_endpoint("openai", " , ") and has_endpoint("vllm", None)
    with pytest.raises(ValueError, match=r"stages.sample.base_url: 'base_url' must be a string"):
        split_base_urls([8000], "stages.sample.base_url")
