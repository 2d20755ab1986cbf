"""``acecoder report RUN_DIR``: RUN_DIR/report.html, a self-contained page about a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli.base import app, fail


@app.command("report", short_help="Write RUN_DIR/report.html, a self-contained page about a run.")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by acecoder run.")],
    output: Annotated[
        Path | None, typer.Option(help="Where to write the page (default: RUN_DIR/report.html).")
    ] = None,
    screenshot: Annotated[
        Path | None, typer.Option(help="Also render the page in headless Chromium to this PNG and check it.")
    ] = None,
) -> None:
    """Write the report page: statistics, pass rates, pairs, hard subset, and what later stages measured.
    Reads RUN_DIR (written by acecoder run): its stages' Parquet shards and summaries."""
    from acecoder.data import DataError
    from acecoder.data.lock import LockedError
    from acecoder.report import write_report

    try:
        path = write_report(run_dir, output)
    except (ValueError, DataError, ImportError, OSError, LockedError) as e:
        raise fail(str(e)) from None
    typer.echo(f"wrote {path}")
    if screenshot is not None:
        from acecoder.report.browser import BrowserError, render

        try:
            result = render(path, screenshot)
        except BrowserError as e:
            raise fail(str(e)) from None
        typer.echo(f"wrote {screenshot}: {result.images} figures, {result.broken_images} broken")
        if result.problems:
            raise fail("the page rendered with problems: " + "; ".join(result.problems), 1)
