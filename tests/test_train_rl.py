"""acecoder train-rl: the bundled paper recipe, prompts from the sampling template, and a real 2-step GRPO run
with the test reward on a tiny local model (logs rewards, checkpoints, resumes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from acecoder.data import DataError
from acecoder.reward.rl_config import load_rl_config, paper_recipe_path
from acecoder.reward.rl_data import read_rl_rows, render_prompt
from acecoder.sampling import PREFILL_SENTENCE, SAMPLING_TEMPLATE

sys.path.insert(0, str(Path(__file__).parent))
from tiny_models import tiny_chat_model

TINY = """
reward: binary
test_timeout: 0.5
reward_workers: 1
trainer:
  num_generations: 2
  generation_batch_size: 4
  per_device_train_batch_size: 2
  learning_rate: 1.0e-4
  beta: 0.01
  scale_rewards: batch
  max_completion_length: 12
  logging_steps: 1
  save_steps: 1
  seed: 0
"""


def test_paper_recipe_builds_the_papers_grpo_settings(tmp_path):
    from acecoder.reward.rl_train import grpo_args

    config = load_rl_config()
    assert config.reward == "binary" and config.test_mode == "binary" and config.prefill
    args = grpo_args(config, tmp_path)
    assert (args.num_generations, args.learning_rate, args.beta, args.temperature) == (8, 5e-7, 0.01, 1.0)
    assert args.generation_batch_size == 256 * 8
    assert args.per_device_train_batch_size * args.gradient_accumulation_steps == 128
    assert args.max_completion_length == 2048 and args.num_iterations == 1 and args.scale_rewards == "batch"
    assert args.bf16 is False  # no GPU here
    assert paper_recipe_path().is_file()


def test_overrides_and_bad_configs(tmp_path):
    config = load_rl_config(None, ["trainer.learning_rate=1e-6", "reward=pass_rate", "trainer.max_steps=3"])
    assert config.trainer["learning_rate"] == 1e-6 and config.test_mode == "pass_rate"
    with pytest.raises(ValueError, match="needs reward_model"):
        load_rl_config(None, ["reward=rm"])
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        load_rl_config(None, ["trainer.learning_rate"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("reward: binary\nrewards: 3\n")
    with pytest.raises(ValueError, match=r"bad.yaml: unknown key\(s\) \['rewards'\]"):
        load_rl_config(bad)
    from acecoder.reward.rl_train import grpo_args

    with pytest.raises(ValueError, match=r"unknown trl.GRPOConfig field\(s\) \['learning_rat'\]"):
        grpo_args(load_rl_config(None, ["trainer.learning_rat=1"]), tmp_path)


def test_prompts_use_the_sampling_template_and_leave_the_prefill_open():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_chat_model())
    row = {
        "id": "a",
        "question": "Add two numbers.",
        "test_cases": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"],
    }
    text = render_prompt(SAMPLING_TEMPLATE, tokenizer, row)
    assert text.startswith(
        "<|im_start|>user\n" + SAMPLING_TEMPLATE.user_message(row["question"], row["test_cases"])
    )
    assert text.endswith(f"<|im_start|>assistant\n{PREFILL_SENTENCE}\n```python")
    no_prefill = render_prompt(SAMPLING_TEMPLATE, tokenizer, row, prefill=False)
    assert no_prefill.endswith("<|im_start|>assistant\n")


def test_rows_without_tests_are_skipped_and_counted_and_a_file_without_any_is_refused(tmp_path):
    rows = tmp_path / "rows.jsonl"
    lines = [
        {"id": "a", "question": "q", "test_cases": []},
        {"id": "b", "question": "q", "test_cases": ["assert 1"]},
    ]
    rows.write_text("".join(json.dumps(r) + "\n" for r in lines))
    data = read_rl_rows(rows)
    assert [r["id"] for r in data.rows] == ["b"] and data.without_tests == [1]
    assert (
        data.describe("rows.jsonl") == "rows.jsonl: 1 of 2 rows have tests; 1 without tests skipped (rows 1)"
    )
    rows.write_text(json.dumps(lines[0]) + "\n")
    with pytest.raises(DataError, match=r"rows.jsonl: field 'test_cases': none of its 1 rows has tests"):
        read_rl_rows(rows)
    rows.write_text(json.dumps({"id": "a", "question": "q"}) + "\n")
    with pytest.raises(DataError, match=r"rows.jsonl: row 1: field 'test_cases': missing"):
        read_rl_rows(rows)


@pytest.mark.shared_data
def test_codets_real_file_trains_on_the_rows_that_have_tests(shared_data):
    data = read_rl_rows(shared_data / "codet" / "humaneval_codegen16B_acecode_format.jsonl")
    assert (len(data.rows), len(data.without_tests)) == (137, 27) and data.without_tests[0] == 31


@pytest.mark.slow
def test_grpo_runs_with_the_test_reward_logs_and_resumes(tmp_path):
    model = tiny_chat_model()
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"r{i}",
                    "question": f"Write add{i}.",
                    "test_cases": [f"assert add(1, {i}) == {1 + i}"],
                }
            )
            + "\n"
            for i in range(4)
        )
        + json.dumps({"id": "untested", "question": "Write nothing.", "test_cases": []})
        + "\n"
    )
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    out = tmp_path / "run"
    cli = str(Path(sys.executable).with_name("acecoder"))
    base = [cli, "train-rl", "--model", str(model), "--dataset", str(rows), "--output", str(out)]
    first = subprocess.run(
        [*base, "--config", str(config), "--max-steps", "1"], capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert "4 of 5 rows have tests; 1 without tests skipped (rows 5)" in first.stderr
    assert "rows: 4 trained on, 1 without tests skipped" in first.stdout
    logs = [json.loads(line) for line in (out / "rl_log.jsonl").read_text().splitlines()]
    step1 = next(log for log in logs if "reward" in log)
    assert step1["step"] == 1 and step1["rewards/tests_binary/mean"] is not None
    assert {"tests_binary/all_pass_rate", "tests_binary/timeout_rate", "tests_binary/infra_errors"} <= set(
        step1
    )
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    assert (out / "checkpoint-1").is_dir() and (out / "final" / "config.json").is_file()

    second = subprocess.run(
        [*base, "--config", str(config), "--max-steps", "2"], capture_output=True, text=True
    )
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resumed from" in second.stdout and "checkpoint-1" in second.stdout
    steps = [json.loads(line)["step"] for line in (out / "rl_log.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps[-1] == 2

    other = subprocess.run(
        [*base, "--config", str(config), "--max-steps", "2", "--set", "trainer.learning_rate=0.1"],
        capture_output=True,
        text=True,
    )
    assert other.returncode != 0 and "holds checkpoints of a different run" in other.stderr
    assert "Traceback" not in other.stderr


def test_one_loader_for_every_config(tmp_path):
    """train-rl reads its file and overrides as train-rm and the run config do: the one --set grammar, keys and
    types checked, the file or override named."""
    from acecoder.data.settings import config_from
    from acecoder.pipeline.runconfig import load_run_config
    from acecoder.reward_model.config import RewardModelConfig

    with pytest.raises(ValueError, match=r"--set rewrd=rm: unknown key\(s\) \['rewrd'\]"):
        load_rl_config(None, ["rewrd=rm"])
    with pytest.raises(
        ValueError, match=r"--set test_timeout=soon: 'test_timeout' must be float, got 'soon'"
    ):
        load_rl_config(None, ["test_timeout=soon"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("reward: [binary]\n")
    with pytest.raises(ValueError, match=r"bad.yaml: 'reward' must be str"):
        load_rl_config(bad)
    assert load_rl_config(None, ["program_timeout=0"]).program_timeout is None  # 0: no budget, as everywhere
    rm = config_from(RewardModelConfig, sets=["learning_rate=2e-6", "trl.optim=adamw_torch"])
    assert rm.learning_rate == 2e-6 and rm.trl == {"optim": "adamw_torch"}
    run = tmp_path / "run.yaml"
    run.write_text("run_dir: out\nllm: {rpm: 60}\n")
    assert load_run_config(run, overrides=["stages.execute.timeout=2e0"]).stages["execute"]["timeout"] == 2.0
    assert load_run_config(run).llm.rpm == 60.0
    with pytest.raises(ValueError, match=r"run.yaml: execution: 'workers' must be int, got 'four'"):
        load_run_config(run, overrides=["execution.workers=four"])
