"""``acecoder augment-tests`` end to end: usage errors, resume after kill -9, an oracle model and model-proposed
inputs through the cached LLM layer, the pipeline stage, Table 1 and filter-tests' mutation-score threshold."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acecoder.data import read_rows, write_rows
from llm_fake_server import FakeOpenAIServer, fenced

CLI = [sys.executable, "-c", "from acecoder.cli import main; main()", "augment-tests"]
PROGRAM = "def scale(xs, k):\n    return [x * k for x in xs]\n"


def _row(i: int, program: str = PROGRAM) -> dict:
    return {
        "id": f"q{i}",
        "source": "t",
        "question": "Multiply every number of a list by k.",
        "test_cases": [
            f"assert scale([1, {i}], 2) == [2, {2 * i}]",
            f"assert scale([{i}, 3, 5], 0) == [0, 0, 0]",
        ],
        "solution": program,
    }


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a reference"),
        (["--reference-field", "solution", "--model", "m"], "--model takes no --reference-field"),
        (["--reference-field", "solution", "--without-rule", "colour"], "unknown rule(s) ['colour']"),
        (["--reference-field", "solution", "--llm-inputs", "3"], "--llm-inputs needs a model"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(tmp_path, args, message):
    write_rows(tmp_path / "in.jsonl", [_row(1)])
    done = _run(str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl"), *args, check=False)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_bad_input_names_file_row_and_field(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps(_row(1)) + "\n" + json.dumps({"id": "x", "test_cases": "assert f(1)"}) + "\n"
    )
    done = _run(str(source), str(tmp_path / "out.jsonl"), "--reference-field", "solution", check=False)
    assert done.returncode == 2
    assert f"{source}: row 2: field 'test_cases': expected a list of tests" in done.stderr


def test_kill_9_mid_run_then_rerun_resumes_and_equals_an_uninterrupted_run(tmp_path):
    slow = "import time\n" + PROGRAM.replace(
        "    return",
        "    t = time.process_time()\n    while time.process_time() - t < 0.002:\n        pass\n    return",
    )
    rows = [_row(i, slow + f"# {i}\n") for i in range(24)]
    source, output, fresh = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "fresh.jsonl"
    write_rows(source, rows)
    args = ["--reference-field", "solution", "--batch-size", "2", "--workers", "1", "--max-new-tests", "8"]
    partial = tmp_path / "out.jsonl.partial.jsonl"
    process = subprocess.Popen(
        [*CLI, str(source), str(output), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if partial.exists() and len(partial.read_text().splitlines()) > 5:
            break
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not output.exists()
    done_before = len(partial.read_text().splitlines()) - 1
    assert 4 <= done_before < 24
    resumed = _run(str(source), str(output), *args)
    assert f"({done_before} from the progress file)" in resumed.stderr
    _run(str(source), str(fresh), *args)
    assert read_rows(output) == read_rows(fresh)
    assert all(r["n_tests_augmented"] > 0 for r in read_rows(output))
    summary = json.loads((tmp_path / "out.jsonl.summary.json").read_text())
    assert summary["rows_in"] == 24 and summary["augmented"] == 24


def _fake_llm(messages, params):
    text = str(messages[-1]["content"])
    if "new inputs for `scale`" in text:
        return fenced("scale([2, 4, 6], 3)\nscale([], 5)\nscale([1], -2)\nscale('ab', 2)\nprint(1)", "python")
    return PROGRAM + "```\n"  # the oracle's program, continuing the prefilled fence


def test_oracle_model_and_llm_inputs_are_cached_and_not_asked_again(tmp_path):
    rows = [{k: v for k, v in _row(i).items() if k != "solution"} for i in range(1, 4)]
    source = tmp_path / "in.jsonl"
    write_rows(source, rows)
    with FakeOpenAIServer(_fake_llm) as server:
        args = [
            "--model",
            "fake-model",
            "--base-url",
            server.url,
            "--llm-inputs",
            "4",
            "--max-new-tests",
            "6",
        ]
        first = _run(str(source), str(tmp_path / "out.jsonl"), *args, "--no-progress")
        asked = len(server.received)
        assert asked == 6  # one oracle program and one input proposal per row
        out = read_rows(tmp_path / "out.jsonl")
        provenance = [p for r in out for p in r["test_provenance"]]
        assert "llm" in provenance and any(p.startswith("mutation:") for p in provenance)
        llm_tests = [
            t for r in out for t, p in zip(r["test_cases"], r["test_provenance"], strict=True) if p == "llm"
        ]
        assert "assert scale([2, 4, 6], 3) == [6, 12, 18]" in llm_tests
        assert not any(
            "'ab'" in t for t in llm_tests
        )  # a string where the tests show lists: not of their kind
        assert "model: 6 requests" in first.stderr
        _run(
            str(source),
            str(tmp_path / "again.jsonl"),
            *args,
            "--cache",
            str(tmp_path / "out.jsonl.llm_cache.sqlite"),
        )
        assert len(server.received) == asked  # every answer came from the cache
        assert read_rows(tmp_path / "again.jsonl") == out


def test_augment_stage_runs_between_filter_and_sample_and_shows_in_table1(tmp_path):
    import yaml

    from acecoder.pipeline.runconfig import load_run_config
    from acecoder.pipeline.runner import run_pipeline
    from acecoder.rundir.store import StageDir
    from acecoder.synthesis import format_table1, table1

    source = tmp_path / "in.jsonl"
    rows = [_row(i) for i in range(1, 5)]
    rows[3]["inferences"] = [{"model_name": "m", "completion": PROGRAM, "pass_rate": 1.0}]
    write_rows(source, rows)
    config = tmp_path / "run.yaml"
    stages = {
        "augment": {"reference_field": "solution", "max_new_tests": 5, "max_mutants": 4},
        "execute": {},
        "stats": {},
        "report": {},
    }
    config.write_text(
        yaml.safe_dump({"input": str(source), "run_dir": str(tmp_path / "run"), "stages": stages})
    )
    run_pipeline(load_run_config(config))
    out = [r for p in StageDir(tmp_path / "run", "augment").shards() for r in read_rows(p)]
    assert len(out) == 4 and all(
        r["n_tests_augmented"] == 5 and r["mutation_score"]["after"] is not None for r in out
    )
    executed = [r for p in StageDir(tmp_path / "run", "execute").shards() for r in read_rows(p)]
    assert (
        executed[3]["inferences"][0]["pass_rate"] == 1.0
        and len(executed[3]["inferences"][0]["test_results"]) == 7
    )
    text = format_table1(table1(out))
    assert "#Avg tests (before filter)        2.00" in text.replace("  ", " ") or "2.00" in text
    assert "#Avg tests (after augmentation)" in text and "Mutation score (after augmentation)" in text
    report = (tmp_path / "run" / "report.html").read_text()
    assert "Test augmentation" in report


def test_stage_without_a_reference_is_skipped_saying_how_to_enable_it(tmp_path):
    import yaml

    from acecoder.pipeline.runconfig import load_run_config
    from acecoder.pipeline.runner import run_pipeline

    source = tmp_path / "in.jsonl"
    write_rows(source, [_row(1)])
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump({"input": str(source), "run_dir": str(tmp_path / "run"), "stages": {"augment": {}}})
    )
    logs: list[str] = []
    run_pipeline(load_run_config(config), log=logs.append)
    assert any("no reference configured" in line and "reference_field" in line for line in logs), logs


def test_filter_tests_drops_rows_under_the_mutation_score(tmp_path):
    weak = {"id": "weak", "question": "q", "test_cases": ["assert clamp(3) == 3"] * 1,
            "solution": "def clamp(x):\n    if x > 10:\n        return 10\n    return x\n"}  # fmt: skip
    strong = {"id": "strong", "question": "q", "solution": weak["solution"],
              "test_cases": ["assert clamp(3) == 3", "assert clamp(10) == 10", "assert clamp(11) == 10",
                             "assert clamp(12) == 10", "assert clamp(-4) == -4", "assert clamp(9) == 9"]}  # fmt: skip
    source = tmp_path / "in.jsonl"
    write_rows(source, [weak, strong])
    cli = [sys.executable, "-c", "from acecoder.cli import main; main()", "filter-tests", str(source)]
    done = subprocess.run(
        [*cli, str(tmp_path / "out.jsonl"), "--reference-field", "solution", "--min-tests", "1", "--min-mutation-score", "0.8"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    kept = read_rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in kept] == ["strong"] and kept[0]["mutation_score"]["before"] >= 0.8
    rejected = read_rows(tmp_path / "out.jsonl.rejected.jsonl")
    assert rejected[0]["id"] == "weak" and rejected[0]["reason"] == "weak_tests"


def test_help_names_the_fields(tmp_path):
    done = _run("--help")
    text = " ".join(done.stdout.split())
    for needle in (
        "test_provenance",
        "n_tests_augmented",
        "mutation_score",
        "--consensus",
        "--min-mutation-score",
    ):
        assert needle in text
    assert Path(__file__).exists()
