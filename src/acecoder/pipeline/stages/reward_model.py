"""``train-rm`` and ``score`` in a run: :func:`acecoder.reward_model.train_reward_model` and
:func:`acecoder.reward_model.score_file`, the functions of ``acecoder train-rm`` and ``acecoder score``.

``train-rm`` trains on the shards of the ``pairs`` stage and saves the model to ``RUN_DIR/train-rm/model`` with
``metrics.json`` beside it (held-out ``accuracy``, ``pairs`` trained on, ...); ``score`` adds ``rm_score`` to the
run's rows with that model, or with the folder its ``model`` setting names.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from acecoder.data.io import write_json
from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext, StageSkipped, dataclass_defaults, pick


class TrainRM(Stage):
    name = "train-rm"
    help = "a Bradley-Terry reward model on the pairs (acecoder train-rm)"
    kind = "global"
    output = None
    reads = "pairs"
    path_settings = ("chat_template", "eval_pairs")
    volatile = ("num_threads", "logging_steps")

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        from acecoder.reward_model.config import RewardModelConfig

        return dataclass_defaults(RewardModelConfig)

    def check(self, ctx: StageContext) -> None:
        from acecoder.reward_model.config import RewardModelConfig

        self.config = RewardModelConfig(**pick(ctx.settings, dataclass_defaults(RewardModelConfig)))
        if not self.config.model:
            raise StageSkipped(
                f"no base model: set stages.{self.name}.model (a causal LM folder or hub id, or tiny: a small random "
                "model built locally, for offline demos)"
            )

    def run_all(self, ctx: StageContext, output: Path) -> dict[str, Any]:
        from acecoder.pipeline.stages.training_output import training_output
        from acecoder.reward_model.train import train_reward_model

        log_file = ctx.dir.path / "train.log"
        # The trainer's bars are replaced by one of ours; its metric dicts go to the log file.
        config = dataclasses.replace(self.config, trl={"disable_tqdm": True, **self.config.trl})
        if self.config.num_threads:
            import torch

            torch.set_num_threads(self.config.num_threads)
        with training_output(log_file, self.name) as progress:
            if (
                config.model == "tiny"
            ):  # offline demos: a small random Qwen2 built here, tokenizer from the pairs
                config = dataclasses.replace(config, model=str(_tiny_base(ctx.inputs, ctx.dir.path / "base")))
            metrics = train_reward_model(ctx.inputs, ctx.dir.path / "model", config, callbacks=[progress])
        write_json(ctx.dir.path / "metrics.json", metrics)
        heldout = _heldout_questions(ctx.inputs, config)
        write_json(ctx.dir.path / HELDOUT_FILE, heldout)
        ctx.log(f"{self.name}: {_summary_line(metrics)}; details in {log_file}")
        summary = {k: v for k, v in metrics.items() if isinstance(v, (int, float, type(None)))}
        return {"rows_in": metrics["pair_counts"]["read"], "summary": summary}


HELDOUT_FILE = "heldout_questions.json"
"""The questions train-rm held out (never trained on): what ``evaluate`` with ``questions: heldout`` ranks."""


def _summary_line(metrics: dict[str, Any]) -> str:
    h, q = metrics["heldout"], metrics["questions"]
    if h["accuracy"] is None:
        held = "no held-out pairs (eval_split 0)"
    else:
        held = (
            f"held-out pair accuracy {h['accuracy']:.3f} (chance 0.500) on {h['pairs']} pairs of {q['eval']} "
            "questions it never trained on"
        )
    return (
        f"{held}; trained on {metrics['pairs']} pairs of {q['train']} questions, {metrics['steps']} steps, "
        f"loss {metrics['train_loss']:.3f}"
    )


def _heldout_questions(pair_files: list[Path], config: Any) -> dict[str, Any]:
    """The ids of the questions the reward model did not train on, found as training split them."""
    from acecoder.reward_model.dataset import read_pair_files, read_pairs, split_by_question

    if config.eval_pairs is not None:
        return {"questions": sorted(read_pairs(config.eval_pairs).groups()), "from": config.eval_pairs}
    pairs = read_pair_files(pair_files, limit=config.max_pairs).pairs
    _, held = split_by_question(pairs, config.eval_split, config.seed)
    return {
        "questions": sorted({p.group for p in held}),
        "from": f"eval_split {config.eval_split} of the questions (seed {config.seed})",
    }


def _tiny_base(pair_files: list[Path], out_dir: Path) -> Path:
    """A tiny random-weight Qwen2 whose tokenizer is trained on the run's own pairs (questions and programs)."""
    from acecoder.data import iter_rows
    from acecoder.reward_model.tiny import build_tiny_chat_model

    texts: list[str] = []
    for path in pair_files:
        for _, row in iter_rows(path):
            texts += [str(row.get(k) or "") for k in ("question", "chosen", "rejected", "instruction")]
            if len(texts) > 4000:
                break
    return build_tiny_chat_model(out_dir, texts=[t for t in texts if t] or None, vocab_size=1024)


class Score(Stage):
    name = "score"
    help = "rm_score on every inference with the reward model (acecoder score)"
    uses = ("train-rm",)
    path_settings = ("model",)
    volatile = ("batch_size", "device", "bucketing")

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        return {
            "model": None,  # default: the run's train-rm model
            "batch_size": 8,
            "max_length": None,
            "template": None,
            "device": None,
            "bucketing": True,
        }

    def check(self, ctx: StageContext) -> None:
        trained = ctx.config.stages.get("train-rm")
        if ctx.settings["model"] is None and (trained is None or trained.get("enabled") is False):
            raise StageSkipped(
                f"no reward model: set stages.{self.name}.model (a reward-model folder) or add a train-rm stage"
            )

    def open(self, ctx: StageContext) -> None:
        from acecoder.reward_model.scorer import RewardModel

        model = ctx.settings["model"]
        if model is None:
            if "train-rm" not in ctx.upstream:
                raise ValueError(f"stages.{self.name}: train-rm did not run; set stages.{self.name}.model")
            model = ctx.run_dir / "train-rm" / "model"
        s = ctx.settings
        self.model = RewardModel(
            model, device=s["device"], batch_size=s["batch_size"], max_length=s["max_length"],
            template=s["template"], bucketing=s["bucketing"],
        )  # fmt: skip

    def run_shard(self, ctx: StageContext, source: Path, output: Path) -> dict[str, Any]:
        from acecoder.reward_model.rows import score_file

        summary = score_file(source, output, self.model, progress=False)
        return {"rows_in": summary.rows, "rows_out": summary.rows, "summary": summary.to_dict()}
