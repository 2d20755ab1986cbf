"""A generation killed with SIGKILL mid-run resumes from the cache without resending answered samples."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from acecoder.llm import ChatRequest
from llm_fake_server import FakeOpenAIServer

N_TASKS, N_SAMPLES, SEED = 30, 2, 7

SCRIPT = """
import json, sys
from acecoder.llm import ChatRequest, LLMClient, make_backend

url, cache, out = sys.argv[1:4]
n_tasks, n_samples, seed = map(int, sys.argv[4:7])
requests = [ChatRequest([{"role": "user", "content": f"task {i}"}], n=n_samples, seed=seed, temperature=0.7)
            for i in range(n_tasks)]
backend = make_backend("openai", "fake-model", base_urls=url, timeout=10)
with LLMClient(backend, cache, max_concurrency=2, progress=False) as client:
    results = client.generate(requests)
json.dump([r.texts for r in results], open(out, "w"))
"""


def requests() -> list[ChatRequest]:
    return [
        ChatRequest([{"role": "user", "content": f"task {i}"}], n=N_SAMPLES, seed=SEED, temperature=0.7)
        for i in range(N_TASKS)
    ]


def cached_ok(path) -> set[tuple[str, int]]:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return set(db.execute("SELECT key, idx FROM samples WHERE ok = 1"))
    except sqlite3.Error:
        return set()


def sample_of(body: dict, key_of_task: dict[str, str]) -> tuple[str, int]:
    return key_of_task[body["messages"][-1]["content"]], body["seed"] - SEED


@pytest.mark.slow
def test_sigkill_then_rerun_sends_only_unanswered_samples(tmp_path):
    script, cache, out = tmp_path / "run.py", tmp_path / "cache.sqlite", tmp_path / "out.json"
    script.write_text(SCRIPT)
    key_of_task = {r.messages[-1]["content"]: r.key("fake-model") for r in requests()}
    with FakeOpenAIServer(latency=0.1) as server:
        cmd = [sys.executable, str(script), server.url, str(cache), str(out)]
        cmd += [str(N_TASKS), str(N_SAMPLES), str(SEED)]
        proc = subprocess.Popen(cmd)
        deadline = time.monotonic() + 60
        while len(cached_ok(cache)) < 10:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no answers cached in time"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
        assert not out.exists()

        answered = cached_ok(cache)
        total = N_TASKS * N_SAMPLES
        assert 10 <= len(answered) < total
        server.reset()
        subprocess.run(cmd, check=True, timeout=120)

        resent = [sample_of(b, key_of_task) for b in server.received]
        assert not set(resent) & answered, "an answered sample was sent again"
        assert len(resent) == len(set(resent)) == total - len(answered)
    texts = json.loads(out.read_text())
    assert len(texts) == N_TASKS and all(len(t) == N_SAMPLES and all(t) for t in texts)
    for i, row in enumerate(texts):
        assert row == [f"reply 0 seed={SEED + k} to: task {i}" for k in range(N_SAMPLES)]
