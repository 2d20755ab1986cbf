"""``acecoder train-rm``: train a Bradley-Terry reward model on preference pairs (TRL's RewardTrainer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import options
from acecoder.cli.base import EXIT_INTERRUPTED, app, check_rows, fail, locks_output


@app.command("train-rm", short_help="Train a Bradley-Terry reward model on preference pairs (TRL).")
@locks_output("output_dir")
def train_rm_command(
    pairs: Annotated[
        Path,
        typer.Argument(
            help=f"Preference pairs ({options.ROWS_IN}). Reads question/chosen/rejected (`acecoder pairs`), "
            "prompt/chosen/rejected (--format trl) or instruction/input/chosen/rejected (AceCodePair-300K)."
        ),
    ],
    output_dir: Annotated[Path, typer.Argument(help="Where to save the reward model and metrics.json.")],
    model: Annotated[str | None, typer.Option(help="Base model: a causal LM folder or hub id.")] = None,
    config: Annotated[
        str | None,
        typer.Option(help="YAML/JSON config file, or a bundled one: paper (the AceCodeRM recipe)."),
    ] = None,
    max_steps: Annotated[int | None, typer.Option(help="Optimizer steps (overrides --epochs).")] = None,
    epochs: Annotated[float | None, typer.Option(help="Passes over the training pairs.")] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="Peak learning rate.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Pairs per device per step.")] = None,
    grad_accum: Annotated[
        int | None, typer.Option(help="Gradient accumulation steps (instead of global_batch_size).")
    ] = None,
    max_length: Annotated[
        int | None, typer.Option(help="Token limit; longer pairs are dropped and counted.")
    ] = None,
    lora: Annotated[bool | None, typer.Option("--lora/--no-lora", help="Train LoRA adapters (peft).")] = None,
    eval_split: Annotated[
        float | None, typer.Option(help="Fraction of questions held out for evaluation.")
    ] = None,
    eval_pairs: Annotated[
        str | None, typer.Option(help="Held-out pairs file (instead of --eval-split).")
    ] = None,
    template: Annotated[
        str | None, typer.Option(help="Prompt template: sampling, acecodepair or a file (default: detected).")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Any config key: --set key=value (value as YAML; repeatable)."),
    ] = None,
) -> None:
    """Train a reward model (scalar head, loss -log sigmoid(r_chosen - r_rejected)); held-out questions give
    the pair accuracy in OUTPUT_DIR/metrics.json."""
    from acecoder.data import DataError
    from acecoder.reward_model.config import load_config

    options = {
        "model": model,
        "max_steps": max_steps,
        "epochs": epochs,
        "learning_rate": lr,
        "batch_size": batch_size,
        "grad_accum": grad_accum,
        "max_length": max_length,
        "lora": lora,
        "eval_split": eval_split,
        "eval_pairs": eval_pairs,
        "template": template,
        "num_threads": threads,
    }
    try:
        settings = load_config(config, options, set_)
        if not pairs.is_file():
            raise DataError("no such file", path=str(pairs))
        check_rows(pairs)  # the whole pair file parses before the model loads
        from acecoder.reward_model.train import train_reward_model

        metrics = train_reward_model(pairs, output_dir, settings)
    except (DataError, ValueError, OSError) as e:
        raise fail(str(e)) from None
    except KeyboardInterrupt:
        kept = f"trainer checkpoints in {output_dir / 'trainer'} (a rerun resumes from the last)"
        raise fail(
            f"interrupted; {kept if settings.save_steps else 'nothing saved'}", EXIT_INTERRUPTED
        ) from None
    if metrics:
        typer.echo(_summary(metrics, output_dir))


def _summary(metrics: dict, output_dir: Path) -> str:
    p, h, t = metrics["pair_counts"], metrics["heldout"], metrics["training"]
    accuracy = "n/a" if h["accuracy"] is None else f"{h['accuracy']:.4f}"
    lines = [
        f"pairs read: {p['read']}   identical programs left out: {p['identical_left_out']}",
        f"train: {p['train']} pairs, {metrics['questions']['train']} questions   "
        f"held out: {p['eval']} pairs, {metrics['questions']['eval']} questions",
        f"dropped for length (> max_length): train {p['dropped_for_length']['train']}, "
        f"held out {p['dropped_for_length']['eval']}",
        f"steps: {t['steps_done']}   train loss: {t['train_loss']:.4f}   time: {t['seconds']}s",
        f"held-out pair accuracy: {accuracy} on {h['pairs']} pairs (ties: {h['ties']})",
        f"wrote {output_dir} (the reward model, its tokenizer and metrics.json)",
    ]
    return "\n".join(lines)
