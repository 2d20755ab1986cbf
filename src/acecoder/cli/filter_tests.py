"""``acecoder filter-tests``: keep the tests an oracle program passes; drop questions left with too few."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import executor_options, llm_options
from acecoder.cli.base import app, fail


@app.command("filter-tests")
def filter_tests_command(
    input: Annotated[Path, typer.Argument(help="AceCode rows with question and test_cases.")],
    output: Annotated[Path, typer.Argument(help="Where to write the filtered rows.")],
    reference_field: Annotated[
        str | None,
        typer.Option(
            help="Take oracle programs from this field (a program or a list); 'a+b' concatenates fields "
            "(e.g. question+canonical_solution)."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Oracle model (the paper: Qwen2.5-Coder-32B-Instruct, greedy).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server URL(s), comma-separated.")
    ] = None,
    backend: Annotated[str, typer.Option(help="openai, transformers or vllm.")] = "openai",
    api_key_env: llm_options.ApiKeyEnv = "OPENAI_API_KEY",
    n: Annotated[
        int, typer.Option(help="Oracle samples per question; a test survives if any passes it.")
    ] = 1,
    temperature: Annotated[float, typer.Option(help="Oracle sampling temperature (0: greedy).")] = 0.0,
    top_p: llm_options.TopP = 1.0,
    max_tokens: Annotated[int, typer.Option(help="Oracle answer length limit.")] = 1024,
    seed: llm_options.Seed = None,
    prompt: Annotated[
        str | None, typer.Option(help="Oracle prompt: a preset (sampling, acecodepair) or a template file.")
    ] = None,
    min_tests: Annotated[int, typer.Option(help="Drop questions with fewer surviving tests.")] = 5,
    keep_programs: Annotated[bool, typer.Option(help="Store the oracle programs in each row.")] = False,
    workers: Annotated[int, typer.Option(help="Sandbox workers (default: one per core).")] = 0,
    timeout: Annotated[float, typer.Option(help="CPU seconds per test.")] = 1.0,
    memory_mb: Annotated[int, typer.Option(help="Address-space limit per program, MiB.")] = 4096,
    isolation: Annotated[str, typer.Option(help="auto, namespaces (required) or none.")] = "auto",
    cache: llm_options.Cache = None,
    concurrency: llm_options.Concurrency = 64,
    rpm: llm_options.Rpm = None,
    tpm: llm_options.Tpm = None,
    max_attempts: llm_options.MaxAttempts = 6,
    batch_size: Annotated[int, typer.Option(help="Rows per oracle/execution batch.")] = 256,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run of the same command.")] = True,
    progress: Annotated[bool, typer.Option(help="Show progress.")] = True,
    executor: executor_options.Executor = executor_options.ExecutorKind.local,
    ray_address: executor_options.RayAddress = None,
) -> None:
    """Keep only the tests an oracle program passes (the paper's filtering step)."""
    from acecoder.data import DataError
    from acecoder.data.io import file_format
    from acecoder.execution import Limits, SandboxError
    from acecoder.synthesis import FieldOracle, ModelOracle, filter_tests_file

    if (reference_field is None) == (model is None):
        raise fail("give exactly one oracle: --reference-field FIELD or --model NAME")
    try:
        file_format(output)
        limits = Limits(timeout=timeout, memory_mb=memory_mb)
        if n < 1:
            raise ValueError("--n must be at least 1")
    except (DataError, ValueError) as e:
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
            backend, model, base_url, api_key_env, llm_options.cache_path(cache, output),
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
        executor, ray_address, workers=workers or None, limits=limits, isolation=isolation
    )
    try:
        with engine:
            summary = filter_tests_file(
                input,
                output,
                oracle,
                engine,
                min_tests=min_tests,
                batch_size=batch_size,
                keep_programs=keep_programs,
                resume=resume,
            )
    except (DataError, SandboxError, FatalBackendError, ValueError) as e:
        raise fail(str(e)) from None
    finally:
        if client is not None:
            client.close()
    typer.echo(str(summary), err=True)
    typer.echo(f"wrote {summary.rows_out} rows to {output}", err=True)
