"""Question and test synthesis: seed program -> prompt -> model answer -> question + validated tests.

:func:`synthesize` turns seeds into outcomes (a row, or a rejection with its reason) through an
:class:`~acecoder.llm.LLMClient`; :func:`synthesize_file` runs it over a seed file with a resumable progress file,
writes the AceCode-shaped rows, the rejections and a summary. Every answer goes through the client's request
cache, so a rerun after a crash re-pays nothing already answered.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acecoder.data.checkpoint import Checkpoint, file_identity, fingerprint
from acecoder.data.io import write_json
from acecoder.synthesis.decontam import Decontaminator
from acecoder.synthesis.parse import parse_answer
from acecoder.synthesis.prompt import SynthesisPrompt, default_template
from acecoder.synthesis.seeds import Seed, SeedStats, load_seeds
from acecoder.synthesis.validate import validate_tests

if TYPE_CHECKING:
    from acecoder.llm import LLMClient

# The paper's generation settings (gpt-4o-mini).
PAPER_MODEL = "gpt-4o-mini"
PAPER_TEMPERATURE = 0.7
PAPER_MAX_TOKENS = 8192

# Why a seed yields no row (besides the parse errors of acecoder.synthesis.parse.MALFORMED_REASONS).
ROW_DROP_REASONS = ("request_failed", "decontaminated", "too_few_tests")


@dataclass
class Outcome:
    """What one seed became: ``row`` (AceCode-shaped), or ``reason`` (+ ``detail``, the model's ``answer``).

    ``tests`` counts the answer's tests when they were validated: ``{"raw": n, "kept": k, "dropped": {...}}``."""

    seed_id: str
    source: str
    row: dict[str, Any] | None = None
    reason: str | None = None
    detail: str = ""
    answer: str | None = None
    parse_method: str | None = None
    finish_reason: str | None = None
    tests: dict[str, Any] | None = None

    def to_record(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Outcome:
        return cls(**record)

    def rejection(self) -> dict[str, Any]:
        return {
            "seed_id": self.seed_id,
            "source": self.source,
            "reason": self.reason,
            "detail": self.detail,
            "finish_reason": self.finish_reason,
            "tests": self.tests,
            "answer": self.answer,
        }


@dataclass
class SynthesisSummary:
    """Counts over a synthesis run (seeds, answers, rows, tests by fate, decontamination, model usage)."""

    seeds: SeedStats = field(default_factory=SeedStats)
    outcomes: int = 0
    rows: int = 0
    dropped_rows: Counter[str] = field(default_factory=Counter)
    parse_methods: Counter[str] = field(default_factory=Counter)
    truncated_answers: int = 0
    tests_synthesized: int = 0
    tests_kept: int = 0
    dropped_tests: Counter[str] = field(default_factory=Counter)
    decontaminated: Counter[str] = field(default_factory=Counter)
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)
    resumed: int = 0

    def add(self, outcome: Outcome) -> None:
        self.outcomes += 1
        src = self.by_source.setdefault(outcome.source, {"seeds": 0, "rows": 0, "tests": 0})
        src["seeds"] += 1
        if outcome.parse_method:
            self.parse_methods[outcome.parse_method] += 1
        if outcome.finish_reason == "length":
            self.truncated_answers += 1
        if outcome.tests:
            self.tests_synthesized += outcome.tests["raw"]
            self.dropped_tests.update(outcome.tests["dropped"])
        if outcome.row is not None:
            self.rows += 1
            src["rows"] += 1
            src["tests"] += len(outcome.row["test_cases"])
            self.tests_kept += len(outcome.row["test_cases"])
        else:
            assert outcome.reason is not None
            self.dropped_rows[outcome.reason] += 1
            if outcome.reason == "decontaminated":
                self.decontaminated[outcome.detail.split(" ", 1)[0]] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds.as_dict(),
            "answers": self.outcomes,
            "resumed": self.resumed,
            "rows": self.rows,
            "dropped_rows": dict(self.dropped_rows.most_common()),
            "parse_methods": dict(self.parse_methods.most_common()),
            "truncated_answers": self.truncated_answers,
            "tests_synthesized": self.tests_synthesized,
            "tests_kept": self.tests_kept,
            "dropped_tests": dict(self.dropped_tests.most_common()),
            "decontaminated": dict(self.decontaminated.most_common()),
            "by_source": self.by_source,
            "llm": self.llm,
        }

    def __str__(self) -> str:
        s = self.seeds
        skipped = ", ".join(f"{k} {v}" for k, v in s.skipped.most_common()) or "none"
        kept_pct = 100.0 * self.tests_kept / self.tests_synthesized if self.tests_synthesized else 0.0
        lines = [
            f"seeds: {s.read} read, {s.kept} used; skipped: {skipped}",
            f"answers: {self.outcomes} ({self.resumed} from the progress file); rows written: {self.rows}; "
            f"answers cut at max_tokens: {self.truncated_answers}",
            "rows dropped: " + (", ".join(f"{k} {v}" for k, v in self.dropped_rows.most_common()) or "none"),
            "parsed as: " + (", ".join(f"{k} {v}" for k, v in self.parse_methods.most_common()) or "-"),
            f"tests: {self.tests_synthesized} synthesized, {self.tests_kept} kept ({kept_pct:.1f}%); dropped: "
            + (", ".join(f"{k} {v}" for k, v in self.dropped_tests.most_common()) or "none"),
        ]
        if self.decontaminated:
            lines.append(
                "decontaminated: " + ", ".join(f"{k} {v}" for k, v in self.decontaminated.most_common())
            )
        if self.llm:
            from acecoder.llm import usage_line

            lines.append(usage_line(self.llm))
        return "\n".join(lines)


def synthesize(
    seeds: Iterable[Seed],
    client: LLMClient,
    *,
    template: SynthesisPrompt | None = None,
    temperature: float = PAPER_TEMPERATURE,
    top_p: float = 1.0,
    max_tokens: int = PAPER_MAX_TOKENS,
    seed: int | None = None,
    decontaminator: Decontaminator | None = None,
    min_tests: int = 1,
    batch_size: int = 256,
    on_batch: Callable[[LLMClient], None] | None = None,
) -> Iterator[Outcome]:
    """Yield one :class:`Outcome` per seed, in order. Requests go to ``client`` ``batch_size`` seeds at a time
    (each answer is cached as it arrives); ``on_batch(client)`` runs after each batch (e.g. to sum usage from
    ``client.summary``). Rows with fewer than ``min_tests`` valid tests are dropped."""
    from acecoder.llm import ChatRequest

    template = template or default_template()
    it = iter(seeds)
    while batch := list(islice(it, max(1, batch_size))):
        requests = [
            ChatRequest(
                template.messages(s.program, s.instruction),
                n=1,
                temperature=temperature,
                top_p=top_p,
                max_tokens=max_tokens,
                seed=seed,
            )
            for s in batch
        ]
        results = client.generate(requests, desc="synthesize")
        if on_batch is not None:
            on_batch(client)
        for s, result in zip(batch, results, strict=True):
            completion = result.completions[0] if result.completions else None
            yield outcome_for(s, completion, decontaminator=decontaminator, min_tests=min_tests)


def outcome_for(
    seed: Seed, completion: Any, *, decontaminator: Decontaminator | None = None, min_tests: int = 1
) -> Outcome:
    """Turn one seed's model answer (an :class:`~acecoder.llm.Completion` or None) into an outcome."""
    if completion is None or not completion.ok:
        error = getattr(completion, "error", None) or "no answer"
        return Outcome(seed.id, seed.source, reason="request_failed", detail=error)
    text, finish = completion.text, completion.finish_reason
    parsed = parse_answer(text)
    base = {"answer": text, "finish_reason": finish, "parse_method": parsed.method}
    if not parsed.ok:
        return Outcome(seed.id, seed.source, reason=parsed.error, detail=parsed.detail, **base)
    assert parsed.question is not None
    if decontaminator is not None:
        hit = decontaminator.check(parsed.question)
        if hit is not None:
            detail = f"{hit.benchmark} {hit.task_id}: {hit.ngram!r}"
            return Outcome(seed.id, seed.source, reason="decontaminated", detail=detail, **base)
    checked = validate_tests(parsed.tests, question=parsed.question)
    counts = {"raw": checked.n_raw, "kept": len(checked.kept), "dropped": dict(checked.dropped.most_common())}
    if len(checked.kept) < max(1, min_tests):
        detail = f"{len(checked.kept)} valid of {checked.n_raw}"
        return Outcome(seed.id, seed.source, reason="too_few_tests", detail=detail, tests=counts, **base)
    question = parsed.question
    row = {
        "id": f"{seed.source}_{seed.id}",
        "source": seed.source,
        "question": question,
        "test_cases": checked.kept,
        "context_messages": [{"role": "user", "content": question}],
        "entry_point": checked.entry_point,
        "n_tests_synthesized": checked.n_raw,
        "synthesis": {
            "dropped_tests": counts["dropped"],
            "parse_method": parsed.method,
            "finish_reason": finish,
        },
        "seed_id": seed.id,
        "seed_program": seed.program,
        "seed_instruction": seed.instruction,
        "seed": seed.fields,
    }
    return Outcome(
        seed.id, seed.source, row=row, parse_method=parsed.method, finish_reason=finish, tests=counts
    )


def synthesize_file(
    seeds_path: str | os.PathLike,
    output: str | os.PathLike,
    client: LLMClient,
    *,
    seed_format: str = "plain",
    program_field: str | None = None,
    instruction_field: str | None = None,
    id_field: str = "id",
    source: str | None = None,
    strip_print: bool = True,
    limit: int | None = None,
    template: SynthesisPrompt | None = None,
    temperature: float = PAPER_TEMPERATURE,
    top_p: float = 1.0,
    max_tokens: int = PAPER_MAX_TOKENS,
    seed: int | None = None,
    decontaminator: Decontaminator | None = None,
    min_tests: int = 1,
    batch_size: int = 256,
    rejects_path: str | os.PathLike | None = None,
    summary_path: str | os.PathLike | None = None,
    resume: bool = True,
    dedupe_ids: bool = False,
) -> SynthesisSummary:
    """Synthesize a seed file into ``output`` (AceCode rows), ``rejects_path`` (default
    ``<output>.rejected.jsonl``: seeds that gave no row, with the reason and the model's answer) and
    ``summary_path`` (default ``<output>.summary.json``). Finished seeds are appended to
    ``<output>.partial.jsonl`` as they complete, so a rerun with the same inputs and settings continues; the
    outputs are written atomically at the end. Seed ids must be unique within a source (``dedupe_ids`` renames
    repeats), so that no two rows share an id."""
    from acecoder.llm import UsageTotals

    template = template or default_template()
    output = Path(output)
    rejects_path = Path(rejects_path) if rejects_path else output.with_name(output.name + ".rejected.jsonl")
    summary_path = Path(summary_path) if summary_path else output.with_name(output.name + ".summary.json")
    seeds_id = (
        file_identity(seeds_path) if Path(seeds_path).is_file() else {"path": str(Path(seeds_path).resolve())}
    )
    run_fp = fingerprint(
        stage="synthesize",
        seeds=seeds_id,
        seed_options=[seed_format, program_field, instruction_field, id_field, source, strip_print, limit],
        model=client.backend.model,
        template=template.fingerprint,
        sampling=[temperature, top_p, max_tokens, seed],
        decontaminate=None
        if decontaminator is None
        else [decontaminator.n, decontaminator.min_tokens, len(decontaminator)],
        min_tests=min_tests,
    )
    summary = SynthesisSummary()
    seeds = load_seeds(
        seeds_path,
        format=seed_format,
        program_field=program_field,
        instruction_field=instruction_field,
        id_field=id_field,
        source=source,
        strip_print=strip_print,
        dedupe_ids=dedupe_ids,
        limit=limit,
        stats=summary.seeds,
    )
    llm = UsageTotals(client.backend.model)
    with Checkpoint(output, run_fp, resume=resume) as ckpt:
        seed_iter = iter(seeds)
        summary.resumed = ckpt.done
        options = {
            "template": template,
            "temperature": temperature,
            "top_p": top_p,
            "max_tokens": max_tokens,
            "seed": seed,
            "decontaminator": decontaminator,
            "min_tests": min_tests,
            "batch_size": batch_size,
            "on_batch": llm.add,
        }
        # Seeds finished by an earlier run; those whose request had failed are asked again (the client retries
        # recorded failures), the rest are counted as they are.
        retry: list[tuple[int, Seed]] = []
        for i, record, done_seed in ckpt.finished(seed_iter):
            outcome = Outcome.from_record(record)
            if outcome.reason == "request_failed":
                retry.append((i, done_seed))
            else:
                summary.add(outcome)
        replaced: dict[int, Outcome] = {}
        if retry:
            for (i, _), outcome in zip(
                retry, synthesize([s for _, s in retry], client, **options), strict=True
            ):
                replaced[i] = outcome
                summary.add(outcome)
        for outcome in synthesize(seed_iter, client, **options):
            ckpt.append(outcome.to_record())
            summary.add(outcome)
        summary.llm = llm.as_dict()

    def route(i: int, record: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        outcome = replaced.get(i) or Outcome.from_record(record)  # a retried seed's new outcome supersedes
        return (outcome.row, None) if outcome.row is not None else (None, outcome.rejection())

    ckpt.write_split(output, rejects_path, route)
    write_json(summary_path, summary.as_dict())
    return summary
