"""New inputs by type-aware mutation of the seen ones, kept inside the domain the tests show.

Each candidate starts from a seen call; one argument (sometimes two, or all) gets one to three mutations of its
kind: numbers step, double, halve, flip sign, go to zero or to a seen bound (floats also to a whole value, 2.0);
strings lose, gain, swap, repeat or replace characters (from those seen) or words, change one letter's case or
become a palindrome (mirrored); lists, tuples, sets and dicts lose, repeat, add, mutate, shuffle, sort, reverse or
mirror items, grow, shrink, empty or join another seen value; any argument may take another seen value
(recombination); and some candidates get one argument's value planted into another's list, once or twice
(:func:`_plant`: the item searched for appearing several times). :mod:`acecoder.augmentation.domain` then
decides whether the candidate stays in the domain. The random stream is seeded from the seen inputs only (never from names), so results are reproducible and do
not change when the function is renamed. Values are never changed in place (each mutation builds new
containers), so mutated inputs may share unchanged parts with the seen ones.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any

from acecoder.augmentation.calls import Call, Target, canonical
from acecoder.augmentation.domain import (
    RULES,
    Kind,
    Slot,
    admits,
    char_pool,
    is_record,
    kind_of,
    place_of,
    places,
    profile,
    relations,
)

Op = tuple[str, Any]
_DEPTH = 6


def seed_of(targets: Sequence[Target], salt: int = 0) -> int:
    """A seed from the seen inputs (not the names): the same calls give the same stream."""
    text = canonical([[c.key() for c in t.calls] for t in targets] + [salt])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _pick_seen(slot: Slot | None, rng: random.Random, value: Any) -> Any:
    if slot is None or not slot.values:
        return None
    choice = slot.values[rng.randrange(len(slot.values))]
    return None if type(choice) is type(value) and choice == value else choice


def _mut_int(v: int, kind: Kind, rng: random.Random) -> Op | None:
    lo, hi = int(min(kind.lo, v)), int(max(kind.hi, v))
    span = max(2, hi - lo)
    reach = 2 * max(abs(lo), abs(hi)) + 10  # "wide": within twice the seen range
    op = rng.choice(
        ("inc", "dec", "step", "step", "range", "wide", "neg", "zero", "double", "half", "bound", "scale")
    )
    value = {
        "inc": lambda: v + 1,
        "dec": lambda: v - 1,
        "step": lambda: v + rng.randint(-span, span),
        "range": lambda: rng.randint(lo - span // 2, hi + span // 2),
        "wide": lambda: rng.randint(-reach, reach),
        "neg": lambda: -v,
        "zero": lambda: 0,
        "double": lambda: v * 2,
        "half": lambda: v // 2,
        "bound": lambda: rng.choice((lo, hi, lo - 1, hi + 1)),
        "scale": lambda: v * rng.choice((10, 100, 1000)) + rng.randint(-9, 9),
    }[op]()
    return (f"int.{op}", value) if value != v else None


def _mut_float(v: float, kind: Kind, rng: random.Random) -> Op | None:
    if v != v or abs(v) == float("inf"):
        return None
    lo, hi = min(kind.lo, v), max(kind.hi, v)
    span = max(1.0, hi - lo)
    reach = 2 * max(abs(lo), abs(hi)) + 10
    op = rng.choice(
        ("step", "step", "range", "wide", "neg", "zero", "double", "half", "nudge", "bound", "whole")
    )
    decimals = min(max(kind.decimals, 1), 6)
    value = {
        "step": lambda: v + rng.uniform(-span, span),
        "range": lambda: rng.uniform(lo - span / 2, hi + span / 2),
        "wide": lambda: rng.uniform(-reach, reach),
        "neg": lambda: -v,
        "zero": lambda: 0.0,
        "double": lambda: v * 2,
        "half": lambda: v / 2,
        "nudge": lambda: v + rng.choice((-1, 1)) * 10.0**-decimals,
        "bound": lambda: rng.choice((lo, hi)),
        "whole": lambda: float(round(v)) or 1.0,  # a whole float: int-or-float checks differ on it
    }[op]()
    value = float(round(value)) if kind.whole else round(value, decimals)
    return (f"float.{op}", value + 0.0) if value != v else None


def _mut_text(v: Any, kind: Kind, rng: random.Random, slot: Slot) -> Op | None:
    is_str = isinstance(v, str)
    chars = char_pool(kind) or ([" "] if is_str else [b" "])
    join = "".join if is_str else b"".join
    items = list(v) if is_str else [bytes([b]) for b in v]
    n = len(items)
    ops = ["insert", "repeat", "concat", "empty"]
    if n:
        ops += ["delete", "delete", "replace", "replace", "dup", "prefix", "suffix"]
    if n >= 2:
        ops += ["swap", "reverse", "shuffle", "mirror"]
    if is_str and any(c.isalpha() for c in v):
        ops += ["case"]
    if is_str and " " in v.strip():
        ops += ["words", "words"]
    op = rng.choice(ops)
    i = rng.randrange(n) if n else 0
    if op == "insert":
        items.insert(rng.randrange(n + 1), rng.choice(chars))
    elif op == "delete":
        del items[i]
    elif op == "replace":
        items[i] = rng.choice(chars)
    elif op == "dup":
        items.insert(i, items[i])
    elif op == "swap":
        j = rng.randrange(n - 1)
        items[j], items[j + 1] = items[j + 1], items[j]
    elif op == "reverse":
        items.reverse()
    elif op == "shuffle":
        rng.shuffle(items)
    elif op == "mirror":  # a palindrome (odd or even length)
        items = items + items[::-1][rng.randrange(2) :]
    elif op == "case":  # one letter in the other case
        letters = [j for j, c in enumerate(items) if c.isalpha()]
        j = rng.choice(letters)
        items[j] = items[j].swapcase()
    elif op == "prefix":
        items = items[: rng.randrange(n)]
    elif op == "suffix":
        items = items[rng.randrange(1, n + 1) :] if n > 1 else []
    elif op == "empty":
        items = []
    elif op == "repeat":
        items = items * 2
    elif op == "concat":
        other = _pick_seen(slot, rng, v)
        if type(other) is not type(v):
            return None
        items = items + (list(other) if is_str else [bytes([b]) for b in other])
    elif op == "words":
        words = v.split(" ")
        action = rng.choice(("drop", "dup", "swap", "seen"))
        j = rng.randrange(len(words))
        if action == "drop" and len(words) > 1:
            del words[j]
        elif action == "dup":
            words.insert(j, words[j])
        elif action == "swap" and len(words) > 1:
            k = rng.randrange(len(words))
            words[j], words[k] = words[k], words[j]
        else:
            pool = [w for s in slot.values if isinstance(s, str) for w in s.split(" ")]
            words[j] = rng.choice(pool) if pool else words[j]
        value = " ".join(words)
        return (f"str.words.{action}", value) if value != v else None
    value = join(items)
    kind_name = "str" if is_str else "bytes"
    return (f"{kind_name}.{op}", value) if value != v else None


# Items of other kinds for containers whose items mix kinds: scalars, booleans (ints to isinstance, not to
# type()), and empty containers (unhashable: a set or a dict key never takes them).
_OTHER_KINDS = (None, 0, -7, 3.5, "x", "", True, False, [], {})


def _new_item(kind: Kind, rng: random.Random, items: list, depth: int) -> tuple[str, Any] | None:
    """An item to add: a seen one, a mutated copy of one of the value's own items, or, where the items are of
    several kinds, a value of another kind."""
    if kind.item is not None and kind.item.mixed and rng.random() < 0.3:
        return "other_kind", _OTHER_KINDS[rng.randrange(len(_OTHER_KINDS))]
    if items and rng.random() < 0.6 and kind.item is not None:
        base = items[rng.randrange(len(items))]
        op = mutate_value(base, kind.item, rng, depth + 1)
        return op if op else ("copy", base)
    seen = kind.item.values if kind.item is not None else []
    if not seen:
        return None
    return "seen", seen[rng.randrange(len(seen))]


def _mut_list(v: list, kind: Kind, rng: random.Random, slot: Slot, depth: int) -> Op | None:
    items = list(v)
    n = len(items)
    ops = ["add", "add", "concat", "empty", "grow"]
    if n:
        ops += ["drop", "drop", "dup", "item", "item", "item", "prefix"]
    if n >= 2:
        ops += ["shuffle", "sort", "reverse", "swap", "half", "mirror"]
    op = rng.choice(ops)
    tag = op
    if op == "add":
        new = _new_item(kind, rng, items, depth)
        if new is None:
            return None
        items.insert(rng.randrange(n + 1), new[1])
    elif op == "grow":
        for _ in range(rng.randint(2, max(2, n))):
            new = _new_item(kind, rng, items, depth)
            if new is None:
                return None
            items.insert(rng.randrange(len(items) + 1), new[1])
    elif op == "drop":
        del items[rng.randrange(n)]
    elif op == "dup":
        i = rng.randrange(n)
        items.insert(rng.randrange(n + 1), items[i])
    elif op == "item":
        if kind.item is None:
            return None
        i = rng.randrange(n)
        inner = mutate_value(items[i], kind.item, rng, depth + 1)
        if inner is None:
            return None
        items[i] = inner[1]
        tag = f"item.{inner[0]}"
    elif op == "shuffle":
        rng.shuffle(items)
    elif op == "sort":
        try:
            items.sort(reverse=rng.random() < 0.3)
        except TypeError:
            return None
    elif op == "reverse":
        items.reverse()
    elif op == "mirror":
        items = items + items[::-1][rng.randrange(2) :]
    elif op == "swap":
        i, j = rng.sample(range(n), 2)
        items[i], items[j] = items[j], items[i]
    elif op == "half":
        items = items[: n // 2] if rng.random() < 0.5 else items[n // 2 :]
    elif op == "prefix":
        items = items[: rng.randrange(n)]
    elif op == "empty":
        items = []
    elif op == "concat":
        other = _pick_seen(slot, rng, v)
        if not isinstance(other, (list, tuple)):
            return None
        items = items + list(other)
    return (tag, items) if items != v else None


def _mut_tuple(v: tuple, kind: Kind, rng: random.Random, slot: Slot, depth: int) -> Op | None:
    if kind.positions is not None and len(kind.positions) == len(v) and v:
        i = rng.randrange(len(v))
        inner = mutate_value(v[i], kind.positions[i], rng, depth + 1)
        if inner is None:
            return None
        return f"pos.{inner[0]}", (*v[:i], inner[1], *v[i + 1 :])
    op = _mut_list(list(v), kind, rng, slot, depth)
    return (op[0], tuple(op[1])) if op else None


def _mut_set(v: Any, kind: Kind, rng: random.Random, slot: Slot, depth: int) -> Op | None:
    items = sorted(v, key=canonical)
    op = rng.choice(("drop", "add", "add", "empty", "union") if items else ("add", "union"))
    if op == "drop":
        del items[rng.randrange(len(items))]
    elif op == "add":
        new = _new_item(kind, rng, items, depth)
        if new is None:
            return None
        items.append(new[1])
    elif op == "empty":
        items = []
    else:
        other = _pick_seen(slot, rng, v)
        if not isinstance(other, (set, frozenset)):
            return None
        items += sorted(other, key=canonical)
    try:
        value = type(v)(items)
    except TypeError:
        return None
    return (f"set.{op}", value) if value != v else None


def _mut_dict(v: dict, kind: Kind, rng: random.Random, slot: Slot, depth: int) -> Op | None:
    value = dict(v)
    keys = list(value)
    if is_record(kind):  # records keep their keys
        ops: tuple[str, ...] = ("value",) if keys else ()
    else:
        ops = ("drop", "value", "value", "key", "add", "empty") if keys else ("add",)
    if not ops:
        return None
    op = rng.choice(ops)
    if op == "drop":
        del value[keys[rng.randrange(len(keys))]]
    elif op == "value" and kind.item is not None:
        k = keys[rng.randrange(len(keys))]
        inner = mutate_value(value[k], kind.item, rng, depth + 1)
        if inner is None:
            return None
        value[k] = inner[1]
    elif op == "key" and kind.key is not None:
        k = keys[rng.randrange(len(keys))]
        inner = mutate_value(k, kind.key, rng, depth + 1)
        if inner is None or inner[1] in value:
            return None
        try:
            value = {(inner[1] if key == k else key): item for key, item in value.items()}
        except TypeError:
            return None
    elif op == "add" and kind.key is not None and kind.item is not None:
        new_key = _pick_seen(kind.key, rng, None)
        if new_key is None and keys:
            inner = mutate_value(keys[rng.randrange(len(keys))], kind.key, rng, depth + 1)
            new_key = inner[1] if inner else None
        new_value = _pick_seen(kind.item, rng, None)
        try:
            if new_key is None or new_key in value or new_value is None:
                return None
            value[new_key] = new_value
        except TypeError:
            return None
    elif op == "empty":
        value = {}
    else:
        return None
    return (f"dict.{op}", value) if value != v else None


def mutate_value(value: Any, slot: Slot, rng: random.Random, depth: int = 0) -> Op | None:
    """One mutation of ``value`` as the kinds seen at its place allow: (operator name, new value) or None."""
    name = kind_of(value)
    kind = slot.kinds.get(name)
    if kind is None or depth > _DEPTH:
        return None
    if len(slot.values) > 1 and rng.random() < 0.12:
        other = _pick_seen(slot, rng, value)
        if other is not None:
            return "seen", other
    out: Op | None
    if name == "bool":
        out = ("bool.not", not value)
    elif name == "int":
        out = _mut_int(value, kind, rng)
    elif name == "float":
        out = _mut_float(value, kind, rng)
    elif name in ("str", "bytes"):
        out = _mut_text(value, kind, rng, slot)
    elif name == "list":
        out = _mut_list(value, kind, rng, slot, depth)
        out = (f"list.{out[0]}", out[1]) if out else None
    elif name == "tuple":
        out = _mut_tuple(value, kind, rng, slot, depth)
        out = (f"tuple.{out[0]}", out[1]) if out else None
    elif name in ("set", "frozenset"):
        out = _mut_set(value, kind, rng, slot, depth)
    elif name == "dict":
        out = _mut_dict(value, kind, rng, slot, depth)
    else:
        out = None
    return out


PLANT_SHARE = 0.15
"""Share of candidates that also get one argument's value planted into another's list (see :func:`_plant`)."""


def _plant(args: dict[int | str, Any], rng: random.Random) -> tuple[int | str, Any] | None:
    """One scalar argument's value put once or twice into a list (or tuple) argument whose items, at some depth,
    are of its kind: ``f([[1, 2], [3]], 1)`` -> ``f([[1, 1, 2], [3]], 1)``. The value searched for, counted or
    removed appearing more than once (or in more than one row) is the edge that random item changes rarely
    reach. Returns (place, new container), or None when no argument pair fits."""
    scalars = [p for p, v in args.items() if kind_of(v) in ("int", "float", "str")]
    containers = [p for p, v in args.items() if kind_of(v) in ("list", "tuple")]
    if not scalars or not containers:
        return None
    value = args[rng.choice(scalars)]
    place = rng.choice(containers)
    name = kind_of(value)

    def plant(container: Any, depth: int) -> Any:
        items = list(container)
        same = any(kind_of(x) == name for x in items)
        nested = [i for i, x in enumerate(items) if kind_of(x) in ("list", "tuple")]
        if nested and depth < 2 and (not same or rng.random() < 0.5):
            i = rng.choice(nested)
            inner = plant(items[i], depth + 1)
            if inner is None:
                return None
            items[i] = inner
        elif same:
            for _ in range(rng.randint(1, 2)):
                items.insert(rng.randrange(len(items) + 1), value)
        else:
            return None
        return type(container)(items)

    planted = plant(args[place], 0)
    return (place, planted) if planted is not None else None


class Rejections(dict):
    """Candidates turned away, by the rule they broke."""

    def add(self, reason: str) -> None:
        self[reason] = self.get(reason, 0) + 1


def generate(
    target: Target,
    count: int,
    *,
    rng: random.Random,
    rules: frozenset[str] = frozenset(RULES),
    avoid: set[str] | None = None,
    max_chars: int | None = None,
    rejected: Rejections | None = None,
) -> list[tuple[Call, str]]:
    """Up to ``count`` new calls of ``target`` in its domain, each with the operators that made it.
    ``max_chars``: the longest inputs may get (their canonical text, about their source's length)."""
    first: dict[str, int] = {}
    for i, c in enumerate(target.calls):
        first.setdefault(c.key(), i)
    seeds = [target.calls[i] for i in first.values()]
    known = [target.results[i] if i < len(target.results) else None for i in first.values()]
    results = [r if r is not None else f"unknown {n}" for n, r in enumerate(known)]  # unknown: all different
    params = target.params
    slots = profile(seeds, params)
    rels = relations(seeds, params, results) if "relations" in rules else []
    seen = set(avoid or ()) | {c.key() for c in seeds}
    rejected = rejected if rejected is not None else Rejections()
    out: list[tuple[Call, str]] = []
    attempts = 0
    while len(out) < count and attempts < 8 * count + 50:
        attempts += 1
        seed = seeds[attempts % len(seeds)] if attempts <= len(seeds) else seeds[rng.randrange(len(seeds))]
        args = places(seed, params)
        if not args:
            break
        keys = list(args)
        roll = rng.random()
        chosen = (
            keys if roll < 0.1 else rng.sample(keys, min(2, len(keys))) if roll < 0.3 else [rng.choice(keys)]
        )
        ops: list[str] = []
        new = dict(args)
        for place in chosen:
            value = new[place]
            for _ in range(1 + (rng.random() < 0.35) + (rng.random() < 0.15)):
                step = mutate_value(value, slots[place], rng)
                if step is None:
                    break
                ops.append(step[0])
                value = step[1]
            new[place] = value
        if len(new) >= 2 and rng.random() < PLANT_SHARE:
            planted = _plant(new, rng)
            if planted is not None:
                new[planted[0]] = planted[1]
                ops.append("plant")
                chosen = [*chosen, planted[0]] if planted[0] not in chosen else chosen
        if not ops:
            continue
        broken = next((r for p in chosen if (r := admits(slots[p], new[p], rules))), None)
        if broken is None and any(not r.holds(new) for r in rels):
            broken = "relations"
        if broken:
            rejected.add(broken)
            continue
        call = Call(
            target.callee,
            tuple(new[i] for i in range(len(seed.args))),
            tuple((k, new[place_of(k, params)]) for k, _ in seed.kwargs),
        )
        key = call.key()
        if key in seen:
            rejected.add("duplicate")
            continue
        if max_chars is not None and len(key) > max_chars:
            rejected.add("magnitude")
            continue
        seen.add(key)
        out.append((call, "mutation:" + "+".join(ops)))
    return out
