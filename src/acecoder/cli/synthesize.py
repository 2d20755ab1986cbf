"""``acecoder synthesize``: seed programs -> questions with validated tests (AceCode rows)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import llm_options, options
from acecoder.cli.base import EXIT_FAILED, app, check_paths, fail, locks_output, resume_hint, retry_hint
from acecoder.llm import endpoints


class SeedFormat(str, Enum):
    """acecoder.synthesis.SEED_FORMATS, spelled out so that the verb starts without importing the stage."""

    plain = "plain"
    evol = "evol"
    oss = "oss"
    stack = "stack"


@app.command("synthesize", short_help="Seed programs -> questions with ~20 validated tests each.")
@locks_output()
def synthesize_command(
    seeds: Annotated[
        Path,
        typer.Argument(
            help=f"Seed rows ({options.ROWS_IN}; also a .json array or a local HF dataset folder). Reads the "
            "program (--program-field), optionally an instruction (--instruction-field), an id (--id-field)."
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            help=f"Where to write the AceCode rows ({options.ROWS_IN}); dropped seeds go to "
            "OUTPUT.rejected.jsonl, counts to OUTPUT.summary.json."
        ),
    ],
    model: Annotated[str, typer.Option(help="Model name (the paper: gpt-4o-mini).")],
    base_url: options.BaseUrl = None,
    backend: options.Backend = endpoints.BACKEND,
    api_key_env: options.ApiKeyEnv = endpoints.API_KEY_ENV,
    seed_format: Annotated[
        SeedFormat,
        typer.Option(
            help="plain (a program and an optional instruction), evol (Magicoder-Evol-Instruct), oss "
            "(Magicoder-OSS-Instruct) or stack (Stack Python functions)."
        ),
    ] = SeedFormat.plain,
    program_field: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Column with the program (plain, stack) or the response holding it (evol, oss). "
            "[default: program; evol: response; oss: response, else solution; stack: content]",
        ),
    ] = None,
    instruction_field: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Column with the instruction. [default: instruction; oss: instruction, else problem; stack: none]",
        ),
    ] = None,
    id_field: Annotated[
        str,
        typer.Option(
            help="Column with the seed id; a row without it is numbered by its position from 0. Row ids are "
            "SOURCE_ID and must be unique (see --dedupe-ids)."
        ),
    ] = "id",
    source: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="The rows' source. [default: evol, oss or bigcode_python_fns by seed format; plain seeds: the "
            "row's source field, else the seed file's name]",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Use at most this many seeds.")] = None,
    strip_print: Annotated[bool, typer.Option(help="Remove print statements from seed programs.")] = True,
    template: Annotated[
        Path | None,
        typer.Option(
            show_default=False,
            help="Prompt template file (YAML or text). [default: the paper's Table 7, "
            "acecoder/resources/prompts/synthesis_table7.yaml]",
        ),
    ] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.7,
    top_p: options.TopP = 1.0,
    max_tokens: Annotated[int, typer.Option(help="Answer length limit.")] = 8192,
    seed: options.Seed = None,
    min_tests: Annotated[int, typer.Option(help="Drop questions with fewer valid tests than this.")] = 1,
    decontaminate: Annotated[
        bool, typer.Option(help="Drop questions overlapping HumanEval(+)/MBPP(+).")
    ] = True,
    ngram: Annotated[int, typer.Option(help="Word n-gram size for decontamination.")] = 13,
    benchmark: Annotated[
        list[Path] | None, typer.Option(help="More benchmark problems to decontaminate against (repeatable).")
    ] = None,
    cache: options.Cache = None,
    concurrency: options.Concurrency = endpoints.CONCURRENCY,
    rpm: options.Rpm = None,
    tpm: options.Tpm = None,
    max_attempts: options.MaxAttempts = endpoints.MAX_ATTEMPTS,
    batch_size: Annotated[int, typer.Option(min=1, help="Seeds per generation batch.")] = 256,
    dedupe_ids: options.DedupeIds = False,
    resume: options.Resume = True,
    progress: options.Progress = True,
) -> None:
    """Turn seed programs into questions with around 20 validated tests each (the paper's synthesis step).

    Exit status 1, with exact counts, when any request failed for good: rerunning the same command asks only for the seeds still unanswered."""
    from acecoder.data import DataError
    from acecoder.synthesis import Decontaminator, load_template, synthesize_file
    from acecoder.synthesis.seeds import load_seeds

    cache_file = llm_options.cache_path(cache, output)
    side = [output.with_name(output.name + suffix) for suffix in (".rejected.jsonl", ".summary.json")]
    check_paths(
        [seeds],
        output,
        side_outputs=[cache_file, *side],
        other_inputs=[template, *(benchmark or [])],
        extra_formats=(".json",),
    )
    try:
        prompt = load_template(template)
        # The whole seed file is read before any request: bad input stops here, nothing written.
        for _ in load_seeds(
            seeds, format=seed_format.value, program_field=program_field, instruction_field=instruction_field,
            id_field=id_field, source=source, strip_print=strip_print, dedupe_ids=dedupe_ids, limit=limit,
        ):  # fmt: skip
            pass
        decontaminator = (
            Decontaminator.bundled(extra_files=benchmark or (), n=ngram) if decontaminate else None
        )
    except (DataError, ValueError, OSError) as e:
        raise fail(str(e)) from None
    client = llm_options.make_client(
        backend, model, base_url, api_key_env, cache_file,
        concurrency=concurrency, rpm=rpm, tpm=tpm, max_attempts=max_attempts, progress=progress,
    )  # fmt: skip
    from acecoder.llm import FatalBackendError

    try:
        with client, resume_hint(output):
            summary = synthesize_file(
                seeds,
                output,
                client,
                seed_format=seed_format.value,
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
                dedupe_ids=dedupe_ids,
            )
    except (DataError, FatalBackendError, ValueError) as e:
        raise fail(str(e)) from None
    typer.echo(str(summary), err=True)
    typer.echo(f"wrote {summary.rows} rows to {output}", err=True)
    failed = summary.dropped_rows.get("request_failed", 0)
    if failed:
        retry_hint(failed, "requests")
        raise typer.Exit(EXIT_FAILED)
