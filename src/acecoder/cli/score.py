"""``acecoder score``: add a reward model's ``rm_score`` to every inference of AceCode rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import options
from acecoder.cli.base import app, check_paths, check_rows, fail, locks_output, resume_hint


@app.command("score", short_help="Add a reward model's rm_score to every inference.")
@locks_output()
def score_command(
    input: Annotated[
        Path,
        typer.Argument(
            help=f"AceCode rows ({options.ROWS_IN}). Reads question, test_cases and inferences[].completion."
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(help=f"Where to write the rows with rm_score on every inference ({options.ROWS_IN})."),
    ],
    model: Annotated[
        str,
        typer.Option(help="Reward model folder: acecoder train-rm output, a TRL reward model or AceCodeRM."),
    ],
    batch_size: Annotated[int, typer.Option(help="Programs per forward pass.")] = 8,
    max_length: Annotated[
        int | None, typer.Option(help="Token limit; longer inputs are cut (default: the training limit).")
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(help="Prompt template override (default: the one the model was trained with)."),
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="cpu, cuda or cuda:N (default: a GPU if there is one).")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads.")] = None,
    bucketing: Annotated[bool, typer.Option(help="Batch programs of similar length together.")] = True,
    resume: options.Resume = True,
    progress: options.Progress = True,
) -> None:
    """Score every inference's program (the completion's fenced block, else the completion) for its row's
    question and tests; write rm_score, keep every other field."""
    check_paths([input], output)
    check_rows(input)  # the whole input parses before the model loads
    from acecoder.data import DataError

    try:
        if batch_size < 1:
            raise ValueError("--batch-size must be at least 1")
        import torch

        if threads:
            torch.set_num_threads(threads)
        from acecoder.reward_model.rows import score_file
        from acecoder.reward_model.scorer import RewardModel

        rm = RewardModel(
            model, device=device, batch_size=batch_size, max_length=max_length, template=template,
            bucketing=bucketing,
        )  # fmt: skip
        with resume_hint(output):
            summary = score_file(
                input, output, rm, resume=resume, progress=progress, notify=lambda m: typer.echo(m, err=True)
            )
    except (DataError, ValueError, OSError) as e:
        raise fail(str(e)) from None
    typer.echo(summary.format())
    typer.echo(f"wrote {output}")
