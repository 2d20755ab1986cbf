"""Honest summaries: rows without tests are shown, a resumed run reports the whole file, Ctrl-C says how to resume,
bad option values get one line, and ``stats`` says why its after-filter rows are empty."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from acecoder.cli import app
from acecoder.data import read_rows, write_rows
from llm_fake_server import FakeOpenAIServer

runner = CliRunner()
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]
SLOW = (
    "import time\ndef inc(x):\n    t = time.process_time()\n    while time.process_time() - t < 0.02:\n"
    "        pass\n    return x + 1\n"
)


def row(i: int, completion: str = "def inc(x):\n    return x + 1\n", tests: bool = True) -> dict:
    return {
        "id": f"q{i}",
        "source": "s",
        "question": "Write inc.",
        "test_cases": ["assert inc(1) == 2", "assert inc(2) == 3"] if tests else [],
        "inferences": [{"model_name": "m", "completion_id": k, "completion": completion} for k in range(2)],
    }


def test_rows_without_tests_are_counted_and_shown(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, [row(0), row(1, tests=False), {"id": "q2", "test_cases": ["assert True"]}])
    result = runner.invoke(app, ["execute", str(src), str(out), "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "rows: 3   programs: 2   tests run: 4" in result.stdout
    assert "rows without tests: 1 (their 2 programs not run; pass_rate null)" in result.stdout
    assert "rows without programs: 1" in result.stdout


def wait_for_rows(partial, rows: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not (partial.exists() and len(partial.read_text().splitlines()) > rows):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_ctrl_c_says_how_to_resume_and_the_resumed_summary_covers_the_whole_file(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [row(i, SLOW) for i in range(20)]
    for r in rows:  # distinct programs: identical ones would run once
        for inference in r["inferences"]:
            inference["completion"] += f"# {r['id']} {inference['completion_id']}\n"
    write_rows(src, rows)
    cmd = [*CLI, "execute", str(src), str(out), "--workers", "1", "--no-progress"]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_rows(tmp_path / "out.jsonl.partial.jsonl", 3, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    kept = int(stderr.split("interrupted: ")[1].split(" finished rows")[0])
    assert 3 <= kept < 20
    assert f"{kept} finished rows are kept in {out}.partial.jsonl; rerun the same command to resume" in stderr

    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"rows: 20 ({kept} done by an earlier run)   programs: 40   tests run: 80" in resumed.stdout
    assert "tests passed: 80 (100.0%)   programs passing all: 40" in resumed.stdout
    assert f"for {2 * (20 - kept)} programs run now" in resumed.stdout
    assert len(read_rows(out)) == 20


def test_ctrl_c_during_sampling_says_how_to_resume(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, [{**row(i), "question": f"Write inc, case {i}."} for i in range(40)])
    with FakeOpenAIServer(lambda m, p: "def inc(x):\n    return x + 1\n```", latency=0.05) as server:
        cmd = [*CLI, "sample", str(src), str(out), "--model", "m", "--base-url", server.url, "-n", "1"]
        cmd += ["--batch-size", "2", "--concurrency", "1", "--no-progress"]
        process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={"OPENAI_API_KEY": "k"}
        )
        wait_for_rows(tmp_path / "out.jsonl.partial.jsonl", 2, process)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "finished rows are kept in" in stderr and "rerun the same command to resume" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["execute", "{src}", "o.jsonl", "--workers", "-3"],
            "Invalid value for '--workers': -3 is not in the range x>=1",
        ),
        (
            ["execute", "{src}", "o.jsonl", "--isolation", "bogus"],
            "Invalid value for '--isolation': 'bogus' is not one of",
        ),
        (
            ["filter-tests", "{src}", "o.jsonl", "--reference-field", "x", "--workers", "0"],
            "'--workers': 0 is not in",
        ),
        (["execute", "{src}", "o.jsonl", "--timeout", "-1"], "timeout must be positive, got -1.0"),
        (
            ["sample", "{src}", "o.jsonl", "--model", "m", "-n", "0"],
            "Invalid value for '-n' / '--n': 0 is not in",
        ),
        (["stats", "{src}", "--format", "html"], "Invalid value for '--format': 'html' is not one of"),
        (
            ["synthesize", "{src}", "o.jsonl", "--model", "m", "--seed-format", "x"],
            "'--seed-format': 'x' is not one of",
        ),
    ],
)
def test_bad_option_values_get_one_line(tmp_path, args, message):
    src = tmp_path / "in.jsonl"
    write_rows(src, [row(0)])
    result = runner.invoke(app, [a.format(src=src) for a in args], env={"OPENAI_API_KEY": "k"})
    assert result.exit_code == 2
    assert message in result.stderr
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    assert len([line for line in result.stderr.splitlines() if message in line]) == 1


def test_stats_says_why_after_filter_rows_are_empty(tmp_path):
    src = tmp_path / "rows.jsonl"
    write_rows(src, [row(0), row(1, tests=False)])
    result = runner.invoke(app, ["stats", str(src)])
    assert result.exit_code == 0, result.output
    assert "#Examples (after filter)" in result.stdout
    assert "(after filter) '-': no row here was filtered" in result.stdout
    assert "1 questions have no test" in result.stdout
    as_json = json.loads(runner.invoke(app, ["stats", str(src), "--format", "json"]).stdout)
    assert as_json[-1]["without_tests"] == 1
