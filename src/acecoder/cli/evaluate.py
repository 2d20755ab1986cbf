"""``acecoder evaluate``: judge samples on HumanEval(+), MBPP(+) or BigCodeBench; pass@k, best-of-N, Table 2."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import options
from acecoder.cli.base import app, fail
from acecoder.data.io import count_rows
from acecoder.data.schema import DataError
from acecoder.evaluation.benchmarks import SPECS
from acecoder.execution.engine import SandboxError
from acecoder.execution.limits import BENCHMARK, DEFAULT_PRELOAD


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"--k: expected comma-separated integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise ValueError(f"--k: expected positive integers, got {text!r}")
    return values


@app.command("evaluate", short_help="Judge samples on a benchmark; pass@k and best-of-N.")
def evaluate_command(
    samples: Annotated[
        Path,
        typer.Argument(
            help=f"Samples ({options.ROWS_IN}): evalplus-style rows (Reads task_id and solution or completion) "
            "or AceCode rows (Reads id and inferences[].completion; score columns for --rank-by)."
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            help=f"Where to write the rows with base_status/plus_status added ({options.ROWS_IN})."
        ),
    ],
    benchmark: Annotated[str, typer.Option(help=f"One of: {', '.join(SPECS)}.")] = ...,
    dataset: Annotated[
        Path | None, typer.Option(help="Another version of the benchmark, same format.")
    ] = None,
    all_tasks: Annotated[
        bool, typer.Option(help="mbpp/mbpp+: all 399 pre-release tasks, not only MBPP+ v0.2.0's 378.")
    ] = False,
    group_by: Annotated[str | None, typer.Option(help="Column to group the summary by (e.g. model).")] = None,
    rank_by: Annotated[
        list[str] | None,
        typer.Option(
            help="Best-of-N ranker: a score column (e.g. rm_score), pass_rate or codet. Repeatable."
        ),
    ] = None,
    k: Annotated[str, typer.Option(help="pass@k values, comma-separated.")] = "1,10,100",
    codet_tests: Annotated[
        Path | None,
        typer.Option(
            help="Model-written tests for codet: {task_id, tests} rows or CodeT's {prompt, samples}."
        ),
    ] = None,
    codet_limit: Annotated[int, typer.Option(help="Tests kept per generated CodeT sample.")] = 5,
    codet_timeout: Annotated[float, typer.Option(help="CPU seconds per codet test.")] = BENCHMARK.codet_test,
    min_time: Annotated[
        float, typer.Option(help="Floor of each HumanEval+/MBPP+ input's CPU limit.")
    ] = BENCHMARK.min_time,
    time_factor: Annotated[
        float, typer.Option(help="Input CPU limit = factor x the reference's time.")
    ] = BENCHMARK.time_factor,
    draws: Annotated[
        int, typer.Option(help="Random subsets per N for subset-dependent rankers (codet).")
    ] = 200,
    seed: Annotated[int, typer.Option(help="Seed for subsets and tie-breaking picks.")] = 0,
    extract: Annotated[
        bool, typer.Option(help="Extract the code of chat answers in a flat 'solution' column.")
    ] = True,
    calibrated: Annotated[
        bool,
        typer.Option(help="BigCodeBench: prepend the task's imports and signature (as its harness does)."),
    ] = True,
    workers: options.Workers = None,
    interpreter: Annotated[
        str | None, typer.Option(help="Python that runs programs (BigCodeBench: its own venv's).")
    ] = None,
    isolation: options.IsolationOption = options.Isolation.auto,
    refresh_expected: Annotated[bool, typer.Option(help="Recompute the cached expected outputs.")] = False,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run of the same command.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Judge every sample with the benchmark's official semantics; write OUT, OUT.summary.json and .md."""
    from acecoder.evaluation.benchmarks import engine_preload, load_benchmark
    from acecoder.evaluation.groundtruth import load_expected
    from acecoder.evaluation.runner import EvalOptions, Evaluation, RunStats, evaluate_file, summary_paths
    from acecoder.evaluation.verdicts import Settings
    from acecoder.execution.engine import ExecutionEngine

    if not samples.is_file():
        raise fail(f"{samples}: no such file")
    log = lambda message: typer.echo(message, err=True)  # noqa: E731
    try:
        bench = load_benchmark(benchmark, dataset, all_tasks=all_tasks)
        options = EvalOptions(
            group_by=group_by,
            rank_by=tuple(dict.fromkeys(rank_by or ())),
            ks=_ints(k),
            extract=extract,
            codet_tests=str(codet_tests) if codet_tests else None,
            codet_limit=codet_limit,
            codet_timeout=codet_timeout,
            draws=draws,
            seed=seed,
            settings=Settings(min_time=min_time, time_factor=time_factor, calibrated=calibrated),
        )
    except (DataError, ValueError) as e:
        raise fail(str(e)) from None
    engine = ExecutionEngine(
        workers=workers or None,
        interpreter=interpreter,
        isolation=isolation.value,
        preload=DEFAULT_PRELOAD + engine_preload(bench),
    )
    stats = RunStats()
    started = time.monotonic()
    try:
        with engine:
            expected = (
                load_expected(bench, lambda: engine, refresh=refresh_expected, log=log)
                if bench.has_plus
                else None
            )
            evaluation = Evaluation(bench, expected, options, limits=engine.limits)
            with _progress_bar(samples, progress) as bar:
                summary = evaluate_file(
                    samples,
                    output,
                    evaluation,
                    engine,
                    resume=resume,
                    stats=stats,
                    on_row=lambda _: bar.update(1),
                    on_resume=lambda done: (log(f"resuming: {done} rows already done"), bar.update(done)),
                )
    except (DataError, SandboxError, ValueError, RuntimeError) as e:
        raise fail(str(e)) from None
    from acecoder.evaluation.report import markdown

    typer.echo(markdown(summary))
    json_path, md_path = summary_paths(output)
    elapsed = time.monotonic() - started
    typer.echo(
        f"rows: {stats.rows} (this run)   samples: {stats.samples}   jobs: {stats.jobs} "
        f"({stats.jobs - stats.jobs_run} answered by identical jobs)   time: {elapsed:.1f}s on {engine.workers} workers"
    )
    typer.echo(f"wrote {output}, {json_path}, {md_path}")
    if summary["unjudged_samples"]:
        raise fail(f"{summary['unjudged_samples']} samples could not be judged (engine errors)", code=1)


def _progress_bar(path: Path, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=count_rows(path), unit="row", disable=not enabled, dynamic_ncols=True)
