"""``acecoder hard``: the hard subset of AceCode rows (low mean pass rate, high spread)."""

from __future__ import annotations

from pathlib import Path

import typer

from acecoder.cli.base import app, fail


@app.command("hard")
def hard_command(
    input: Path = typer.Argument(
        ..., help="AceCode rows with scored inferences (.jsonl, .jsonl.gz, .parquet)."
    ),
    output: Path = typer.Argument(
        ..., help="Where to write the kept rows; the format follows the extension."
    ),
    models: str | None = typer.Option(
        None, "--models", help="Comma-separated model names whose samples count (default: all)."
    ),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show a progress bar on a terminal."
    ),
) -> None:
    """Keep rows whose mean pass rate is <= the median row mean, then those whose pass-rate std is >= the
    median std of what is left."""
    from acecoder.data import DataError
    from acecoder.pairs import hard_subset

    try:
        summary = hard_subset(input, output, models, progress=None if progress else False)
    except (DataError, ValueError) as e:
        raise fail(str(e)) from None
    typer.echo(summary.format())
    typer.echo(f"wrote {output}")
