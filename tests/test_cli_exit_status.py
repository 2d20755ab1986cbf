"""Exit statuses scripts can trust: ``synthesize`` and ``sample`` exit 1 with exact counts (every failure, not the
first of each kind) and the rerun hint when requests failed for good; a rerun against a healthy server exits 0."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from acecoder.cli import app
from acecoder.data import read_rows, write_rows
from llm_fake_server import FakeOpenAIServer, Fault, fenced

runner = CliRunner()
ROWS = [
    {"id": f"q{i}", "question": f"Write f{i}.", "test_cases": [f"assert f{i}() == {i}"]} for i in range(2)
]
SEEDS = [{"id": i, "program": f"def f{i}():\n    return {i}\n"} for i in range(3)]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def answer(messages, params) -> str:
    user = next(m["content"] for m in messages if m["role"] == "user")
    if "Write f" in user:  # a sampling prompt
        return "def f():\n    return 1\n```"
    k = next(i for i in range(3) if f"def f{i}()" in user)
    return fenced(json.dumps({"question": f"Return {k}.", "tests": [f"assert f{k}() == {k}"]}))


FAULTS = {
    "http 501": Fault(501),
    "junk answer": Fault(200, body="<html>certainly not JSON</html>"),
}


def run(verb: str, src, out, url: str, *extra: str):
    args = [verb, str(src), str(out), "--model", "m", "--base-url", url, "--max-attempts", "1"]
    env = {"OPENAI_API_KEY": "k"}
    return runner.invoke(app, [*args, "--no-progress", *extra], env=env)


@pytest.mark.parametrize("fault", ["closed port", *FAULTS])
def test_sample_exits_1_with_exact_counts_then_a_rerun_fills_the_gaps(tmp_path, fault):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, ROWS)
    with FakeOpenAIServer(lambda m, p: FAULTS.get(fault) or answer(m, p)) as server:
        url = closed_port_url() if fault == "closed port" else server.url
        failed = run("sample", src, out, url, "-n", "3")
        assert failed.exit_code == 1, failed.output
        assert "m: 0 samples added, 0 already present, 6 failed" in failed.stderr
        assert "error: 6 samples failed for good" in failed.stderr
        assert "rerun the same command to retry only them" in failed.stderr
        assert "1 samples failed" not in failed.stderr and "Traceback" not in failed.output
        server.responder = answer
        healed = run("sample", src, out, server.url, "-n", "3")
    assert healed.exit_code == 0, healed.output
    assert [len(row["inferences"]) for row in read_rows(out)] == [3, 3]


@pytest.mark.parametrize("fault", ["closed port", *FAULTS])
def test_synthesize_exits_1_with_exact_counts_then_a_rerun_fills_the_gaps(tmp_path, fault):
    seeds, out = tmp_path / "seeds.jsonl", tmp_path / "out.jsonl"
    write_rows(seeds, SEEDS)
    with FakeOpenAIServer(lambda m, p: FAULTS.get(fault) or answer(m, p)) as server:
        url = closed_port_url() if fault == "closed port" else server.url
        failed = run("synthesize", seeds, out, url, "--no-decontaminate")
        assert failed.exit_code == 1, failed.output
        assert "rows dropped: request_failed 3" in failed.stderr
        assert "error: 3 requests failed for good" in failed.stderr
        assert "rerun the same command" in failed.stderr and "Traceback" not in failed.output
        server.responder = answer
        healed = run("synthesize", seeds, out, server.url, "--no-decontaminate")
    assert healed.exit_code == 0, healed.output
    assert [row["id"] for row in read_rows(out)] == ["seeds_0", "seeds_1", "seeds_2"]


def test_one_failed_request_among_many_still_fails_the_run(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, ROWS)
    with FakeOpenAIServer(answer) as server:
        server.fail_next(Fault(501))
        done = run("sample", src, out, server.url, "-n", "2", "--concurrency", "1")
    assert done.exit_code == 1
    assert "error: 2 samples failed for good" in done.stderr
    assert sum(len(row["inferences"]) for row in read_rows(out)) == 2
