"""``acecoder evaluate``: judge samples on HumanEval(+), MBPP(+), BigCodeBench or LiveCodeBench; pass@k,
best-of-N, Table 2."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from acecoder.cli import options
from acecoder.cli.base import app, check_paths, fail, locks_output, warn
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
@locks_output()
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
    benchmark: Annotated[str, typer.Option(help=f"One of: {', '.join(SPECS)}, livecodebench.")] = ...,
    dataset: Annotated[
        list[Path] | None,
        typer.Option(
            help="Another version of the benchmark, same format. livecodebench: LiveCodeBench's test*.jsonl files "
            "or the folder holding them (repeatable)."
        ),
    ] = None,
    release: Annotated[
        str | None,
        typer.Option(
            help="livecodebench: a LiveCodeBench version tag: release_v1..release_v6 (cumulative; release_v4 = "
            "the paper's 713 problems), v1..v6 (one file each), vA_vB."
        ),
    ] = None,
    start_date: Annotated[
        str | None, typer.Option(help="livecodebench: problems from this date (YYYY-MM-DD).")
    ] = None,
    end_date: Annotated[
        str | None, typer.Option(help="livecodebench: problems up to this date (YYYY-MM-DD).")
    ] = None,
    platform: Annotated[
        list[str] | None, typer.Option(help="livecodebench: atcoder, leetcode or codeforces (repeatable).")
    ] = None,
    difficulty: Annotated[
        list[str] | None, typer.Option(help="livecodebench: easy, medium or hard (repeatable).")
    ] = None,
    grader: Annotated[
        str,
        typer.Option(
            help="livecodebench: terminal (programs run as in a terminal) or lcb-compat (LiveCodeBench's harness "
            "with its faults, to compare with published figures)."
        ),
    ] = "terminal",
    time_limit: Annotated[
        float, typer.Option(help="livecodebench: seconds per test (LiveCodeBench's 6).")
    ] = 6.0,
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
    from acecoder.data.io import iter_rows
    from acecoder.evaluation.benchmarks import engine_preload, load_benchmark
    from acecoder.evaluation.groundtruth import load_expected
    from acecoder.evaluation.runner import EvalOptions, Evaluation, RunStats, evaluate_file, summary_paths
    from acecoder.evaluation.samples import SampleReader
    from acecoder.evaluation.verdicts import Settings
    from acecoder.execution.engine import ExecutionEngine

    check_paths([samples], output)  # --dataset and --codet-tests: their loaders name them
    if benchmark == "livecodebench":
        return _livecodebench(
            samples,
            output,
            dataset or [],
            release=release,
            start_date=start_date,
            end_date=end_date,
            platform=platform or [],
            difficulty=difficulty or [],
            grader=grader,
            time_limit=time_limit,
            group_by=group_by,
            ks=k,
            workers=workers,
            interpreter=interpreter,
            isolation=isolation.value,
            resume=resume,
            progress=progress,
        )
    if dataset is not None and len(dataset) > 1:
        raise fail(f"--dataset: {benchmark} reads one file")
    dataset = dataset[0] if dataset else None  # type: ignore[assignment]
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
        # Every row is a sample of this benchmark, before anything is written or run.
        reader = SampleReader(
            bench, path=str(samples), group_by=group_by, score_columns=options.score_columns, extract=extract
        )
        judged = 0
        for index, (line, row) in enumerate(iter_rows(samples)):
            reader.samples(index, line, row)
            judged += sum(_has_verdict(target) for target in [row, *(row.get("inferences") or [])])
    except (DataError, ValueError) as e:
        raise fail(str(e)) from None
    if judged:
        warn(
            f"{samples}: {judged} samples already have base_status/plus_status (an earlier evaluation?); they "
            "are replaced, the old values kept as previous_base_status, previous_plus_status, ..."
        )
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


def _has_verdict(target: Any) -> bool:
    from acecoder.evaluation.runner import VERDICT_FIELDS

    return isinstance(target, dict) and any(key in target for key in VERDICT_FIELDS)


def _livecodebench(
    samples: Path,
    output: Path,
    datasets: list[Path],
    *,
    release: str | None,
    start_date: str | None,
    end_date: str | None,
    platform: list[str],
    difficulty: list[str],
    grader: str,
    time_limit: float,
    group_by: str | None,
    ks: str,
    workers: int | None,
    interpreter: str | None,
    isolation: str,
    resume: bool,
    progress: bool,
) -> None:
    from acecoder.evaluation.lcb_data import load_livecodebench
    from acecoder.evaluation.lcb_eval import LcbOptions, evaluate_livecodebench_file, markdown
    from acecoder.evaluation.lcb_programs import GRADERS
    from acecoder.evaluation.runner import summary_paths
    from acecoder.execution.engine import ExecutionEngine

    if grader not in GRADERS:
        raise fail(f"--grader: choose one of {', '.join(GRADERS)}, got {grader!r}")
    if time_limit <= 0:
        raise fail("--time-limit must be positive")
    try:
        bench = load_livecodebench(
            datasets,
            release=release,
            start_date=start_date,
            end_date=end_date,
            platform=platform,
            difficulty=difficulty,
        )
        options = LcbOptions(grader=grader, time_limit=time_limit, group_by=group_by, ks=_ints(ks))
    except (DataError, ValueError) as e:
        raise fail(str(e)) from None
    import acecoder.execution

    if not getattr(acecoder.execution, "SUPPORTS_TEST_KINDS", False):
        raise fail("this execution engine does not run stdin and functional tests yet", code=1)
    log = lambda message: typer.echo(message, err=True)  # noqa: E731
    log(f"LiveCodeBench: {len(bench.problems)} problems from {', '.join(Path(f).name for f in bench.files)}")
    engine = ExecutionEngine(workers=workers or None, interpreter=interpreter, isolation=isolation)
    started = time.monotonic()
    try:
        with engine, _progress_bar(samples, progress) as bar:
            summary = evaluate_livecodebench_file(
                samples,
                output,
                bench,
                options,
                engine,
                resume=resume,
                on_row=lambda _: bar.update(1),
                on_resume=lambda done: (log(f"resuming: {done} rows already done"), bar.update(done)),
            )
    except (DataError, SandboxError, ValueError, RuntimeError) as e:
        raise fail(str(e)) from None
    typer.echo(markdown(summary))
    json_path, md_path = summary_paths(output)
    typer.echo(f"time: {time.monotonic() - started:.1f}s on {engine.workers} workers")
    typer.echo(f"wrote {output}, {json_path}, {md_path}")
    if summary["unjudged_samples"]:
        raise fail(f"{summary['unjudged_samples']} samples could not be judged (engine errors)", code=1)


def _progress_bar(path: Path, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=count_rows(path), unit="row", disable=not enabled, dynamic_ncols=True)
