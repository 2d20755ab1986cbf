"""One CPU budget for sampled programs: the same completion gets the same verdict through every entry point.

A correct program whose four calls loop 4 million times each (~0.2 CPU s per call, ~0.7 s in all) is over the
sampled-program budget (0.25 s) and under every per-test limit: it must fail through ``acecoder execute``,
``TestCaseReward``, verl's ``compute_score``, OpenRLHF's reward function, ``serve-reward``, ``train-rl``'s reward
and the ``rewards`` stage of ``acecoder run`` alike, while a quick correct program passes through all of them.
"0 = no budget" lets the slow one pass wherever it is given.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml

from acecoder.data import read_rows, write_rows
from acecoder.execution import ExecutionEngine, Limits
from acecoder.execution.limits import AUGMENT, BENCHMARK, ORACLE, SAMPLED, given, mutant, program_budget
from acecoder.reward import shared as shared_module

TESTS = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 4", "assert add(0, 5) == 5"]
QUICK = "def add(a, b):\n    return a + b\n"
SLOW = "def add(a, b):\n    total = 0\n    for i in range(4_000_000):\n        total += i\n    return a + b\n"
FENCED = {name: f"```python\n{code}```" for name, code in (("quick", QUICK), ("slow", SLOW))}
EXPECTED = {"quick": 1.0, "slow": 0.0}


def test_the_table_is_every_default():
    assert Limits() == SAMPLED.limits()
    assert (Limits().timeout, Limits().program_timeout) == (SAMPLED.test, SAMPLED.program) == (1.0, 0.25)
    assert ORACLE.limits().program_timeout == 8.0
    assert given(None).test == 6.0 and given(2).program is None
    for zero in (0, 0.0, None):
        assert program_budget(zero) is None and Limits(program_timeout=zero).program_timeout is None
    assert Limits(program_timeout=0) == Limits(program_timeout=None)  # one meaning, one engine dedupe key
    with pytest.raises(ValueError, match="program_timeout"):
        Limits(program_timeout=-1)
    with pytest.raises(ValueError, match="positive"):
        given(0)

    from acecoder.evaluation.verdicts import Settings
    from acecoder.reward.rl_config import RLConfig, load_rl_config

    assert Settings().min_time == BENCHMARK.min_time and Settings().check_timeout == BENCHMARK.check
    paper = load_rl_config()
    assert (paper.test_timeout, paper.program_timeout) == (SAMPLED.test, SAMPLED.program)
    assert RLConfig(program_timeout=0).program_timeout is None


def test_augmentation_and_the_evaluate_stage_read_their_rows_of_the_table():
    from acecoder.augmentation.augment import REFERENCE_LIMITS
    from acecoder.cli import app
    from acecoder.pipeline.runconfig import RunConfig
    from acecoder.pipeline.stages.augment import Augment

    assert AUGMENT.limits() == REFERENCE_LIMITS and (AUGMENT.test, AUGMENT.program) == (1.0, 20.0)
    defaults = Augment().defaults(RunConfig(run_dir=Path(".")))
    assert (defaults["timeout"], defaults["memory_mb"]) == (AUGMENT.test, Limits().memory_mb)
    command = next(c for c in typer.main.get_command(app).commands.values() if c.name == "augment-tests")
    assert next(p.default for p in command.params if p.name == "timeout") == AUGMENT.test
    assert (mutant(0.0).test, mutant(1.0).test, mutant(0.1).program) == (0.2, 2.0, pytest.approx(1.8))

    from acecoder.pipeline.stages.evaluate import Evaluate

    evaluate = Evaluate().defaults(RunConfig(run_dir=Path(".")))
    assert (evaluate["min_time"], evaluate["time_factor"]) == (BENCHMARK.min_time, BENCHMARK.time_factor)


def test_the_engine_measures_the_slow_program_between_the_budgets():
    """The premise: over 0.25 s of CPU in all, under 1 s per test."""
    with ExecutionEngine(workers=1, limits=Limits(program_timeout=None)) as engine:
        result = engine.run_one(SLOW, TESTS)
    assert result.test_results == [1, 1, 1, 1]
    assert 0.35 < result.cpu_time < 4 * SAMPLED.test


# ---- the entry points ------------------------------------------------------------------------------------------


def _execute(tmp_path: Path, **options) -> dict[str, float]:
    from acecoder.cli.execute import execute_command

    source, output = tmp_path / "rows.jsonl", tmp_path / "out.jsonl"
    inferences = [{"completion": FENCED[name], "name": name} for name in EXPECTED]
    write_rows(source, [{"id": "q", "question": "Add.", "test_cases": TESTS, "inferences": inferences}])
    execute_command(source, output, progress=False, resume=False, **options)
    (row,) = read_rows(output)
    return {i["name"]: float(i["pass_rate"] == 1.0) for i in row["inferences"]}


def test_execute(tmp_path):
    assert _execute(tmp_path) == EXPECTED
    assert _execute(tmp_path, program_timeout=0) == {"quick": 1.0, "slow": 1.0}  # 0: no budget


def test_test_case_reward():
    from acecoder.reward import TestCaseReward

    with TestCaseReward() as reward:
        rewards = reward(completions=[FENCED[n] for n in EXPECTED], test_cases=[TESTS] * 2)
    assert dict(zip(EXPECTED, rewards, strict=True)) == EXPECTED


@pytest.fixture
def shared_env(monkeypatch):
    for variable in ("ACECODER_REWARD_TIMEOUT", "ACECODER_REWARD_PROGRAM_TIMEOUT", "ACECODER_REWARD_DATASET"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ACECODER_REWARD_WORKERS", "2")
    shared_module.reset()
    yield monkeypatch
    shared_module.reset()


def test_verl_and_openrlhf(shared_env):
    from acecoder.reward.openrlhf import score_queries
    from acecoder.reward.verl import compute_score

    scores = {n: compute_score("acecode", FENCED[n], json.dumps(TESTS))["score"] for n in EXPECTED}
    assert scores == EXPECTED
    prompt = "<|im_start|>user\nWrite add.<|im_end|>\n<|im_start|>assistant\n"
    queries = [prompt + FENCED[n] + "<|im_end|>" for n in EXPECTED]
    reply = score_queries(queries, [prompt] * 2, [json.dumps(TESTS)] * 2)
    assert dict(zip(EXPECTED, reply["rewards"], strict=True)) == EXPECTED

    shared_module.reset()
    shared_env.setenv("ACECODER_REWARD_PROGRAM_TIMEOUT", "0")  # 0: no budget, here too
    assert compute_score("acecode", FENCED["slow"], TESTS)["score"] == 1.0
    shared_module.reset()
    shared_env.setenv("ACECODER_REWARD_PROGRAM_TIMEOUT", "a quarter")
    with pytest.raises(ValueError, match="ACECODER_REWARD_PROGRAM_TIMEOUT='a quarter'"):
        compute_score("acecode", FENCED["slow"], TESTS)


def test_serve_reward(monkeypatch):
    pytest.importorskip("fastapi")
    uvicorn = pytest.importorskip("uvicorn")
    from fastapi.testclient import TestClient

    from acecoder.cli.serve_reward import serve_reward_command

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.setdefault("app", app))
    serve_reward_command()  # the CLI's own defaults
    with TestClient(served["app"]) as client:
        reply = client.post("/reward", json={"completions": list(FENCED.values()), "test_cases": [TESTS] * 2})
        assert reply.status_code == 200, reply.text
        assert dict(zip(EXPECTED, reply.json()["rewards"], strict=True)) == EXPECTED
        query = "<|im_start|>assistant\n" + FENCED["slow"]
        reply = client.post("/get_reward", json={"query": [query], "prompts": [""], "labels": [TESTS]})
        assert reply.json()["rewards"] == [0.0]


def test_train_rl_reward():
    from acecoder.reward.rl_config import load_rl_config
    from acecoder.reward.rl_train import build_rewards

    (reward,), _ = build_rewards(load_rl_config())  # the bundled paper recipe, as `acecoder train-rl`
    try:
        rewards = reward(completions=[FENCED[n] for n in EXPECTED], test_cases=[TESTS] * 2)
    finally:
        reward.close()
    assert dict(zip(EXPECTED, rewards, strict=True)) == EXPECTED


def test_run_execute_and_rewards_stages(tmp_path):
    from acecoder.pipeline.runconfig import load_run_config
    from acecoder.pipeline.runner import run_pipeline
    from acecoder.rundir.store import StageDir

    rows = tmp_path / "rows.jsonl"
    inferences = [
        {"model_name": "m", "completion_id": i, "completion": FENCED[n]} for i, n in enumerate(EXPECTED)
    ]
    write_rows(rows, [{"id": "q", "question": "Add.", "test_cases": TESTS, "inferences": inferences}])
    config = tmp_path / "config.yaml"
    stages = {"execute": {}, "hard": {}, "rewards": {}}
    config.write_text(yaml.safe_dump({"run_dir": "run", "input": str(rows), "stages": stages}))
    run_pipeline(load_run_config(config), log=lambda _: None)
    run_dir = tmp_path / "run"
    (executed,) = [r for p in StageDir(run_dir, "execute").shards() for r in read_rows(p)]
    assert [float(i["pass_rate"] == 1.0) for i in executed["inferences"]] == [1.0, 0.0]
    (rewarded,) = [r for p in StageDir(run_dir, "rewards").shards() for r in read_rows(p)]
    assert [i["reward"] for i in rewarded["inferences"]] == [1.0, 0.0]
