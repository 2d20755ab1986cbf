"""Test filtering: keep the synthesized tests an oracle program passes, drop questions left with too few.

Oracle programs come from a model (the paper: one greedy Qwen2.5-Coder-32B-Instruct program, prompted with the
AceCoder sampling prompt) or from a field of the rows (a reference solution). With several oracle programs a test
survives when any of them passes it. Every program runs through one :class:`~acecoder.execution.ExecutionEngine`.
An oracle run the engine itself failed (``infra_error``) never counts as failing tests: such a row is rejected
with that reason, so a rerun can retry it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acecoder.data import iter_rows, unique_rows, validate_acecode_row
from acecoder.data.checkpoint import Checkpoint, file_identity, fingerprint
from acecoder.data.io import write_json

if TYPE_CHECKING:
    from acecoder.execution import ExecutionEngine
    from acecoder.llm import LLMClient
    from acecoder.sampling import PromptTemplate

# The paper's oracle settings.
PAPER_ORACLE_MODEL = "Qwen/Qwen2.5-Coder-32B-Instruct"
PAPER_ORACLE_MAX_TOKENS = 1024
ORACLE_N = 1
"""Oracle answers per question (filter-tests: a test survives when any passes it; augment-tests: all agree)."""
ORACLE_TEMPERATURE = 0.0
ORACLE_TOP_P = 1.0
PAPER_MIN_TESTS = 5
ROW_DROP_REASONS = ("no_tests", "no_oracle", "infra_error", "too_few_tests", "weak_tests")


@dataclass
class FilterOutcome:
    """One input row's fate: the filtered ``row``, or ``reason`` with the counts."""

    id: str
    source: str
    n_before: int
    n_passed: int = 0
    row: dict[str, Any] | None = None
    reason: str | None = None
    detail: str = ""

    def to_record(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FilterOutcome:
        return cls(**record)


@dataclass
class FilterSummary:
    rows_in: int = 0
    rows_out: int = 0
    resumed: int = 0
    dropped_rows: Counter[str] = field(default_factory=Counter)
    tests_before: int = 0
    tests_passed: int = 0
    tests_after: int = 0
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    oracle: str = ""
    oracle_programs: int = 0
    execution: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)

    def add(self, outcome: FilterOutcome) -> None:
        self.rows_in += 1
        self.tests_before += outcome.n_before
        self.tests_passed += outcome.n_passed
        src = self.by_source.setdefault(
            outcome.source, {"rows_in": 0, "tests_before": 0, "rows_out": 0, "tests_after": 0}
        )
        src["rows_in"] += 1
        src["tests_before"] += outcome.n_before
        if outcome.row is not None:
            self.rows_out += 1
            self.tests_after += outcome.n_passed
            src["rows_out"] += 1
            src["tests_after"] += outcome.n_passed
        else:
            assert outcome.reason is not None
            self.dropped_rows[outcome.reason] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "oracle": self.oracle,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "resumed": self.resumed,
            "dropped_rows": dict(self.dropped_rows.most_common()),
            "tests_before": self.tests_before,
            "tests_passed": self.tests_passed,
            "tests_after": self.tests_after,
            "avg_tests_before": round(self.tests_before / self.rows_in, 2) if self.rows_in else None,
            "avg_tests_after": round(self.tests_after / self.rows_out, 2) if self.rows_out else None,
            "by_source": self.by_source,
            "oracle_programs_run": self.oracle_programs,
            "execution": self.execution,
            "llm": self.llm,
        }

    def __str__(self) -> str:
        d = self.as_dict()
        lines = [
            f"oracle: {self.oracle}; {self.oracle_programs} oracle programs run this time",
            f"rows: {self.rows_in} in ({self.resumed} from the progress file), {self.rows_out} out; dropped: "
            + (", ".join(f"{k} {v}" for k, v in self.dropped_rows.most_common()) or "none"),
            f"tests: {self.tests_before} before (avg {d['avg_tests_before']}), {self.tests_passed} passed by an "
            f"oracle, {self.tests_after} in kept rows (avg {d['avg_tests_after']})",
        ]
        if self.execution:
            lines.append("execution: " + ", ".join(f"{k} {v}" for k, v in self.execution.items()))
        if self.llm:
            from acecoder.llm import usage_line

            lines.append(usage_line(self.llm))
        return "\n".join(lines)


class ModelOracle:
    """Oracle programs sampled from a model with the AceCoder sampling prompt (question + first tests, prefill).

    Paper settings: greedy (``temperature=0``), one sample, 1024 tokens."""

    def __init__(
        self,
        client: LLMClient,
        *,
        n: int = ORACLE_N,
        temperature: float = ORACLE_TEMPERATURE,
        top_p: float = ORACLE_TOP_P,
        max_tokens: int = PAPER_ORACLE_MAX_TOKENS,
        seed: int | None = None,
        template: PromptTemplate | None = None,
    ):
        from acecoder.sampling import SAMPLING_TEMPLATE

        self.client, self.n, self.temperature, self.top_p = client, n, temperature, top_p
        self.max_tokens, self.seed = max_tokens, seed
        self.template = template or SAMPLING_TEMPLATE
        self.name = f"model:{client.backend.model}"
        from acecoder.llm import UsageTotals

        self.usage = UsageTotals(client.backend.model)

    def fingerprint_parts(self) -> list[Any]:
        return [
            self.name, self.n, self.temperature, self.top_p, self.max_tokens, self.seed, self.template.to_dict(),
        ]  # fmt: skip

    def programs(self, rows: Sequence[dict[str, Any]]) -> list[list[str]]:
        from acecoder.execution.testkinds import has_stdin_tests
        from acecoder.llm import ChatRequest
        from acecoder.sampling import extract_code

        tmpl = self.template
        requests = [
            ChatRequest(
                tmpl.messages(row["question"], row["test_cases"], with_prefill=False),
                n=self.n,
                temperature=self.temperature,
                top_p=self.top_p,
                max_tokens=self.max_tokens,
                seed=self.seed,
                prefill=tmpl.prefill or None,
            )
            for row in rows
        ]
        results = self.client.generate(requests, desc="oracle")
        self.usage.add(self.client)
        continuation = bool(tmpl.prefill) and tmpl.prefill.rstrip().endswith(("```python", "```py", "```"))
        out = []
        for row, result in zip(rows, results, strict=True):
            strip = not has_stdin_tests(
                row.get("test_cases")
            )  # a stdin program's trailing prints are the program
            progs = [
                extract_code(c.text, continuation=continuation, strip_tests=strip)
                for c in result.completions
                if c.ok and c.text
            ]
            out.append([p for p in progs if p.strip()])
        return out

    def llm_summary(self) -> dict[str, Any]:
        return self.usage.as_dict()


def field_value(row: dict[str, Any], path: str) -> Any:
    """The value at ``path`` in a row: a field name, or a dotted path into nested objects
    (``test_filter.programs``, where ``filter-tests --keep-programs`` stores its oracle programs)."""
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


class FieldOracle:
    """Oracle programs read from the rows: a field holding a program or a list of programs, or several fields
    joined with ``+`` whose strings are concatenated into one program (``question+canonical_solution`` for
    HumanEval-style rows whose solution is a function body). A dotted name reaches into nested objects
    (``test_filter.programs``: the oracle programs ``--keep-programs`` stored)."""

    def __init__(self, field: str):
        self.field = field
        self.parts = [f.strip() for f in field.split("+") if f.strip()]
        if not self.parts:
            raise ValueError("an empty reference field")
        self.name = f"field:{field}"

    def fingerprint_parts(self) -> list[Any]:
        return [self.name]

    def programs(self, rows: Sequence[dict[str, Any]]) -> list[list[str]]:
        out = []
        for row in rows:
            if len(self.parts) > 1:
                values = [field_value(row, p) for p in self.parts]
                progs = ["".join(values)] if all(isinstance(v, str) for v in values) else []
            else:
                value = field_value(row, self.parts[0])
                progs = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            out.append([p for p in progs if isinstance(p, str) and p.strip()])
        return out

    def llm_summary(self) -> dict[str, Any]:
        return {}


def filter_rows(
    rows: Iterable[dict[str, Any]],
    oracle: ModelOracle | FieldOracle,
    engine: ExecutionEngine,
    *,
    min_tests: int = PAPER_MIN_TESTS,
    batch_size: int = 256,
    keep_programs: bool = False,
    exec_summary: Any = None,
    min_mutation_score: float | None = None,
) -> Iterator[FilterOutcome]:
    """Yield one :class:`FilterOutcome` per row, in order. ``min_mutation_score``: also drop the rows whose kept
    tests kill a smaller share of the oracle program's mutants (:mod:`acecoder.augmentation.mutation_score`;
    rows whose score cannot be computed are kept)."""
    from acecoder.execution import Job
    from acecoder.execution.testkinds import row_limits, row_tests

    it = iter(rows)
    while batch := list(islice(it, max(1, batch_size))):
        testable = [row for row in batch if row.get("test_cases")]
        programs = dict(zip(map(id, testable), oracle.programs(testable), strict=True)) if testable else {}
        jobs = [(row, prog) for row in testable for prog in programs[id(row)]]
        base = getattr(engine, "limits", None)
        results = list(engine.run(Job(prog, row_tests(row), row_limits(row, base)) for row, prog in jobs))
        by_row: dict[int, list[Any]] = {}
        for (row, _), result in zip(jobs, results, strict=True):
            by_row.setdefault(id(row), []).append(result)
            if exec_summary is not None:
                exec_summary.add(result)
        outcomes = [
            _outcome(
                row, programs.get(id(row), []), by_row.get(id(row), []), oracle, min_tests, keep_programs
            )
            for row in batch
        ]
        if min_mutation_score is not None:
            _score_kept(outcomes, batch, programs, engine, min_mutation_score)
        yield from outcomes


def _score_kept(
    outcomes: list[FilterOutcome],
    batch: list[dict[str, Any]],
    programs: dict[int, list[str]],
    engine: ExecutionEngine,
    threshold: float,
) -> None:
    """Mutation scores of the kept rows (the oracle's programs as the reference); drop the weak ones."""
    from acecoder.augmentation import Settings, augment_batch
    from acecoder.augmentation.sources import FixedSource

    kept = [(o, row) for o, row in zip(outcomes, batch, strict=True) if o.row is not None]
    if not kept:
        return
    source = FixedSource([(o.row, programs.get(id(row), [])) for o, row in kept], name="oracle")
    settings = Settings(max_new_tests=0, mutation_score=True, min_mutation_score=threshold)
    scored = augment_batch([(None, o.row) for o, _ in kept], source, engine, settings)  # type: ignore[misc]
    for (outcome, _), result in zip(kept, scored, strict=True):
        if result.mutation is not None and outcome.row is not None:
            outcome.row["mutation_score"] = result.mutation
        if result.rejected:
            outcome.reason, outcome.detail, outcome.row = "weak_tests", result.rejected, None


def _outcome(
    row: dict[str, Any],
    programs: list[str],
    results: list[Any],
    oracle: ModelOracle | FieldOracle,
    min_tests: int,
    keep_programs: bool,
) -> FilterOutcome:
    tests = list(row.get("test_cases") or [])
    rid, source = str(row.get("id")), str(row.get("source") or "unknown")
    base = {"id": rid, "source": source, "n_before": len(tests)}
    if not tests:
        return FilterOutcome(**base, reason="no_tests")
    if not programs:
        return FilterOutcome(**base, reason="no_oracle", detail=f"{oracle.name} gave no program")
    usable = [r for r in results if not r.infra_error]
    if not usable:
        return FilterOutcome(**base, reason="infra_error", detail=results[0].infra_error if results else "")
    keep = [any(r.test_results[i] for r in usable) for i in range(len(tests))]
    kept = [t for t, k in zip(tests, keep, strict=True) if k]
    if len(kept) < min_tests:
        return FilterOutcome(
            **base, n_passed=len(kept), reason="too_few_tests", detail=f"{len(kept)} < {min_tests}"
        )
    out = dict(row)
    out["test_cases"] = kept
    out["n_tests_before"] = len(tests)
    out["test_filter"] = {
        "oracle": oracle.name,
        "oracle_programs": len(programs),
        "oracle_pass_rates": [r.pass_rate for r in usable],
        **({"programs": programs} if keep_programs else {}),
    }
    if isinstance(out.get("inferences"), list):
        out["inferences"] = [_refilter_inference(inf, keep) for inf in out["inferences"]]
    return FilterOutcome(**base, n_passed=len(kept), row=out)


def _refilter_inference(inf: Any, keep: list[bool]) -> Any:
    """Restrict an inference's per-test verdicts to the kept tests; a pass rate that cannot be restricted is
    cleared rather than left stale."""
    if not isinstance(inf, dict):
        return inf
    inf = dict(inf)
    results = inf.get("test_results")
    if isinstance(results, list) and len(results) == len(keep):
        inf["test_results"] = [r for r, k in zip(results, keep, strict=True) if k]
        inf["pass_rate"] = (
            sum(inf["test_results"]) / len(inf["test_results"]) if inf["test_results"] else None
        )
    elif "pass_rate" in inf:
        inf["pass_rate"] = None
        inf.pop("test_results", None)
    return inf


def filter_tests_file(
    input_path: str | os.PathLike,
    output: str | os.PathLike,
    oracle: ModelOracle | FieldOracle,
    engine: ExecutionEngine,
    *,
    min_tests: int = PAPER_MIN_TESTS,
    batch_size: int = 256,
    keep_programs: bool = False,
    min_mutation_score: float | None = None,
    rejects_path: str | os.PathLike | None = None,
    summary_path: str | os.PathLike | None = None,
    resume: bool = True,
    dedupe_ids: bool = False,
) -> FilterSummary:
    """Filter a file of AceCode rows into ``output``; rows dropped go to ``rejects_path`` (default
    ``<output>.rejected.jsonl``) and the counts to ``summary_path`` (default ``<output>.summary.json``).
    Resumable like :func:`~acecoder.synthesis.synthesize_file`. Row ids must be unique (``dedupe_ids`` renames
    repeats)."""
    from acecoder.execution import ExecutionSummary

    output = Path(output)
    rejects_path = Path(rejects_path) if rejects_path else output.with_name(output.name + ".rejected.jsonl")
    summary_path = Path(summary_path) if summary_path else output.with_name(output.name + ".summary.json")
    run_fp = fingerprint(
        stage="filter-tests",
        input=file_identity(input_path),
        oracle=oracle.fingerprint_parts(),
        limits=engine.limits.to_wire(),
        min_tests=min_tests,
        keep_programs=keep_programs,
        **({"min_mutation_score": min_mutation_score} if min_mutation_score is not None else {}),
    )
    summary = FilterSummary(oracle=oracle.name)
    exec_summary = ExecutionSummary()

    def rows() -> Iterator[dict[str, Any]]:
        for number, row in unique_rows(iter_rows(input_path), str(input_path), dedupe=dedupe_ids):
            validate_acecode_row(
                row, require=("id", "question", "test_cases"), path=str(input_path), line=number
            )
            yield row

    with Checkpoint(output, run_fp, resume=resume) as ckpt:
        row_iter = rows()
        summary.resumed = ckpt.done
        for _, record, _ in ckpt.finished(row_iter):
            summary.add(FilterOutcome.from_record(record))
        for outcome in filter_rows(
            row_iter,
            oracle,
            engine,
            min_tests=min_tests,
            batch_size=batch_size,
            keep_programs=keep_programs,
            exec_summary=exec_summary,
            min_mutation_score=min_mutation_score,
        ):
            ckpt.append(outcome.to_record())
            summary.add(outcome)
    summary.oracle_programs = exec_summary.programs
    summary.execution = {
        "programs": exec_summary.programs,
        "tests_run": exec_summary.tests,
        "passed": exec_summary.passed,
        "timeouts": exec_summary.timeouts,
        "infra_errors": exec_summary.infra_errors,
    }
    summary.llm = oracle.llm_summary()
    ckpt.write_split(output, rejects_path)
    write_json(summary_path, summary.as_dict())
    return summary
