"""Expected outputs from the reference program(s), run in the engine.

Each reference runs once per row: the row's own asserts first (a reference must pass them all to count), then one
captured call per input, ``__acecoder_aug__(i)``, which calls the function under test on a deep copy of input
``i`` twice and returns the first result, the CPU seconds it took and whether the second call gave the same
result. An input is dropped when a reference raises, times out or answers differently the second time, when its
result is not a plain value, and when several references disagree. The consensus reference (rows without one)
votes instead: the row's programs that pass every original test each give their result, and an input is kept
when the largest group of equal results holds at least ``min_share`` of the votes (and ``min_votes`` votes).
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from acecoder.augmentation.calls import Call, Style
from acecoder.augmentation.literals import literal_source
from acecoder.augmentation.render import matches
from acecoder.execution import Job, JobResult, Limits

CALL = "__acecoder_aug__"
_HELPER = """

def __acecoder_aug__(i):
    import copy as _copy, time as _time
    target, args, kwargs = __acecoder_aug_inputs__[i]
    function = __acecoder_aug_targets__[target]
    a, k = _copy.deepcopy(args), _copy.deepcopy(kwargs)
    started = _time.process_time()
    out = function(*a, **k)
    took = _time.process_time() - started
    a, k = _copy.deepcopy(args), _copy.deepcopy(kwargs)
    again = function(*a, **k)
    return (out, took, type(out) is type(again) and repr(out) == repr(again))
"""


@dataclass
class Outcome:
    """One program's result on one input: ``value`` when ``error`` is None."""

    value: Any = None
    seconds: float = 0.0
    error: str | None = None


def program_with_inputs(program: str, callees: Sequence[str], calls: Sequence[Call]) -> str:
    """``program`` followed by the helper, the callees and the table of inputs (short tests, one table)."""
    index = {callee: i for i, callee in enumerate(callees)}
    targets = ", ".join(f"lambda *a, **k: {callee}(*a, **k)" for callee in callees)
    table = ",\n    ".join(
        f"({index[c.target]}, {literal_source(tuple(c.args))}, {literal_source(dict(c.kwargs))})"
        for c in calls
    )
    return (
        f"{program}\n{_HELPER}\n__acecoder_aug_targets__ = [{targets}]\n"
        f"__acecoder_aug_inputs__ = [\n    {table}\n]\n"
    )


def capture_job(
    program: str, callees: Sequence[str], calls: Sequence[Call], originals: Sequence[str], limits: Limits
) -> Job:
    """The row's asserts, then one captured call per input."""
    tests = [*originals, *(f"{CALL}({i})" for i in range(len(calls)))]
    return Job(program_with_inputs(program, callees, calls), tests, limits, capture=True)


_MAPPINGS = (collections.Counter, collections.OrderedDict, collections.defaultdict)


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` made of builtin types only (mappings such as Counter become dicts: they compare equal); raises
    ValueError for anything an assert cannot spell (numpy values, opaque objects, iterators...)."""
    if depth > 50:
        raise ValueError("nested too deep")
    kind = type(value)
    if value is None or kind in (bool, int, float, complex, str, bytes):
        return value
    if kind in (list, tuple):
        return kind(plain(v, depth + 1) for v in value)
    if kind in (set, frozenset):
        return kind(plain(v, depth + 1) for v in value)
    if kind is dict or isinstance(value, _MAPPINGS):
        return {plain(k, depth + 1): plain(v, depth + 1) for k, v in value.items()}
    raise ValueError(f"a {kind.__name__} result")


def outcomes(result: JobResult, n_originals: int, n_calls: int) -> tuple[list[int], list[Outcome]]:
    """The verdicts on the row's asserts, and one :class:`Outcome` per input."""
    if result.infra_error:
        raise RuntimeError(result.infra_error)
    verdicts = list(result.test_results[:n_originals])
    values = result.values or [None] * len(result.test_results)
    out = []
    for i in range(n_originals, n_originals + n_calls):
        if not result.test_results[i]:
            reason = result.setup_error or result.errors[i] or "failed"
            out.append(Outcome(error="timeout" if "timeout" in reason else "raises"))
            continue
        got = values[i]
        if not (isinstance(got, tuple) and len(got) == 3):
            out.append(Outcome(error="unwritable"))
            continue
        value, seconds, same = got
        if not same:
            out.append(Outcome(error="nondeterministic", seconds=float(seconds)))
            continue
        try:
            out.append(Outcome(plain(value), float(seconds)))
        except ValueError:
            out.append(Outcome(error="unwritable", seconds=float(seconds)))
    return verdicts, out


def decide(
    outcomes_: Sequence[Outcome],
    weights: Sequence[int],
    style: Style,
    *,
    min_share: float = 1.0,
    min_votes: int = 1,
) -> tuple[Outcome, str | None]:
    """The expected result of one input from every program's outcome: ``(outcome, None)`` or ``(_, reason)``.

    ``min_share`` 1.0 (references): every program must give the same result. Below 1 (consensus): the largest
    group of results equal under the row's comparison must hold that share of the votes and ``min_votes``
    votes; an error (raise, timeout, non-determinism) is a vote of its own kind."""
    groups: list[tuple[Outcome, int]] = []
    for outcome, weight in zip(outcomes_, weights, strict=True):
        for i, (head, total) in enumerate(groups):
            same = (
                head.error == outcome.error
                if head.error or outcome.error
                else matches(style, head.value, outcome.value) and matches(style, outcome.value, head.value)
            )
            if same:
                groups[i] = (head, total + weight)
                break
        else:
            groups.append((outcome, weight))
    total = sum(weights)
    head, votes = max(groups, key=lambda g: g[1])
    if min_share >= 1.0:
        if len(groups) > 1:
            errors = [g[0].error for g in groups if g[0].error]
            return head, errors[0] if errors else "disagree"
        return head, head.error
    if head.error:
        return head, head.error
    if votes < min_votes or votes < min_share * total:
        return head, "no_consensus"
    return head, None
