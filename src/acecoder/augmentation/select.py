"""The new tests of one row: the references' results checked, the inputs picked, the asserts written.

An input is kept when the references give one plain, deterministic result quickly (:func:`~acecoder.augmentation
.reference.decide`), not ``None`` where they never give ``None`` on the seen inputs, and an assert of the row's
style can compare it (:mod:`~acecoder.augmentation.render`). At most ``max_new_tests`` are added, inputs with
different results first; the original tests stay first, unchanged, and the inferences' stale verdicts are cleared.

A reference that fails some of the row's own tests (a wrong expected value, or an input outside the domain the
reference asserts, as HumanEval+'s contracts do) does not leave the row unchanged: with ``failing_tests="drop"``
(the default) the tests every reference passes stay, the others are removed and listed in the row's
``augmentation.removed_tests``, and the row is augmented as usual. The reference is what decides every new
test's expected value; a test it contradicts would fail the programs that agree with it. (``skip``: the row is
left unchanged and reported, as before.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from acecoder.augmentation.calls import Call, Style, canonical
from acecoder.augmentation.domain import admits, kind_of, places, profile
from acecoder.augmentation.plan import EXTRA_POOL, OUTPUT_RULE, Plan, RowOutcome, Settings, problem
from acecoder.augmentation.reference import Outcome, decide, outcomes
from acecoder.augmentation.render import Unwritable, apply_wrapper, render_assert


@dataclass
class Picked:
    calls: list[Call]
    expected: list[Any]
    styles: list[Style]
    n_new: int
    reference: str
    seconds: float


def decide_row(plan: Plan, out: RowOutcome, settings: Settings) -> Picked | None:
    """Check the reference results, pick and write the new asserts; fills ``out``. Returns what the mutation
    score needs, or None when the row is left unchanged."""

    rules = frozenset(settings.rules)
    n_orig, n_calls = len(plan.tests), len(plan.calls)
    usable: list[tuple[str, int, list[Outcome], float]] = []
    running: list[tuple[tuple[str, int, list[Outcome], float], list[int]]] = []  # no setup error
    failing: list[str] = []
    for (program, weight), result in zip(plan.ref.programs, plan.results, strict=True):
        if result.infra_error:
            problem(out, "infra_error", plan.ref.name, result.infra_error)
            return None
        verdicts, outs_ = outcomes(result, n_orig, n_calls)
        if not result.setup_error:
            running.append(((program, weight, outs_, result.cpu_time), verdicts))
        if all(verdicts) and not result.setup_error:
            usable.append((program, weight, outs_, result.cpu_time))
        else:
            bad = [str(i) for i, v in enumerate(verdicts) if not v]
            failing.append(result.setup_error or f"fails test_cases[{', '.join(bad[:5])}]")
    removed: list[int] = []  # indices (in plan.tests) of the row's tests the references fail
    if not usable and running and settings.failing_tests == "drop" and not plan.ref.consensus:
        removed = [i for i in range(n_orig) if not all(v[i] for _, v in running)]
        if len(removed) < n_orig:
            usable = [u for u, _ in running]
        else:
            removed = []
    if not usable:
        field_name = "inferences" if plan.ref.consensus else (out.reference.split(":", 1)[-1].split("+")[0])
        problem(out, "reference_fails_tests", field_name, f"the reference {failing[0]}")
        return None
    if removed:
        gone = set(removed)
        plan.tests = [t for i, t in enumerate(plan.tests) if i not in gone]
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
    removed_tests: list[str] = []
    if removed:  # the string tests are plan.tests in order: drop those the references fail
        gone, n_str, keep = set(removed), 0, []
        for test in old:
            failed = isinstance(test, str) and n_str in gone
            n_str += isinstance(test, str)
            keep.append(not failed)
            if failed:
                removed_tests.append(test)
        old = [t for t, k in zip(old, keep, strict=True) if k]
        provenance = [p for p, k in zip(provenance, keep, strict=True) if k]
        dropped["reference_fails_test"] = len(removed_tests)
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
        **({"removed_tests": removed_tests} if removed_tests else {}),
    }
    if (new_tests or removed_tests) and isinstance(row.get("inferences"), list):
        row["inferences"] = [_stale(inf) for inf in row["inferences"]]
    out.row, out.n_new = row, len(new_tests)
    chosen_idx = [i for i, _, _ in chosen]
    chosen_set = set(chosen_idx)
    extra = [i for i, _, _ in kept if i not in chosen_set][:EXTRA_POOL]
    program = max(usable, key=lambda u: u[1])[0]
    calls = [plan.calls[i] for i in chosen_idx + extra]
    return Picked(
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
