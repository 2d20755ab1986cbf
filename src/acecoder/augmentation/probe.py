"""Seed inputs where the row's asserts show no kind of value: the reference tells which kinds it accepts.

Two cases: a function the asserts name but never call with literals (``assert solve``, a cut-off test), and
arguments the asserts only pass as empty containers (``f([])``: a list of what?). Small values of a fixed
palette of kinds are tried on the reference (every kind for every argument, at most :data:`MAX_PROBES` calls);
the first kind, in palette order, for which it answers without raising becomes that argument's kind, and the
values it answered become seen inputs that mutation starts from. Nothing here depends on the function's name.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Sequence
from typing import Any

from acecoder.augmentation.calls import Call, Target
from acecoder.augmentation.domain import Slot, kind_of, profile

# Kinds tried, in order of preference, each with a few small values.
PALETTE: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("int", (3, 0, 1, 7, 12)),
    ("str", ("abc", "Hello World", "xyz", "a b c", "Hi!")),
    ("digits", ("123", "4567", "809", "5")),
    ("list[int]", ([1, 2, 3], [4, 1, 3, 2], [5], [2, 2, 7, 0])),
    ("float", (1.5, 0.25, 3.0, 2.75)),
    ("list[str]", (["ab", "c"], ["hello", "world"], ["x"])),
    ("list[digits]", (["12", "3"], ["456", "7", "89"], ["0"])),
    ("list[float]", ([1.5, 2.0, 0.5], [3.25], [0.0, 1.0])),
    ("list[list[int]]", ([[1, 2], [3, 4]], [[5, 6, 7]], [[0], [2]])),
    ("bool", (True, False)),
)
# Items tried in a container the asserts only show empty.
ITEMS: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("int", (1, 2, 3, 7, 0)),
    ("str", ("ab", "c", "hello", "xyz")),
    ("digits", ("12", "3", "456", "7089")),
    ("float", (1.5, 2.0, 0.5)),
    ("list[int]", ([1, 2], [3], [4, 5, 6])),
    ("tuple[int, int]", ((1, 2), (3, 4), (0, 5))),
    ("bool", (True, False)),
)
MAX_PROBES = 400


def named_functions(tests: Sequence[str], params: dict[str, tuple[str, ...]]) -> list[str]:
    """Functions of the reference the tests name (in order of first appearance), called with literals or not."""
    names: list[str] = []
    for test in tests:
        try:
            tree = ast.parse(test.strip())
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in params and node.id not in names:
                names.append(node.id)
    return names


def _unknown_items(slot: Slot) -> bool:
    """The place only ever held empty containers (their items' kind is unknown)."""
    kinds = [k for k in slot.kinds.values() if k.name in ("list", "tuple", "set", "frozenset", "dict")]
    return bool(kinds) and all(k.max_len == 0 for k in kinds) and len(slot.kinds) == len(kinds)


def probes(target: Target) -> list[tuple[Call, str, int]]:
    """Calls to try on the reference: ``(call, kind, place)`` (place -1: all arguments at once)."""
    out: list[tuple[Call, str, int]] = []
    if not target.calls:
        n = len(target.params)
        if n == 0:
            return [(Call(target.callee, ()), "none", -1)]
        kinds = [k for k, _ in PALETTE]
        values = dict(PALETTE)
        combos = itertools.product(range(len(kinds)), repeat=n) if len(kinds) ** n <= MAX_PROBES else (
            (i,) * n for i in range(len(kinds))
        )  # fmt: skip
        for combo in combos:
            for j in range(2):  # two values of each combination of kinds
                args = tuple(values[kinds[i]][(j + p) % len(values[kinds[i]])] for p, i in enumerate(combo))
                out.append((Call(target.callee, args), "|".join(kinds[i] for i in combo), -1))
        return out[:MAX_PROBES]
    slots = profile(target.calls, target.params)
    seed = target.calls[0]
    for place, slot in slots.items():
        if not isinstance(place, int) or place >= len(seed.args) or not _unknown_items(slot):
            continue
        container = kind_of(seed.args[place])
        for kind, items in ITEMS:
            for size in (3, 2, 4):
                chosen = [items[(size + i) % len(items)] for i in range(size)]
                if container == "dict":
                    value: Any = {f"k{i}": v for i, v in enumerate(chosen)}
                elif container in ("set", "frozenset"):
                    try:
                        value = {"set": set, "frozenset": frozenset}[container](chosen)
                    except TypeError:
                        continue
                else:
                    value = {"list": list, "tuple": tuple}[container](chosen)
                args = (*seed.args[:place], value, *seed.args[place + 1 :])
                out.append((Call(target.callee, args, seed.kwargs), kind, place))
    return out[:MAX_PROBES]


def accepted(tried: Sequence[tuple[Call, str, int]], ok: Sequence[bool]) -> list[Call]:
    """The calls of the first kind (per place, in palette order) that the reference answered, with those of the
    other answered kinds of the same shape (letters and digits are both strings)."""
    by_place: dict[int, dict[str, list[Call]]] = {}
    for (call, kind, place), good in zip(tried, ok, strict=True):
        if good:
            by_place.setdefault(place, {}).setdefault(kind, []).append(call)
    out: list[Call] = []
    for kinds in by_place.values():
        first = next(iter(kinds))  # dicts keep the palette's order
        for kind, calls in kinds.items():
            if kind == first or _shape(kind) == _shape(first):
                out.extend(calls)
    return out


def _shape(kind: str) -> str:
    """A kind's Python shape: ``digits`` and ``str`` are one (strings), ``list[digits]`` and ``list[str]`` too."""
    return kind.replace("digits", "str")
