"""``acecoder run CONFIG`` and ``acecoder status RUN_DIR``: the whole pipeline from one YAML config."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli.base import EXIT_INTERRUPTED, app, fail


@app.command("run", short_help="Run the whole pipeline from one YAML config, resumably.")
def run_command(
    config: Annotated[
        str | None,
        typer.Argument(
            show_default=False,
            help="A run config (YAML), or the name of a bundled one: quickstart (runs in runs/quickstart).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="STAGE",
            help="Redo this stage and those after it (the stages before must be finished).",
        ),
    ] = None,
    stop: Annotated[
        str | None, typer.Option("--until", metavar="STAGE", help="Stop after this stage.")
    ] = None,
    run_dir: Annotated[
        Path | None, typer.Option(help="The run directory (default: run_dir in the config).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a config key, e.g. --set stages.execute.timeout=2 (repeatable)."
        ),
    ] = None,
    keys: Annotated[
        str | None,
        typer.Option(
            "--keys",
            metavar="STAGE",
            show_default=False,
            help="Print the settings STAGE takes under stages.STAGE in a config, with their defaults, and exit.",
        ),
    ] = None,
) -> None:
    """Run the stages of CONFIG in order; a rerun resumes at the first unfinished shard of the first unfinished
    stage, and a changed setting redoes that stage and those after it. Writes RUN_DIR/report.html when the
    config has a report stage. Reads CONFIG (YAML; a bundled name such as quickstart); each stage reads and writes
    Parquet shards under the run directory.

    \b
    Stages, in the order they run (whatever order the config lists them in):
      synthesize, filter-tests, augment, sample, execute, pairs, hard, stats,
      train-rm, score, evaluate, rewards, report
    Each stage's settings and defaults: acecoder run --keys STAGE, and the
    README section "Stage settings"."""
    from acecoder.data import DataError
    from acecoder.execution import SandboxError
    from acecoder.pipeline.runconfig import load_run_config
    from acecoder.pipeline.runner import PipelineError, run_pipeline

    if keys is not None:
        typer.echo(_stage_keys(keys))
        return
    if config is None:
        raise fail("give a run config (a YAML file, or quickstart), or --keys STAGE")
    try:
        cfg = load_run_config(config, overrides=set_ or [], run_dir=run_dir)
    except (ValueError, TypeError) as e:
        raise fail(str(e)) from None
    log = lambda line: typer.echo(line, err=True)  # noqa: E731
    try:
        run_pipeline(cfg, start=start, stop=stop, log=log)
    except KeyboardInterrupt:
        from acecoder.rundir.status import kept_after_interrupt

        sys.unraisablehook = lambda _: None  # objects torn down mid-close may complain at exit: noise
        typer.secho(
            f"\ninterrupted: kept in {cfg.run_dir}: {kept_after_interrupt(cfg.run_dir)}; rerun the same command "
            "to resume",
            err=True,
            fg=typer.colors.YELLOW,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (PipelineError, DataError, SandboxError, ValueError, ImportError) as e:
        raise fail(str(e)) from None
    typer.echo(f"run directory: {cfg.run_dir} (acecoder status {cfg.run_dir})")


def _stage_keys(name: str) -> str:
    """The settings of a stage with their defaults, one per line, as a config would write them."""
    import inspect

    import yaml

    from acecoder.pipeline.runconfig import RunConfig
    from acecoder.pipeline.stages import STAGES

    if name not in STAGES:
        raise fail(f"--keys {name}: not a stage; stages: {', '.join(STAGES)}")
    stage = STAGES[name]()
    lines = [f"# {name}: {stage.help}", f"# (settings under stages.{name}; `enabled: false` turns it off)"]
    for key, default in stage.defaults(RunConfig(run_dir=Path("."))).items():
        shown = (
            "(required)"
            if default is inspect.Parameter.empty
            else yaml.safe_dump(default, default_flow_style=True).strip()
        )
        shown = shown.removesuffix("\n...").removesuffix(" ...")
        lines.append(f"{key}: {shown}")
    return "\n".join(lines)


@app.command("status", short_help="Show each stage's state, counts and cost in a run directory.")
def status_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by acecoder run.")],
    json_: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Each stage's state (done, running, interrupted, pending, stale, skipped), shards, rows, time and LLM cost.
    Reads RUN_DIR (written by acecoder run)."""
    from acecoder.rundir.status import format_status, run_status

    try:
        entries = run_status(run_dir)
    except ValueError as e:
        raise fail(str(e)) from None
    if json_:
        import json

        typer.echo(json.dumps(entries, indent=2))
    else:
        typer.echo(format_status(entries))
