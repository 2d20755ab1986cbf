"""``acecoder augment-tests`` as a function: a file of rows in, the same rows with more tests out.

Resumable like every verb: finished rows go to ``OUT.partial.jsonl`` as they complete (a crash or ``kill -9``
loses nothing), model answers to the SQLite request cache; a rerun with the same input and settings continues
where it stopped. Rows that cannot be augmented are written unchanged and reported (file, row, field, why) in
the summary; rows under ``min_mutation_score`` go to ``OUT.rejected.jsonl``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acecoder.augmentation.batch import REFERENCE_LIMITS, RowOutcome, Settings, augment_batch
from acecoder.data import DataError, iter_rows, unique_rows, validate_acecode_row
from acecoder.data.checkpoint import Checkpoint, file_identity, fingerprint
from acecoder.data.io import write_json

if TYPE_CHECKING:
    from acecoder.augmentation.llm_inputs import InputProposer
    from acecoder.augmentation.sources import ReferenceSource
    from acecoder.execution import Executor, Limits


@dataclass
class AugmentSummary:
    reference: str = ""
    rows_in: int = 0
    rows_out: int = 0
    resumed: int = 0
    augmented: int = 0
    """Rows that gained at least one test."""
    unchanged: Counter[str] = field(default_factory=Counter)
    """Rows left as they were, by reason (no_tests, no_call, no_reference, reference_fails_tests, ...)."""
    rejected: int = 0
    tests_before: int = 0
    tests_added: int = 0
    candidates: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    mutation_rows: int = 0
    mutation_before: float = 0.0
    mutation_after: float = 0.0
    problems: list[str] = field(default_factory=list)
    llm: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def add(self, outcome: RowOutcome, path: str) -> None:
        self.rows_in += 1
        self.tests_before += outcome.n_before
        if outcome.rejected:
            self.rejected += 1
        else:
            self.rows_out += 1
        if outcome.problem:
            self.unchanged[outcome.problem["reason"]] += 1
            if len(self.problems) < 1000:
                error = DataError(
                    outcome.problem["detail"], path=path, row=outcome.line, field=outcome.problem["field"]
                )
                self.problems.append(f"{error} [{outcome.problem['reason']}]")
        self.augmented += outcome.n_new > 0
        self.tests_added += outcome.n_new if not outcome.rejected else 0
        self.candidates += outcome.candidates
        self.dropped.update(outcome.dropped)
        score = outcome.mutation or {}
        if score.get("before") is not None and score.get("after") is not None:
            self.mutation_rows += 1
            self.mutation_before += score["before"]
            self.mutation_after += score["after"]

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["unchanged"] = dict(self.unchanged.most_common())
        d["dropped"] = dict(self.dropped.most_common())
        n = self.mutation_rows
        d["mutation_before"] = round(self.mutation_before / n, 4) if n else None
        d["mutation_after"] = round(self.mutation_after / n, 4) if n else None
        d["avg_tests_before"] = round(self.tests_before / self.rows_in, 2) if self.rows_in else None
        d["avg_tests_after"] = (
            round((self.tests_before + self.tests_added) / self.rows_in, 2) if self.rows_in else None
        )
        return d

    def __str__(self) -> str:
        d = self.as_dict()
        lines = [
            f"reference: {self.reference}",
            f"rows: {self.rows_in} in ({self.resumed} from the progress file), {self.rows_out} out, "
            f"{self.augmented} augmented, {self.rejected} rejected (mutation score); left unchanged: "
            + (", ".join(f"{k} {v}" for k, v in self.unchanged.most_common()) or "none"),
            f"tests: {self.tests_before} before (avg {d['avg_tests_before']}), {self.tests_added} added "
            f"(avg {d['avg_tests_after']} after); {self.candidates} inputs generated, dropped: "
            + (", ".join(f"{k} {v}" for k, v in self.dropped.most_common()) or "none"),
        ]
        if self.mutation_rows:
            lines.append(
                f"mutation score: {d['mutation_before']} before, {d['mutation_after']} after "
                f"({self.mutation_rows} rows)"
            )
        if self.problems:
            lines.append(f"rows left unchanged ({sum(self.unchanged.values())}), first ones:")
            lines += [f"  {p}" for p in self.problems[:10]]
        if self.llm:
            from acecoder.llm import usage_line

            lines.append(usage_line(self.llm))
        return "\n".join(lines)


def _merged_usage(usages: list[dict[str, Any]]) -> dict[str, Any]:
    """One usage record from the reference model's and the input model's (counts summed)."""
    from acecoder.llm.usage import USAGE_COUNTS

    usages = [u for u in usages if u]
    if len(usages) < 2:
        return usages[0] if usages else {}
    out: dict[str, Any] = {"model": " + ".join(dict.fromkeys(str(u["model"]) for u in usages))}
    for name in USAGE_COUNTS:
        out[name] = sum(u.get(name, 0) for u in usages)
    costs = [u.get("cost", "$?") for u in usages]
    out["cost"] = "$?" if "$?" in costs else f"${sum(float(c[1:]) for c in costs):.4f}"
    return out


def augment_tests_file(
    input_path: str | os.PathLike,
    output: str | os.PathLike,
    source: ReferenceSource,
    engine: Executor,
    *,
    max_new_tests: int = Settings.max_new_tests,
    candidates: int | None = None,
    rules: tuple[str, ...] | list[str] | None = None,
    max_input_seconds: float = Settings.max_input_seconds,
    mutation_score: bool = True,
    max_mutants: int = Settings.max_mutants,
    min_mutation_score: float | None = None,
    seed: int = 0,
    failing_tests: str = Settings.failing_tests,
    proposer: InputProposer | None = None,
    limits: Limits | None = None,
    batch_size: int = 64,
    rejects_path: str | os.PathLike | None = None,
    summary_path: str | os.PathLike | None = None,
    resume: bool = True,
    dedupe_ids: bool = False,
) -> AugmentSummary:
    """Augment every row of ``input_path`` into ``output`` (see the module docstring); returns the counts, also
    written to ``summary_path`` (default ``<output>.summary.json``)."""
    settings = Settings(
        max_new_tests=max_new_tests,
        candidates=candidates,
        rules=tuple(rules) if rules is not None else Settings().rules,
        max_input_seconds=max_input_seconds,
        mutation_score=mutation_score,
        max_mutants=max_mutants,
        min_mutation_score=min_mutation_score,
        seed=seed,
        failing_tests=failing_tests,
    )
    limits = limits or REFERENCE_LIMITS
    output = Path(output)
    rejects_path = Path(rejects_path) if rejects_path else output.with_name(output.name + ".rejected.jsonl")
    summary_path = Path(summary_path) if summary_path else output.with_name(output.name + ".summary.json")
    run_fp = fingerprint(
        stage="augment-tests",
        input=file_identity(input_path),
        reference=source.fingerprint_parts(),
        inputs=proposer.fingerprint_parts() if proposer else None,
        settings=asdict(settings),
        limits=limits.to_wire(),
    )
    summary = AugmentSummary(reference=source.name, settings=asdict(settings))
    path = str(input_path)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, row in unique_rows(iter_rows(input_path), path, dedupe=dedupe_ids):
            validate_acecode_row(row, require=("id", "test_cases"), path=path, line=number)
            yield number, row

    with Checkpoint(output, run_fp, resume=resume) as ckpt:
        items = rows()
        summary.resumed = ckpt.done
        for _, record, _ in ckpt.finished(items):
            summary.add(RowOutcome.from_record(record), path)
        while batch := list(islice(items, max(1, batch_size))):
            for outcome in augment_batch(batch, source, engine, settings, proposer=proposer, limits=limits):
                ckpt.append(outcome.to_record())
                summary.add(outcome, path)
    summary.llm = _merged_usage([source.llm_summary(), proposer.llm_summary() if proposer else {}])
    ckpt.write_split(output, rejects_path)
    write_json(summary_path, summary.as_dict())
    return summary
