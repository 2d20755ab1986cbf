"""``acecoder augment-tests``: more tests per row, inputs from the row's own asserts, outputs from a reference."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import executor_options, llm_options, options
from acecoder.cli.base import EXIT_FAILED, app, check_paths, fail, resume_hint, retry_hint, warn
from acecoder.execution.limits import AUGMENT, Limits
from acecoder.llm import endpoints
from acecoder.synthesis.filter_tests import ORACLE_N, ORACLE_TEMPERATURE, PAPER_ORACLE_MAX_TOKENS


@app.command("augment-tests", short_help="Add tests whose outputs a reference program gives.")
def augment_tests_command(
    input: Annotated[
        Path,
        typer.Argument(
            help=f"AceCode rows ({options.ROWS_IN}). Reads id and test_cases (and the reference field, or "
            "inferences for --consensus); keeps every other field."
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            help=f"Where to write the rows ({options.ROWS_IN}): the original tests first, then the new ones; "
            "test_provenance says how each test was made, n_tests_augmented counts the new ones, mutation_score "
            "the share of the reference's mutants the tests kill before and after. Inference pass rates are "
            "cleared (rerun acecoder execute). Counts and the rows left unchanged go to OUTPUT.summary.json, rows "
            "under --min-mutation-score to OUTPUT.rejected.jsonl."
        ),
    ],
    reference_field: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Reference program(s) from this field, as filter-tests reads it: a program or a list; 'a+b' "
            "concatenates fields (question+canonical_solution); a dotted name reaches into objects "
            "(test_filter.programs: the oracle programs filter-tests --keep-programs stored).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(show_default=False, help="Reference programs sampled from this oracle model (cached)."),
    ] = None,
    consensus: Annotated[
        bool,
        typer.Option(
            "--consensus",
            help="No reference: the row's inferences that pass every original test vote on each input's result. "
            "With --reference-field: for the rows where that field is empty.",
        ),
    ] = False,
    consensus_share: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Share of the votes the largest group of equal results needs (consensus)."
        ),
    ] = 0.5,
    consensus_votes: Annotated[int, typer.Option(min=1, help="Votes that group needs at least.")] = 2,
    consensus_programs: Annotated[
        int, typer.Option(min=1, help="Distinct passing programs that vote, the most written first.")
    ] = 16,
    program: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="How the consensus builds an inference's program, as execute --program: "
            "'{question}{completion}' for completions that continue the prompt.",
        ),
    ] = None,
    max_new_tests: Annotated[int, typer.Option(min=0, help="Most tests added per row.")] = 50,
    candidates: Annotated[
        int | None,
        typer.Option(
            min=1, show_default=False, help="Inputs generated per row. [default: 3 x --max-new-tests]"
        ),
    ] = None,
    without_rule: Annotated[
        list[str] | None,
        typer.Option(
            "--without-rule",
            show_default=False,
            help="Turn off a domain rule (repeatable): types, sign, magnitude, charset, size, spacing, brackets, "
            "sorted, distinct, shape, relations, output.",
        ),
    ] = None,
    max_input_seconds: Annotated[
        float, typer.Option(min=0.0, help="Drop inputs the reference needs more CPU seconds for.")
    ] = 0.01,
    llm_inputs: Annotated[
        int, typer.Option(min=0, help="Also ask a model for this many inputs per function (--inputs-model).")
    ] = 0,
    inputs_model: Annotated[
        str | None,
        typer.Option(show_default=False, help="Model for --llm-inputs. [default: --model]"),
    ] = None,
    mutation_score: Annotated[
        bool,
        typer.Option(help="Compute each row's mutation score before and after (mutants run in the engine)."),
    ] = True,
    max_mutants: Annotated[int, typer.Option(min=1, help="Mutants of the reference per row.")] = 12,
    min_mutation_score: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            show_default=False,
            help="Drop rows whose tests kill a smaller share of the mutants.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Varies the generated inputs (same seed, same tests).")] = 0,
    failing_tests: Annotated[
        str,
        typer.Option(
            help="When the reference fails some of a row's own tests: 'drop' them (listed in the row's "
            "augmentation.removed_tests) and augment from the rest, or 'skip' the row (left unchanged).",
        ),
    ] = "drop",
    base_url: options.BaseUrl = None,
    backend: options.Backend = endpoints.BACKEND,
    api_key_env: options.ApiKeyEnv = endpoints.API_KEY_ENV,
    n: Annotated[int, typer.Option(min=1, help="Oracle samples per question; all must agree.")] = ORACLE_N,
    temperature: Annotated[
        float, typer.Option(help="Oracle sampling temperature (0: greedy).")
    ] = ORACLE_TEMPERATURE,
    max_tokens: Annotated[int, typer.Option(help="Oracle answer length limit.")] = PAPER_ORACLE_MAX_TOKENS,
    prompt: Annotated[
        str | None,
        typer.Option(
            show_default=False, help="Oracle prompt: a preset or a template file. [default: sampling]"
        ),
    ] = None,
    workers: options.Workers = None,
    timeout: Annotated[float, typer.Option(help="CPU seconds per input for a reference.")] = AUGMENT.test,
    memory_mb: options.MemoryMb = Limits.memory_mb,
    isolation: options.IsolationOption = options.Isolation.auto,
    cache: options.Cache = None,
    concurrency: options.Concurrency = endpoints.CONCURRENCY,
    rpm: options.Rpm = None,
    tpm: options.Tpm = None,
    max_attempts: options.MaxAttempts = endpoints.MAX_ATTEMPTS,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per engine batch.")] = 64,
    in_place: options.InPlace = False,
    dedupe_ids: options.DedupeIds = False,
    resume: options.Resume = True,
    progress: options.Progress = True,
    executor: executor_options.Executor = executor_options.ExecutorKind.local,
    ray_address: executor_options.RayAddress = None,
) -> None:
    """Add tests to each row: the calls its asserts make, mutated inside the domain they show (and optionally
    proposed by a model), with expected results from the reference(s) run in the engine.

    Rows that cannot be augmented (no test, no reference, no readable call, a reference failing every one of the
    row's own tests, or any of them with --failing-tests skip) are written unchanged and listed with file, row
    and field; the tests a reference fails are removed otherwise (--failing-tests drop). Exit status 1 when the
    engine or model requests failed for good (rerun to retry)."""
    from acecoder.augmentation import ALL_RULES, ConsensusSource, OracleSource, augment_tests_file
    from acecoder.data import DataError
    from acecoder.execution import SandboxError

    if model is not None and (reference_field is not None or consensus):
        raise fail("--model takes no --reference-field or --consensus")
    if reference_field is None and model is None and not consensus:
        raise fail("give a reference: --reference-field FIELD, --model NAME or --consensus")
    if llm_inputs and not (inputs_model or model):
        raise fail("--llm-inputs needs a model: --inputs-model NAME (or --model)")
    unknown = sorted(set(without_rule or ()) - set(ALL_RULES))
    if unknown:
        raise fail(f"unknown rule(s) {unknown}; known: {', '.join(ALL_RULES)}")
    rules = tuple(r for r in ALL_RULES if r not in set(without_rule or ()))
    uses_llm = model is not None or llm_inputs > 0
    cache_file = llm_options.cache_path(cache, output)
    side = [output.with_name(output.name + suffix) for suffix in (".rejected.jsonl", ".summary.json")]
    check_paths([input], output, in_place=in_place, side_outputs=[*side, *([cache_file] if uses_llm else [])])
    try:
        limits = AUGMENT.limits(timeout=timeout, memory_mb=memory_mb)
        fallback = (
            ConsensusSource(
                program_template=program,
                max_programs=consensus_programs,
                min_share=consensus_share,
                min_votes=consensus_votes,
            )
            if consensus
            else None
        )
    except ValueError as e:
        raise fail(str(e)) from None
    clients = []

    def client_for(name: str):
        client = llm_options.make_client(
            backend, name, base_url, api_key_env, cache_file,
            concurrency=concurrency, rpm=rpm, tpm=tpm, max_attempts=max_attempts, progress=progress,
        )  # fmt: skip
        clients.append(client)
        return client

    from acecoder.synthesis import FieldOracle, ModelOracle

    if model is not None:
        from acecoder.sampling import get_prompt_template

        try:
            template = get_prompt_template(prompt)
        except ValueError as e:
            raise fail(str(e)) from None
        oracle = ModelOracle(
            client_for(model), n=n, temperature=temperature, max_tokens=max_tokens, template=template
        )
        source = OracleSource(oracle)
    elif reference_field is not None:
        try:
            source = OracleSource(FieldOracle(reference_field), fallback)
        except ValueError as e:
            raise fail(str(e)) from None
    else:
        assert fallback is not None
        source = fallback
    proposer = None
    if llm_inputs:
        from acecoder.augmentation.llm_inputs import InputProposer

        name = inputs_model or model
        assert name is not None
        same = model is not None and name == model
        proposer = InputProposer(clients[0] if same else client_for(name), llm_inputs)
    from acecoder.llm import FatalBackendError

    engine = executor_options.make_executor(
        executor, ray_address, workers=workers, limits=limits, isolation=isolation.value
    )
    try:
        with resume_hint(output), engine:
            summary = augment_tests_file(
                input,
                output,
                source,
                engine,
                max_new_tests=max_new_tests,
                candidates=candidates,
                rules=rules,
                max_input_seconds=max_input_seconds,
                mutation_score=mutation_score,
                max_mutants=max_mutants,
                min_mutation_score=min_mutation_score,
                seed=seed,
                failing_tests=failing_tests,
                proposer=proposer,
                limits=limits,
                batch_size=batch_size,
                resume=resume,
                dedupe_ids=dedupe_ids,
            )
    except (DataError, SandboxError, FatalBackendError, ValueError) as e:
        raise fail(str(e)) from None
    finally:
        for client in clients:
            client.close()
    typer.echo(str(summary), err=True)
    typer.echo(f"wrote {summary.rows_out} rows to {output}", err=True)
    failed = summary.llm.get("failed", 0)
    infra = summary.unchanged.get("infra_error", 0)
    if infra:
        warn(
            f"{infra} rows were left unchanged because the engine failed; rerun with --no-resume to retry them"
        )
    if failed:
        retry_hint(failed, "model requests")
    if failed or infra:
        raise typer.Exit(EXIT_FAILED)
