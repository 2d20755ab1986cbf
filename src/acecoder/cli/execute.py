"""``acecoder execute``: re-execute every inference of every row against the row's tests."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import executor_options
from acecoder.cli.base import app, fail
from acecoder.data.io import count_rows, file_format, iter_rows
from acecoder.data.schema import DataError, validate_acecode_row
from acecoder.execution.engine import DEFAULT_PRELOAD, ExecutionEngine, ExecutionSummary, SandboxError
from acecoder.execution.limits import Limits
from acecoder.execution.rows import execute_rows
from acecoder.pipeline.checkpoint import Checkpoint, file_identity, fingerprint


@app.command("execute")
def execute_command(
    input: Annotated[Path, typer.Argument(help="AceCode-shaped rows (.jsonl, .jsonl.gz or .parquet).")],
    output: Annotated[Path, typer.Argument(help="Where to write the rows with test_results and pass_rate.")],
    workers: Annotated[int, typer.Option(help="Sandbox workers (default: one per core).")] = 0,
    timeout: Annotated[float, typer.Option(help="CPU seconds per test.")] = Limits.timeout,
    setup_timeout: Annotated[
        float, typer.Option(help="CPU seconds for the program's top level.")
    ] = Limits.setup_timeout,
    wall_factor: Annotated[
        float, typer.Option(help="Wall-clock backstop = factor x CPU limit + extra.")
    ] = Limits.wall_factor,
    wall_extra: Annotated[
        float, typer.Option(help="Seconds added to the wall-clock backstop.")
    ] = Limits.wall_extra,
    memory_mb: Annotated[int, typer.Option(help="Address-space limit per program, MiB.")] = Limits.memory_mb,
    output_bytes: Annotated[
        int, typer.Option(help="Captured output kept per program, bytes.")
    ] = Limits.output_bytes,
    max_processes: Annotated[
        int, typer.Option(help="Processes + threads a program may have.")
    ] = Limits.max_processes,
    strict_equality: Annotated[bool, typer.Option(help="Reject values whose type forges ==.")] = True,
    interpreter: Annotated[str | None, typer.Option(help="Python that runs the programs.")] = None,
    isolation: Annotated[str, typer.Option(help="auto, namespaces (required) or none.")] = "auto",
    preload: Annotated[
        str, typer.Option(help="Comma-separated modules imported once per worker ('' for none).")
    ] = ",".join(DEFAULT_PRELOAD),
    errors: Annotated[bool, typer.Option(help="Also write test_errors (why each test failed).")] = False,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run of the same command.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    executor: executor_options.Executor = executor_options.ExecutorKind.local,
    ray_address: executor_options.RayAddress = None,
) -> None:
    """Run every inference's program against its row's test_cases; write test_results and pass_rate."""
    if not input.is_file():
        raise fail(f"{input}: no such file")
    try:
        limits = Limits(
            timeout=timeout,
            setup_timeout=setup_timeout,
            wall_factor=wall_factor,
            wall_extra=wall_extra,
            memory_mb=memory_mb,
            output_bytes=output_bytes,
            max_processes=max_processes,
            strict_equality=strict_equality,
        )
        file_format(output)
        run_id = fingerprint(
            input=file_identity(input), limits=asdict(limits), interpreter=interpreter, errors=errors
        )
    except (ValueError, OSError) as e:
        raise fail(str(e)) from None
    checkpoint = Checkpoint(output, run_id, resume=resume)
    if checkpoint.done:
        typer.echo(f"resuming: {checkpoint.done} rows already done in {checkpoint.path}", err=True)
    summary = ExecutionSummary()
    engine = executor_options.make_executor(
        executor,
        ray_address,
        workers=workers or None,
        limits=limits,
        interpreter=interpreter,
        isolation=isolation,
        preload=[m for m in preload.split(",") if m],
    )
    started = time.monotonic()
    try:
        with engine, _progress_bar(input, checkpoint.done, progress) as bar:
            rows = _validated_rows(input, skip=checkpoint.done)
            for row in execute_rows(rows, engine, summary=summary, errors=errors):
                checkpoint.append(row)
                bar.update(1)
                bar.set_postfix(
                    programs=summary.programs, pass_rate=f"{summary.pass_rate:.3f}", refresh=False
                )
    except (DataError, SandboxError, ValueError) as e:
        checkpoint.close()
        raise fail(str(e)) from None
    total_rows = checkpoint.finalize()
    elapsed = time.monotonic() - started
    _print_summary(summary, total_rows, elapsed, engine, output)


def _validated_rows(path: Path, *, skip: int):
    for number, row in iter_rows(path):
        if skip:
            skip -= 1
            continue
        require = ("inferences",) if "inferences" in row else ()
        yield validate_acecode_row(row, require=require, path=str(path), line=number)


def _progress_bar(path: Path, done: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=count_rows(path), initial=done, unit="row", disable=not enabled, dynamic_ncols=True)


def _print_summary(
    summary: ExecutionSummary, rows: int, elapsed: float, engine: ExecutionEngine, output: Path
):
    rate = summary.programs / elapsed if elapsed > 0 else 0.0
    lines = [
        f"rows: {rows}   programs: {summary.programs}   tests run: {summary.tests}",
        f"tests passed: {summary.passed} ({summary.pass_rate:.1%})   programs passing all: {summary.all_passed}",
        f"timeouts: {summary.timeouts}   infrastructure errors: {summary.infra_errors}",
        "test failures by kind: " + _counts(summary.errors),
        "programs failing before any test: " + _counts(summary.setup_errors),
        f"time: {elapsed:.1f}s   programs/s: {rate:.0f} on {engine.workers} workers   "
        f"isolation: {engine.isolation.get('network', '?')} network, {engine.isolation.get('filesystem', '?')}",
        f"wrote {output}",
    ]
    typer.echo("\n".join(lines))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"
