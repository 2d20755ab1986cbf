"""Bundled benchmarks, sample shapes, and bad input that must fail clearly (file, row, field)."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from acecoder.cli import app
from acecoder.data import DataError
from acecoder.evaluation.benchmarks import load_benchmark
from acecoder.evaluation.codet import load_tests
from acecoder.evaluation.samples import SampleReader, defines


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_bundled_benchmarks():
    he_plus = load_benchmark("humaneval+")
    assert len(he_plus.tasks) == 164 and he_plus.has_plus
    assert he_plus.digest == "fe585eb4df8c88d844eeb463ea4d0302"  # the official v0.1.10 hash
    assert len(load_benchmark("humaneval").tasks) == 164
    mbpp = load_benchmark("mbpp+")
    assert len(mbpp.tasks) == 378 and "Mbpp/2" in mbpp.tasks
    assert len(load_benchmark("mbpp+", all_tasks=True).tasks) == 399
    assert mbpp.tasks["Mbpp/2"].base_input[0] == [(3, 4, 5, 6), (5, 7, 4, 10)]  # evalplus's tuples
    bcb = load_benchmark("bigcodebench")
    assert len(bcb.tasks) == 1140
    task = bcb.tasks["BigCodeBench/0"]
    assert task.code_prompt.startswith("import itertools") and "class TestCases" in task.test


def test_dataset_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match=r"nowhere\.jsonl: no such dataset file"):
        load_benchmark("humaneval+", tmp_path / "nowhere.jsonl")
    bad = _write(tmp_path / "bad.jsonl", [{"task_id": "HumanEval/0", "prompt": "", "entry_point": "f"}])
    with pytest.raises(DataError, match=r"bad\.jsonl: row 1: field 'canonical_solution': missing"):
        load_benchmark("humaneval+", bad)
    with pytest.raises(ValueError, match=r"unknown benchmark 'humaneval\+\+'; choose one of"):
        load_benchmark("humaneval++")
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(DataError, match=r"broken\.jsonl\.gz: cannot read"):
        load_benchmark("humaneval", broken)


def test_sample_shapes_and_programs():
    bench = load_benchmark("humaneval")
    reader = SampleReader(bench, path="s.jsonl", group_by="model", score_columns=("rm_score",))
    flat = reader.samples(
        0, 1, {"task_id": "HumanEval/2", "completion": "    return 1\n", "model": "m", "rm_score": 2}
    )
    assert flat[0].program.startswith(bench.tasks["HumanEval/2"].prompt) and flat[0].scores == {
        "rm_score": 2.0
    }
    chat = "Here:\n```python\ndef truncate_number(x):\n    return x % 1\n```\nDone."
    solution = reader.samples(1, 2, {"task_id": "HumanEval/2", "solution": chat, "model": "m"})
    assert solution[0].program == "def truncate_number(x):\n    return x % 1\n"
    row = {
        "id": "HumanEval/2",
        "test_cases": ["assert truncate_number(1.5) == 0.5"],
        "inferences": [
            {"model_name": "a", "completion": chat, "rm_score": 0.5, "model": "a"},
            {"model_name": "b", "completion": "    return number % 1.0\n", "rm_score": None, "model": "b"},
        ],
    }
    a, b = reader.samples(2, 3, row)
    assert defines(a.program, "truncate_number") and a.group == "a" and a.test_cases == row["test_cases"]
    assert b.program.endswith("    return number % 1.0\n") and "def truncate_number" in b.program
    assert b.scores == {"rm_score": None}


@pytest.mark.parametrize(
    "row, message",
    [
        (
            {"task_id": "HumanEval/999", "solution": "x"},
            r"row 4: field 'task_id': unknown task id 'HumanEval/999'",
        ),
        (
            {"task_id": "Mbpp/2", "solution": "x"},
            r"row 4: field 'task_id': 'Mbpp/2' is a task of mbpp/mbpp\+",
        ),
        (
            {"task_id": "HumanEval/1"},
            r"row 4: field 'completion': expected a string \(solution or completion\)",
        ),
        ({"task_id": "HumanEval/1", "solution": 3}, r"row 4: field 'solution': expected a string"),
        ({"id": "HumanEval/1", "inferences": [{"text": "x"}]}, r"row 4: field 'inferences\[0\]'"),
        ({"inferences": []}, r"row 4: field 'id': missing"),
        ({"question": "q"}, r"row 4: not a sample"),
        (
            {"task_id": "HumanEval/1", "solution": "x", "rm_score": "high"},
            r"row 4: field 'rm_score': expected a number",
        ),
    ],
)
def test_bad_samples_fail_naming_row_and_field(row, message):
    reader = SampleReader(load_benchmark("humaneval"), path="samples.jsonl", score_columns=("rm_score",))
    with pytest.raises(DataError, match="samples.jsonl: " + message):
        reader.samples(3, 4, row)


def test_group_by_needs_the_column():
    reader = SampleReader(load_benchmark("humaneval"), path="s.jsonl", group_by="model")
    with pytest.raises(DataError, match=r"row 2: field 'model': missing \(needed by --group-by\)"):
        reader.samples(1, 2, {"task_id": "HumanEval/1", "solution": "x"})


def test_codet_test_files(tmp_path):
    bench = load_benchmark("humaneval")
    ours = _write(
        tmp_path / "t.jsonl", [{"task_id": "HumanEval/2", "tests": ["assert truncate_number(1.5) == 0.5"]}]
    )
    assert load_tests(ours, bench) == {"HumanEval/2": ["assert truncate_number(1.5) == 0.5"]}
    raw_prompt = "def truncate_number(n):\n    pass\n\n# check the correctness of truncate_number\nassert "
    raw = _write(
        tmp_path / "raw.jsonl", [{"prompt": raw_prompt, "samples": ["truncate_number(2.5) == 0.5\n"]}]
    )
    assert load_tests(raw, bench) == {"HumanEval/2": ["assert truncate_number(2.5) == 0.5"]}
    unknown = _write(
        tmp_path / "u.jsonl", [{"prompt": "# check the correctness of nothing_here\n", "samples": []}]
    )
    with pytest.raises(DataError, match=r"u\.jsonl: row 1: field 'prompt': cannot tell the task"):
        load_tests(unknown, bench)


def test_cli_bad_inputs_fail_in_one_line(tmp_path):
    runner = CliRunner()
    samples = _write(
        tmp_path / "s.jsonl",
        [{"task_id": "HumanEval/0", "solution": "x"}, {"task_id": "Mbpp/3", "solution": "y"}],
    )
    result = runner.invoke(
        app,
        ["evaluate", str(samples), str(tmp_path / "o.jsonl"), "--benchmark", "humaneval", "--no-progress"],
    )
    assert result.exit_code == 2
    assert "s.jsonl: row 2: field 'task_id': 'Mbpp/3' is a task of mbpp/mbpp+" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(samples),
            str(tmp_path / "o.jsonl"),
            "--benchmark",
            "mbpp+",
            "--dataset",
            str(tmp_path / "v2.jsonl"),
        ],
    )
    assert result.exit_code == 2 and "v2.jsonl: no such dataset file" in result.output
    result = runner.invoke(
        app, ["evaluate", str(tmp_path / "none.jsonl"), str(tmp_path / "o.jsonl"), "--benchmark", "mbpp"]
    )
    assert result.exit_code == 2 and "none.jsonl: no such file" in result.output
    result = runner.invoke(
        app, ["evaluate", str(samples), str(tmp_path / "o.jsonl"), "--benchmark", "humaneval", "--k", "1,x"]
    )
    assert result.exit_code == 2 and "--k: expected comma-separated integers" in result.output


def test_another_dataset_version(tmp_path):
    from importlib import resources

    bundled = resources.files("acecoder.resources.benchmarks").joinpath("HumanEvalPlus-v0.1.10.jsonl.gz")
    lines = gzip.decompress(bundled.read_bytes()).decode().splitlines()[:3]
    subset = tmp_path / "he_subset.jsonl.gz"
    subset.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    bench = load_benchmark("humaneval+", subset)
    assert list(bench.tasks) == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    assert bench.digest != load_benchmark("humaneval+").digest  # its own expected-output cache
    mbpp_subset = tmp_path / "mbpp.jsonl"
    mbpp_subset.write_text(
        json.dumps({**json.loads(lines[0]), "task_id": "Mbpp/999", "assertion": ""}) + "\n"
    )
    assert list(load_benchmark("mbpp+", mbpp_subset).tasks) == ["Mbpp/999"]  # no id restriction for --dataset
