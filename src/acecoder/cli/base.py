"""The Typer application every CLI module registers its verbs on, and what the verbs share: errors, exit
statuses, checks on input and output paths, and the hint an interrupted run prints.

Exit statuses: 0 the work is done; 1 the run ended but some work failed (failed requests, programs the engine
could not run, output withheld): rerunning the same command retries what failed; 2 bad usage or bad input,
nothing written; 130 interrupted (Ctrl-C): rerunning the same command resumes.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="acecoder",
    help="Reinforcement learning for code models from automatically synthesized tests.\n\n"
    "Verbs read and write rows as JSONL, JSONL.gz or Parquet (by extension). Exit status: 0 done; 1 some work "
    "failed (rerun the same command to retry it); 2 bad usage or input; 130 interrupted (rerun to resume).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # click >= 8.4 suggests a close verb for a typo itself; typer's own suggestion would say it twice
    suggest_commands=not hasattr(click.exceptions, "NoSuchCommand"),
)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print a clear error (no traceback) and return the exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def warn(message: str) -> None:
    """A warning a user must not miss (stderr, highlighted)."""
    typer.secho(f"WARNING: {message}", err=True, fg=typer.colors.YELLOW, bold=True)


def _print_version(value: bool) -> None:
    if value:
        from acecoder import __version__

        typer.echo(f"acecoder {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """acecoder: synthesize tests, execute programs, build preference pairs, train and evaluate."""


def check_paths(
    inputs: Sequence[Path | None],
    output: Path,
    *,
    in_place: bool | None = None,
    side_outputs: Sequence[Path] = (),
    other_inputs: Sequence[Path | None] = (),
    extra_formats: Sequence[str] = (),
) -> None:
    """Fail clearly unless every input is a readable file, the row files (``inputs``) and OUTPUT have a known row
    format (by extension), and nothing the verb writes is one of its inputs. ``in_place``: None when the verb has
    no ``--in-place``, else its value (then OUTPUT may be the first input; it is replaced atomically).
    ``side_outputs``: files the verb writes besides OUTPUT, its progress file and its lock. ``other_inputs``:
    files of other kinds (configs, templates, price tables). ``extra_formats``: more file endings a row input may
    have (``.json`` seed arrays)."""
    from acecoder.data import DataError, require_file, same_file
    from acecoder.data.io import file_format
    from acecoder.data.lock import lock_path

    try:
        file_format(output)
        for path in inputs:
            if path is not None and not path.is_dir():  # a folder is a dataset for the verbs that take one
                require_file(path)
                if not path.name.lower().endswith(tuple(extra_formats)):
                    file_format(path)
        for path in other_inputs:
            if path is not None:
                require_file(path)
    except DataError as e:
        raise fail(str(e)) from None
    everything = [p for p in [*inputs, *other_inputs] if p is not None]
    for i, path in enumerate(everything):
        if same_file(path, output) and not (in_place and i == 0):
            hint = " (pass --in-place to replace it atomically)" if in_place is False and i == 0 else ""
            raise fail(f"{output}: the output is the input {path}; write elsewhere{hint}")
        for side in [partial_path(output), lock_path(output), *side_outputs]:
            if same_file(path, side):
                raise fail(
                    f"{side}: this run writes that file, but it is the input {path}; rename one of them"
                )


@contextlib.contextmanager
def writing(output: Path) -> Iterator[None]:
    """Hold OUTPUT's write lock (``OUTPUT.lock``): a second writer of the same output stops at once with one
    line naming this process, exit 2, nothing written. The lock file (and any folder made for it) is removed
    when the verb ends."""
    from acecoder.data.lock import LockedError, WriteLock

    try:
        lock = WriteLock(output).acquire()
    except LockedError as e:
        raise fail(str(e)) from None
    except OSError as e:
        raise fail(f"{output}: cannot write there ({e.strerror or e})") from None
    try:
        yield
    finally:
        lock.release()


def locks_output(param: str = "output") -> Callable[[F], F]:
    """Decorate a verb so that it holds the write lock of its ``param`` argument (see :func:`writing`) from
    before it checks anything until it ends: every verb that writes files locks them this one way."""

    def decorate(verb: F) -> F:
        @functools.wraps(verb)
        def locked(*args: Any, **kwargs: Any) -> Any:
            target = kwargs.get(param)
            if target is None:
                return verb(*args, **kwargs)
            with writing(Path(target)):
                return verb(*args, **kwargs)

        return locked  # type: ignore[return-value]

    return decorate


def check_rows(
    path: Path,
    *,
    unique_ids: bool = False,
    check: Callable[[int, dict[str, Any]], Any] | None = None,
) -> None:
    """Read the whole input before anything runs (streaming, nothing kept): every line parses (JSONL), every row
    passes ``check(row_number, row)``, and with ``unique_ids`` no id repeats. Exit 2 naming the file, row and
    field of the first bad row."""
    from acecoder.data import DataError, iter_rows
    from acecoder.data.ids import unique_rows

    if path.is_dir():
        return
    try:
        rows = iter_rows(path)
        for number, row in unique_rows(rows, str(path)) if unique_ids else rows:
            if check is not None:
                check(number, row)
    except DataError as e:
        raise fail(str(e)) from None


def partial_path(output: Path) -> Path:
    """Where a resumable verb keeps its finished rows while it runs."""
    from acecoder.data.checkpoint import Checkpoint

    return Checkpoint.progress_path(output)


@contextlib.contextmanager
def resume_hint(output: Path) -> Iterator[None]:
    """On Ctrl-C: say what was kept and how to resume, then exit 130 (no traceback)."""
    try:
        yield
    except KeyboardInterrupt:
        partial = partial_path(output)
        kept = _finished_rows(partial)
        where = f"{kept:,} finished rows are kept in {partial}; " if kept else ""
        typer.secho(
            f"\ninterrupted: {where}rerun the same command to resume (--no-resume starts over)",
            err=True,
            fg=typer.colors.YELLOW,
        )
        # Objects the interrupt left half torn down (e.g. an event loop stopped mid-close) may complain when they
        # are collected at exit; after Ctrl-C that is noise, not news.
        sys.unraisablehook = lambda _: None
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _finished_rows(partial: Path) -> int:
    from acecoder.data.io import count_rows

    try:
        return max(0, (count_rows(partial) or 0) - 1)  # the first line is the run's fingerprint
    except OSError:
        return 0


def retry_hint(failed: int, what: str) -> None:
    """The line a verb prints before exiting 1 because ``failed`` requests failed for good."""
    typer.secho(
        f"error: {failed:,} {what} failed for good (counted above); rerun the same command to retry only them "
        "(answers already received come from the cache)",
        err=True,
        fg=typer.colors.RED,
    )


__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "app",
    "check_paths",
    "check_rows",
    "fail",
    "locks_output",
    "partial_path",
    "resume_hint",
    "retry_hint",
    "warn",
    "writing",
]
