"""``acecoder stats``: the paper's Table 1 (examples, average tests before/after filtering, pairs) for a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli.base import app, fail


@app.command("stats")
def stats_command(
    file: Annotated[Path, typer.Argument(help="AceCode rows (synthesized or filtered) or pair rows.")],
    before: Annotated[
        Path | None,
        typer.Option(help="The rows before filtering (for the 'before' figures of a filtered file)."),
    ] = None,
    pairs: Annotated[Path | None, typer.Option(help="A pair file to count pairs per source from.")] = None,
    count_pairs: Annotated[
        bool, typer.Option(help="Build pairs (release rule) from rows whose inferences have pass rates.")
    ] = True,
    format: Annotated[str, typer.Option(help="text, markdown or json.")] = "text",
) -> None:
    """Print Table 1 of the paper for any set of rows."""
    from acecoder.data import DataError
    from acecoder.synthesis import format_table1, table1_file

    if format not in ("text", "markdown", "json"):
        raise fail(f"unknown format {format!r}; expected text, markdown or json")
    try:
        columns = table1_file(file, before=before, pairs=pairs, count_pairs=count_pairs)
    except DataError as e:
        raise fail(str(e)) from None
    typer.echo(format_table1(columns, format))
