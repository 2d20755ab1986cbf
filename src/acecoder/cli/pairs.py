"""``acecoder pairs``: preference pairs from scored AceCode rows."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from acecoder.cli import options
from acecoder.cli.base import app, check_paths, fail, locks_output


class PairFormat(str, Enum):
    pairs = "pairs"
    acecodepair = "acecodepair"
    trl = "trl"


@app.command("pairs", short_help="Preference pairs from scored rows (the AceCoder rule).")
@locks_output()
def pairs_command(
    input: Path = typer.Argument(
        ...,
        help=f"AceCode rows ({options.ROWS_IN}). Reads id, question, test_cases and inferences[] (model_name, "
        "completion, pass_rate, as `acecoder execute` writes them).",
    ),
    output: Path = typer.Argument(
        ..., help=f"Where to write the pairs ({options.ROWS_IN}); never INPUT itself."
    ),
    min_chosen: float = typer.Option(0.8, help="Lowest pass rate of a chosen sample."),
    min_margin: float = typer.Option(0.4, help="Lowest pass-rate gap between chosen and rejected."),
    min_rejected: float = typer.Option(0.0, help="A rejected sample's pass rate must exceed this."),
    strict: bool = typer.Option(False, "--strict", help="The paper's strict inequalities (> instead of >=)."),
    cross_model: bool = typer.Option(
        False, "--cross-model", help="Pair samples of a question across all models, not per model."
    ),
    max_per_question: int | None = typer.Option(
        None, "--max-per-question", min=1, help="Keep at most this many pairs per question (seeded draw)."
    ),
    seed: int = typer.Option(0, help="Seed for --max-per-question."),
    ascii_only: bool = typer.Option(
        False, "--ascii-only", help="Skip non-ASCII questions, as the release did."
    ),
    tolerance: float = typer.Option(
        0.0, help="Float noise forgiven at each threshold; 0 compares raw floats as the release did."
    ),
    format: PairFormat = typer.Option(
        PairFormat.pairs,
        "--format",
        help="pairs (one row per pair, with ids and pass rates), acecodepair (AceCodePair-300K's fields, plus "
        "question_id) or trl (conversational prompt/chosen/rejected).",
    ),
    prompt_template: str | None = typer.Option(
        None,
        "--prompt-template",
        show_default=False,
        help="acecodepair/trl prompt: a preset (acecodepair, sampling) or a template file. [default: acecodepair]",
    ),
    dedupe_ids: options.DedupeIds = False,
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show a progress bar on a terminal."
    ),
) -> None:
    """Build preference pairs from scored rows with the AceCoder rule.

    Per question and model (by default): chosen >= 0.8, chosen - rejected >= 0.4, rejected > 0."""
    check_paths([input], output)
    from acecoder.data import DataError
    from acecoder.pairs import PairConfig, make_pairs

    try:
        config = PairConfig(
            min_chosen=min_chosen,
            min_margin=min_margin,
            min_rejected=min_rejected,
            strict=strict,
            cross_model=cross_model,
            max_per_question=max_per_question,
            seed=seed,
            ascii_only=ascii_only,
            tolerance=tolerance,
        )
        summary = make_pairs(
            input,
            output,
            config,
            format=format.value,
            template=prompt_template,
            progress=None if progress else False,
            dedupe_ids=dedupe_ids,
        )
    except (DataError, ValueError) as e:
        raise fail(str(e)) from None
    typer.echo(summary.format())
    typer.echo(f"wrote {output}")
