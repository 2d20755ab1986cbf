"""Every stage takes rows whose tests mix the three kinds, with no new flag.

Stages that only read tests (schema, job building, prompts, pairs, hard, stats, reward test parsing) are tested
here directly; the ones that run them (execute, filter-tests, rewards, ``acecoder run``) are tested end to end once
the engine runs stdin and functional tests (``acecoder.execution.SUPPORTS_TEST_KINDS``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import acecoder.execution
from acecoder.data import DataError, read_rows, validate_acecode_row, write_rows
from acecoder.execution import Limits
from acecoder.execution.rows import row_jobs
from acecoder.execution.testkinds import MIN_MEMORY_MB, CallTest, StdinTest
from acecoder.reward.labels import TestLookup
from acecoder.reward.scoring import parse_tests, program_of
from acecoder.sampling.prompt import ACECODEPAIR_TEMPLATE, SAMPLING_TEMPLATE

ENGINE = pytest.mark.skipif(
    not getattr(acecoder.execution, "SUPPORTS_TEST_KINDS", False),
    reason="the engine does not run stdin and functional tests yet (acecoder.execution.SUPPORTS_TEST_KINDS)",
)

ASSERT = "assert double(2) == 4"
CALL = {"fn_name": "double", "args": [3], "expected": 6}
STDIN = {"stdin": "5\n", "stdout": "10\n", "comparator": "livecodebench"}
GOOD = (
    "```python\ndef double(x):\n    return 2 * x\n\n"
    "if __name__ == '__main__':\n    import sys\n    data = sys.stdin.read().split()\n"
    "    if data:\n        print(double(int(data[0])))\n```"
)
BAD = GOOD.replace("2 * x", "x + 2")  # right for 2 only


def mixed_row(row_id: str = "mix", **extra) -> dict:
    return {
        "id": row_id,
        "source": "test",
        "question": "Write double(x); as a program, read x and print 2x.",
        "test_cases": [ASSERT, CALL, STDIN],
        "inferences": [
            {"model_name": "m", "completion_id": 0, "completion": GOOD},
            {"model_name": "m", "completion_id": 1, "completion": BAD},
        ],
        **extra,
    }


def test_schema_accepts_mixed_tests_and_limits():
    validate_acecode_row(
        mixed_row(time_limit=2, memory_limit=256), require=("id", "test_cases", "inferences")
    )
    with pytest.raises(DataError, match=r"field 'test_cases\[1\]': a stdin test needs a string 'stdout'"):
        validate_acecode_row({"id": "x", "test_cases": [ASSERT, {"stdin": "1"}]})
    with pytest.raises(DataError, match="a functional test needs an 'expected' value"):
        validate_acecode_row({"id": "x", "test_cases": [{"fn_name": "f", "args": []}]})
    with pytest.raises(DataError, match=r"field 'memory_limit': expected a positive number \(megabytes\)"):
        validate_acecode_row({"id": "x", "memory_limit": 1.5})


def test_jobs_carry_parsed_tests_and_the_row_s_limits():
    jobs = row_jobs(mixed_row())
    assert len(jobs) == 2 and jobs[0].limits is None
    assert list(jobs[0].tests) == [
        ASSERT,
        CallTest("double", (3,), 6),
        StdinTest("5\n", "10\n", "livecodebench"),
    ]
    assert jobs[0].program.startswith("def double(x):")
    base = Limits(timeout=1.0, program_timeout=0.25, memory_mb=4096)
    (job, _) = row_jobs(mixed_row(time_limit=2.5, memory_limit=64), limits=base)
    assert job.limits.timeout == 2.5 and job.limits.program_timeout is None
    assert job.limits.memory_mb == MIN_MEMORY_MB  # a dataset's 64 MB is raised to what the sandbox needs
    with pytest.raises(DataError, match=r"rows\.jsonl: row 7: field 'test_cases\[1\]'.*comparator"):
        row_jobs(mixed_row(test_cases=[ASSERT, {**STDIN, "comparator": "nope"}]), path="rows.jsonl", line=7)
    assert row_jobs(mixed_row(test_cases=[])) == []  # no tests: nothing runs (pass rates stay null)


def test_reward_tests_parse_every_kind_and_never_score_an_empty_list():
    assert parse_tests([ASSERT, CALL, STDIN]) == [
        ASSERT,
        CallTest("double", (3,), 6),
        StdinTest("5\n", "10\n", "livecodebench"),
    ]
    assert parse_tests(json.dumps([STDIN])) == [StdinTest("5\n", "10\n", "livecodebench")]
    with pytest.raises(ValueError, match="no tests to score against"):
        parse_tests([])
    with pytest.raises(ValueError, match=r"ground_truth\[0\]: a stdin test needs"):
        parse_tests([{"stdin": "1"}], where="ground_truth")


def test_stdin_programs_keep_their_trailing_prints():
    answer = "```python\ndef solve(n):\n    return n * 2\n\nn = int(input())\nprint(solve(n))\n```"
    assert program_of(answer, tests=[StdinTest("1", "2")]).rstrip().endswith("print(solve(n))")
    assert "print" not in program_of(
        answer, tests=[ASSERT]
    )  # assert tests: trailing prints are not the program


def test_labels_from_a_dataset_with_mixed_tests(tmp_path):
    path = tmp_path / "rows.jsonl"
    write_rows(path, [mixed_row()])
    lookup = TestLookup.from_file(path)
    assert parse_tests(lookup.tests("mix"), where="label") == parse_tests([ASSERT, CALL, STDIN])
    assert lookup.tests(json.dumps([STDIN])) == [StdinTest("5\n", "10\n", "livecodebench")]


def test_prompts_show_every_kind_as_text():
    text = SAMPLING_TEMPLATE.user_message("Q", [STDIN, CALL])
    assert "Input:\n5\nOutput:\n10" in text and "assert double(3) == 6" in text
    assert "Input:\n5" in ACECODEPAIR_TEMPLATE.user_message("Q", [STDIN, ASSERT])


def test_pairs_hard_and_stats_on_mixed_rows(tmp_path):
    from acecoder.pairs import PairConfig, hard_subset, make_pairs
    from acecoder.synthesis import table1_file

    rows = []
    for i in range(4):
        row = mixed_row(f"r{i}", test_cases=[STDIN, ASSERT, CALL])
        row["inferences"][0]["pass_rate"] = 1.0
        row["inferences"][1]["pass_rate"] = 1 / 3 + i * 0.1
        rows.append(row)
    source = tmp_path / "rows.parquet"  # Parquet shards are what `acecoder run` passes between stages
    write_rows(source, rows)
    assert read_rows(source)[0]["test_cases"] == [STDIN, ASSERT, CALL]
    make_pairs(source, tmp_path / "pairs.jsonl", PairConfig(), format="acecodepair")
    pairs = read_rows(tmp_path / "pairs.jsonl")
    assert len(pairs) == 3  # the fourth row's gap (1 - 0.63) is under 0.4
    assert "Input:\n5\nOutput:\n10" in pairs[0]["instruction"]  # the first test, a stdin test, shown as text
    hard_subset(source, tmp_path / "hard.jsonl")
    assert read_rows(tmp_path / "hard.jsonl")
    (overall,) = [c for c in table1_file(source) if c.source == "Overall"]
    assert overall.examples_before == 4 and overall.tests_before == 12 and overall.pairs == 3


# ------------------------------------------------------------------------------------- with the engine
@ENGINE
def test_execute_on_mixed_rows(tmp_path):
    from acecoder.execution import ExecutionEngine, execute_rows

    with ExecutionEngine(workers=2) as engine:
        (row,) = list(execute_rows([mixed_row()], engine))
    good, bad = row["inferences"]
    assert good["test_results"] == [1, 1, 1] and good["pass_rate"] == 1.0
    assert bad["test_results"] == [1, 0, 0]


@ENGINE
def test_rewards_on_a_mixed_batch():
    from acecoder.reward import TestCaseReward

    batch = [GOOD, BAD, GOOD, BAD]
    tests = [[ASSERT, CALL, STDIN], [ASSERT, CALL, STDIN], [STDIN], [CALL, ASSERT]]
    with TestCaseReward("binary", workers=2) as reward:
        assert reward(completions=batch, test_cases=tests) == [1.0, 0.0, 1.0, 0.0]
        stats = reward.last_stats
        assert stats.pass_rates[1] == pytest.approx(1 / 3)  # binary: stops at the first failure (the call)
    with TestCaseReward("pass_rate", workers=2) as reward:
        assert reward(completions=batch, test_cases=tests) == pytest.approx([1.0, 1 / 3, 1.0, 0.5])
        with pytest.raises(ValueError, match="no tests"):
            reward(completions=[GOOD], test_cases=[[]])


@ENGINE
def test_verl_and_openrlhf_score_mixed_tests(monkeypatch):
    from acecoder.reward import verl
    from acecoder.reward.openrlhf import score_queries

    assert verl.compute_score("x", GOOD, json.dumps([ASSERT, CALL, STDIN]))["score"] == 1.0
    assert verl.compute_score("x", BAD, [STDIN])["score"] == 0.0
    reply = score_queries(["Q" + GOOD], ["Q"], [json.dumps([STDIN, CALL])])
    assert reply["rewards"] == [1.0]


@ENGINE
def test_pipeline_run_on_mixed_rows(tmp_path):
    from acecoder.pipeline.runconfig import load_run_config
    from acecoder.pipeline.runner import run_pipeline

    source = tmp_path / "rows.jsonl"
    write_rows(source, [mixed_row(f"r{i}") for i in range(3)])
    config = tmp_path / "config.yaml"
    stages = {"execute": {"timeout": 2.0}, "pairs": {}, "hard": {}, "stats": {}}
    data = {
        "run_dir": "run",
        "input": str(source),
        "shard_rows": 2,
        "execution": {"workers": 2},
        "stages": stages,
    }
    config.write_text(yaml.safe_dump(data))
    run_pipeline(load_run_config(config), log=lambda _: None)
    rows = [r for p in sorted((tmp_path / "run" / "execute").glob("shard-*.parquet")) for r in read_rows(p)]
    assert [r["inferences"][0]["pass_rate"] for r in rows] == [1.0, 1.0, 1.0]
    assert rows[0]["test_cases"] == [ASSERT, CALL, STDIN]
    assert Path(tmp_path / "run" / "stats" / "table1.json").exists()
