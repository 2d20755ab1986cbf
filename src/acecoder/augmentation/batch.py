"""Test augmentation for a batch of rows: inputs from the row's asserts, mutated inside their domain, outputs from
the reference(s) in the engine, new asserts in the row's style, and the mutation score before and after.

Per row: read the calls the asserts make (:mod:`~acecoder.augmentation.calls`), generate ``candidates`` inputs
(:mod:`~acecoder.augmentation.mutate`; seen inputs probed from the reference where the asserts show none,
:mod:`~acecoder.augmentation.probe`; model-proposed ones), run every reference once on the row's asserts and on all
inputs (:mod:`~acecoder.augmentation.reference`), pick and write the new asserts
(:mod:`~acecoder.augmentation.select`), then score the tests with the reference's mutants
(:mod:`~acecoder.augmentation.mutation_score`). A row that cannot be augmented (no test, no reference, no readable
call, a reference failing every one of the row's own tests) is left unchanged and reported; the tests a reference
fails are removed from a row otherwise (:mod:`~acecoder.augmentation.select`, ``failing_tests``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from acecoder.augmentation.calls import Target, defined_names, parameters, read_calls
from acecoder.augmentation.mutate import generate, seed_of
from acecoder.augmentation.mutation_score import score_rows
from acecoder.augmentation.plan import (
    ALL_RULES,
    DEFAULT_MAX_NEW_TESTS,
    MAX_INPUT_CHARS,
    OUTPUT_RULE,
    REFERENCE_LIMITS,
    Plan,
    RowOutcome,
    Settings,
    problem,
)
from acecoder.augmentation.probe import accepted, named_functions, probes
from acecoder.augmentation.reference import capture_job, outcomes
from acecoder.augmentation.select import decide_row
from acecoder.execution import Limits

if TYPE_CHECKING:
    from acecoder.augmentation.llm_inputs import InputProposer
    from acecoder.augmentation.sources import ReferenceSource
    from acecoder.execution import Executor

__all__ = [
    "ALL_RULES",
    "DEFAULT_MAX_NEW_TESTS",
    "OUTPUT_RULE",
    "REFERENCE_LIMITS",
    "RowOutcome",
    "Settings",
    "augment_batch",
]


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
    plans: list[Plan] = []
    rules = frozenset(settings.rules)
    for i, (row, ok) in enumerate(zip(rows, has_tests, strict=True)):
        out = outs[i]
        if not ok:
            problem(out, "no_tests", "test_cases", "no assert string to read calls from")
            continue
        ref = next(ref_iter)
        out.reference = ref.name
        if not ref.programs:
            what = "no program passes every test" if ref.consensus else "no reference program"
            problem(out, "no_reference", source.field, f"{what} ({ref.name})")
            continue
        tests = [t for t in row["test_cases"] if isinstance(t, str)]
        programs = [p for p, _ in ref.programs]
        params = parameters(programs)
        seeds = _original_tests(row)  # an augmented row: its earlier new tests do not widen the domain
        targets = read_calls(seeds, defined_names(programs), params).targets
        if not targets:  # functions the tests name without a readable call: their inputs are probed
            targets = [Target(name, params=params[name]) for name in named_functions(seeds, params)[:3]]
        if not targets:
            problem(
                out,
                "no_call",
                "test_cases",
                "no assert calls a function of the reference with literal arguments",
            )
            continue
        plans.append(Plan(i, row, tests, ref, targets))
    _probe(plans, engine, limits)
    for plan in list(plans):
        plan.targets = [t for t in plan.targets if t.calls]
        if not plan.targets:
            problem(
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
        picked = decide_row(plan, out, settings)
        if picked is not None and settings.mutation_score:
            scoring.append((plan, out, picked))
    if scoring:
        score_rows(scoring, engine, settings)
    for row, out in zip(rows, outs, strict=True):
        if out.row is None and out.rejected is None:
            out.row = row  # left unchanged
    return outs


def _original_tests(row: dict[str, Any]) -> list[str]:
    """The row's tests that ``test_provenance`` does not mark as made by an earlier augmentation."""
    tests = row.get("test_cases") or []
    provenance = row.get("test_provenance")
    if isinstance(provenance, list) and len(provenance) == len(tests):
        return [t for t, p in zip(tests, provenance, strict=True) if isinstance(t, str) and p == "original"]
    return [t for t in tests if isinstance(t, str)]


def _generate(plan: Plan, settings: Settings, rules: frozenset[str]) -> None:
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
            max_chars=min(max(2 * longest, longest + 60), MAX_INPUT_CHARS),
            rejected=plan.rejected,
        )
        for call, how in made:
            plan.calls.append(call)
            plan.provenance.append(how)


def _probe(plans: list[Plan], engine: Executor, limits: Limits) -> None:
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


def _propose(plans: list[Plan], proposer: InputProposer) -> None:
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
