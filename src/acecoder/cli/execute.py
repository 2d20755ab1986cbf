"""``acecoder execute``: re-execute every inference of every row against the row's tests."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import executor_options, options
from acecoder.cli.base import EXIT_FAILED, app, check_paths, fail, resume_hint, warn
from acecoder.data.ids import unique_rows
from acecoder.data.io import count_rows, iter_rows
from acecoder.data.schema import DataError, validate_acecode_row
from acecoder.execution.engine import DEFAULT_PRELOAD, ExecutionEngine, SandboxError
from acecoder.execution.limits import Limits
from acecoder.execution.rows import BODY_TEMPLATE, ProgramTemplate, RowSummary, execute_rows
from acecoder.pipeline.checkpoint import Checkpoint, file_identity, fingerprint

# Version of the progress records ({"summary", "row"}), so a progress file of another shape is never resumed.
_RECORD = 2


@app.command("execute", short_help="Run every program against its row's tests (pass rates).")
def execute_command(
    input: Annotated[
        Path,
        typer.Argument(
            help=f"AceCode rows ({options.ROWS_IN}). Reads test_cases and inferences[].completion (and the "
            "fields --program names); keeps every other field."
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            help=f"Where to write the rows with test_results and pass_rate per inference ({options.ROWS_IN})."
        ),
    ],
    program: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help=f"Build each program from row and inference fields, e.g. '{BODY_TEMPLATE}' when completions "
            "continue the question (function bodies); {program} is the default program. "
            "[default: the completion's fenced code block, else its text]",
        ),
    ] = None,
    workers: options.Workers = None,
    timeout: options.Timeout = Limits.timeout,
    program_timeout: options.ProgramTimeout = Limits.program_timeout,
    setup_timeout: Annotated[
        float, typer.Option(help="CPU seconds for the program's top level.")
    ] = Limits.setup_timeout,
    wall_factor: Annotated[
        float, typer.Option(help="Wall-clock backstop = factor x CPU limit + extra.")
    ] = Limits.wall_factor,
    wall_extra: Annotated[
        float, typer.Option(help="Seconds added to the wall-clock backstop.")
    ] = Limits.wall_extra,
    memory_mb: options.MemoryMb = Limits.memory_mb,
    output_bytes: Annotated[
        int, typer.Option(min=1, help="Captured output kept per program, bytes.")
    ] = Limits.output_bytes,
    max_processes: Annotated[
        int, typer.Option(min=1, help="Processes + threads a program may have.")
    ] = Limits.max_processes,
    strict_equality: Annotated[bool, typer.Option(help="Reject values whose type forges ==.")] = True,
    interpreter: Annotated[
        str | None,
        typer.Option(
            show_default=False, help="Python that runs the programs. [default: the one running acecoder]"
        ),
    ] = None,
    isolation: options.IsolationOption = options.Isolation.auto,
    preload: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Comma-separated modules each worker imports once ('' for none). "
            f"[default: {', '.join(DEFAULT_PRELOAD)}]",
        ),
    ] = None,
    errors: Annotated[bool, typer.Option(help="Also write test_errors (why each test failed).")] = False,
    allow_setup_failures: Annotated[
        bool,
        typer.Option(
            "--allow-setup-failures",
            help="Write OUTPUT even when most programs fail before any test (by default the results then stay "
            "in OUTPUT.partial.jsonl and the exit status is 1).",
        ),
    ] = False,
    in_place: options.InPlace = False,
    dedupe_ids: options.DedupeIds = False,
    resume: options.Resume = True,
    progress: options.Progress = True,
    executor: executor_options.Executor = executor_options.ExecutorKind.local,
    ray_address: executor_options.RayAddress = None,
) -> None:
    """Run every inference's program against its row's tests; write test_results and pass_rate.

    Exit status 1 when most programs fail before any test runs (a sign the programs are built wrong, e.g. function bodies without their prompt: the output is withheld, see --allow-setup-failures) or when the engine could not run some programs."""
    check_paths([input], output, in_place=in_place)
    try:
        template = ProgramTemplate(program) if program is not None else None
        limits = Limits(
            timeout=timeout,
            program_timeout=program_timeout or None,
            setup_timeout=setup_timeout,
            wall_factor=wall_factor,
            wall_extra=wall_extra,
            memory_mb=memory_mb,
            output_bytes=output_bytes,
            max_processes=max_processes,
            strict_equality=strict_equality,
        )
        run_id = fingerprint(
            input=file_identity(input),
            limits=asdict(limits),
            interpreter=interpreter,
            errors=errors,
            program=program,
            record=_RECORD,
        )
    except (ValueError, OSError) as e:
        raise fail(str(e)) from None
    checkpoint = Checkpoint(output, run_id, resume=resume)
    resumed = checkpoint.done
    summary = _summary_so_far(checkpoint)
    if resumed:
        typer.echo(f"resuming: {resumed} rows already done in {checkpoint.path}", err=True)
    engine = executor_options.make_executor(
        executor,
        ray_address,
        workers=workers,
        limits=limits,
        interpreter=interpreter,
        isolation=isolation.value,
        preload=DEFAULT_PRELOAD if preload is None else [m.strip() for m in preload.split(",") if m.strip()],
    )
    programs_before, started = summary.programs, time.monotonic()
    try:
        with resume_hint(output), engine, _progress_bar(input, resumed, progress) as bar:
            rows = _validated_rows(input, skip=resumed, dedupe_ids=dedupe_ids)
            for row in execute_rows(
                rows, engine, summary=summary, errors=errors, program_template=template, path=str(input)
            ):
                checkpoint.append({"summary": summary.to_dict(), "row": row})
                bar.update(1)
                bar.set_postfix(
                    programs=summary.programs, pass_rate=f"{summary.pass_rate:.3f}", refresh=False
                )
    except (DataError, SandboxError, ValueError) as e:
        raise fail(str(e)) from None
    finally:
        checkpoint.close()
    elapsed = time.monotonic() - started
    _print_summary(summary, resumed, summary.programs - programs_before, elapsed, engine)
    problem = summary.warning(template=program)
    if problem is not None:
        warn(problem)
        if not allow_setup_failures:
            raise fail(
                f"{output} not written: its pass rates would be meaningless. The results are kept in "
                f"{checkpoint.path}: fix the cause and rerun, or rerun this command with --allow-setup-failures "
                "to write them as they are (nothing runs again)",
                EXIT_FAILED,
            )
    checkpoint.finalize(row_of=lambda record: record["row"])
    typer.echo(f"wrote {output}")
    if summary.infra_errors:
        raise fail(
            f"the engine could not run {summary.infra_errors:,} programs (infrastructure errors, not verdicts "
            "on the programs; see the warnings above); rerun the same command to execute the file again",
            EXIT_FAILED,
        )


def _summary_so_far(checkpoint: Checkpoint) -> RowSummary:
    """The counts of the rows an earlier run finished (kept in each progress record), so that a resumed run
    reports the whole file."""
    records = deque(islice(checkpoint.rows(), checkpoint.done), maxlen=1)
    return RowSummary.from_dict(records[0]["summary"]) if records else RowSummary()


def _validated_rows(path: Path, *, skip: int, dedupe_ids: bool):
    for number, row in unique_rows(iter_rows(path), str(path), dedupe=dedupe_ids):
        if skip:
            skip -= 1
            continue
        require = ("inferences",) if "inferences" in row else ()
        yield number, validate_acecode_row(row, require=require, path=str(path), line=number)


def _progress_bar(path: Path, done: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=count_rows(path), initial=done, unit="row", disable=not enabled, dynamic_ncols=True)


def _print_summary(
    s: RowSummary, resumed: int, run_now: int, elapsed: float, engine: ExecutionEngine
) -> None:
    rate = run_now / elapsed if elapsed > 0 else 0.0
    done_before = f" ({resumed:,} done by an earlier run)" if resumed else ""
    lines = [
        f"rows: {s.rows:,}{done_before}   programs: {s.programs:,}   tests run: {s.tests:,}",
        f"rows without tests: {s.rows_without_tests:,} (their {s.programs_without_tests:,} programs not run; "
        "pass_rate null)"
        + (f"   rows without programs: {s.rows_without_inferences:,}" if s.rows_without_inferences else ""),
        f"tests passed: {s.passed:,} ({s.pass_rate:.1%})   programs passing all: {s.all_passed:,}",
        f"timeouts: {s.timeouts:,} (programs out of CPU budget: {s.budget_exhausted:,})   "
        f"infrastructure errors: {s.infra_errors:,} (pass_rate null)",
        f"tests judged outside the program: {s.split_tests:,} of {s.tests:,}"
        + (f" ({s.split_tests / s.tests:.1%})" if s.tests else ""),
        "test failures by kind: " + _counts(s.errors),
        f"programs failing before any test: {s.setup_failures:,}"
        + (f" ({_counts(s.setup_errors)})" if s.setup_errors else ""),
        f"time: {elapsed:.1f}s for {run_now:,} programs run now ({rate:.0f}/s on {engine.workers} workers)   "
        f"isolation: {engine.isolation.get('network', '?')} network, {engine.isolation.get('filesystem', '?')}",
    ]
    typer.echo("\n".join(lines))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"
