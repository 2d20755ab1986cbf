"""The Typer application every CLI module registers its verbs on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="acecoder",
    help="Reinforcement learning for code models from automatically synthesized tests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a clear error (no traceback) and return the exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@app.callback()
def _root() -> None:
    """acecoder: synthesize tests, execute programs, build preference pairs, train and evaluate."""
