"""``acecoder synthesize``: seed programs -> questions with validated tests (AceCode rows)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import llm_options
from acecoder.cli.base import app, fail


@app.command("synthesize")
def synthesize_command(
    seeds: Annotated[
        Path,
        typer.Argument(help="Seeds: .jsonl(.gz), .parquet, a .json array, or a local HF dataset folder."),
    ],
    output: Annotated[
        Path, typer.Argument(help="Where to write the AceCode rows (.jsonl, .jsonl.gz, .parquet).")
    ],
    model: Annotated[str, typer.Option(help="Model name (the paper: gpt-4o-mini).")],
    base_url: Annotated[
        str | None,
        typer.Option(help="OpenAI-compatible server URL(s), comma-separated (default: OPENAI_BASE_URL)."),
    ] = None,
    backend: Annotated[str, typer.Option(help="openai, transformers or vllm.")] = "openai",
    api_key_env: llm_options.ApiKeyEnv = "OPENAI_API_KEY",
    seed_format: Annotated[
        str, typer.Option(help="plain, evol, oss or stack (the paper's seed shapes).")
    ] = "plain",
    program_field: Annotated[
        str | None, typer.Option(help="Column with the program (plain) or the response (evol/oss).")
    ] = None,
    instruction_field: Annotated[str | None, typer.Option(help="Column with the instruction.")] = None,
    id_field: Annotated[str, typer.Option(help="Column with the seed id (default: the row index).")] = "id",
    source: Annotated[
        str | None, typer.Option(help="The rows' `source` (default: from the seed format).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Use at most this many seeds.")] = None,
    strip_print: Annotated[bool, typer.Option(help="Remove print statements from seed programs.")] = True,
    template: Annotated[
        Path | None,
        typer.Option(
            help="Prompt template file (YAML or text); default: the paper's Table 7, acecoder/resources/prompts/synthesis_table7.yaml."
        ),
    ] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.7,
    top_p: llm_options.TopP = 1.0,
    max_tokens: Annotated[int, typer.Option(help="Answer length limit.")] = 8192,
    seed: llm_options.Seed = None,
    min_tests: Annotated[int, typer.Option(help="Drop questions with fewer valid tests than this.")] = 1,
    decontaminate: Annotated[
        bool, typer.Option(help="Drop questions overlapping HumanEval(+)/MBPP(+).")
    ] = True,
    ngram: Annotated[int, typer.Option(help="Word n-gram size for decontamination.")] = 13,
    benchmark: Annotated[
        list[Path] | None, typer.Option(help="More benchmark problems to decontaminate against (repeatable).")
    ] = None,
    cache: llm_options.Cache = None,
    concurrency: llm_options.Concurrency = 64,
    rpm: llm_options.Rpm = None,
    tpm: llm_options.Tpm = None,
    max_attempts: llm_options.MaxAttempts = 6,
    batch_size: Annotated[int, typer.Option(help="Seeds per generation batch.")] = 256,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run of the same command.")] = True,
    progress: Annotated[bool, typer.Option(help="Show progress.")] = True,
) -> None:
    """Turn seed programs into questions with around 20 validated tests each (the paper's synthesis step)."""
    from acecoder.data import DataError
    from acecoder.data.io import file_format
    from acecoder.synthesis import Decontaminator, load_template, synthesize_file

    try:
        file_format(output)
        prompt = load_template(template)
        decontaminator = (
            Decontaminator.bundled(extra_files=benchmark or (), n=ngram) if decontaminate else None
        )
    except (DataError, ValueError, OSError) as e:
        raise fail(str(e)) from None
    client = llm_options.make_client(
        backend, model, base_url, api_key_env, llm_options.cache_path(cache, output),
        concurrency=concurrency, rpm=rpm, tpm=tpm, max_attempts=max_attempts, progress=progress,
    )  # fmt: skip
    from acecoder.llm import FatalBackendError

    try:
        with client:
            summary = synthesize_file(
                seeds,
                output,
                client,
                seed_format=seed_format,
                program_field=program_field,
                instruction_field=instruction_field,
                id_field=id_field,
                source=source,
                strip_print=strip_print,
                limit=limit,
                template=prompt,
                temperature=temperature,
                top_p=top_p,
                max_tokens=max_tokens,
                seed=seed,
                decontaminator=decontaminator,
                min_tests=min_tests,
                batch_size=batch_size,
                resume=resume,
            )
    except (DataError, FatalBackendError, ValueError) as e:
        raise fail(str(e)) from None
    typer.echo(str(summary), err=True)
    typer.echo(f"wrote {summary.rows} rows to {output}", err=True)
    failed = summary.dropped_rows.get("request_failed", 0)
    if failed:
        typer.echo(
            f"{failed} requests failed: rerun the same command to retry them (answers come from the cache)",
            err=True,
        )
