"""``acecoder execute`` end to end: fields written, fields kept, formats, errors, and resume after kill -9."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acecoder.data import read_rows, write_rows

CLI = [sys.executable, "-c", "from acecoder.cli import main; main()", "execute"]
GOOD = "def inc(x):\n    return x + 1\n"
BAD = "def inc(x):\n    return x\n"


def _row(i: int, **extra) -> dict:
    return {
        "id": f"q{i}",
        "source": "test",
        "question": "Write inc.",
        "test_cases": ["assert inc(1) == 2", "assert inc(0) == 1", "assert inc(-1) == 0"],
        "inferences": [
            {"model_name": "m", "completion_id": 0, "completion": f"```python\n{GOOD}```", "note": "kept"},
            {"model_name": "m", "completion_id": 1, "completion": BAD},
        ],
        "context_messages": [{"role": "user", "content": "Write inc."}],
        **extra,
    }


def _run(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [*CLI, *map(str, args), "--no-progress"], capture_output=True, text=True, timeout=300
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".parquet"])
def test_writes_verdicts_and_keeps_every_other_field(tmp_path, suffix):
    rows = [_row(0, extra_field={"nested": [1, 2]}), {**_row(1), "test_cases": []}]
    source, output = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    write_rows(source, rows)
    done = _run(source, output)
    assert "programs: 2" in done.stdout and "tests passed: 3 (50.0%)" in done.stdout
    first, second = read_rows(output)
    assert [inf["test_results"] for inf in first["inferences"]] == [[1, 1, 1], [0, 0, 0]]
    assert [inf["pass_rate"] for inf in first["inferences"]] == [1.0, 0.0]
    assert first["inferences"][0]["note"] == "kept" and first["extra_field"] == {"nested": [1, 2]}
    assert first["context_messages"] == rows[0]["context_messages"]
    assert [inf["pass_rate"] for inf in second["inferences"]] == [None, None]
    assert not list(tmp_path.glob("*.partial.jsonl"))


def test_errors_flag_writes_why_tests_failed(tmp_path):
    write_rows(tmp_path / "in.jsonl", [_row(0)])
    _run(tmp_path / "in.jsonl", tmp_path / "out.jsonl", "--errors")
    (row,) = read_rows(tmp_path / "out.jsonl")
    assert row["inferences"][1]["test_errors"] == ["assertion", "assertion", "assertion"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"in\.jsonl: row 2: invalid JSON"),
        (json.dumps({"id": "x", "test_cases": "assert 1", "inferences": []}), r"row 2: field 'test_cases'"),
        (
            json.dumps({"id": "x", "test_cases": ["assert 1"], "inferences": [{"completion": 3}]}),
            r"row 2: field 'inferences\[0\]\.completion': expected a string",
        ),
    ],
)
def test_bad_rows_are_named_by_file_row_and_field(tmp_path, line, message):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(_row(0)) + "\n" + line + "\n")
    done = _run(source, tmp_path / "out.jsonl", check=False)
    assert done.returncode == 2
    assert re.search(message, done.stderr), done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_output_type_and_missing_input_fail_clearly(tmp_path):
    write_rows(tmp_path / "in.jsonl", [_row(0)])
    assert "unknown file type" in _run(tmp_path / "in.jsonl", tmp_path / "out.csv", check=False).stderr
    assert "no such file" in _run(tmp_path / "missing.jsonl", tmp_path / "out.jsonl", check=False).stderr


def test_kill_9_mid_run_then_rerun_resumes_without_redoing_rows(tmp_path):
    slow = "import time\ndef inc(x):\n    t = time.process_time()\n    while time.process_time() - t < 0.02:\n        pass\n    return x + 1\n"
    rows = [_row(i) for i in range(40)]
    for row in rows:
        row["inferences"][0]["completion"] = slow + f"# {row['id']}\n"  # distinct: identical ones run once
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(source, rows)
    partial = tmp_path / "out.jsonl.partial.jsonl"
    process = subprocess.Popen(
        [*CLI, str(source), str(output), "--workers", "1", "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if partial.exists() and len(partial.read_text().splitlines()) > 6:
            break
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not output.exists()
    done_before = len(partial.read_text().splitlines()) - 1
    assert 5 <= done_before < 40

    resumed = _run(source, output, "--workers", "1")
    assert f"resuming: {done_before} rows already done" in resumed.stderr
    # The summary covers the whole file, not only the rows run this time.
    assert (
        f"rows: 40 ({done_before} done by an earlier run)   programs: 80   tests run: 240" in resumed.stdout
    )
    assert "tests passed: 120 (50.0%)   programs passing all: 40" in resumed.stdout
    assert f"for {2 * (40 - done_before)} programs run now" in resumed.stdout
    result = read_rows(output)
    assert [r["id"] for r in result] == [f"q{i}" for i in range(40)]
    assert all([inf["pass_rate"] for inf in r["inferences"]] == [1.0, 0.0] for r in result)


def test_changed_settings_start_over_instead_of_mixing_runs(tmp_path):
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(source, [_row(0), _row(1)])
    partial = tmp_path / "out.jsonl.partial.jsonl"
    partial.write_text(
        json.dumps({"__acecoder_checkpoint__": "another-run"}) + "\n" + json.dumps(_row(0)) + "\n"
    )
    done = _run(source, output, "--timeout", "2")
    assert "resuming" not in done.stderr
    assert "programs: 4" in done.stdout
    assert len(read_rows(output)) == 2
