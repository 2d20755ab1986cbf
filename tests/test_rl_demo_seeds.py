"""examples/rl_cpu_demo.py over several seeds: seed lists, the summary table and why a seed did not learn.

Pure functions of the seeds' reports; nothing is trained here (test_train_rl.py runs the real loop)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("rl_cpu_demo", REPO / "examples" / "rl_cpu_demo.py")
demo = importlib.util.module_from_spec(_spec)
sys.modules["rl_cpu_demo"] = demo
_spec.loader.exec_module(demo)


def report(seed, sft, rl, first, last, sft_greedy=0.2, rl_greedy=0.4, seconds=100.0, train=None):
    out = {
        "settings": {"seed": seed},
        "base": {"greedy_pass_rate": 0.0, "sampled_pass_rate": 0.0},
        "sft": {"greedy_pass_rate": sft_greedy, "sampled_pass_rate": sft},
        "sft_seconds": 30.0,
        "total_seconds": seconds,
        "cpu_seconds": seconds / 2,
        "load_average": [2.0, 4.0],
    }
    if train is not None:
        out["sft_train"] = {"greedy_pass_rate": train, "sampled_pass_rate": train}
    if rl is not None:
        out.update(
            rl={"greedy_pass_rate": rl_greedy, "sampled_pass_rate": rl},
            rl_seconds=seconds - 40,
            train_reward_first_5_steps=first,
            train_reward_last_5_steps=last,
        )
    return out


@pytest.mark.parametrize(
    "spec, seeds",
    [
        ("0-4", [0, 1, 2, 3, 4]),
        ("0,3,7", [0, 3, 7]),
        ("0-2,9", [0, 1, 2, 9]),
        ("2,2,1-2", [2, 1]),
        ("5", [5]),
    ],
)
def test_seed_lists(spec, seeds):
    assert demo.parse_seeds(spec) == seeds


@pytest.mark.parametrize("spec", ["a", "4-2", "-1", "1-", "", "0-x"])
def test_bad_seed_lists_are_usage_errors(spec, capsys):
    with pytest.raises(ValueError, match="--seeds"):
        demo.parse_seeds(spec)
    with pytest.raises(SystemExit) as stop:
        demo.parse_args(["--seeds", spec])
    assert stop.value.code == 2
    assert "--seeds" in capsys.readouterr().err


def test_single_seed_flag_still_works():
    assert demo.parse_args(["--seed", "3"]).seeds == [3]
    assert demo.parse_args([]).seeds == [0, 1, 2, 3, 4]


def test_summary_mean_and_range_over_seeds():
    reports = [
        report(0, 0.10, 0.30, 0.20, 0.50, sft_greedy=0.2, rl_greedy=0.6, seconds=100),
        report(1, 0.30, 0.50, 0.30, 0.60, sft_greedy=0.4, rl_greedy=0.8, seconds=140),
    ]
    summary = demo.summarize(reports)
    assert summary["seeds"] == [0, 1]
    assert summary["sft"]["sampled_pass_rate"] == {"mean": 0.2, "min": 0.1, "max": 0.3}
    assert summary["rl"]["greedy_pass_rate"] == {"mean": 0.7, "min": 0.6, "max": 0.8}
    assert summary["train_reward_last_5_steps"]["mean"] == 0.55
    assert summary["total_seconds"] == {"mean": 120.0, "min": 100.0, "max": 140.0}
    assert summary["load_average"] == {"mean": 3.0, "min": 2.0, "max": 4.0}
    assert summary["learned"] == 2 and summary["did_not_learn"] == {}
    json.dumps(summary)  # written to seeds.json


def test_seeds_that_do_not_learn_are_counted_with_the_reason():
    reports = [
        report(0, 0.20, 0.40, 0.30, 0.60),  # learned
        report(1, 0.00, 0.00, 0.01, 0.01),  # no passing sample to learn from
        report(2, 0.95, 0.96, 0.90, 0.97),  # nothing left to learn
        report(3, 0.20, 0.19, 0.30, 0.70),  # learned the training questions only
        report(4, 0.20, 0.30, 0.40, 0.40),  # training reward flat
        report(5, 0.50, 0.40, 0.97, 0.98, train=0.96),  # training questions already solved after SFT
    ]
    summary = demo.summarize(reports)
    assert summary["learned"] == 1
    why = summary["did_not_learn"]
    assert set(why) == {"1", "2", "3", "4", "5"}
    assert why["1"].startswith("no signal")
    assert why["2"].startswith("nothing left to learn")
    assert "no transfer" in why["3"]
    assert why["4"].startswith("training reward did not rise")
    assert why["5"].startswith(
        "nothing left to learn: after SFT the sampled pass rate is 0.96 on the training"
    )


def test_table_rows_and_per_seed_lines():
    reports = [report(0, 0.10, 0.30, 0.20, 0.50, train=0.5), report(1, 0.00, 0.00, 0.0, 0.0, train=0.0)]
    table = demo.format_table(demo.summarize(reports), reports)
    assert "| stage (2 seeds: mean (min-max))" in table
    assert (
        "| after SFT | 0.20 (0.20-0.20) | 0.05 (0.00-0.10) | 0.10 (0.00-0.20) (first RL steps) | 30 (30-30) |"
        in table
    )
    assert (
        "| after RL | 0.40 (0.40-0.40) | 0.15 (0.00-0.30) | 0.25 (0.00-0.50) (last steps) | 60 (60-60) |"
        in table
    )
    assert "| 0 | 0.20 -> 0.40 | 0.10 -> 0.30 | 0.50 | 0.20 -> 0.50 | 100 | yes |" in table
    assert "| 1 | 0.20 -> 0.40 | 0.00 -> 0.00 | 0.00 | 0.00 -> 0.00 | 100 | no: no signal" in table
    assert "after SFT, on the training questions: greedy 0.25 (0.00-0.50), sampled 0.25 (0.00-0.50)" in table
    assert "seeds where RL learned: 1 of 2" in table
    assert "CPU seconds per seed (the trainer's process): 50 (50-50)" in table


def test_sft_only_runs_summarize_without_rl_columns():
    reports = [report(0, 0.1, None, 0, 0), report(1, 0.3, None, 0, 0)]
    summary = demo.summarize(reports)
    assert "rl" not in summary and "learned" not in summary
    table = demo.format_table(summary, reports)
    assert "after RL" not in table and "| 0 | 0.20 | 0.10 |  |  |" in table
    with pytest.raises(ValueError):
        demo.summarize([])


def test_a_finished_seed_is_reused_only_with_the_same_settings(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"settings": {"seed": 0, "sft_steps": 100}, "sft": {}}))
    assert demo.reusable(path, {"seed": 0, "sft_steps": 100}) is not None
    assert demo.reusable(path, {"seed": 0, "sft_steps": 150}) is None
    path.write_text("{truncated")
    assert demo.reusable(path, {"seed": 0, "sft_steps": 100}) is None
    assert demo.reusable(tmp_path / "absent.json", {}) is None


def test_validation_split_never_contains_held_out_questions():
    for seed in range(5):
        train, held = demo.split_tasks(seed)
        inner, validation = demo.split_tasks(seed, validation=True)
        held_ids = {t["id"] for t in held}
        assert len(train) == 45 and len(held) == 15 and len(inner) == 34 and len(validation) == 11
        assert not held_ids & {t["id"] for t in inner + validation}
        assert {t["id"] for t in inner + validation} == {t["id"] for t in train}
