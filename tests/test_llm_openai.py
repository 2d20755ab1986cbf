"""The client against the loopback OpenAI-compatible server: caching per sample, retries, faults, limits."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from acecoder.llm import ChatRequest, FatalBackendError, LLMClient, PriceTable, make_backend
from llm_fake_server import FakeOpenAIServer, Fault, Reply, fenced, sequence_responder, truncated, with_junk

MSG = [{"role": "user", "content": "Write a function f."}]


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


def client_for(urls, cache_path=None, *, timeout=5.0, backend_opts=None, **opts) -> LLMClient:
    backend = make_backend("openai", "fake-model", base_urls=urls, timeout=timeout, **(backend_opts or {}))
    opts.setdefault("backoff_base", 0.01)
    opts.setdefault("progress", False)
    return LLMClient(backend, cache_path, **opts)


def test_n_samples_in_one_call_then_cache_hit(server, tmp_path):
    req = ChatRequest(MSG, n=3, temperature=0.7, max_tokens=50)
    with client_for(server.url, tmp_path / "c.sqlite") as client:
        (res,) = client.generate([req])
        assert res.ok and res.texts == [f"reply {i} seed=None to: Write a function f." for i in range(3)]
        assert len(server.received) == 1 and server.received[0]["n"] == 3
        assert server.received[0]["temperature"] == 0.7 and server.received[0]["max_tokens"] == 50
        assert client.summary.generated == 3 and client.summary.calls == 1
        assert res.usage.prompt_tokens == server_usage_prompt(MSG)
        (again,) = client.generate([req])
        assert again.texts == res.texts and all(c.cached for c in again.completions)
        assert len(server.received) == 1 and client.summary.cached == 3 and client.summary.calls == 0


def server_usage_prompt(messages) -> int:
    return sum(len(m["content"]) for m in messages) // 4 + 1


def test_changed_parameter_misses_cache_same_request_hits(server, tmp_path):
    req = ChatRequest(MSG, n=2, temperature=0.7, seed=None)
    with client_for(server.url, tmp_path / "c.sqlite") as client:
        client.generate([req])
        assert len(server.received) == 1
        for changed in (
            dataclasses.replace(req, temperature=0.8),
            dataclasses.replace(req, top_p=0.5),
            dataclasses.replace(req, max_tokens=7),
            dataclasses.replace(req, stop=["\n"]),
            dataclasses.replace(req, prefill="Sure:"),
            dataclasses.replace(req, extra={"top_k": 3}),
        ):
            before = len(server.received)
            client.generate([changed])
            assert len(server.received) == before + 1, changed
        before = len(server.received)
        client.generate([req, dataclasses.replace(req, n=1)])  # both answered from the cache
        assert len(server.received) == before


def test_resume_sends_only_missing_indices_and_raising_n_reuses(server, tmp_path):
    req = ChatRequest(MSG, n=2)
    with client_for(server.url, tmp_path / "c.sqlite") as client:
        client.generate([req])
        (res,) = client.generate([dataclasses.replace(req, n=5)])
        assert [b["n"] for b in server.received] == [2, 3]
        assert [c.cached for c in res.completions] == [True, True, False, False, False]
        assert len(set(res.texts)) == 3  # the new call's choices 0..2 answer indices 2..4


def test_identical_requests_in_one_call_are_sent_once(server):
    with client_for(server.url) as client:
        results = client.generate([ChatRequest(MSG, n=2), ChatRequest(MSG, n=3), ChatRequest(MSG, n=1)])
        assert [len(r.completions) for r in results] == [2, 3, 1]
        assert results[1].texts[:2] == results[0].texts and results[2].texts == results[0].texts[:1]
        assert [b["n"] for b in server.received] == [3]


def test_seeded_request_uses_one_seed_per_sample(server):
    with client_for(server.url) as client:
        (res,) = client.generate([ChatRequest(MSG, n=3, seed=100)])
        assert sorted(b["seed"] for b in server.received) == [100, 101, 102]
        assert all(b["n"] == 1 for b in server.received)
        assert [t.split()[2] for t in res.texts] == ["seed=100", "seed=101", "seed=102"]


def test_seeded_request_batched_when_per_sample_seed_is_off(server):
    with client_for(server.url, backend_opts={"per_sample_seed": False}) as client:
        client.generate([ChatRequest(MSG, n=3, seed=100)])
        assert [(b["n"], b["seed"]) for b in server.received] == [(3, 100)]


def test_prefill_is_sent_as_continued_assistant_message(server):
    with client_for(server.url) as client:
        client.generate([ChatRequest(MSG, prefill="Below is a script:\n```python\n")])
    body = server.received[0]
    assert body["messages"][-1] == {"role": "assistant", "content": "Below is a script:\n```python\n"}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False


def test_prefill_message_mode_sends_no_template_options(server):
    with client_for(server.url, backend_opts={"prefill_mode": "message"}) as client:
        client.generate([ChatRequest(MSG, prefill="Sure:")])
    assert "continue_final_message" not in server.received[0]
    assert server.received[0]["messages"][-1]["role"] == "assistant"


def test_429_honours_retry_after(server):
    server.fail_next(Fault(429, retry_after=0.6))
    with client_for(server.url) as client:
        start = time.monotonic()
        (res,) = client.generate([ChatRequest(MSG)])
        assert res.ok and time.monotonic() - start >= 0.55
        assert client.summary.retries == 1 and client.summary.rate_limit_pauses == 1
        assert len(server.received) == 2


def test_5xx_junk_body_and_timeout_are_retried(server):
    server.fail_next(Fault(500), Fault(503), Fault(200, body="<html>not json"), Fault(None, delay=1.5))
    with client_for(server.url, timeout=0.4) as client:
        (res,) = client.generate([ChatRequest(MSG)])
        assert res.ok
        assert client.summary.retries == 4 and len(server.received) == 5


def test_final_failure_is_recorded_not_fatal_and_retried_on_rerun(server, tmp_path):
    server.fail_next(*[Fault(500)] * 3)
    path = tmp_path / "c.sqlite"
    reqs = [ChatRequest(MSG), ChatRequest([{"role": "user", "content": "other"}])]
    with client_for(server.url, path, max_concurrency=1, max_attempts=3) as client:
        results = client.generate(reqs)
        assert not results[0].ok and "gave up after 3 attempts" in results[0].completions[0].error
        assert results[0].completions[0].text is None and results[1].ok
        assert client.summary.failed == 1 and client.cache.counts() == {"ok": 1, "failed": 1}
    with client_for(server.url, path) as client:
        results = client.generate(reqs)
        assert all(r.ok for r in results)
        assert client.summary.cached == 1 and client.summary.generated == 1
        assert client.cache.counts() == {"ok": 2, "failed": 0}


def test_bad_request_is_not_retried(server):
    server.fail_next(Fault(400))
    with client_for(server.url) as client:
        (res,) = client.generate([ChatRequest(MSG)])
        assert not res.ok and "HTTP 400" in res.errors[0]
        assert len(server.received) == 1


def test_auth_error_is_fatal(tmp_path):
    with (
        FakeOpenAIServer(api_key="right") as srv,
        client_for(srv.url) as client,
        pytest.raises(FatalBackendError, match="401"),
    ):
        client.generate([ChatRequest(MSG)] * 3)


def test_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MY_KEY", "right")
    with FakeOpenAIServer(api_key="right") as srv:
        backend = make_backend("openai", "fake-model", base_urls=srv.url, api_key_env="MY_KEY")
        (res,) = LLMClient(backend, progress=False).generate([ChatRequest(MSG)])
        assert res.ok


def test_server_returning_fewer_choices_than_n(tmp_path):
    with FakeOpenAIServer(max_n=1) as srv, client_for(srv.url) as client:
        (res,) = client.generate([ChatRequest(MSG, n=3)])
        assert res.ok and len(set(res.texts)) == 1  # the fake server's answer depends on the choice only
        assert [b["n"] for b in srv.received] == [3, 1, 1]


def test_several_base_urls_share_the_load():
    with FakeOpenAIServer(latency=0.05) as a, FakeOpenAIServer(latency=0.05) as b:
        reqs = [ChatRequest([{"role": "user", "content": f"task {i}"}]) for i in range(12)]
        with client_for([a.url, b.url], max_concurrency=4) as client:
            assert all(r.ok for r in client.generate(reqs))
        assert len(a.received) + len(b.received) == 12
        assert len(a.received) >= 3 and len(b.received) >= 3


def test_dead_base_url_falls_back_to_live_one():
    with FakeOpenAIServer() as live:
        dead = FakeOpenAIServer().start()
        dead_url = dead.url
        dead.stop()
        reqs = [ChatRequest([{"role": "user", "content": f"task {i}"}]) for i in range(6)]
        with client_for([dead_url, live.url], max_concurrency=2) as client:
            assert all(r.ok for r in client.generate(reqs))
        assert len(live.received) == 6


def test_concurrency_limit(tmp_path):
    with FakeOpenAIServer(latency=0.1) as srv:
        reqs = [ChatRequest([{"role": "user", "content": f"task {i}"}]) for i in range(10)]
        with client_for(srv.url, max_concurrency=3) as client:
            client.generate(reqs)
        assert srv.max_in_flight <= 3 and len(srv.received) == 10


def test_requests_per_minute_limit(server):
    reqs = [ChatRequest([{"role": "user", "content": f"task {i}"}]) for i in range(4)]
    with client_for(server.url, requests_per_minute=600) as client:
        client.generate(reqs)  # the bucket starts full: no wait for a burst under the limit
    assert len(server.received) == 4


def test_cost_and_summary(server, capsys):
    prices = PriceTable({"fake-model": {"input": 1.0, "output": 2.0}})
    with client_for(server.url, prices=prices, progress=True) as client:
        (res,) = client.generate([ChatRequest(MSG, n=2)])
        s = client.summary
        expected = (s.prompt_tokens * 1.0 + s.completion_tokens * 2.0) / 1e6
        assert s.cost == pytest.approx(expected) and s.cost > 0
        assert res.usage.completion_tokens == s.completion_tokens
        assert "2 generated" in str(s) and "cost $" in str(s)
    assert "fake-model" in capsys.readouterr().err


def test_content_shapes_for_parsers():
    payload = json.dumps({"question": "q", "tests": ["assert f(1) == 1"]})
    answers = [fenced(payload), truncated(payload), with_junk(fenced(payload)), Reply("cut", "length")]
    with FakeOpenAIServer(sequence_responder(answers)) as srv, client_for(srv.url) as client:
        (res,) = client.generate([ChatRequest(MSG, n=4)])
    assert res.texts[0] == f"```json\n{payload}\n```" and res.texts[1] == payload[: int(len(payload) * 0.6)]
    assert res.texts[2].startswith("Sure!") and res.completions[3].finish_reason == "length"


def test_responder_sees_messages_and_params():
    seen = []

    def responder(messages, params):
        seen.append((messages[-1]["content"], params["temperature"], params["index"]))
        return "ok"

    with FakeOpenAIServer(responder) as srv, client_for(srv.url) as client:
        client.generate([ChatRequest(MSG, n=2, temperature=0.3)])
    assert seen == [("Write a function f.", 0.3, 0), ("Write a function f.", 0.3, 1)]


def test_responder_fault_by_content():
    def responder(messages, params):
        return Fault(400) if "bad" in messages[-1]["content"] else "fine"

    with FakeOpenAIServer(responder) as srv, client_for(srv.url) as client:
        good, bad = client.generate([ChatRequest(MSG), ChatRequest([{"role": "user", "content": "bad"}])])
    assert good.ok and not bad.ok
