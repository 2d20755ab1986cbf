"""The ``evaluate`` stage of ``acecoder run``: the run's rows that are benchmark tasks (the bundled sample's CodeT
HumanEval rows, not its AceCode row) judged as ``acecoder evaluate`` judges them; verdicts against the official
labels the sample carries; the Table-2 summary the report reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from acecoder.data import iter_rows
from acecoder.evaluation.report import table2
from acecoder.pipeline.runconfig import load_run_config
from acecoder.pipeline.runner import run_pipeline

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "acecode_sample.jsonl"


def test_evaluate_stage_on_the_bundled_sample(tmp_path, capsys):
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()[:7]]  # oss_1 + HumanEval/0..5
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = {
        "run_dir": "run",
        "input": str(source),
        "shard_rows": 4,
        "execution": {"workers": 2},
        "stages": {"execute": {}, "evaluate": {"benchmark": "humaneval", "k": [1, 10]}, "report": {}},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    lines: list[str] = []
    run_pipeline(load_run_config(tmp_path / "c.yaml"), log=lines.append)
    run = tmp_path / "run"
    assert "no score stage in this run, so no best-of-N by rm_score" in capsys.readouterr().out
    assert any("6 of 7 rows are humaneval tasks" in line for line in lines)

    judged = [
        row for shard in sorted((run / "evaluate").glob("shard-*.parquet")) for _, row in iter_rows(shard)
    ]
    assert [r["id"] for r in judged] == [f"HumanEval/{i}" for i in range(6)]
    verdicts = [(i["base_status"], i["gt_passed"]) for r in judged for i in r["inferences"]]
    assert len(verdicts) == 96
    agree = sum((status == "pass") == bool(label) for status, label in verdicts)
    assert agree >= 95, verdicts  # CodeT's official HumanEval labels
    assert {status for status, _ in verdicts} == {"pass", "fail"}
    assert all(isinstance(json.loads(i["base_fail_tests"]), list) for r in judged for i in r["inferences"])

    summary = json.loads((run / "evaluate" / "summary.json").read_text())
    methods = [r["method"] for r in summary["rows"]]
    assert methods == ["Average", "Oracle (pass@16)", "Best-of-16 (pass_rate)"]
    average = 100 * sum(status == "pass" for status, _ in verdicts) / 96
    assert summary["rows"][0]["humaneval pass@1"] == pytest.approx(average)
    assert set(summary["best_of_n"]["pass_rate"]) == {"1", "2", "4", "8", "16"}
    assert summary["best_of_n"]["pass_rate"]["1"] == pytest.approx(average / 100)
    assert "Best-of-N evaluation: humaneval" in (run / "report.html").read_text()


def test_table2_layout_of_an_evaluation_summary():
    summary = {
        "benchmark": "mbpp+",
        "notes": [],
        "groups": {
            "m1": {
                "samples_per_task": [4, 4],
                "pass@k": {"base": {"pass@1": 0.5}, "plus": {"pass@1": 0.25}},
                "average": {"base": 0.5, "plus": 0.25},
                "oracle": {"base": 1.0, "plus": 0.5},
                "best_of_n": {
                    "rm_score": {"1": {"base": 0.5, "plus": 0.25}, "4": {"base": 0.75, "plus": 0.5}}
                },
            },
            "m2": {"samples_per_task": [1, 1], "pass@k": {"base": {"pass@1": 1.0}, "plus": {"pass@1": 0.0}}},
        },
    }
    out = table2(summary)
    assert out["rows"] == [
        {"group": "m1", "method": "Average", "mbpp pass@1": 50.0, "mbpp+ pass@1": 25.0},
        {"group": "m1", "method": "Oracle (pass@4)", "mbpp pass@1": 100.0, "mbpp+ pass@1": 50.0},
        {"group": "m1", "method": "Best-of-4 (rm_score)", "mbpp pass@1": 75.0, "mbpp+ pass@1": 50.0},
        {"group": "m2", "method": "pass@1", "mbpp pass@1": 100.0, "mbpp+ pass@1": 0.0},
    ]
    assert out["best_of_n"] == {"rm_score": {"1": 0.25, "4": 0.5}}
