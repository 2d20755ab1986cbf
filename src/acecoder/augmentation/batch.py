"""Test augmentation for a batch of rows: inputs from the row's asserts, mutated inside their domain, outputs from
the reference(s) in the engine, new asserts in the row's style, and the mutation score before and after.

Per row: read the calls the asserts make (:mod:`~acecoder.augmentation.calls`), generate ``candidates`` inputs
(:mod:`~acecoder.augmentation.mutate`, plus model-proposed ones), run every reference once on the row's asserts
and on all inputs (:mod:`~acecoder.augmentation.reference`), keep an input when the references give one plain,
deterministic result quickly, of a kind they also give on the seen inputs, and write it as an assert
(:mod:`~acecoder.augmentation.render`). At most ``max_new_tests`` are added, picked so that different results come
first; the original tests stay first, unchanged. A row that cannot be augmented (no test, no reference, no
readable call, a reference failing the row's own tests) is left unchanged and reported.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from acecoder.augmentation.calls import Call, Style, Target, canonical, defined_names, parameters, read_calls
from acecoder.augmentation.domain import RULES, kind_of
from acecoder.augmentation.mutate import Rejections, generate, seed_of
from acecoder.augmentation.mutation_score import Score, judge_mutant, mutant_job, mutants
from acecoder.augmentation.probe import accepted, named_functions, probes
from acecoder.augmentation.reference import Outcome, capture_job, decide, outcomes
from acecoder.augmentation.render import Unwritable, apply_wrapper, render_assert
from acecoder.execution import Limits

if TYPE_CHECKING:
    from acecoder.augmentation.llm_inputs import InputProposer
    from acecoder.augmentation.sources import ReferenceSource, RowReference
    from acecoder.execution import Executor, JobResult

OUTPUT_RULE = "output"
"""No None result where the references give None on no seen input (None often answers an invalid input)."""
ALL_RULES = (*RULES, OUTPUT_RULE)
DEFAULT_MAX_NEW_TESTS = 50
REFERENCE_LIMITS = Limits(timeout=1.0, program_timeout=20.0, setup_timeout=10.0)
_EXTRA_POOL = 40  # generated inputs beyond the new tests that decide whether a mutant is equivalent


@dataclass
class Settings:
    """What decides the new tests (all of it is part of a run's fingerprint)."""

    max_new_tests: int = DEFAULT_MAX_NEW_TESTS
    candidates: int | None = None
    """Inputs generated per row before the checks (default: 3 x max_new_tests, at least 30)."""
    rules: tuple[str, ...] = ALL_RULES
    max_input_seconds: float = 0.01
    """Inputs the reference needs longer for are dropped (a slower right program could time out on them)."""
    mutation_score: bool = True
    max_mutants: int = 12
    min_mutation_score: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rules) - set(ALL_RULES))
        if unknown:
            raise ValueError(f"unknown domain rule(s) {unknown}; known: {', '.join(ALL_RULES)}")
        if self.max_new_tests < 0:
            raise ValueError(f"max_new_tests must not be negative, got {self.max_new_tests}")
        if self.min_mutation_score is not None and not 0 <= self.min_mutation_score <= 1:
            raise ValueError(f"min_mutation_score must be in [0, 1], got {self.min_mutation_score}")

    @property
    def n_candidates(self) -> int:
        return self.candidates if self.candidates is not None else max(30, 3 * self.max_new_tests)


@dataclass
class RowOutcome:
    """One input row's fate; ``row`` is the output row (None when dropped for a low mutation score)."""

    id: str
    source: str
    line: int | None
    n_before: int
    row: dict[str, Any] | None = None
    n_new: int = 0
    problem: dict[str, Any] | None = None
    """Why the row was left unchanged: ``{"field", "reason", "detail"}``."""
    rejected: str | None = None
    candidates: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    reference: str = ""
    mutation: dict[str, Any] | None = None

    def to_record(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RowOutcome:
        return cls(**record)


@dataclass
class _Plan:
    """A row on its way: what was read and generated, waiting for the engine."""

    index: int
    row: dict[str, Any]
    tests: list[str]
    ref: RowReference
    targets: list[Target]
    calls: list[Call] = field(default_factory=list)
    """Seen calls first (``n_seen``), then candidates."""
    provenance: list[str] = field(default_factory=list)
    n_seen: int = 0
    probed: int = 0
    """Seen inputs found by probing the reference (the asserts showed none of some kind)."""
    rejected: Rejections = field(default_factory=Rejections)
    results: list[JobResult] = field(default_factory=list)


def _problem(outcome: RowOutcome, reason: str, field_name: str, detail: str) -> RowOutcome:
    outcome.problem = {"reason": reason, "field": field_name, "detail": detail}
    return outcome


def _budgets(targets: Sequence[Target], total: int) -> list[int]:
    weights = [len(t.calls) for t in targets]
    return [max(1, math.ceil(total * w / sum(weights))) for w in weights]


def augment_batch(
    items: Sequence[tuple[int | None, dict[str, Any]]],
    source: ReferenceSource,
    engine: Executor,
    settings: Settings,
    *,
    proposer: InputProposer | None = None,
    limits: Limits = REFERENCE_LIMITS,
) -> list[RowOutcome]:
    """Augment a batch of ``(line, row)``; one outcome per row, in order. All reference (and mutant) runs of
    the batch go to the engine together, so every worker stays busy."""
    rows = [row for _, row in items]
    outs = [
        RowOutcome(
            str(row.get("id")), str(row.get("source") or "unknown"), line, len(row.get("test_cases") or [])
        )
        for line, row in items
    ]
    has_tests = [bool([t for t in row.get("test_cases") or [] if isinstance(t, str)]) for row in rows]
    refs = source.programs([r for r, ok in zip(rows, has_tests, strict=True) if ok], engine)
    ref_iter = iter(refs)
    plans: list[_Plan] = []
    rules = frozenset(settings.rules)
    for i, (row, ok) in enumerate(zip(rows, has_tests, strict=True)):
        out = outs[i]
        if not ok:
            _problem(out, "no_tests", "test_cases", "no assert string to read calls from")
            continue
        ref = next(ref_iter)
        out.reference = ref.name
        if not ref.programs:
            what = "no program passes every test" if ref.consensus else "no reference program"
            _problem(out, "no_reference", source.field, f"{what} ({ref.name})")
            continue
        tests = [t for t in row["test_cases"] if isinstance(t, str)]
        programs = [p for p, _ in ref.programs]
        params = parameters(programs)
        targets = read_calls(tests, defined_names(programs), params).targets
        if not targets:  # functions the tests name without a readable call: their inputs are probed
            targets = [Target(name, params=params[name]) for name in named_functions(tests, params)[:3]]
        if not targets:
            _problem(
                out,
                "no_call",
                "test_cases",
                "no assert calls a function of the reference with literal arguments",
            )
            continue
        plans.append(_Plan(i, row, tests, ref, targets))
    _probe(plans, engine, limits)
    for plan in list(plans):
        plan.targets = [t for t in plan.targets if t.calls]
        if not plan.targets:
            _problem(
                outs[plan.index],
                "no_call",
                "test_cases",
                "no assert calls a function of the reference with literal arguments, and the reference accepted "
                "none of the inputs tried",
            )
            plans.remove(plan)
            continue
        _generate(plan, settings, rules)
    if proposer is not None and plans:
        _propose(plans, proposer)
    jobs = [
        capture_job(program, [t.callee for t in plan.targets], plan.calls, plan.tests, limits)
        for plan in plans
        for program, _ in plan.ref.programs
    ]
    results = iter(list(engine.run(jobs)))
    for plan in plans:
        plan.results = [next(results) for _ in plan.ref.programs]
    scoring = []
    for plan in plans:
        out = outs[plan.index]
        picked = _decide(plan, out, settings)
        if picked is not None and settings.mutation_score:
            scoring.append((plan, out, picked))
    if scoring:
        _score(scoring, engine, settings)
    for row, out in zip(rows, outs, strict=True):
        if out.row is None and out.rejected is None:
            out.row = row  # left unchanged
    return outs


def _generate(plan: _Plan, settings: Settings, rules: frozenset[str]) -> None:
    """The seen calls, then the generated candidates."""
    rng = random.Random(seed_of(plan.targets, settings.seed))
    for target in plan.targets:
        for call in {c.key(): c for c in target.calls}.values():
            plan.calls.append(call)
            plan.provenance.append("seen")
    plan.n_seen = len(plan.calls)
    seen_keys = {c.key() for c in plan.calls}
    longest = max(len(c.key()) for c in plan.calls)
    for target, budget in zip(plan.targets, _budgets(plan.targets, settings.n_candidates), strict=True):
        made = generate(
            target,
            budget,
            rng=rng,
            rules=rules,
            avoid=seen_keys,
            max_chars=max(2 * longest, longest + 60),
            rejected=plan.rejected,
        )
        for call, how in made:
            plan.calls.append(call)
            plan.provenance.append(how)


def _probe(plans: list[_Plan], engine: Executor, limits: Limits) -> None:
    """Inputs for the targets whose calls show no kind of value, tried on the row's first reference; those it
    answers join the target's calls as seen inputs (:mod:`acecoder.augmentation.probe`)."""
    work = []
    for plan in plans:
        for target in plan.targets:
            tried = probes(target)
            if tried:
                work.append((plan, target, tried))
    if not work:
        return
    jobs = [
        capture_job(plan.ref.programs[0][0], [target.callee], [c for c, _, _ in tried], [], limits)
        for plan, target, tried in work
    ]
    for (plan, target, tried), result in zip(work, list(engine.run(jobs)), strict=True):
        if result.infra_error:
            continue
        _, answers = outcomes(result, 0, len(tried))
        ok = [a.error is None for a in answers]
        found = accepted(tried, ok)
        target.calls.extend(found)
        target.results.extend([None] * len(found))
        plan.probed += len(found)


def _propose(plans: list[_Plan], proposer: InputProposer) -> None:
    jobs = [
        (plan.row, target, defined_names(p for p, _ in plan.ref.programs))
        for plan in plans
        for target in plan.targets
    ]
    proposals = iter(proposer.propose(jobs))
    for plan in plans:
        keys = {c.key() for c in plan.calls}
        proposed = []
        for _ in plan.targets:
            for call in next(proposals):
                if call.key() not in keys:
                    keys.add(call.key())
                    proposed.append(call)
        # The model's inputs come first among the candidates (picked first when results tie).
        n = plan.n_seen
        plan.calls[n:n] = proposed
        plan.provenance[n:n] = ["llm"] * len(proposed)


@dataclass
class _Picked:
    calls: list[Call]
    expected: list[Any]
    styles: list[Style]
    n_new: int
    reference: str
    seconds: float


def _decide(plan: _Plan, out: RowOutcome, settings: Settings) -> _Picked | None:
    """Check the reference results, pick and write the new asserts; fills ``out``. Returns what the mutation
    score needs, or None when the row is left unchanged."""
    from acecoder.augmentation.domain import admits, profile

    rules = frozenset(settings.rules)
    n_orig, n_calls = len(plan.tests), len(plan.calls)
    usable: list[tuple[str, int, list[Outcome], float]] = []
    failing: list[str] = []
    for (program, weight), result in zip(plan.ref.programs, plan.results, strict=True):
        if result.infra_error:
            _problem(out, "infra_error", plan.ref.name, result.infra_error)
            return None
        verdicts, outs_ = outcomes(result, n_orig, n_calls)
        if all(verdicts) and not result.setup_error:
            usable.append((program, weight, outs_, result.cpu_time))
        else:
            bad = [str(i) for i, v in enumerate(verdicts) if not v]
            failing.append(result.setup_error or f"fails test_cases[{', '.join(bad[:5])}]")
    if not usable:
        field_name = "inferences" if plan.ref.consensus else (out.reference.split(":", 1)[-1].split("+")[0])
        _problem(out, "reference_fails_tests", field_name, f"the reference {failing[0]}")
        return None
    styles = {t.callee: t.style() for t in plan.targets}
    weights = [w for _, w, _, _ in usable]
    share, votes = plan.ref.min_share, plan.ref.min_votes
    decided: list[tuple[Outcome, str | None]] = []
    for i, call in enumerate(plan.calls):
        decided.append(
            decide([u[2][i] for u in usable], weights, styles[call.target], min_share=share, min_votes=votes)
        )
    # The kinds of result the references give on the seen inputs.
    seen_kinds: dict[str, set[str]] = {}
    for i in range(plan.n_seen):
        outcome, reason = decided[i]
        if reason is None:
            seen_kinds.setdefault(plan.calls[i].target, set()).add(kind_of(outcome.value))
    originals = set(plan.tests)
    longest = max(len(t) for t in plan.tests)
    dropped = dict(plan.rejected)
    kept: list[tuple[int, str, str]] = []  # (call index, assert, result key)
    texts = set(originals)
    for i in range(plan.n_seen, n_calls):
        call = plan.calls[i]
        outcome, reason = decided[i]
        none_unseen = "none" not in seen_kinds.get(call.target, ())
        if reason is None and OUTPUT_RULE in rules and outcome.value is None and none_unseen:
            reason = OUTPUT_RULE
        if reason is None and outcome.seconds > settings.max_input_seconds:
            reason = "slow"
        if reason is None and plan.provenance[i] == "llm" and "types" in rules:
            params = next(t.params for t in plan.targets if t.callee == call.target)
            slots = profile((c for c in plan.calls[: plan.n_seen] if c.target == call.target), params)
            from acecoder.augmentation.domain import places

            if set(places(call, params)) != set(slots) or any(
                admits(slots[p], v, frozenset({"types"})) for p, v in places(call, params).items()
            ):
                reason = "types"
        text = ""
        if reason is None:
            try:
                text = render_assert(call, outcome.value, styles[call.target])
            except Unwritable:
                reason = "unwritable"
        if reason is None and len(text) > max(2000, 4 * longest):
            reason = "too_long"
        if reason is None and text in texts:
            reason = "duplicate"
        if reason is not None:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        texts.add(text)
        try:
            result_key = canonical(apply_wrapper(styles[call.target], outcome.value))
        except Exception:
            result_key = canonical(outcome.value)
        kept.append((i, text, result_key))
    chosen = _spread_results(kept, settings.max_new_tests)
    out.candidates = n_calls - plan.n_seen
    out.dropped = dropped
    row = dict(plan.row)
    old = list(plan.row.get("test_cases") or [])
    provenance = plan.row.get("test_provenance")
    if not (isinstance(provenance, list) and len(provenance) == len(old)):
        provenance = ["original"] * len(old)
    new_tests = [text for _, text, _ in chosen]
    row["test_cases"] = old + new_tests
    row["test_provenance"] = list(provenance) + [plan.provenance[i] for i, _, _ in chosen]
    row["n_tests_augmented"] = sum(p != "original" for p in row["test_provenance"])
    row["augmentation"] = {
        "reference": plan.ref.name,
        "references": len(usable),
        "candidates": out.candidates,
        "added": len(new_tests),
        "dropped": dict(sorted(dropped.items())),
        **({"probed_inputs": plan.probed} if plan.probed else {}),
    }
    if new_tests and isinstance(row.get("inferences"), list):
        row["inferences"] = [_stale(inf) for inf in row["inferences"]]
    out.row, out.n_new = row, len(new_tests)
    chosen_idx = [i for i, _, _ in chosen]
    chosen_set = set(chosen_idx)
    extra = [i for i, _, _ in kept if i not in chosen_set][:_EXTRA_POOL]
    program = max(usable, key=lambda u: u[1])[0]
    calls = [plan.calls[i] for i in chosen_idx + extra]
    return _Picked(
        calls,
        [decided[i][0].value for i in chosen_idx + extra],
        [styles[c.target] for c in calls],
        len(chosen_idx),
        program,
        max(u[3] for u in usable),
    )


def _stale(inf: Any) -> Any:
    """An inference's verdicts no longer cover the row's tests: cleared (``acecoder execute`` recomputes them)."""
    if not isinstance(inf, dict):
        return inf
    inf = dict(inf)
    if "pass_rate" in inf:
        inf["pass_rate"] = None
    inf.pop("test_results", None)
    inf.pop("test_errors", None)
    return inf


def _spread_results(kept: list[tuple[int, str, str]], limit: int) -> list[tuple[int, str, str]]:
    """Up to ``limit`` of ``kept``: first one input per distinct result (in order), then the second, ..."""
    by_result: dict[str, list[tuple[int, str, str]]] = {}
    for item in kept:
        by_result.setdefault(item[2], []).append(item)
    picked: list[tuple[int, str, str]] = []
    depth = 0
    while len(picked) < limit and any(len(v) > depth for v in by_result.values()):
        for items in by_result.values():
            if len(items) > depth and len(picked) < limit:
                picked.append(items[depth])
        depth += 1
    order = {item[0]: n for n, item in enumerate(kept)}
    return sorted(picked, key=lambda item: order[item[0]])


def _score(scoring: list[tuple[_Plan, RowOutcome, _Picked]], engine: Executor, settings: Settings) -> None:
    jobs, owners = [], []
    for plan, out, picked in scoring:
        n_new = picked.n_new
        groups = [list(range(n_new)), list(range(n_new, len(picked.calls)))]
        budget = min(2.0, max(0.2, 5 * picked.seconds + 0.1))
        limits = Limits(timeout=budget, program_timeout=3 * budget, setup_timeout=5.0)
        callees = [t.callee for t in plan.targets]
        made = mutants(picked.reference, settings.max_mutants)
        score = Score(mutants=len(made))
        out.mutation = score  # type: ignore[assignment]
        for _, source in made:
            jobs.append(mutant_job(source, callees, picked.calls, groups, plan.tests, limits))
            owners.append((out, groups, picked, len(plan.tests)))
    for (out, groups, picked, n_originals), result in zip(owners, engine.run(jobs), strict=True):
        score = out.mutation  # type: ignore[assignment]
        before, after, equivalent = judge_mutant(result, n_originals, groups, picked.expected, picked.styles)
        score.killed_before += before and not equivalent
        score.killed_after += after and not equivalent
        score.equivalent += equivalent
    for _, out, _ in scoring:
        score = out.mutation
        out.mutation = score.to_dict()  # type: ignore[union-attr]
        if out.row is not None:
            out.row["mutation_score"] = out.mutation
        threshold = settings.min_mutation_score
        after = out.mutation["after"] if out.mutation else None
        if threshold is not None and after is not None and after < threshold:
            out.rejected = f"mutation score {after} < {threshold}"
            out.row = None
