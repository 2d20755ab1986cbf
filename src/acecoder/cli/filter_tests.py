"""``acecoder filter-tests``: keep the tests an oracle program passes; drop questions left with too few."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import executor_options, llm_options, options
from acecoder.cli.base import (
    EXIT_FAILED,
    app,
    check_paths,
    check_rows,
    fail,
    locks_output,
    resume_hint,
    retry_hint,
)
from acecoder.execution.limits import ORACLE, Limits
from acecoder.llm import endpoints
from acecoder.synthesis.filter_tests import (
    ORACLE_N,
    ORACLE_TEMPERATURE,
    ORACLE_TOP_P,
    PAPER_ORACLE_MAX_TOKENS,
)


@app.command("filter-tests", short_help="Keep the tests an oracle program passes.")
@locks_output()
def filter_tests_command(
    input: Annotated[
        Path,
        typer.Argument(
            help=f"AceCode rows ({options.ROWS_IN}). Reads id, question and test_cases (and the reference "
            "field); keeps every other field."
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            help=f"Where to write the kept rows ({options.ROWS_IN}); INPUT itself only with --in-place. Dropped "
            "rows go to OUTPUT.rejected.jsonl, counts to OUTPUT.summary.json."
        ),
    ],
    reference_field: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Take oracle programs from this field (a program or a list); 'a+b' concatenates fields "
            "(e.g. question+canonical_solution). One of --reference-field and --model is required.",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Oracle model (the paper: Qwen2.5-Coder-32B-Instruct, greedy). One of --reference-field and "
            "--model is required.",
        ),
    ] = None,
    base_url: options.BaseUrl = None,
    backend: options.Backend = endpoints.BACKEND,
    api_key_env: options.ApiKeyEnv = endpoints.API_KEY_ENV,
    n: Annotated[
        int, typer.Option(min=1, help="Oracle samples per question; a test survives if any passes it.")
    ] = ORACLE_N,
    temperature: Annotated[
        float, typer.Option(help="Oracle sampling temperature (0: greedy).")
    ] = ORACLE_TEMPERATURE,
    top_p: options.TopP = ORACLE_TOP_P,
    max_tokens: Annotated[int, typer.Option(help="Oracle answer length limit.")] = PAPER_ORACLE_MAX_TOKENS,
    seed: options.Seed = None,
    prompt: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Oracle prompt: a preset (sampling, acecodepair) or a template file. [default: sampling]",
        ),
    ] = None,
    min_tests: Annotated[int, typer.Option(help="Drop questions with fewer surviving tests.")] = 5,
    keep_programs: Annotated[bool, typer.Option(help="Store the oracle programs in each row.")] = False,
    min_mutation_score: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            show_default=False,
            help="Also drop questions whose kept tests kill a smaller share of the oracle program's mutants "
            "(mutation_score is written into each kept row; rows whose score cannot be computed are kept).",
        ),
    ] = None,
    workers: options.Workers = None,
    timeout: options.Timeout = ORACLE.test,
    program_timeout: options.ProgramTimeout = ORACLE.program or 0,
    memory_mb: options.MemoryMb = Limits.memory_mb,
    isolation: options.IsolationOption = options.Isolation.auto,
    cache: options.Cache = None,
    concurrency: options.Concurrency = endpoints.CONCURRENCY,
    rpm: options.Rpm = None,
    tpm: options.Tpm = None,
    max_attempts: options.MaxAttempts = endpoints.MAX_ATTEMPTS,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per oracle/execution batch.")] = 256,
    in_place: options.InPlace = False,
    dedupe_ids: options.DedupeIds = False,
    resume: options.Resume = True,
    progress: options.Progress = True,
    executor: executor_options.Executor = executor_options.ExecutorKind.local,
    ray_address: executor_options.RayAddress = None,
) -> None:
    """Keep only the tests an oracle program passes (the paper's filtering step).

    Exit status 1, with exact counts, when oracle requests failed for good (their rows are dropped as no_oracle): rerunning the same command asks only for the answers still missing."""
    from acecoder.data import DataError
    from acecoder.execution import SandboxError
    from acecoder.synthesis import FieldOracle, ModelOracle, filter_tests_file

    if (reference_field is None) == (model is None):
        raise fail("give exactly one oracle: --reference-field FIELD or --model NAME")
    cache_file = llm_options.cache_path(cache, output)
    side = [output.with_name(output.name + suffix) for suffix in (".rejected.jsonl", ".summary.json")]
    check_paths(
        [input], output, in_place=in_place, side_outputs=[*side, *([cache_file] if model is not None else [])]
    )
    check_rows(input, unique_ids=not dedupe_ids)  # the whole input parses before any request or program
    try:
        limits = ORACLE.limits(timeout=timeout, program_timeout=program_timeout, memory_mb=memory_mb)
    except ValueError as e:
        raise fail(str(e)) from None
    client = None
    if reference_field is not None:
        oracle = FieldOracle(reference_field)
    else:
        assert model is not None
        from acecoder.sampling import get_prompt_template

        try:
            template = get_prompt_template(prompt)
        except ValueError as e:
            raise fail(str(e)) from None
        client = llm_options.make_client(
            backend, model, base_url, api_key_env, cache_file,
            concurrency=concurrency, rpm=rpm, tpm=tpm, max_attempts=max_attempts, progress=progress,
        )  # fmt: skip
        oracle = ModelOracle(
            client,
            n=n,
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            seed=seed,
            template=template,
        )
    from acecoder.llm import FatalBackendError

    engine = executor_options.make_executor(
        executor, ray_address, workers=workers, limits=limits, isolation=isolation.value
    )
    try:
        with resume_hint(output), engine:
            summary = filter_tests_file(
                input,
                output,
                oracle,
                engine,
                min_tests=min_tests,
                batch_size=batch_size,
                keep_programs=keep_programs,
                min_mutation_score=min_mutation_score,
                resume=resume,
                dedupe_ids=dedupe_ids,
            )
    except (DataError, SandboxError, FatalBackendError, ValueError) as e:
        raise fail(str(e)) from None
    finally:
        if client is not None:
            client.close()
    typer.echo(str(summary), err=True)
    typer.echo(f"wrote {summary.rows_out} rows to {output}", err=True)
    failed = summary.llm.get("failed", 0)
    if failed:
        retry_hint(failed, "oracle samples")
        raise typer.Exit(EXIT_FAILED)
