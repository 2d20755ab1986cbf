"""``train_reward_model``: Bradley-Terry training of a scalar-head model on preference pairs through TRL.

TRL's ``RewardTrainer`` runs the loop: loss ``-log sigmoid(r_chosen - r_rejected - margin)`` (plus reward
centering when asked), right-padded batches of chosen then rejected, and pairs longer than ``max_length``
dropped, not truncated. The pairs are tokenized here, through :class:`~acecoder.reward_model.render.Renderer`,
and handed to TRL as ``chosen_ids``/``rejected_ids``, so training sees token for token what scoring will.
After training, the model (LoRA adapters merged) is saved with its tokenizer and rendering settings, and the
held-out pairs are scored again from the saved folder for ``metrics.json``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from acecoder.data.io import write_json
from acecoder.reward_model.config import RewardModelConfig
from acecoder.reward_model.dataset import (
    PairFile,
    PreferencePair,
    pair_items,
    read_pair_files,
    read_pairs,
    split_by_question,
)
from acecoder.reward_model.loading import METADATA_FILE
from acecoder.reward_model.render import Renderer, resolve_template

INSTALL_HINT = "reward-model training needs the train extra: pip install 'acecoder[train]'"


def _encode_pairs(
    renderer: Renderer, pairs: list[PreferencePair], cache: dict[tuple[str, str], list[int]]
) -> tuple[list[list[int]], list[list[int]]]:
    """Token ids of each pair's chosen and rejected text; each distinct (prompt, program) is rendered once."""
    items = pair_items(pairs, renderer.user_message)
    todo = list(dict.fromkeys(k for u, c, r in items for k in ((u, c), (u, r)) if k not in cache))
    for start in range(0, len(todo), 4096):
        chunk = todo[start : start + 4096]
        cache.update(zip(chunk, renderer.encode(chunk), strict=True))
    return [cache[(u, c)] for u, c, _ in items], [cache[(u, r)] for u, _, r in items]


def _dataset(chosen: list[list[int]], rejected: list[list[int]], margins: list[float] | None):
    from datasets import Dataset

    columns: dict[str, Any] = {"chosen_ids": chosen, "rejected_ids": rejected}
    if margins is not None:
        columns["margin"] = margins
    return Dataset.from_dict(columns)


def _margins(pairs: list[PreferencePair], scale: float, where: str) -> list[float] | None:
    if scale == 0:
        return None
    if any(p.gap is None for p in pairs):
        raise ValueError(
            f"{where}: margin_scale needs each pair's pass rates (chosen_pass_rate, rejected_pass_rate), which "
            "acecoder pairs writes in its default format"
        )
    return [scale * p.gap for p in pairs]  # type: ignore[operator]


def _too_long(chosen: list[list[int]], rejected: list[list[int]], limit: int | None) -> int:
    if limit is None:
        return 0
    return sum(max(len(c), len(r)) > limit for c, r in zip(chosen, rejected, strict=True))


def _load_tokenizer(config: RewardModelConfig):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(config.model)
    if config.chat_template:
        from acecoder.data.settings import read_text

        tokenizer.chat_template = read_text(config.chat_template, "chat template")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _devices() -> tuple[int, bool, bool]:
    """(processes, has a GPU, GPU supports bf16)."""
    import torch
    from accelerate import PartialState

    gpu = torch.cuda.is_available()
    return PartialState().num_processes, gpu, gpu and torch.cuda.is_bf16_supported()


def _trl_args(config: RewardModelConfig, output_dir: Path, n_train: int, has_eval: bool):
    from trl import RewardConfig

    world, gpu, bf16_ok = _devices()
    accumulation = config.accumulation(world)
    per_epoch = math.ceil(n_train / (config.batch_size * accumulation * world))
    total = config.max_steps or math.ceil(per_epoch * config.epochs)
    eval_steps = config.eval_steps if config.eval_steps is not None else max(1, total // 5)
    evaluating = has_eval and eval_steps > 0
    args: dict[str, Any] = {
        "output_dir": str(output_dir / "trainer"),
        "per_device_train_batch_size": config.batch_size,
        "per_device_eval_batch_size": config.eval_batch_size or 2 * config.batch_size,
        "gradient_accumulation_steps": accumulation,
        "learning_rate": config.learning_rate,
        "lr_scheduler_type": config.lr_scheduler_type,
        "warmup_steps": config.warmup_ratio,  # below 1: a fraction of the steps (transformers 5)
        "weight_decay": config.weight_decay,
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps or -1,
        "max_length": config.max_length,
        "center_rewards_coefficient": config.center_rewards_coefficient,
        "bf16": bf16_ok if config.bf16 is None else config.bf16,
        "activation_checkpointing": gpu
        if config.gradient_checkpointing is None
        else config.gradient_checkpointing,
        "dataloader_pin_memory": gpu,
        "eval_strategy": "steps" if evaluating else "no",
        "eval_steps": eval_steps if evaluating else None,
        "save_strategy": "steps" if config.save_steps else "no",
        "save_steps": config.save_steps or 500,
        "logging_steps": config.logging_steps,
        "report_to": "none",
        "seed": config.seed,
        "disable_tqdm": False,
    }
    args.update(config.trl)
    return RewardConfig(**args), {"steps": total, "grad_accum": accumulation, "devices": world}


def _peft_config(config: RewardModelConfig):
    try:
        from peft import LoraConfig
    except ImportError:
        raise ValueError(f"lora: true needs peft; {INSTALL_HINT}") from None
    return LoraConfig(
        task_type="SEQ_CLS",
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.lora_target_modules,
    )


def _split(config: RewardModelConfig, data: PairFile) -> tuple[list[PreferencePair], list[PreferencePair]]:
    if config.eval_pairs is None:
        return split_by_question(data.pairs, config.eval_split, config.seed)
    held_out = read_pairs(config.eval_pairs)
    if held_out.rendered != data.rendered:
        raise ValueError(
            f"{config.eval_pairs}: {held_out.shape} pairs, but the training pairs are {data.shape} pairs; "
            "build both the same way"
        )
    shared = data.groups() & held_out.groups()
    if shared:
        raise ValueError(
            f"{config.eval_pairs}: {len(shared)} question(s) also in the training pairs; held-out questions "
            "must not be trained on"
        )
    return data.pairs, held_out.pairs


def _eval_history(log_history: list[dict[str, Any]]) -> list[dict[str, float]]:
    keys = ("eval_accuracy", "eval_loss", "eval_margin")
    return [
        {"step": entry["step"], **{k: entry[k] for k in keys if k in entry}}
        for entry in log_history
        if "eval_accuracy" in entry
    ]


def heldout_metrics(scores_chosen: list[float], scores_rejected: list[float]) -> dict[str, Any]:
    """Pair accuracy (a tie counts as wrong, as in TRL), ties and the mean reward margin."""
    n = len(scores_chosen)
    if n == 0:
        return {"pairs": 0, "accuracy": None, "ties": 0, "mean_margin": None}
    diffs = [c - r for c, r in zip(scores_chosen, scores_rejected, strict=True)]
    return {
        "pairs": n,
        "accuracy": sum(d > 0 for d in diffs) / n,
        "ties": sum(d == 0 for d in diffs),
        "mean_margin": sum(diffs) / n,
    }


def train_reward_model(
    pairs_path: str | os.PathLike | Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    config: RewardModelConfig,
    *,
    callbacks: Sequence[Any] = (),
) -> dict[str, Any]:
    """Train on the pairs in ``pairs_path`` (a file, or several of one shape), save the reward model to
    ``output_dir`` and return (and write to ``output_dir/metrics.json``) the held-out accuracy, the pair counts
    and the config; the top-level numbers (``accuracy``, ``pairs``, ...) summarise the nested details.
    ``callbacks``: more ``transformers.TrainerCallback`` objects (e.g. a progress display)."""
    if not config.model:
        raise ValueError("no base model: give --model (or `model:` in the config)")
    try:
        import torch
        from trl import RewardTrainer
    except ImportError as e:
        raise ValueError(f"{INSTALL_HINT} ({e})") from None
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    started = time.monotonic()
    output = Path(output_dir)
    paths = [pairs_path] if isinstance(pairs_path, (str, os.PathLike)) else list(pairs_path)
    data = read_pair_files(paths, limit=config.max_pairs)
    train_pairs, eval_pairs = _split(config, data)
    if not train_pairs:
        raise ValueError(f"{data.path}: no training pairs")
    rendered = [p.prompt for p in train_pairs + eval_pairs] if data.rendered else None
    template = resolve_template(
        config.template,
        rendered_prompts=sorted(set(rendered)) if rendered is not None else None,
        has_tests=any(p.tests for p in data.pairs),
    )
    tokenizer = _load_tokenizer(config)
    renderer = Renderer(tokenizer, template)
    cache: dict[tuple[str, str], list[int]] = {}
    train_ids = _encode_pairs(renderer, train_pairs, cache)
    eval_ids = _encode_pairs(renderer, eval_pairs, cache)
    too_long = {
        "train": _too_long(*train_ids, config.max_length),
        "eval": _too_long(*eval_ids, config.max_length),
    }
    if too_long["train"] == len(train_pairs):
        raise ValueError(
            f"every training pair is longer than max_length ({config.max_length} tokens); raise max_length"
        )
    train_set = _dataset(*train_ids, _margins(train_pairs, config.margin_scale, data.path))
    eval_kept = len(eval_pairs) - too_long["eval"]
    eval_set = (
        _dataset(*eval_ids, _margins(eval_pairs, config.margin_scale, "eval pairs")) if eval_kept else None
    )
    args, plan = _trl_args(config, output, len(train_pairs) - too_long["train"], eval_set is not None)
    trainer = RewardTrainer(
        model=config.model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=_peft_config(config) if config.lora else None,
        callbacks=list(callbacks) or None,
    )
    dropped = {"train": len(train_set) - len(trainer.train_dataset), "eval": too_long["eval"]}
    resume = _last_checkpoint(output / "trainer") if config.save_steps else None
    result = trainer.train(resume_from_checkpoint=resume)
    if not trainer.is_world_process_zero():
        return {}
    model = trainer.model.merge_and_unload() if config.lora else trainer.model
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    metadata = {"template": template.to_dict(), "max_length": config.max_length, "base_model": config.model}
    write_json(output / METADATA_FILE, metadata)
    if (output / "trainer").is_dir() and not any((output / "trainer").iterdir()):
        (output / "trainer").rmdir()  # nothing was checkpointed
    heldout = _score_heldout(output, eval_ids, config)
    metrics = {
        "accuracy": heldout["accuracy"],  # held-out pair accuracy
        "pairs": len(trainer.train_dataset),  # pairs trained on
        "heldout_pairs": heldout["pairs"],
        "dropped_for_length": dropped["train"] + dropped["eval"],
        "train_loss": result.training_loss,
        "steps": result.global_step,
        "heldout": {**heldout, "questions": len({p.group for p in eval_pairs})},
        "pair_counts": {
            "file": data.path,
            "shape": data.shape,
            "read": len(data.pairs) + data.identical,
            "identical_left_out": data.identical,
            "train": len(train_pairs),
            "eval": len(eval_pairs),
            "dropped_for_length": dropped,
            "trained_on": len(trainer.train_dataset),
        },
        "questions": {
            "train": len({p.group for p in train_pairs}),
            "eval": len({p.group for p in eval_pairs}),
        },
        "training": {
            **plan,
            "steps_done": result.global_step,
            "train_loss": result.training_loss,
            "eval_history": _eval_history(trainer.state.log_history),
            "seconds": round(time.monotonic() - started, 1),
        },
        "template": template.to_dict(),
        "config": config.to_dict(),
    }
    write_json(output / "metrics.json", metrics)
    return metrics


def _last_checkpoint(folder: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


def _score_heldout(
    output: Path, eval_ids: tuple[list[list[int]], list[list[int]]], config: RewardModelConfig
) -> dict[str, Any]:
    """Held-out accuracy from the saved folder (a round trip through what ``acecoder score`` loads), over the
    pairs TRL would keep."""
    from acecoder.reward_model.scorer import RewardModel

    limit = config.max_length
    kept = [(c, r) for c, r in zip(*eval_ids, strict=True) if limit is None or max(len(c), len(r)) <= limit]
    if not kept:
        return heldout_metrics([], [])
    rm = RewardModel(output, batch_size=config.eval_batch_size or 2 * config.batch_size, max_length=limit)
    scores = rm.score_ids([c for c, _ in kept] + [r for _, r in kept])
    return heldout_metrics(scores[: len(kept)], scores[len(kept) :])
