"""``acecoder train-rl``: policy-gradient training of a code model with test-case rewards, on TRL's GRPOTrainer.

Order matters: the reward's sandbox servers start first (separate processes with their own interpreter, while
this process is still small), then the policy is loaded. Logs go to ``DIR/rl_log.jsonl`` and
``DIR/tensorboard``; checkpoints to ``DIR/checkpoint-<step>``; rerunning the same command resumes from the
last checkpoint (a different command on the same ``DIR`` is refused instead of mixing two runs).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acecoder.data.checkpoint import file_identity, fingerprint
from acecoder.data.io import write_json
from acecoder.execution.limits import SAMPLED
from acecoder.reward.model_reward import RewardModelReward
from acecoder.reward.rl_config import RLConfig
from acecoder.reward.rl_data import read_rl_rows, rl_dataset
from acecoder.reward.test_case import TestCaseReward
from acecoder.sampling.prompt import get_prompt_template

RUN_FILE = "acecoder_rl_run.json"
LOG_FILE = "rl_log.jsonl"


@dataclass
class RLResult:
    output: Path
    steps: int
    resumed_from: str | None
    final_model: Path
    last_log: dict[str, Any]
    rows: int = 0
    rows_without_tests: int = 0


def build_rewards(config: RLConfig, *, dispatcher=None) -> tuple[list[Any], list[float] | None]:
    """The reward functions (test reward first, so its servers start before any model) and their weights."""
    tests = None
    if config.reward != "rm":
        tests = TestCaseReward(
            config.test_mode,
            SAMPLED.limits(timeout=config.test_timeout, program_timeout=config.program_timeout),
            config.reward_workers or None,
            dispatcher=dispatcher,
        )
    rewards: list[Any] = [tests] if tests is not None else []
    if config.reward.startswith("rm"):
        rewards.append(RewardModelReward(config.reward_model))
    weights = config.reward_weights
    if weights is not None and len(weights) != len(rewards):
        raise ValueError(
            f"reward_weights has {len(weights)} weights for {len(rewards)} rewards ({config.reward})"
        )
    return rewards, weights


def grpo_args(config: RLConfig, output: Path, *, max_steps: int | None = None):
    """``trl.GRPOConfig`` from the config's ``trainer`` mapping; bf16 is turned off without a GPU."""
    import dataclasses

    import torch
    from trl import GRPOConfig

    fields = {f.name for f in dataclasses.fields(GRPOConfig)}
    unknown = sorted(set(config.trainer) - fields)
    if unknown:
        raise ValueError(f"trainer: unknown trl.GRPOConfig field(s) {unknown}")
    settings = dict(config.trainer)
    if max_steps is not None:
        settings["max_steps"] = max_steps
    if not torch.cuda.is_available():
        settings["bf16"] = False
        settings.setdefault("use_cpu", True)
    settings.update(output_dir=str(output), report_to="none")
    if config.reward_weights is not None:
        settings["reward_weights"] = list(config.reward_weights)
    return GRPOConfig(**settings)


def run_fingerprint(config: RLConfig, model: str, dataset: str | os.PathLike) -> str:
    """What must not change between a run and its resumption (``max_steps`` may: raising it extends a run)."""
    settings = config.to_dict()
    settings["trainer"] = {k: v for k, v in settings["trainer"].items() if k != "max_steps"}
    return fingerprint(config=settings, model=str(model), dataset=file_identity(dataset))


def train_rl(
    config: RLConfig,
    model: str,
    dataset: str | os.PathLike,
    output: str | os.PathLike,
    *,
    max_steps: int | None = None,
    resume: bool = True,
    callbacks: list[Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> RLResult:
    """Train ``model`` on the rows of ``dataset`` with ``config``; see the module docstring. Rows without tests
    are skipped (``log`` is told how many); a dataset where no row has tests is refused."""
    output = Path(output)
    data = read_rl_rows(dataset)
    if log is not None:
        log(data.describe(dataset))
    template = get_prompt_template(config.template)
    run_id = run_fingerprint(config, model, dataset)
    checkpoint = _resume_point(output, run_id) if resume else None
    args = grpo_args(
        config, output, max_steps=max_steps
    )  # checks the trainer settings before anything starts
    rewards, _ = build_rewards(config)  # sandbox servers start here, before the policy is loaded
    try:
        from transformers import AutoTokenizer
        from trl import GRPOTrainer

        tokenizer = AutoTokenizer.from_pretrained(model)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        train = rl_dataset(data.rows, template, tokenizer, prefill=config.prefill)
        output.mkdir(parents=True, exist_ok=True)
        write_json(
            output / RUN_FILE,
            {
                "fingerprint": run_id,
                "config": config.to_dict(),
                "rows": len(data.rows),
                "rows_without_tests": data.without_tests,
            },
        )
        resume_step = int(checkpoint.name.rsplit("-", 1)[1]) if checkpoint else None
        from acecoder.reward.rl_logging import JsonlLogCallback, tensorboard_callback

        extra = [JsonlLogCallback(output / LOG_FILE, resume_step=resume_step)]
        board = tensorboard_callback(output / "tensorboard")
        extra += [board] if board is not None else []
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=rewards,
            args=args,
            train_dataset=train,
            processing_class=tokenizer,
            callbacks=extra + list(callbacks or []),
        )
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        final = output / "final"
        trainer.save_model(str(final))
        tokenizer.save_pretrained(str(final))
        logs = [json.loads(line) for line in (output / LOG_FILE).read_text().splitlines() if line.strip()]
        return RLResult(
            output=output,
            steps=trainer.state.global_step,
            resumed_from=str(checkpoint) if checkpoint else None,
            final_model=final,
            last_log=next((entry for entry in reversed(logs) if "reward" in entry), logs[-1] if logs else {}),
            rows=len(data.rows),
            rows_without_tests=len(data.without_tests),
        )
    finally:
        for reward in rewards:
            if hasattr(reward, "close"):
                reward.close()


def _resume_point(output: Path, run_id: str) -> Path | None:
    """The last checkpoint of this run in ``output``; an error when ``output`` holds another run's."""
    run_file = output / RUN_FILE
    checkpoints = sorted(
        (p for p in output.glob("checkpoint-*") if p.name.rsplit("-", 1)[1].isdigit()),
        key=lambda p: int(p.name.rsplit("-", 1)[1]),
    )
    if not checkpoints:
        return None
    previous = json.loads(run_file.read_text()).get("fingerprint") if run_file.exists() else None
    if previous != run_id:
        raise ValueError(
            f"{output} holds checkpoints of a different run (other model, data or settings): "
            "choose another --output, or --no-resume to start over in it"
        )
    return checkpoints[-1]
