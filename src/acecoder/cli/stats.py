"""``acecoder stats``: the paper's Table 1 (examples, average tests before/after filtering, pairs) for a file."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import options
from acecoder.cli.base import app, fail


class TableFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command("stats", short_help="The paper's Table 1 for any set of rows.")
def stats_command(
    file: Annotated[
        Path,
        typer.Argument(
            help=f"AceCode rows, synthesized or filtered, or pair rows ({options.ROWS_IN}). Reads source and "
            "test_cases (n_tests_before in filtered rows, inferences[].pass_rate to count pairs)."
        ),
    ],
    before: Annotated[
        Path | None,
        typer.Option(
            show_default=False,
            help="The rows before filtering (for the 'before' figures of a filtered file).",
        ),
    ] = None,
    pairs: Annotated[
        Path | None, typer.Option(show_default=False, help="A pair file to count pairs per source from.")
    ] = None,
    count_pairs: Annotated[
        bool, typer.Option(help="Build pairs (release rule) from rows whose inferences have pass rates.")
    ] = True,
    format: Annotated[TableFormat, typer.Option(help="text, markdown or json.")] = TableFormat.text,
) -> None:
    """Print Table 1 of the paper for any set of rows."""
    from acecoder.data import DataError, require_file
    from acecoder.synthesis import format_table1, table1_file

    try:
        for path in (file, before, pairs):
            if path is not None:
                require_file(path)
        columns = table1_file(file, before=before, pairs=pairs, count_pairs=count_pairs)
    except DataError as e:
        raise fail(str(e)) from None
    typer.echo(format_table1(columns, format.value))
