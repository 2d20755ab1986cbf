"""The reward server on loopback: OpenRLHF's protocol under concurrent clients, TRL JSON, malformed requests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from acecoder.execution import JobResult, Limits
from acecoder.reward import TestCaseReward, TestLookup
from acecoder.reward.server import create_app

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

TESTS = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 4", "assert add(0, 5) == 5"]
RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a * b\n"
PROMPT = "<|im_start|>user\nWrite add.<|im_end|>\n<|im_start|>assistant\n```python"
ROWS = [
    {"id": "row-1", "question": "Add.", "test_cases": TESTS},
    {"id": 2, "question": "Sub.", "test_cases": ["assert sub(3, 1) == 2"]},
    {"id": "row-3", "question": "Untested.", "test_cases": []},  # skipped: nothing to reward against
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    reward = TestCaseReward("binary", Limits(timeout=0.5, setup_timeout=1.0), workers=2)
    app = create_app(reward, TestLookup.from_rows(ROWS))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def _query(program: str) -> str:
    return PROMPT + "\n" + program + "```<|im_end|>"


def test_many_concurrent_one_sample_clients(server):
    async def client(i: int, http: httpx.AsyncClient):
        program, label = (RIGHT, "row-1") if i % 2 == 0 else (WRONG, json.dumps(TESTS))
        reply = await http.post(
            f"{server}/get_reward", json={"query": [_query(program)], "prompts": [PROMPT], "labels": [label]}
        )
        reply.raise_for_status()
        return reply.json()

    async def main():
        async with httpx.AsyncClient(timeout=60) as http:
            return await asyncio.gather(*[client(i, http) for i in range(64)])

    replies = asyncio.run(main())
    assert [r["rewards"] for r in replies] == [[1.0] if i % 2 == 0 else [0.0] for i in range(64)]
    assert replies[0]["scores"] == [1.0]
    assert replies[1]["extra_logs"] == {"pass_rate": [0.0], "timeout": [0.0], "infra_error": [0.0]}
    metrics = httpx.get(f"{server}/metrics").json()
    assert metrics["requests"]["/get_reward"] >= 64 and metrics["programs"] >= 64
    assert metrics["latency_ms"]["p50"] is not None and metrics["pending_programs"] == 0


def test_batched_request_and_integer_ids(server):
    sub = PROMPT + "\ndef sub(a, b):\n    return a - b\n```"
    body = {
        "query": [_query(RIGHT), sub, _query(WRONG)],
        "prompts": [PROMPT] * 3,
        "labels": ["row-1", 2, "row-1"],
    }
    assert httpx.post(f"{server}/get_reward", json=body).json()["rewards"] == [1.0, 1.0, 0.0]


def test_trl_style_reward_endpoint(server):
    body = {
        "completions": [
            f"```python\n{RIGHT}```",
            [{"role": "assistant", "content": WRONG}],
            "while True: pass",
        ],
        "test_cases": [TESTS, "row-1", json.dumps(TESTS)],
    }
    reply = httpx.post(f"{server}/reward", json=body, timeout=60).json()
    assert reply["rewards"] == [1.0, 0.0, 0.0]
    assert reply["timeouts"] == [False, False, True]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"query": [_query(RIGHT)], "prompts": [PROMPT], "labels": ["row-9"]},
            "labels[0]: label 'row-9': no row",
        ),
        ({"query": [_query(RIGHT)], "prompts": [PROMPT]}, "labels missing"),
        ({"query": [_query(RIGHT)] * 2, "prompts": [PROMPT], "labels": ["row-1"]}, "2 queries, 1 prompts"),
        ({"query": [_query(RIGHT)], "prompts": [PROMPT], "labels": ["[not json"]}, "not a JSON list"),
        ({"query": [_query(RIGHT)], "prompts": [PROMPT], "labels": [[]]}, "no tests"),
        ({"query": [_query(RIGHT)], "prompts": [PROMPT], "labels": [{"id": 1}]}, "expected a row id"),
        ({"query": [_query(RIGHT)], "prompts": [PROMPT], "labels": ["row-3"]}, "has no tests"),
        ({"query": [_query(RIGHT)], "prompts": [PROMPT], "labels": [""]}, "--data.label_key id"),
        ({"prompts": [PROMPT], "labels": ["row-1"]}, "query"),
        ({"query": 7, "labels": ["row-1"]}, "query"),
    ],
)
def test_malformed_requests_get_clear_4xx(server, body, message, caplog):
    reply = httpx.post(f"{server}/get_reward", json=body)
    assert reply.status_code == 422
    assert message in json.dumps(reply.json())
    if "labels" in body:  # OpenRLHF shows only the status: the reason is in the server's log
        assert "/get_reward: 422" in caplog.text and message in caplog.text


def test_bodies_that_are_not_json_or_not_objects(server):
    assert (
        httpx.post(
            f"{server}/get_reward", content=b"{oops", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    assert httpx.post(f"{server}/get_reward", json=[1, 2]).status_code == 422
    bad = httpx.post(f"{server}/reward", json={"completions": [RIGHT], "test_cases": [TESTS, TESTS]})
    assert bad.status_code == 422 and "1 completions and 2 test_cases" in bad.text
    bad = httpx.post(f"{server}/reward", json={"completions": [7], "test_cases": [TESTS]})
    assert bad.status_code == 422 and "completion must be a string" in bad.text
    assert httpx.get(f"{server}/health").json()["status"] == "ok"
    assert httpx.get(f"{server}/metrics").json()["rejected_4xx"] >= 3


def test_huge_and_deeply_nested_bodies_are_refused_unread(server):
    """Over the size limit: 413 (the server never holds the body); nested too deep to parse: 422, not 500."""
    from acecoder.reward.server import MAX_BODY_BYTES

    def chunks():
        yield b'{"query": ["'
        for _ in range(MAX_BODY_BYTES // (1 << 20) + 2):
            yield b"x" * (1 << 20)
        yield b'"], "labels": ["row-1"]}'

    streamed = httpx.post(
        f"{server}/get_reward", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    announced = httpx.post(f"{server}/reward", content=b"x" * (MAX_BODY_BYTES + 1))
    assert announced.status_code == 413
    deep = b'{"query": [' + b"[" * 100_000 + b"]" * 100_000 + b'], "labels": ["row-1"]}'
    assert httpx.post(f"{server}/get_reward", content=deep).status_code == 422
    nested_label = {"query": [_query(RIGHT)], "labels": [json.loads("[" * 80 + "]" * 80)]}
    assert httpx.post(f"{server}/get_reward", json=nested_label).status_code == 422
    ok = httpx.post(f"{server}/get_reward", json={"query": [_query(RIGHT)], "labels": ["row-1"]})
    assert ok.status_code == 200 and ok.json()["rewards"] == [1.0]
    assert httpx.get(f"{server}/metrics").json()["rejected_4xx"] >= 4


REPO = Path(__file__).resolve().parents[1]


def test_cli_serves_and_reports_bad_datasets(tmp_path):
    cli = str(Path(sys.executable).with_name("acecoder"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "question": "q"}) + "\n")
    done = subprocess.run(
        [cli, "serve-reward", "--dataset", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "bad.jsonl: row 1: field 'test_cases': missing" in done.stderr
    assert "Traceback" not in done.stderr
    untested = tmp_path / "untested.jsonl"
    untested.write_text(json.dumps({"id": "a", "question": "q", "test_cases": []}) + "\n")
    done = subprocess.run([cli, "serve-reward", "--dataset", str(untested)], capture_output=True, text=True)
    assert done.returncode == 2 and "none of its 1 rows has tests" in done.stderr
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    done = subprocess.run(  # a typo'd label column fails at start-up, naming the row and field
        [cli, "serve-reward", "--dataset", str(rows), "--label-key", "question"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "rows.jsonl: row 1: field 'question': label 'Add.': no row" in done.stderr
    port = _free_port()
    proc = subprocess.Popen(
        [
            cli,
            "serve-reward",
            "--dataset",
            str(rows),
            "--port",
            str(port),
            "--workers",
            "1",
            "--reward",
            "pass-rate",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health").json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health["mode"] == "pass_rate" and health["rows"] == 2 and health["rows_without_tests"] == 1
        body = {"query": [_query(WRONG)], "prompts": [PROMPT], "labels": ["row-1"]}
        assert httpx.post(f"http://127.0.0.1:{port}/get_reward", json=body).json()["rewards"] == [0.25]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    log = proc.stderr.read()
    assert "1 rows without tests skipped" in log and "'id' labels of all 2 rows with tests resolve" in log


class _FailingEngine:
    """An engine whose sandbox fails on every program (not the programs' fault)."""

    workers, isolation = 1, {}

    def start(self):
        return self

    def close(self):
        pass

    def stream(self, jobs, wakeup):
        import contextlib
        import select

        index = 0
        for job in jobs:
            if job is None:
                select.select([wakeup], [], [])
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup, 8)
                continue
            yield index, JobResult([0] * len(job.tests), ["infra"] * len(job.tests), infra_error="died")
            index += 1


@pytest.mark.parametrize("on_infra_error", ["neutral", "raise"])
def test_engine_failures_get_a_flagged_neutral_reward_or_a_503(on_infra_error, caplog):
    from fastapi.testclient import TestClient

    reward = TestCaseReward(engine=_FailingEngine(), on_infra_error=on_infra_error, neutral_reward=0.0)
    body = {"query": [_query(RIGHT)], "prompts": [PROMPT], "labels": ["row-1"]}
    with TestClient(create_app(reward, TestLookup.from_rows(ROWS))) as client:
        reply = client.post("/get_reward", json=body)
        metrics = client.get("/metrics").json()
        trl = client.post("/reward", json={"completions": [RIGHT], "test_cases": ["row-1"]})
    if on_infra_error == "neutral":
        assert reply.json() == {
            "rewards": [0.0],
            "scores": [0.0],
            "extra_logs": {"pass_rate": [0.0], "timeout": [0.0], "infra_error": [1.0]},
        }
        assert (metrics["infra_errors"], metrics["infra_retries"], metrics["neutral_rewards"]) == (1, 2, 1)
        assert trl.json()["rewards"] == [None]  # TRL-style: excluded, not the neutral value
        assert "neutral reward" in caplog.text
    else:
        assert reply.status_code == 503 and "failed on 1 sample" in reply.text
        assert trl.status_code == 503
        assert metrics["failed_5xx"] == 1 and "/get_reward: 503" in caplog.text
