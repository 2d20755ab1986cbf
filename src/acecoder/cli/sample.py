"""``acecoder sample``: N programs per question per policy model, appended to each row's inferences."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import llm_options
from acecoder.cli.base import app, fail


@app.command("sample")
def sample_command(
    input: Annotated[
        Path, typer.Argument(help="AceCode rows with question and test_cases (.jsonl, .jsonl.gz, .parquet).")
    ],
    output: Annotated[
        Path, typer.Argument(help="Where to write the rows with the new inferences (may be INPUT itself).")
    ],
    model: Annotated[
        list[str] | None, typer.Option(help="Policy model as its server names it (repeatable).")
    ] = None,
    model_name: Annotated[
        list[str] | None,
        typer.Option(help="model_name to record, one per --model (default: the model itself)."),
    ] = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option(
            help="OpenAI-compatible server URL(s): one for every model or one per --model (repeatable); "
            "comma-separate several servers of one model (default: OPENAI_BASE_URL)."
        ),
    ] = None,
    models: Annotated[
        Path | None,
        typer.Option(
            "--models",
            help="YAML/JSON list of models: each a name or {model, name, base_url, backend, api_key_env}.",
        ),
    ] = None,
    backend: Annotated[
        str, typer.Option(help="openai (or vllm-server, sglang), transformers, vllm.")
    ] = "openai",
    api_key_env: llm_options.ApiKeyEnv = "OPENAI_API_KEY",
    n: Annotated[
        int,
        typer.Option(
            "-n",
            "--n",
            help="Samples per question per model with these settings (those already in a row count).",
        ),
    ] = 16,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.7,
    top_p: llm_options.TopP = 1.0,
    max_tokens: Annotated[int, typer.Option(help="Answer length limit.")] = 1024,
    seed: llm_options.Seed = None,
    stop: Annotated[list[str] | None, typer.Option(help="Stop sequence (repeatable).")] = None,
    template: Annotated[
        str | None,
        typer.Option(help="Prompt: a preset (sampling, acecodepair) or a template file (default: sampling)."),
    ] = None,
    strip_tests: Annotated[
        bool, typer.Option(help="Remove trailing module-level tests and prints from extracted programs.")
    ] = True,
    keep_raw: Annotated[bool, typer.Option(help="Also store each answer as raw_completion.")] = True,
    limit: Annotated[int | None, typer.Option(help="Sample (and write) only the first rows.")] = None,
    cache: llm_options.Cache = None,
    prices: Annotated[
        Path | None, typer.Option(help="Price table {model: {input, output}} in $/1M tokens (YAML or JSON).")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Requests in flight per model.")] = 64,
    rpm: Annotated[float | None, typer.Option(help="Requests per minute limit per model.")] = None,
    tpm: Annotated[float | None, typer.Option(help="Tokens per minute limit per model.")] = None,
    max_attempts: llm_options.MaxAttempts = 6,
    batch_size: Annotated[int, typer.Option(help="Rows per generation batch.")] = 256,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run of the same command.")] = True,
    progress: Annotated[bool, typer.Option(help="Show progress.")] = True,
) -> None:
    """Sample programs from policy models with the paper's prompt (n=16, T=0.7, top_p=1.0, 1024 tokens) and append
    them to each row's inferences; `acecoder execute` then fills the pass rates."""
    from acecoder.data import DataError
    from acecoder.data.io import file_format
    from acecoder.sampling import get_prompt_template, policy_models, sample_file

    try:
        file_format(output)
        prompt = get_prompt_template(template)
        policies = policy_models(
            model or [],
            names=model_name or [],
            base_urls=base_url or [],
            models_file=models,
            backend=backend,
            api_key_env=api_key_env,
        )
        if n < 1:
            raise ValueError("-n must be at least 1")
        price_table = None
        if prices is not None:
            from acecoder.llm import PriceTable

            price_table = PriceTable.from_file(prices)
    except (DataError, ValueError, OSError) as e:
        raise fail(str(e)) from None
    cache_file = llm_options.cache_path(cache, output)
    clients = []
    for p in policies:
        client = llm_options.make_client(
            p.backend, p.model, ",".join(p.base_urls) or None, p.api_key_env, cache_file,
            concurrency=concurrency, rpm=rpm, tpm=tpm, max_attempts=max_attempts, progress=progress,
        )  # fmt: skip
        if price_table is not None:
            client.prices = price_table
        clients.append((p.label, client))
    from acecoder.llm import FatalBackendError

    try:
        summary = sample_file(
            input,
            output,
            clients,
            n=n,
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            seed=seed,
            stop=stop or None,
            template=prompt,
            strip_tests=strip_tests,
            keep_raw=keep_raw,
            limit=limit,
            batch_size=batch_size,
            resume=resume,
        )
    except (DataError, FatalBackendError, ValueError) as e:
        raise fail(str(e)) from None
    finally:
        for _, client in clients:
            client.close()
    typer.echo(str(summary), err=True)
    typer.echo(f"wrote {summary.rows} rows to {output}", err=True)
    if summary.failed:
        typer.echo(
            f"{summary.failed} samples failed: rerun the same command to retry them (answers come from the cache)",
            err=True,
        )
