"""``acecoder sample``: N programs per question per policy model, appended to each row's inferences."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import llm_options, options
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
from acecoder.llm import endpoints


@app.command("sample", short_help="Sample N programs per question from policy models.")
@locks_output()
def sample_command(
    input: Annotated[
        Path,
        typer.Argument(
            help=f"AceCode rows ({options.ROWS_IN}). Reads id, question and test_cases (the prompt shows the "
            "first tests); keeps every other field and the inferences already there."
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            help=f"Where to write the rows with the new inferences ({options.ROWS_IN}); INPUT itself only with "
            "--in-place."
        ),
    ],
    model: Annotated[
        list[str] | None,
        typer.Option(
            show_default=False,
            help="Policy model as its server names it (repeatable). [required unless --models]",
        ),
    ] = None,
    model_name: Annotated[
        list[str] | None,
        typer.Option(
            show_default=False,
            help="model_name to record, one per --model. [default: the model itself]",
        ),
    ] = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option(
            show_default=False,
            help="OpenAI-compatible server URL(s): one for every model or one per --model (repeatable); "
            "comma-separate several servers of one model. [default: $OPENAI_BASE_URL]",
        ),
    ] = None,
    models: Annotated[
        Path | None,
        typer.Option(
            "--models",
            show_default=False,
            help="YAML/JSON list of models: each a name or {model, name, base_url, backend, api_key_env}.",
        ),
    ] = None,
    backend: options.Backend = endpoints.BACKEND,
    api_key_env: llm_options.ApiKeyEnv = endpoints.API_KEY_ENV,
    n: Annotated[
        int,
        typer.Option(
            "-n",
            "--n",
            help="Samples per question per model with these settings (those already in a row count).",
            min=1,
        ),
    ] = 16,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.7,
    top_p: llm_options.TopP = 1.0,
    max_tokens: Annotated[int, typer.Option(help="Answer length limit.")] = 1024,
    seed: llm_options.Seed = None,
    stop: Annotated[list[str] | None, typer.Option(help="Stop sequence (repeatable).")] = None,
    template: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Prompt: a preset (sampling, acecodepair, livecodebench) or a template file. [default: sampling]",
        ),
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
    concurrency: Annotated[
        int, typer.Option(min=1, help="Requests in flight per model.")
    ] = endpoints.CONCURRENCY,
    rpm: Annotated[float | None, typer.Option(help="Requests per minute limit per model.")] = None,
    tpm: Annotated[float | None, typer.Option(help="Tokens per minute limit per model.")] = None,
    max_attempts: options.MaxAttempts = endpoints.MAX_ATTEMPTS,
    batch_size: options.BatchSize = 256,
    in_place: options.InPlace = False,
    dedupe_ids: options.DedupeIds = False,
    resume: options.Resume = True,
    progress: options.Progress = True,
) -> None:
    """Sample N programs per question from policy models into each row's inferences.

    The paper's prompt and settings by default (n=16, T=0.7, top_p=1.0, 1024 tokens); `acecoder execute` then fills the pass rates.

    Exit status 1, with exact counts, when any request failed for good: rerunning the same command asks only for the samples still missing."""
    from acecoder.data import DataError
    from acecoder.sampling import get_prompt_template, policy_models, sample_file

    cache_file = llm_options.cache_path(cache, output)
    check_paths(
        [input],
        output,
        in_place=in_place,
        side_outputs=[cache_file, output.with_name(output.name + ".summary.json")],
        other_inputs=[models, prices],
    )
    check_rows(input, unique_ids=not dedupe_ids)  # the whole input parses before any request
    try:
        prompt = get_prompt_template(template)
        policies = policy_models(
            model or [],
            names=model_name or [],
            base_urls=base_url or [],
            models_file=models,
            backend=backend,
            api_key_env=api_key_env,
        )
        price_table = None
        if prices is not None:
            from acecoder.llm import PriceTable

            price_table = PriceTable.from_file(prices)
    except (DataError, ValueError, OSError) as e:
        raise fail(str(e)) from None
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
        with resume_hint(output):
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
                dedupe_ids=dedupe_ids,
            )
    except (DataError, FatalBackendError, ValueError) as e:
        raise fail(str(e)) from None
    finally:
        for _, client in clients:
            client.close()
    typer.echo(str(summary), err=True)
    typer.echo(f"wrote {summary.rows} rows to {output}", err=True)
    if summary.failed:
        retry_hint(summary.failed, "samples")
        raise typer.Exit(EXIT_FAILED)
