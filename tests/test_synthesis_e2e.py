"""Synthesis and test filtering end to end through the loopback fake OpenAI server and the real execution
engine: scripted answers of every shape, injected faults, a ``kill -9`` mid-run and a resume that re-pays nothing,
and Table 1 statistics on the bundled seeds."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from acecoder.data import read_rows, write_rows
from acecoder.execution import ExecutionEngine
from acecoder.llm import LLMClient, make_backend
from acecoder.synthesis import (
    Decontaminator,
    FieldOracle,
    ModelOracle,
    filter_tests_file,
    format_table1,
    synthesize_file,
    table1_file,
    validate_tests,
)
from llm_fake_server import FakeOpenAIServer, Fault, fenced, with_junk

SEEDS = resources.files("acecoder").joinpath("resources", "seeds", "cpython311_stdlib_sample.jsonl")
N_SEEDS = 40
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]


# -- the scripted model ----------------------------------------------------------------------------------------
def _h(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest(), 16)


def plan(name: str) -> dict:
    """What the fake model does for the seed function ``name``: answer shape, good/wrong tests, oracle quality."""
    h = _h(name)
    return {
        "shape": ("refuse", "truncated", "contaminated", "python_literal", "fenced", "fenced", "bare")[h % 7],
        "good": 3 + (h >> 8) % 12,  # tests the oracle passes (3..14)
        "wrong": (h >> 16) % 4,  # tests the oracle fails
        "oracle_ok": (h >> 24) % 6 != 0,
    }


def question_for(name: str) -> str:
    return f"Write a function `{name}(x)` that returns twice the integer `x`."


def scripted_tests(name: str) -> tuple[list[str], list[str]]:
    p = plan(name)
    good = [f"assert {name}({i}) == {2 * i}" for i in range(p["good"])]
    wrong = [f"assert {name}({i}) == {2 * i + 1}" for i in range(100, 100 + p["wrong"])]
    return good, wrong


INVALID = [
    "assert {name}(y) == 1",
    "assert open('data.txt').read() == ''",
    "assert {name}(1 ==",
    "assert {name}(0)==0",
]


def synthesis_answer(user: str) -> str:
    name = re.search(r"def (\w+)\(", user).group(1)
    p = plan(name)
    good, wrong = scripted_tests(name)
    invalid = [t.format(name=name) for t in INVALID]
    tests = invalid[:3] + good + wrong + invalid[3:]  # the last one duplicates good[0]
    question = question_for(name)
    if p["shape"] == "refuse":
        return "I'm sorry, but I can't turn this snippet into a question."
    if p["shape"] == "contaminated":
        question = f"Write a function to find the nth hexagonal number. Call it `{name}(x)`."
    if p["shape"] == "python_literal":
        return with_junk(repr({"question": question, "tests": tests}))
    text = json.dumps({"question": question, "tests": tests}, indent=2)
    if p["shape"] == "truncated":
        return fenced(text[: int(len(text) * 0.8)]).rsplit("\n```", 1)[0]
    return text if p["shape"] == "bare" else with_junk(fenced(text))


def oracle_answer(user: str) -> str:
    name = re.search(r"`(\w+)\(x\)`", user).group(1)
    body = "x * 2" if plan(name)["oracle_ok"] else "x * 3"
    return f"\ndef {name}(x):\n    return {body}\n```\n\nThis function doubles its argument."


def fake_model(messages, params):
    user = next(m["content"] for m in messages if m["role"] == "user")
    if "leetcode style question" in user:
        return synthesis_answer(user)
    if user.startswith("Please provide a self-contained Python script"):
        return oracle_answer(user)
    return "?"


def seed_names() -> list[str]:
    with resources.as_file(SEEDS) as path:
        return [row["function_name"] for row in read_rows(path)]


def client_for(server: FakeOpenAIServer, cache: Path, **opts) -> LLMClient:
    backend = make_backend("openai", "fake-model", base_urls=server.url, timeout=10)
    opts.setdefault("backoff_base", 0.01)
    return LLMClient(backend, cache, progress=False, max_concurrency=4, **opts)


# -- tests -----------------------------------------------------------------------------------------------------
def test_synthesize_filter_and_table1_on_bundled_seeds(tmp_path):
    names = seed_names()
    assert len(names) == N_SEEDS
    failing = names[5]  # the server always fails this seed's request

    def responder(messages, params):
        user = next(m["content"] for m in messages if m["role"] == "user")
        if f"def {failing}(" in user and "leetcode" in user:
            return Fault(500)
        return fake_model(messages, params)

    synth, filtered = tmp_path / "synth.jsonl", tmp_path / "filtered.jsonl"
    with FakeOpenAIServer(responder) as server, resources.as_file(SEEDS) as seeds:
        server.fail_next(Fault(500), Fault(429, retry_after=0.01), Fault(503, body="<html>oops</html>"))
        with client_for(server, tmp_path / "llm.sqlite", max_attempts=3) as client:
            s = synthesize_file(
                seeds, synth, client, source="stdlib", decontaminator=Decontaminator.bundled(), batch_size=16
            )
        with client_for(server, tmp_path / "llm.sqlite") as client, ExecutionEngine(workers=2) as engine:
            f = filter_tests_file(synth, filtered, ModelOracle(client), engine, min_tests=5)

    # synthesis: every seed accounted for, each drop with its reason
    plans = {n: plan(n) for n in names}
    expect_reject = {n: p["shape"] for n, p in plans.items() if p["shape"] in ("refuse", "contaminated")}
    expect_reject[failing] = "request_failed"
    rows = read_rows(synth)
    rejects = {r["seed_id"].split(":")[-1]: r for r in read_rows(tmp_path / "synth.jsonl.rejected.jsonl")}
    assert len(rows) + len(rejects) == N_SEEDS == s.seeds.read == s.outcomes
    reason = {
        "refuse": "no_json_object",
        "contaminated": "decontaminated",
        "request_failed": "request_failed",
    }
    assert {n: r["reason"] for n, r in rejects.items()} == {n: reason[k] for n, k in expect_reject.items()}
    assert rejects[failing]["detail"].startswith("gave up after 3 attempts")
    contaminated = [r for r in rejects.values() if r["reason"] == "decontaminated"]
    assert all(r["detail"].startswith("mbpp Mbpp/135") for r in contaminated)
    assert s.decontaminated == {"mbpp": len(contaminated)}
    for row in rows:
        name = row["seed"]["function_name"]
        good, wrong = scripted_tests(name)
        assert row["id"] == f"stdlib_{row['seed_id']}" and row["source"] == "stdlib"
        assert row["question"] == question_for(name) and row["entry_point"] == name
        assert row["context_messages"] == [{"role": "user", "content": row["question"]}]
        assert row["seed_program"].startswith(f"def {name}(")
        if plans[name]["shape"] == "truncated":
            assert row["synthesis"]["parse_method"] == "repaired"
            assert row["test_cases"] == (good + wrong)[: len(row["test_cases"])]
        else:
            assert row["test_cases"] == good + wrong
            assert row["synthesis"]["dropped_tests"] == {
                "non_constant_args": 1,
                "io": 1,
                "syntax_error": 1,
                "duplicate": 1,
            }
    assert s.rows == len(rows) and s.tests_kept == sum(len(r["test_cases"]) for r in rows)
    assert s.llm["failed"] == 1 and s.llm["generated"] == N_SEEDS - 1

    # filtering: a test survives when the oracle passes it; too few -> dropped
    out = {r["seed"]["function_name"]: r for r in read_rows(filtered)}
    for row in rows:
        name = row["seed"]["function_name"]
        good = [t for t in row["test_cases"] if t in scripted_tests(name)[0]]
        if plans[name]["oracle_ok"] and len(good) >= 5:
            assert out[name]["test_cases"] == good
            assert out[name]["n_tests_before"] == len(row["test_cases"])
            assert out[name]["test_filter"]["oracle"] == "model:fake-model"
        else:
            assert name not in out
    assert f.rows_in == len(rows) and f.rows_out == len(out)
    assert f.dropped_rows == {"too_few_tests": len(rows) - len(out)}
    assert f.execution["infra_errors"] == 0 and f.execution["programs"] == len(rows)

    # Table 1: before = synthesized rows (from the filter summary beside the file), after = filtered rows
    table = {c.source: c for c in table1_file(filtered)}
    assert table["stdlib"].examples_before == len(rows) and table["stdlib"].examples_after == len(out)
    assert table["stdlib"].tests_after == sum(len(r["test_cases"]) for r in out.values())
    text = format_table1(list(table.values()))
    assert "#Avg tests (after filter)" in text
    (tmp_path / "table1.txt").write_text(text + "\n")
    print("\n" + text)
    print(s)
    print(f)


def test_failed_requests_are_retried_on_resume_and_on_rerun(tmp_path):
    names = seed_names()
    state = {"fail": names[3], "generate_calls": 0}

    def responder(messages, params):
        user = next(m["content"] for m in messages if m["role"] == "user")
        if state["fail"] and f"def {state['fail']}(" in user:
            return Fault(500)
        return fake_model(messages, params)

    out = tmp_path / "synth.jsonl"
    with FakeOpenAIServer(responder) as server, resources.as_file(SEEDS) as seeds:
        with client_for(server, tmp_path / "llm.sqlite", max_attempts=2) as client:
            real_generate = client.generate

            def crashing_generate(requests, **kw):  # dies in the third batch, like a killed run
                state["generate_calls"] += 1
                if state["generate_calls"] == 3:
                    raise KeyboardInterrupt
                return real_generate(requests, **kw)

            client.generate = crashing_generate
            with pytest.raises(KeyboardInterrupt):
                synthesize_file(seeds, out, client, source="stdlib", batch_size=10)
        assert not out.exists() and len(server.answered) == 19  # two batches, one request failed
        state["fail"] = None
        server.reset()
        with client_for(server, tmp_path / "llm.sqlite") as client:
            s = synthesize_file(seeds, out, client, source="stdlib", batch_size=10)
        assert s.resumed == 20 and len(server.received) == 1 + 20  # the failed seed, then the unfinished ones
        assert "request_failed" not in s.dropped_rows and s.outcomes == N_SEEDS

        state["fail"] = names[30]  # a completed run with a failure ...
        with client_for(server, tmp_path / "other.sqlite", max_attempts=1) as client:
            s = synthesize_file(seeds, tmp_path / "o.jsonl", client, source="stdlib")
        assert s.dropped_rows["request_failed"] == 1
        state["fail"] = None
        server.reset()
        with client_for(server, tmp_path / "other.sqlite") as client:  # ... is retried by a rerun
            s = synthesize_file(seeds, tmp_path / "o.jsonl", client, source="stdlib")
        assert len(server.received) == 1 and "request_failed" not in s.dropped_rows
    assert read_rows(out) == read_rows(tmp_path / "o.jsonl")


def _cached_ok(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM samples WHERE ok = 1").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_mid_run_then_resume_repays_nothing(tmp_path):
    out, cache = tmp_path / "synth.jsonl", tmp_path / "llm.sqlite"
    with resources.as_file(SEEDS) as seeds, FakeOpenAIServer(fake_model, latency=0.05) as server:
        cmd = [*CLI, "synthesize", str(seeds), str(out), "--model", "fake-model", "--base-url", server.url]
        cmd += ["--source", "stdlib", "--concurrency", "2", "--batch-size", "8", "--no-progress"]
        cmd += ["--cache", str(cache)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while _cached_ok(cache) < 12:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no answers cached in time"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
        assert not out.exists()
        answered = _cached_ok(cache)
        progress = out.with_name(out.name + ".partial.jsonl")
        assert progress.exists()  # seeds finished before the kill
        assert 12 <= answered < N_SEEDS

        server.reset()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert len(server.received) == N_SEEDS - answered, "an answered request was sent again"
        assert not progress.exists()
        assert "from the progress file" in done.stderr

        # the same rows as an uninterrupted run
        server.reset()
        with client_for(server, tmp_path / "fresh.sqlite") as client:
            synthesize_file(seeds, tmp_path / "fresh.jsonl", client, source="stdlib",
                            decontaminator=Decontaminator.bundled())  # fmt: skip
    assert read_rows(out) == read_rows(tmp_path / "fresh.jsonl")
    summary = json.loads((tmp_path / "synth.jsonl.summary.json").read_text())
    assert summary["answers"] == N_SEEDS and summary["resumed"] > 0


def test_cli_filter_with_reference_field_and_stats(tmp_path):
    rows = [
        {
            "id": f"q{i}",
            "source": "evol" if i % 2 else "oss",
            "question": "double",
            "test_cases": [f"assert f({j}) == {2 * j}" for j in range(6)] + ["assert f(1) == 3"],
            "reference": "def f(x):\n    return 2 * x\n" if i != 3 else "def f(x):\n    return x\n",
        }
        for i in range(6)
    ]
    rows.append({"id": "none", "source": "oss", "question": "q", "test_cases": ["assert f(1) == 1"]})
    rows.append({"id": "empty", "source": "oss", "question": "q", "test_cases": []})
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, rows)
    run = subprocess.run(
        [*CLI, "filter-tests", str(src), str(out), "--reference-field", "reference", "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    kept = read_rows(out)
    assert [r["id"] for r in kept] == ["q0", "q1", "q2", "q4", "q5"]
    assert all(len(r["test_cases"]) == 6 and r["n_tests_before"] == 7 for r in kept)
    rejects = {r["id"]: r["reason"] for r in read_rows(tmp_path / "out.jsonl.rejected.jsonl")}
    assert rejects == {"q3": "too_few_tests", "none": "no_oracle", "empty": "no_tests"}

    stats = subprocess.run([*CLI, "stats", str(out), "--format", "json"], capture_output=True, text=True)
    assert stats.returncode == 0, stats.stderr
    cols = {c["source"]: c for c in json.loads(stats.stdout)}
    assert cols["oss"]["examples_before"] == 5 and cols["oss"]["examples_after"] == 3
    assert cols["evol"]["examples_before"] == 3 and cols["evol"]["examples_after"] == 2
    assert cols["Overall"]["avg_tests_after"] == 6.0
    text = subprocess.run([*CLI, "stats", str(out), "--before", str(src)], capture_output=True, text=True)
    assert "Evol" in text.stdout and "OSS" in text.stdout and "#Examples (before filter)" in text.stdout


def test_cli_rejects_bad_usage(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"id": "a", "question": "q", "test_cases": []}\n')
    both = subprocess.run(
        [*CLI, "filter-tests", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl")],
        capture_output=True,
        text=True,
    )
    assert both.returncode == 2 and "exactly one oracle" in both.stderr
    bad = subprocess.run(
        [*CLI, "synthesize", str(tmp_path / "missing.jsonl"), str(tmp_path / "o.txt"), "--model", "m"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown file type" in bad.stderr


@pytest.mark.shared_data
def test_reference_oracle_on_real_codet_rows(shared_data, tmp_path):
    """The CodeT-derived rows' tests were kept because the canonical HumanEval solution passed them: our engine,
    with that solution as the oracle, must keep (nearly) all of them."""
    rows = read_rows(shared_data / "codet" / "humaneval_codegen16B_acecode_format.jsonl")
    slim = [
        {k: r[k] for k in ("id", "source", "question", "test_cases", "canonical_solution")}
        for r in rows
        if r["test_cases"]
    ]
    src = tmp_path / "codet.jsonl"
    write_rows(src, slim)
    from acecoder.execution.limits import ORACLE

    with ExecutionEngine(workers=2, limits=ORACLE.limits()) as engine:  # the oracle's budget, as filter-tests
        s = filter_tests_file(
            src, tmp_path / "out.jsonl", FieldOracle("question+canonical_solution"), engine, min_tests=1
        )
    assert s.rows_in == len(slim) == 137
    assert s.tests_passed == s.tests_before  # the data harness's verdicts, reproduced test for test
    assert s.execution["infra_errors"] == 0


@pytest.mark.shared_data
def test_validator_keeps_real_llm_written_tests(shared_data):
    """Real synthesized tests: the released AceCode row keeps all 19; CodeGen-16B's asserts lose only
    whitespace duplicates and the calls that really are non-constant or missing."""
    (row,) = read_rows(shared_data / "acecode" / "acecode87k_sample_open_instruct.jsonl")
    v = validate_tests(row["test_cases"], question=row["question"])
    assert len(v.kept) == len(row["test_cases"]) == 19 and v.entry_point == "parse_tokens"
    kept = raw = 0
    reasons = Counter()
    for r in read_rows(shared_data / "codet" / "humaneval_codegen16B_acecode_format.jsonl"):
        v = validate_tests(r["test_cases"], entry_point=r["entry_point"])
        kept, raw = kept + len(v.kept), raw + v.n_raw
        reasons.update(v.dropped)
    assert kept / raw > 0.88
    assert set(reasons) <= {
        "duplicate",
        "non_constant_args",
        "no_function_call",
        "not_single_assert",
        "free_name",
    }


def _double_rows(n: int) -> list[dict]:
    return [
        {
            "id": f"r{i}",
            "source": "oss",
            "question": "Write `f(x)` that returns twice the integer `x`.",
            "test_cases": [f"assert f({j}) == {2 * j}" for j in range(3)]
            + [f"assert f(-{j}) == {-2 * j}" for j in range(1, 4)],
            # each program passes only half of the tests: together they pass all
            "programs": [
                "def f(x):\n    return 2 * x if x >= 0 else 0\n",
                "def f(x):\n    return 2 * x if x < 0 else 1\n",
            ],
        }
        for i in range(n)
    ]


def test_several_oracles_any_pass_and_filter_resume(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, _double_rows(9))
    with ExecutionEngine(workers=2) as engine:
        real_run, calls = engine.run, {"n": 0}

        def crashing_run(jobs):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return real_run(jobs)

        engine.run = crashing_run
        with pytest.raises(KeyboardInterrupt):
            filter_tests_file(src, out, FieldOracle("programs"), engine, min_tests=6, batch_size=4)
        engine.run = real_run
        s = filter_tests_file(src, out, FieldOracle("programs"), engine, min_tests=6, batch_size=4)
    assert s.resumed == 8 and s.rows_out == 9 and s.oracle_programs == 2  # only the unfinished row ran
    rows = read_rows(out)
    assert all(r["test_cases"] == _double_rows(1)[0]["test_cases"] for r in rows)
    assert rows[0]["test_filter"]["oracle_pass_rates"] == [0.5, 0.5]


def test_model_oracle_with_several_samples(tmp_path):
    programs = _double_rows(1)[0]["programs"]
    answered = []

    def responder(messages, params):  # the first sample ever answered is one program, the next the other
        assert messages[-1]["role"] == "assistant" and messages[-1]["content"].endswith("```python")
        answered.append(1)
        return "\n" + programs[(len(answered) - 1) % 2] + "```\n"

    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, _double_rows(2))
    with FakeOpenAIServer(responder) as server, client_for(server, tmp_path / "c.sqlite") as client:
        with ExecutionEngine(workers=1) as engine:
            one = filter_tests_file(src, out, ModelOracle(client, n=1), engine, min_tests=6)
            two = filter_tests_file(
                src, tmp_path / "two.jsonl", ModelOracle(client, n=2), engine, min_tests=6
            )
        assert server.received[0]["temperature"] == 0.0 and server.received[0]["max_tokens"] == 1024
    assert one.rows_out == 0 and one.dropped_rows == {"too_few_tests": 2} and one.tests_passed == 6
    assert two.rows_out == 2 and two.tests_after == 12
