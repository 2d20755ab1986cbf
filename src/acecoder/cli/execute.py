"""``acecoder execute``: re-execute every inference of every row against the row's tests."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import executor_options, options
from acecoder.cli.base import EXIT_FAILED, app, check_paths, check_rows, fail, locks_output, resume_hint, warn
from acecoder.data.io import count_rows
from acecoder.data.schema import DataError
from acecoder.execution.engine import ExecutionEngine, SandboxError
from acecoder.execution.execute_file import ExecutedFile, check_row, execute_file
from acecoder.execution.limits import DEFAULT_PRELOAD, SAMPLED, Limits
from acecoder.execution.rows import BODY_TEMPLATE, ProgramTemplate, RowSummary


@app.command("execute", short_help="Run every program against its row's tests (pass rates).")
@locks_output()
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
    timeout: options.Timeout = SAMPLED.test,
    program_timeout: options.ProgramTimeout = SAMPLED.program or 0,
    setup_timeout: Annotated[
        float, typer.Option(help="CPU seconds for the program's top level.")
    ] = SAMPLED.setup,
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
    rerun_identical: Annotated[
        bool,
        typer.Option(
            "--rerun-identical",
            help="Run every copy of a program that appears more than once with the same tests (by default "
            "identical programs run once and share their verdicts: runs are seeded and limits count CPU time).",
        ),
    ] = False,
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
        template = ProgramTemplate(program) if program is not None else None  # fails before any worker starts
        limits = Limits(
            timeout=timeout,
            program_timeout=program_timeout,
            setup_timeout=setup_timeout,
            wall_factor=wall_factor,
            wall_extra=wall_extra,
            memory_mb=memory_mb,
            output_bytes=output_bytes,
            max_processes=max_processes,
            strict_equality=strict_equality,
        )
    except (ValueError, OSError) as e:
        raise fail(str(e)) from None
    # The whole input is read before any program runs: bad input stops here, nothing written.
    check = partial(check_row, path=str(input), template=template)
    check_rows(input, unique_ids=not dedupe_ids, check=lambda line, row: check(row, line=line))
    engine = executor_options.make_executor(
        executor,
        ray_address,
        workers=workers,
        limits=limits,
        interpreter=interpreter,
        isolation=isolation.value,
        preload=DEFAULT_PRELOAD if preload is None else [m.strip() for m in preload.split(",") if m.strip()],
        dedupe=not rerun_identical,
    )
    state: dict = {}

    def started_file(done: ExecutedFile) -> None:
        state.update(done=done, programs_before=done.summary.programs, started=time.monotonic())
        if done.resumed:
            typer.echo(f"resuming: {done.resumed} rows already done in {done.checkpoint.path}", err=True)
        state["bar"] = _progress_bar(input, done.resumed, progress)

    def finished_row(summary: RowSummary) -> None:
        state["bar"].update(1)
        state["bar"].set_postfix(
            programs=summary.programs, pass_rate=f"{summary.pass_rate:.3f}", refresh=False
        )

    try:
        with resume_hint(output), engine:
            done = execute_file(
                input,
                output,
                engine,
                limits=limits,
                program=program,
                errors=errors,
                dedupe_ids=dedupe_ids,
                resume=resume,
                identity={"interpreter": interpreter},
                on_start=started_file,
                on_row=finished_row,
            )
    except (DataError, SandboxError, ValueError) as e:
        raise fail(str(e)) from None
    finally:
        if "bar" in state:
            state["bar"].close()
    summary, checkpoint, resumed = done.summary, done.checkpoint, done.resumed
    programs_before, started = state["programs_before"], state["started"]
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
    done.finalize()
    typer.echo(f"wrote {output}")
    if summary.infra_errors:
        raise fail(
            f"the engine could not run {summary.infra_errors:,} programs (infrastructure errors, not verdicts "
            "on the programs; see the warnings above); rerun the same command to execute the file again",
            EXIT_FAILED,
        )


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
        f"tests judged outside the program: {s.tests - s.in_process:,} of {s.tests:,} "
        f"({s.split_tests:,} from split probes, the others run in the judge)",
        "test failures by kind: " + _counts(s.errors),
        f"programs failing before any test: {s.setup_failures:,}"
        + (f" ({_counts(s.setup_errors)})" if s.setup_errors else ""),
        f"time: {elapsed:.1f}s for {run_now:,} programs run now ({rate:.0f}/s on {engine.workers} workers"
        + (f"; {s.reused:,} identical to one run before them, run once" if s.reused else "")
        + ")   "
        f"isolation: {_isolation(engine.isolation)}",
    ]
    typer.echo("\n".join(lines))


def _isolation(info: dict) -> str:
    """How programs ran, in words: "no network, minimal read-only root, ..." or "host network, host files"."""
    network = {"none": "no network", "host": "host network"}.get(
        info.get("network"), f"network {info.get('network', '?')}"
    )
    files = info.get("filesystem", "?")
    return f"{network}, {'host files' if files == 'host' else files}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"
