"""``acecoder import-tests``: a published code-RL dataset as AceCode rows with typed tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import options
from acecoder.cli.base import app, check_paths, fail

_FORMATS = "livecodebench, apps, taco, codecontests, deepcoder, synthetic1, kodcode"


@app.command("import-tests", short_help="Convert a code-RL dataset's rows to AceCode rows.")
def import_tests_command(
    format: Annotated[str, typer.Argument(help=f"The input's format: {_FORMATS}.")],
    input: Annotated[
        Path,
        typer.Argument(
            help=f"The dataset's rows ({options.ROWS_IN}). Reads the format's own fields: livecodebench "
            "public_test_cases, private_test_cases, metadata; apps/taco input_output; codecontests public_tests, "
            "private_tests, generated_tests; deepcoder tests; synthetic1 verification_info; kodcode test_code."
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            help=f"Where to write AceCode rows ({options.ROWS_IN}); rejects go to OUT.rejected.jsonl."
        ),
    ],
) -> None:
    """Write each row as an AceCode row (id, source, question, test_cases, time_limit/memory_limit when the
    dataset gives them, and the dataset's own useful fields). Tests keep the dataset's semantics: stdin tests
    name the dataset's comparator, functional calls their function, pytest files become one test per item.
    Rows that cannot be imported are listed with the reason in OUT.rejected.jsonl."""
    from acecoder.data import DataError
    from acecoder.importers import FORMATS, import_file, rejected_path

    if format not in FORMATS:
        raise fail(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    check_paths([input], output, side_outputs=[rejected_path(output)])
    try:
        summary = import_file(format, input, output)
    except (DataError, ValueError) as e:
        raise fail(str(e)) from None
    typer.echo(summary.format_text())
    typer.echo(f"wrote {output}" + (f" and {rejected_path(output)}" if summary.rejected else ""))
