"""`acecoder evaluate` on samples that already carry verdicts (issue 22): it warns before running, replaces them,
keeps the old values under previous_* and says so in the summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from acecoder.data import read_rows, write_rows

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "acecode_sample.jsonl"
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]


def evaluate(source: Path, out: Path) -> subprocess.CompletedProcess:
    args = [*CLI, "evaluate", str(source), str(out), "--benchmark", "humaneval", "--no-progress", "--k", "1"]
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


def test_earlier_verdicts_are_kept_under_another_name_with_a_warning(tmp_path):
    rows = read_rows(SAMPLE)[1:3]  # HumanEval/0 and /1, 16 CodeT samples each
    for row in rows:
        for inference in row["inferences"]:
            inference["base_status"] = "stale"  # as an earlier evaluation (of another version) left them
            inference["base_fail_tests"] = ["old"]
    write_rows(tmp_path / "judged_before.jsonl", rows)
    done = evaluate(tmp_path / "judged_before.jsonl", tmp_path / "again.jsonl")
    assert done.returncode == 0, done.stderr
    assert "judged_before.jsonl: 32 samples already have base_status/plus_status" in done.stderr
    assert "kept as previous_base_status" in done.stderr
    assert "32 samples already had verdicts" in done.stdout  # the summary's note
    for row in read_rows(tmp_path / "again.jsonl"):
        for inference in row["inferences"]:
            assert inference["previous_base_status"] == "stale" and inference["previous_base_fail_tests"] == [
                "old"
            ]
            assert inference["base_status"] in ("pass", "fail")
    assert "32 samples already had verdicts" in (tmp_path / "again.summary.md").read_text()


def test_fresh_samples_get_no_warning(tmp_path):
    write_rows(tmp_path / "s.jsonl", read_rows(SAMPLE)[1:2])
    done = evaluate(tmp_path / "s.jsonl", tmp_path / "o.jsonl")
    assert done.returncode == 0 and "already" not in done.stderr + done.stdout
    assert not any(
        k.startswith("previous_") for r in read_rows(tmp_path / "o.jsonl") for i in r["inferences"] for k in i
    )
