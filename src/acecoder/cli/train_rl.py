"""``acecoder train-rl``: RL of a code model with test-case (or reward-model) rewards on TRL's GRPOTrainer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import options
from acecoder.cli.base import EXIT_INTERRUPTED, app, fail, locks_output


@app.command("train-rl", short_help="RL on TRL GRPO with test-case rewards.")
@locks_output()
def train_rl_command(
    model: Annotated[str, typer.Option(help="Policy model: a local folder (or a Hub name when online).")],
    dataset: Annotated[
        Path, typer.Option(help=f"AceCode rows ({options.ROWS_IN}). Reads id, question and test_cases.")
    ],
    output: Annotated[
        Path, typer.Option(help="Run folder: checkpoints, rl_log.jsonl, tensorboard/, final/.")
    ],
    config: Annotated[
        Path | None,
        typer.Option(show_default=False, help="RL config YAML. [default: the bundled paper recipe]"),
    ] = None,
    max_steps: Annotated[int | None, typer.Option(help="Optimizer steps (overrides the config).")] = None,
    reward: Annotated[
        str | None,
        typer.Option(help="binary, pass_rate (also pass-rate), rm or rm+binary (overrides the config)."),
    ] = None,
    reward_model: Annotated[str | None, typer.Option(help="Reward model folder, for rm rewards.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a config key, e.g. --set trainer.learning_rate=1e-6 (repeatable)."
        ),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the last checkpoint of the same run.")] = True,
) -> None:
    """Train a policy with the test-case reward (the paper's recipe through TRL GRPO); resumable.

    Reads id, question and test_cases of each row (rows without tests are skipped and counted); writes checkpoints, rl_log.jsonl, tensorboard/ and final/
    into OUTPUT and resumes from its last checkpoint when rerun."""
    try:
        from acecoder.reward.rl_config import load_rl_config
        from acecoder.reward.rl_train import train_rl
    except ImportError as e:
        raise fail(f"{e.name} is not installed: pip install 'acecoder[train]'") from None
    from acecoder.data import DataError
    from acecoder.execution import SandboxError

    chosen = {
        "reward": reward.replace("pass-rate", "pass_rate") if reward else None,
        "reward_model": reward_model,
    }
    if not dataset.is_file():
        raise fail(f"{dataset}: no such file")
    try:
        settings = load_rl_config(config, list(set_ or []), options=chosen)
        result = train_rl(
            settings,
            model,
            dataset,
            output,
            max_steps=max_steps,
            resume=resume,
            log=lambda line: typer.echo(line, err=True),
        )
    except (DataError, ValueError, SandboxError, OSError, ImportError) as e:
        raise fail(str(e)) from None
    except KeyboardInterrupt:
        typer.secho(
            f"\ninterrupted: checkpoints are kept in {output}; rerun the same command to resume",
            err=True,
            fg=typer.colors.YELLOW,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    last = result.last_log
    summary = [
        f"steps: {result.steps}" + (f" (resumed from {result.resumed_from})" if result.resumed_from else ""),
        f"rows: {result.rows:,} trained on"
        + (f", {result.rows_without_tests:,} without tests skipped" if result.rows_without_tests else ""),
        "last step: "
        + ", ".join(
            f"{k} {v:.4g}" for k, v in last.items() if isinstance(v, float) and ("reward" in k or "pass" in k)
        ),
        f"logs: {result.output / 'rl_log.jsonl'}, {result.output / 'tensorboard'}",
        f"model: {result.final_model}",
    ]
    typer.echo("\n".join(summary))
