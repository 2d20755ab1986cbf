"""``acecoder sample`` through the loopback fake OpenAI server: n programs per question per model, the paper's
prompt with its prefill continued, code extraction, appending with continuing completion ids, several models,
idempotent reruns, resumes after a fatal fault and a ``kill -9`` that re-pay nothing, clear errors on bad rows,
and sample -> execute -> pairs -> hard on real HumanEval rows."""

from __future__ import annotations

import json
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acecoder.cli import app
from acecoder.data import DataError, read_rows, write_rows
from acecoder.llm import FatalBackendError, LLMClient, make_backend
from acecoder.sampling import (
    PREFILL_SENTENCE,
    SAMPLING_TEMPLATE,
    PolicyModel,
    load_models_file,
    policy_models,
    sample_file,
    sample_rows,
)
from llm_fake_server import FakeOpenAIServer, Fault

runner = CliRunner()
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]


# -- a scripted policy model -------------------------------------------------------------------------------------
def make_rows(k: int) -> list[dict]:
    return [
        {
            "id": f"q{i}",
            "source": "test",
            "question": f"Write `add_{i}(x)` returning x plus {i}. {{braces}} stay.",
            "test_cases": [f"assert add_{i}({j}) == {j + i}" for j in range(4)],
        }
        for i in range(k)
    ]


def fn_name(messages: list[dict]) -> str:
    return re.search(r"`(\w+)\(x\)`", messages[0]["content"]).group(1)


def program(name: str) -> str:
    k = name.split("_")[1]
    return f"def {name}(x):\n    assert isinstance(x, int), 'ints only'\n    return x + {k}\n"


# Answer shapes, by choice index; each with the program extract_code must return.
SHAPES = [
    # the prefill's fence continued and closed, then prose
    lambda p, name: (p + "```\n\nThis function adds the constant.", p),
    # a model that opens its own fence in a markdown answer
    lambda p, name: (f"Here you go:\n```python\n{p}```\nHope it helps.", p),
    # trailing example tests and prints inside the continued fence
    lambda p, name: (p + f"\n\nassert {name}(1) == {name}(1)\nprint({name}(3))\n```", p),
    # no closing fence, trailing prose
    lambda p, name: (p + "\nThis function returns the sum of x and the constant.\n", p),
]


def policy(messages: list[dict], params: dict) -> str:
    name = fn_name(messages)
    return SHAPES[params["index"] % len(SHAPES)](program(name), name)[0]


def client_for(server: FakeOpenAIServer, cache: Path | None, model: str = "policy-a", **opts) -> LLMClient:
    backend = make_backend("openai", model, base_urls=server.url, timeout=10)
    opts.setdefault("backoff_base", 0.01)
    opts.setdefault("max_concurrency", 4)
    return LLMClient(backend, cache, progress=False, **opts)


def samples_sent(server: FakeOpenAIServer) -> int:
    return sum(body["n"] for body in server.received)


def by_model(row: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for inf in row["inferences"]:
        out.setdefault(inf["model_name"], []).append(inf)
    return out


# -- prompt, n, extraction ---------------------------------------------------------------------------------------
def test_n_samples_per_question_with_the_paper_prompt_and_prefill(tmp_path):
    rows = make_rows(3)
    with FakeOpenAIServer(policy) as server, client_for(server, tmp_path / "c.sqlite") as client:
        out = list(sample_rows([dict(r) for r in rows], {"a": client}, n=4))
        bodies = list(server.received)
    assert len(bodies) == 3
    for row, body in zip(rows, sorted(bodies, key=lambda b: b["messages"][0]["content"]), strict=True):
        user, prefill = body["messages"]
        assert user["role"] == "user"
        assert user["content"] == SAMPLING_TEMPLATE.user_message(row["question"], row["test_cases"])
        assert row["question"] in user["content"]  # braces verbatim
        assert row["test_cases"][1] in user["content"] and row["test_cases"][2] not in user["content"]
        assert prefill == {"role": "assistant", "content": PREFILL_SENTENCE + "\n```python"}
        assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
        assert (body["n"], body["temperature"], body["top_p"], body["max_tokens"]) == (4, 0.7, 1.0, 1024)
    for row in out:
        infs = row["inferences"]
        assert [i["completion_id"] for i in infs] == [0, 1, 2, 3]
        assert {i["model_name"] for i in infs} == {"a"}
        assert [i["sample_index"] for i in infs] == [0, 1, 2, 3]
        assert len({i["sampling_key"] for i in infs}) == 1
        assert all("pass_rate" not in i for i in infs)  # execute fills it


def test_completion_is_the_extracted_program_and_raw_answer_is_kept(tmp_path):
    with FakeOpenAIServer(policy) as server, client_for(server, None) as client:
        (row,) = sample_rows(make_rows(2)[1:], client, n=len(SHAPES))
    name = "add_1"
    for inf in row["inferences"]:
        raw, expected = SHAPES[inf["sample_index"]](program(name), name)
        assert inf["raw_completion"] == raw
        assert inf["completion"] == expected, inf["sample_index"]
        assert inf["model_name"] == "policy-a"  # one client: named after its model
        # the assert inside the function survives (the release cut programs at their first assert)
        assert "assert isinstance(x, int)" in inf["completion"]
        assert "print(" not in inf["completion"] and "This function" not in inf["completion"]


# -- appending, several runs -------------------------------------------------------------------------------------
def test_appends_after_existing_inferences_and_raising_n_adds_only_the_missing_samples(tmp_path):
    row = make_rows(1)[0]
    row["inferences"] = [
        {"model_name": "a", "completion_id": cid, "completion": "pass", "pass_rate": 0.5} for cid in (0, 1, 4)
    ] + [{"model_name": "other", "completion_id": 0, "completion": "x = 1", "pass_rate": 1.0}]
    data = tmp_path / "data.jsonl"
    write_rows(data, [row])
    with FakeOpenAIServer(policy) as server:
        with client_for(server, tmp_path / "one.sqlite") as client:
            sample_file(data, data, {"a": client}, n=2)  # in place
        (out,) = read_rows(data)
        assert out["inferences"][:4] == row["inferences"]  # untouched, same order
        new = [(i["model_name"], i["completion_id"], i["sample_index"]) for i in out["inferences"][4:]]
        assert new == [("a", 5, 0), ("a", 6, 1)]
        assert samples_sent(server) == 2

        # the same command again, in place, even with another cache: nothing to add, nothing sent
        with client_for(server, tmp_path / "two.sqlite") as client:
            summary = sample_file(data, data, {"a": client}, n=2)
        assert read_rows(data) == [out] and samples_sent(server) == 2
        assert summary.models["a"].present == 2 and summary.models["a"].added == 0

        # n=4 with a fresh cache: only samples 2 and 3 are generated (the row's own samples fill the cache)
        with client_for(server, tmp_path / "three.sqlite") as client:
            sample_file(data, data, {"a": client}, n=4)
        (out4,) = read_rows(data)
        assert samples_sent(server) == 4 and server.received[-1]["n"] == 2
        assert out4["inferences"][:6] == out["inferences"]
        assert [(i["completion_id"], i["sample_index"]) for i in out4["inferences"][6:]] == [(7, 2), (8, 3)]

        # other settings are other samples: they append after the existing ones
        with client_for(server, tmp_path / "one.sqlite") as client:
            sample_file(data, data, {"a": client}, n=1, temperature=1.0)
        (out5,) = read_rows(data)
        assert [i["completion_id"] for i in by_model(out5)["a"]] == [0, 1, 4, 5, 6, 7, 8, 9]
        assert out5["inferences"][-1]["sampling_key"] != out4["inferences"][-1]["sampling_key"]


def test_rerun_of_the_same_command_is_idempotent_and_sends_nothing(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, make_rows(5))
    with FakeOpenAIServer(policy) as server:
        with client_for(server, tmp_path / "c.sqlite") as client:
            first = sample_file(src, out, {"a": client}, n=3, batch_size=2)
        sent, written = samples_sent(server), out.read_bytes()
        assert sent == 15 and first.models["a"].added == 15
        with client_for(server, tmp_path / "c.sqlite") as client:
            again = sample_file(src, out, {"a": client}, n=3, batch_size=2)
        assert samples_sent(server) == sent and out.read_bytes() == written
        assert again.models["a"].llm["cached"] == 15 and again.models["a"].llm["generated"] == 0
        assert not (tmp_path / "out.jsonl.partial.jsonl").exists()
        assert json.loads((tmp_path / "out.jsonl.summary.json").read_text())["rows"] == 5


def test_two_models_each_with_its_own_server_through_the_cli(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, make_rows(3))
    with FakeOpenAIServer(policy, model="m-a") as sa, FakeOpenAIServer(policy, model="m-b") as sb:
        args = ["sample", str(src), str(out), "-n", "2", "--no-progress"]
        args += ["--model", "m-a", "--base-url", sa.url, "--model", "m-b", "--base-url", sb.url]
        args += ["--model-name", "alpha", "--model-name", "beta"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert {b["model"] for b in sa.received} == {"m-a"} and {b["model"] for b in sb.received} == {"m-b"}
        assert len(sa.received) == len(sb.received) == 3
    for row in read_rows(out):
        models = by_model(row)
        assert sorted(models) == ["alpha", "beta"]
        assert all([i["completion_id"] for i in infs] == [0, 1] for infs in models.values())
    assert "alpha: 6 samples added" in result.output


def test_models_file_and_command_line_pairing(tmp_path):
    spec = tmp_path / "models.yaml"
    spec.write_text(
        "- model: Qwen/Qwen2.5-Coder-7B-Instruct\n  name: qwen_coder_2.5\n  base_url: [http://h1/v1, http://h2/v1]\n"
        "- meta-llama/Llama-3.1-8B-Instruct\n"
    )
    got = policy_models(["m0"], names=["zero"], base_urls=["http://x/v1"], models_file=spec)
    assert got == [
        PolicyModel("m0", "zero", ("http://x/v1",)),
        PolicyModel("Qwen/Qwen2.5-Coder-7B-Instruct", "qwen_coder_2.5", ("http://h1/v1", "http://h2/v1")),
        PolicyModel("meta-llama/Llama-3.1-8B-Instruct", None, ("http://x/v1",)),
    ]
    assert [m.label for m in got] == ["zero", "qwen_coder_2.5", "meta-llama/Llama-3.1-8B-Instruct"]
    assert policy_models(["a", "b"], base_urls=["u1,u2", "u3"])[1].base_urls == ("u3",)
    with pytest.raises(ValueError, match="one per --model"):
        policy_models(["a", "b"], base_urls=["u1", "u2", "u3"])
    with pytest.raises(ValueError, match="given twice"):
        policy_models(["a", "a"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"model": "x", "temprature": 1}]))
    with pytest.raises(ValueError, match="unknown key"):
        load_models_file(bad)


# -- crashes and resumes -----------------------------------------------------------------------------------------
def test_resume_after_a_fatal_fault_mid_run_re_pays_nothing(tmp_path):
    src, out, cache = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "c.sqlite"
    write_rows(src, make_rows(6))
    crash = {"on": True}

    def flaky(messages, params):
        if crash["on"] and fn_name(messages) == "add_3":
            return Fault(401)  # a revoked key: the run stops
        return policy(messages, params)

    with FakeOpenAIServer(flaky) as server:
        with client_for(server, cache, max_concurrency=1) as client, pytest.raises(FatalBackendError):
            sample_file(src, out, {"a": client}, n=2, batch_size=2)
        partial = tmp_path / "out.jsonl.partial.jsonl"
        assert len(partial.read_text().splitlines()) == 1 + 2  # header + the first batch
        answered_before = [fn_name(b["messages"]) for b in server.answered]
        assert answered_before == ["add_0", "add_1", "add_2"]
        crash["on"] = False
        server.reset()
        with client_for(server, cache, max_concurrency=1) as client:
            summary = sample_file(src, out, {"a": client}, n=2, batch_size=2)
        answered_after = [fn_name(b["messages"]) for b in server.answered]
    assert answered_after == ["add_3", "add_4", "add_5"]  # add_2 came from the cache
    assert summary.resumed == 2 and summary.models["a"].llm["cached"] == 2
    rows = read_rows(out)
    assert [r["id"] for r in rows] == [f"q{i}" for i in range(6)]
    assert all([i["completion_id"] for i in r["inferences"]] == [0, 1] for r in rows)


def test_failed_samples_are_left_out_and_retried_on_rerun(tmp_path):
    src, out, cache = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "c.sqlite"
    write_rows(src, make_rows(2))
    with FakeOpenAIServer(policy) as server:
        server.fail_next(*[Fault(500)] * 2)
        with client_for(server, cache, max_concurrency=1, max_attempts=2) as client:
            summary = sample_file(src, out, client, n=2)
        assert summary.failed == 2
        assert [len(r["inferences"]) for r in read_rows(out)] == [0, 2]
        result = runner.invoke(app, ["sample", str(src), str(out), "--model", "policy-a", "--base-url", server.url,
                                     "-n", "2", "--cache", str(cache), "--no-progress"])  # fmt: skip
        assert result.exit_code == 0, result.output
        # two failed tries of the first row, the second row, then the first row again
        assert [b["n"] for b in server.received] == [2, 2, 2, 2]
        assert fn_name(server.received[-1]["messages"]) == "add_0"
    assert [len(r["inferences"]) for r in read_rows(out)] == [2, 2]


@pytest.mark.slow
def test_kill_9_of_the_cli_then_rerun_resends_at_most_the_request_in_flight(tmp_path):
    src, out, cache = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "c.sqlite"
    n_rows, n = 10, 2
    write_rows(src, make_rows(n_rows))
    partial = tmp_path / "out.jsonl.partial.jsonl"
    with FakeOpenAIServer(policy, latency=0.15) as server:
        cmd = [*CLI, "sample", str(src), str(out), "--model", "policy-a", "--base-url", server.url]
        cmd += ["-n", str(n), "--cache", str(cache), "--concurrency", "1", "--batch-size", "2"]
        cmd += ["--no-progress"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                rows_done = len(partial.read_text().splitlines()) - 1 if partial.exists() else 0
                if rows_done >= 2 and len(server.answered) >= 5:
                    break
                time.sleep(0.02)
            else:
                pytest.fail("the run made no progress")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        first = Counter(fn_name(b["messages"]) for b in server.answered)
        assert not out.exists() and len(first) < n_rows
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "from the progress file" in done.stderr
        answered = Counter(fn_name(b["messages"]) for b in server.answered)
    assert set(answered) == {f"add_{i}" for i in range(n_rows)}
    assert sum(answered.values()) <= n_rows + 1  # only a request in flight at the kill may be paid twice
    rows = read_rows(out)
    assert [r["id"] for r in rows] == [f"q{i}" for i in range(n_rows)]
    assert all([i["completion_id"] for i in r["inferences"]] == [0, 1] for r in rows)


# -- bad input ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"test_cases": "assert f(1) == 1"}, "test_cases"),
        ({"question": None}, "question"),
        ({"inferences": [{"model_name": "policy-a", "completion_id": "7", "completion": "x"}]},
         "inferences[0].completion_id"),
    ],
)  # fmt: skip
def test_a_bad_row_is_named_by_file_row_and_field_before_anything_is_sent(tmp_path, change, field):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = make_rows(3)
    rows[1].update(change)
    write_rows(src, rows)
    with FakeOpenAIServer(policy) as server:
        result = runner.invoke(app, ["sample", str(src), str(out), "--model", "policy-a", "--base-url", server.url,
                                     "--no-progress"])  # fmt: skip
        with client_for(server, None) as client, pytest.raises(DataError) as err:
            sample_file(src, out, client)
        assert server.received == []
    assert result.exit_code == 2
    assert f"{src}: row 2: field '{field}'" in result.output
    assert (err.value.path, err.value.row, err.value.field) == (str(src), 2, field)
    assert not out.exists()


def test_cli_rejects_inconsistent_model_options(tmp_path):
    src = tmp_path / "in.jsonl"
    write_rows(src, make_rows(1))
    result = runner.invoke(app, ["sample", str(src), str(tmp_path / "o.jsonl"), "--no-progress"])
    assert result.exit_code == 2 and "no model to sample from" in result.output
    args = ["sample", str(src), str(tmp_path / "o.jsonl"), "--model", "a"]
    result = runner.invoke(app, [*args, "--model-name", "x", "--model-name", "y"])
    assert result.exit_code == 2 and "--model-name" in result.output


# -- end to end on real rows: sample -> execute -> pairs -> hard ---------------------------------------------------
def e2e_programs(row: dict) -> list[str]:
    """What the scripted model answers for a HumanEval row: right, half right, and wrong programs."""
    name, right = row["entry_point"], row["question"] + row["canonical_solution"]
    half = (
        right.rstrip() + f"\n\n\n_reference = {name}\n\n\ndef {name}(*args, **kwargs):\n"
        "    if len(repr(args)) % 2:\n        raise ValueError('odd input')\n"
        "    return _reference(*args, **kwargs)\n"
    )
    wrong = right.rstrip() + f"\n\n\ndef {name}(*args, **kwargs):\n    raise NotImplementedError\n"
    return [right, half, wrong, right]


@pytest.mark.shared_data
def test_sample_execute_pairs_hard_on_humaneval_rows(tmp_path, shared_data):
    from acecoder.execution import ExecutionEngine
    from acecoder.pairs.hard import rate_stats

    source = shared_data / "codet" / "humaneval_codegen16B_acecode_format.jsonl"
    rows = [r for r in read_rows(source) if len(r["test_cases"]) >= 4][:4]
    for r in rows:
        del r["inferences"]
    src = tmp_path / "in.jsonl"
    write_rows(src, rows)
    by_name = {r["entry_point"]: e2e_programs(r) for r in rows}

    def model(messages, params):
        name = next(n for n in by_name if f"def {n}(" in messages[0]["content"])
        return by_name[name][params["index"] % 4] + "```\n\nThe function above solves the task."

    sampled, scored = tmp_path / "sampled.jsonl", tmp_path / "scored.jsonl"
    pairs, hard = tmp_path / "pairs.jsonl", tmp_path / "hard.jsonl"
    with FakeOpenAIServer(model) as server:
        args = ["sample", str(src), str(sampled), "--model", "fake-coder", "--base-url", server.url]
        result = runner.invoke(app, [*args, "-n", "8", "--no-progress"])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["execute", str(sampled), str(scored), "--workers", "2", "--no-progress"])
    assert result.exit_code == 0, result.output

    out = read_rows(scored)
    with ExecutionEngine(workers=2) as engine:
        for row, original in zip(out, rows, strict=True):
            assert len(row["inferences"]) == 8
            right, half, wrong, _ = (p.rstrip("\n") for p in by_name[row["entry_point"]])
            for inf in row["inferences"]:
                kind = inf["sample_index"] % 4
                assert inf["completion"].rstrip("\n") == [right, half, wrong, right][kind]
                assert len(inf["test_results"]) == len(original["test_cases"])
                assert inf["pass_rate"] == engine.run_one(inf["completion"], original["test_cases"]).pass_rate
                if kind in (0, 3):
                    assert inf["pass_rate"] == 1.0  # the canonical solution passes every kept test
                elif kind == 2:  # it passes only tests that never call it (CodeT wrote `assert intersperse`)
                    calls = [f"{row['entry_point']}(" in t for t in original["test_cases"]]
                    passed = [call for ok, call in zip(inf["test_results"], calls, strict=True) if ok]
                    assert not any(passed)
                    assert inf["pass_rate"] < 0.1

    result = runner.invoke(app, ["pairs", str(scored), str(pairs), "--no-progress"])
    assert result.exit_code == 0, result.output
    made = read_rows(pairs)
    rates = {(r["id"], i["completion"]): i["pass_rate"] for r in out for i in r["inferences"]}
    # the AceCoder rule with a right program (1.0) in every row: rejected in (0, 0.6]
    expected = {r["id"] for r in out for i in r["inferences"] if 0 < i["pass_rate"] <= 0.6}
    assert {p["question_id"] for p in made} == expected and made
    for p in made:
        assert p["model_name"] == "fake-coder" and p["chosen_pass_rate"] == 1.0
        assert rates[(p["question_id"], p["rejected"])] == p["rejected_pass_rate"] > 0

    result = runner.invoke(app, ["hard", str(scored), str(hard), "--no-progress"])
    assert result.exit_code == 0, result.output
    kept = {r["id"] for r in read_rows(hard)}
    stats = {r["id"]: rate_stats(i["pass_rate"] for i in r["inferences"]) for r in out}
    median_mean = statistics.median(mean for mean, _ in stats.values())
    low = {k: std for k, (mean, std) in stats.items() if mean <= median_mean}
    assert kept == {k for k, std in low.items() if std >= statistics.median(low.values())}
