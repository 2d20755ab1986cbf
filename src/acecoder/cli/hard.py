"""``acecoder hard``: the hard subset of AceCode rows (low mean pass rate, high spread)."""

from __future__ import annotations

from pathlib import Path

import typer

from acecoder.cli import options
from acecoder.cli.base import app, check_paths, fail, locks_output


@app.command("hard", short_help="The hard subset: low mean pass rate, wide spread.")
@locks_output()
def hard_command(
    input: Path = typer.Argument(
        ...,
        help=f"AceCode rows ({options.ROWS_IN}). Reads id and inferences[] (model_name, pass_rate, as "
        "`acecoder execute` writes them); rows are copied unchanged.",
    ),
    output: Path = typer.Argument(
        ..., help=f"Where to write the kept rows ({options.ROWS_IN}); INPUT itself only with --in-place."
    ),
    models: str | None = typer.Option(
        None,
        "--models",
        show_default=False,
        help="Comma-separated model names whose samples count. [default: all]",
    ),
    in_place: options.InPlace = False,
    dedupe_ids: options.DedupeIds = False,
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show a progress bar on a terminal."
    ),
) -> None:
    """Keep the hard subset: rows with a low mean pass rate and a wide spread.

    Keeps rows whose mean pass rate is <= the median row mean, then those whose pass-rate std is >= the median std of what is left."""
    check_paths([input], output, in_place=in_place)
    from acecoder.data import DataError
    from acecoder.pairs import hard_subset

    try:
        summary = hard_subset(
            input, output, models, progress=None if progress else False, dedupe_ids=dedupe_ids
        )
    except (DataError, ValueError) as e:
        raise fail(str(e)) from None
    typer.echo(summary.format())
    typer.echo(f"wrote {output}")
