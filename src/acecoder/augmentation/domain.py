"""The domain the row's tests show: what kind of value each argument takes, and the rules a new input must keep.

Inputs outside the domain a question implies turn correct programs into failures (a negative number where the
tests only show counts, a list with repeats where they only show distinct items), so a mutated input is kept
only when every rule holds. Each rule can be turned off (:data:`RULES`) to measure what it costs or saves:

* ``types``: the same kinds of value at each place (int stays int, a tuple of two stays a tuple of two; items of
  a container whose items the tests show of several kinds may be of any plain kind);
* ``sign``: numbers keep to the signs the tests show at that place (negative, zero, positive; a zero seen
  admits positive numbers too: counts and sizes);
* ``magnitude``: numbers within a thousand times the largest seen (the reference's time limit keeps their cost
  in check); floats whole when every seen float is whole;
* ``charset``: strings from the characters seen at that place, and from the whole class (ASCII lowercase
  letters, uppercase letters, digits) of which they show at least three members;
* ``size``: lengths from the smallest seen to twice the largest (empty only when empty was seen);
* ``spacing``: no leading, trailing or doubled spaces unless seen;
* ``brackets``: strings stay balanced in ``()[]{}`` when every seen one with brackets is;
* ``sorted``, ``distinct``: lists stay sorted / free of repeats when every seen one is (with enough evidence:
  enough items, from at least two seen calls: one value is one example however many items it has);
* ``shape``: nested lists stay rectangular when every seen one is (seen in at least two calls); dicts keep their
  keys when the tests show several dicts at that place, all with the same keys (records);
* ``relations``: relations every seen call keeps between its arguments (a length, an index within a length, an
  item of a list, ``lo <= hi``, two lists or numbers of equal length).
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from acecoder.augmentation.calls import Call, canonical

RULES = (
    "types",
    "sign",
    "magnitude",
    "charset",
    "size",
    "spacing",
    "brackets",
    "sorted",
    "distinct",
    "shape",
    "relations",
)
_SIZED = ("str", "bytes", "list", "tuple", "dict", "set", "frozenset")
_NUMBERS = ("int", "float")
MAGNITUDE = 1000
"""How many times the largest seen number a new one may be (measured: twice cost precision on both benchmarks)."""
_ORDER_EVIDENCE = 4  # sum over seen lists of (length - 1) before "always sorted" counts as a rule
_DISTINCT_EVIDENCE = 6  # items seen in lists of two or more before "never repeats" counts as a rule
_CALLS_EVIDENCE = 2
"""Seen calls whose values show a property (sorted, without repeats, rectangular) before it counts as a rule: the
items of one value are one example (a single 3x4 matrix of 1..12 does not show that rows never repeat items)."""
_ORIGINS = itertools.count(1 << 40)  # origins of values added without one (each its own example)


def kind_of(value: Any) -> str:
    kind = type(value)
    if value is None:
        return "none"
    if kind in (bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset):
        return kind.__name__
    return "other"


@dataclass
class Kind:
    """What the seen values of one kind at one place have in common."""

    name: str
    count: int = 0
    lo: float = float("inf")
    hi: float = float("-inf")
    signs: set[int] = field(default_factory=set)
    """-1, 0, 1: the signs seen."""
    whole: bool = True
    decimals: int = 0
    alphabet: set[Any] = field(default_factory=set)
    pool: list[Any] | None = None
    """The characters the ``charset`` rule admits (the classes of those seen), sorted; set on first use."""
    min_len: int = 1 << 30
    max_len: int = 0
    edge_space: bool = False
    double_space: bool = False
    brackets: int = 0
    """Seen strings holding brackets; ``balanced``: all of them balanced."""
    balanced: bool = True
    item: Slot | None = None
    key: Slot | None = None
    positions: list[Slot] | None = None
    lengths: set[int] = field(default_factory=set)
    sorted_asc: bool = True
    sorted_desc: bool = True
    order_evidence: int = 0
    order_origins: set[int] = field(default_factory=set)
    """The seen calls whose values gave order evidence (one call's value is one example, however long)."""
    distinct: bool = True
    distinct_evidence: int = 0
    distinct_origins: set[int] = field(default_factory=set)
    rectangular: bool = True
    nested: int = 0
    nested_origins: set[int] = field(default_factory=set)
    keysets: set[str] = field(default_factory=set)
    """The key sets of the dicts seen (canonical text): one, over several dicts, makes them records."""


MIXED_KINDS = ("none", "bool", "int", "float", "str", "list", "dict")
"""Kinds any item may take in a container whose items the tests show of several kinds (e.g. "keep the ints"):
the plain scalars, booleans (Python's ints that are not meant as numbers) and empty lists and dicts, as
evalplus's mixed inputs hold."""


@dataclass
class Slot:
    """One argument place (or the items of a container at it): the kinds seen and the distinct values."""

    kinds: dict[str, Kind] = field(default_factory=dict)
    values: list[Any] = field(default_factory=list)
    item: bool = False
    """The items of a container (rather than an argument)."""
    _keys: set[str] = field(default_factory=set, repr=False)

    @property
    def mixed(self) -> bool:
        """Items of several kinds seen (bool and int, or int and float, count as one kind here)."""
        return (
            self.item and len(set(self.kinds) - {"bool"} - ({"float"} if "int" in self.kinds else set())) > 1
        )

    def add(self, value: Any, depth: int = 0, origin: int | None = None) -> None:
        """``origin``: the seen call the value comes from (items share their container's; default: a new one)."""
        if origin is None:
            origin = next(_ORIGINS)
        key = canonical(value)
        if key not in self._keys and len(self.values) < 200:
            self._keys.add(key)
            self.values.append(value)
        name = kind_of(value)
        kind = self.kinds.setdefault(name, Kind(name))
        kind.count += 1
        if name in _NUMBERS:
            kind.lo, kind.hi = min(kind.lo, value), max(kind.hi, value)
            kind.signs.add((value > 0) - (value < 0))
            if name == "float" and value == value and abs(value) != float("inf"):
                kind.whole &= float(value).is_integer()
                text = repr(value)
                if "e" not in text and "." in text:
                    kind.decimals = max(kind.decimals, len(text.split(".")[1].rstrip("0")))
        if name in _SIZED:
            n = len(value)
            kind.min_len, kind.max_len = min(kind.min_len, n), max(kind.max_len, n)
            kind.lengths.add(n)
        if name in ("str", "bytes"):
            kind.alphabet.update(value if name == "str" else [bytes([b]) for b in value])
            kind.pool = None
            if name == "str" and value:
                kind.edge_space |= value[0].isspace() or value[-1].isspace()
                kind.double_space |= "  " in value
                if any(c in _BRACKETS for c in value):
                    kind.brackets += 1
                    kind.balanced &= balanced(value)
        if depth > 12:
            return
        if name in ("list", "tuple", "set", "frozenset"):
            kind.item = kind.item or Slot(item=True)
            for item in value:
                kind.item.add(item, depth + 1, origin)
        if name == "tuple":
            if kind.positions is None and kind.count == 1:
                kind.positions = [Slot() for _ in value]
            if kind.positions is not None and len(kind.positions) == len(value):
                for slot, item in zip(kind.positions, value, strict=True):
                    slot.add(item, depth + 1, origin)
            else:
                kind.positions = None
        if name == "dict":
            kind.keysets.add(canonical(sorted(map(canonical, value))))
            kind.key, kind.item = kind.key or Slot(item=True), kind.item or Slot(item=True)
            for k, v in value.items():
                kind.key.add(k, depth + 1, origin)
                kind.item.add(v, depth + 1, origin)
        if name == "list":
            _order(kind, value, origin)
            inner = [len(v) for v in value if isinstance(v, (list, tuple, str))]
            if len(inner) == len(value) and len(value) >= 2:
                kind.nested += 1
                kind.nested_origins.add(origin)
                kind.rectangular &= len(set(inner)) == 1
        if name in ("list", "tuple") and len(value) >= 2:
            try:
                distinct = len({canonical(v) for v in value}) == len(value)
            except Exception:
                distinct = False
            kind.distinct &= distinct
            kind.distinct_evidence += len(value)
            kind.distinct_origins.add(origin)


_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_CLOSING = {v: k for k, v in _BRACKETS.items()}


def balanced(text: str) -> bool:
    """Every bracket of ``()[]{}`` closed, in order."""
    stack = []
    for c in text:
        if c in _BRACKETS:
            stack.append(c)
        elif c in _CLOSING and (not stack or stack.pop() != _CLOSING[c]):
            return False
    return not stack


def _order(kind: Kind, value: list, origin: int = -1) -> None:
    if len(value) < 2:
        return
    kind.order_origins.add(origin)
    try:
        asc = all(a <= b for a, b in pairwise(value))
        desc = all(a >= b for a, b in pairwise(value))
    except TypeError:
        asc = desc = False
    kind.sorted_asc &= asc
    kind.sorted_desc &= desc
    kind.order_evidence += len(value) - 1


def admits(slot: Slot, value: Any, rules: frozenset[str], depth: int = 0) -> str | None:
    """None when ``value`` keeps every rule at this place, else the first rule it breaks."""
    name = kind_of(value)
    kind = slot.kinds.get(name)
    if kind is None:
        if not slot.kinds or ("types" in rules and not (slot.mixed and name in MIXED_KINDS)):
            return "types"
        return None
    if name in _NUMBERS:
        return _number(kind, value, rules, slot)
    if name in ("str", "bytes"):
        broken = _text(kind, value, rules)
        if broken:
            return broken
    top = max(2 * kind.max_len, kind.max_len + 4)
    if name in _SIZED and "size" in rules and not kind.min_len <= len(value) <= top:
        return "size"
    if depth > 12 or name not in ("list", "tuple", "set", "frozenset", "dict"):
        return None
    if name == "tuple" and "types" in rules and len(value) not in kind.lengths:
        return "types"
    if name == "tuple" and kind.positions is not None and len(value) == len(kind.positions):
        for s, item in zip(kind.positions, value, strict=True):
            broken = admits(s, item, rules, depth + 1)
            if broken:
                return broken
    elif name == "dict":
        assert kind.key is not None and kind.item is not None
        for k, v in value.items():
            broken = admits(kind.key, k, rules, depth + 1) or admits(kind.item, v, rules, depth + 1)
            if broken:
                return broken
    else:
        for item in value:
            broken = admits(kind.item, item, rules, depth + 1) if kind.item is not None else "types"
            if broken:
                return broken
    if name == "list":
        return _list_rules(kind, value, rules)
    other_keys = name == "dict" and canonical(sorted(map(canonical, value))) not in kind.keysets
    if other_keys and "shape" in rules and is_record(kind):
        return "shape"
    return None


def is_record(kind: Kind) -> bool:
    """Dicts seen more than once, always with the same keys: records, whose keys are not data."""
    return kind.name == "dict" and kind.count >= 2 and len(kind.keysets) == 1


def _number(kind: Kind, value: Any, rules: frozenset[str], slot: Slot) -> str | None:
    lo, hi, signs = kind.lo, kind.hi, kind.signs
    if "int" in slot.kinds and "float" in slot.kinds:  # both seen: one range for both
        other = slot.kinds["float" if kind.name == "int" else "int"]
        lo, hi, signs = min(lo, other.lo), max(hi, other.hi), signs | other.signs
    if value != value:
        return "magnitude"
    if "sign" in rules and (value > 0) - (value < 0) not in (signs | {1} if 0 in signs else signs):
        return "sign"  # a zero seen stands for counts and sizes: positive numbers too
    if "magnitude" in rules:
        limit = MAGNITUDE * max(abs(lo), abs(hi), 1) + 10
        if abs(value) > limit:
            return "magnitude"
        if kind.name == "float" and kind.whole and not float(value).is_integer():
            return "magnitude"
    return None


_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
_CLASS_EVIDENCE = 3  # members of a class seen before any member is admitted (binary strings stay binary)


def char_pool(kind: Kind) -> list[Any]:
    """The characters a string at this place may hold: every member of a class one seen character belongs to."""
    if kind.pool is None:
        chars = set(kind.alphabet)
        for group in _CLASSES:
            if sum(isinstance(c, str) and c in group for c in kind.alphabet) >= _CLASS_EVIDENCE:
                chars.update(group)
        kind.pool = sorted(chars)
    return kind.pool


def _text(kind: Kind, value: Any, rules: frozenset[str]) -> str | None:
    chars = value if isinstance(value, str) else [bytes([b]) for b in value]
    if "charset" in rules and not set(chars) <= set(char_pool(kind)):
        return "charset"
    if "spacing" in rules and isinstance(value, str) and value:
        if not kind.edge_space and (value[0].isspace() or value[-1].isspace()):
            return "spacing"
        if not kind.double_space and "  " in value:
            return "spacing"
    if (
        "brackets" in rules
        and isinstance(value, str)
        and kind.brackets
        and kind.balanced
        and not balanced(value)
    ):
        return "brackets"
    return None


def _list_rules(kind: Kind, value: list, rules: frozenset[str]) -> str | None:
    evidence = len(kind.order_origins) >= _CALLS_EVIDENCE and kind.order_evidence >= _ORDER_EVIDENCE
    if "sorted" in rules and len(value) >= 2 and evidence:
        k = Kind("list")
        _order(k, value)
        if kind.sorted_asc and not k.sorted_asc:
            return "sorted"
        if kind.sorted_desc and not kind.sorted_asc and not k.sorted_desc:
            return "sorted"
    distinct = (
        kind.distinct
        and kind.distinct_evidence >= _DISTINCT_EVIDENCE
        and len(kind.distinct_origins) >= _CALLS_EVIDENCE
    )
    if (
        "distinct" in rules
        and distinct
        and len(value) >= 2
        and len({canonical(v) for v in value}) != len(value)
    ):
        return "distinct"
    rectangular = kind.rectangular and len(kind.nested_origins) >= _CALLS_EVIDENCE
    if "shape" in rules and kind.nested and rectangular and len(value) >= 2:
        inner = [len(v) for v in value if isinstance(v, (list, tuple, str))]
        if len(inner) == len(value) and len(set(inner)) != 1:
            return "shape"
    return None


# -- relations between the arguments of a call ---------------------------------------------------------------


def _size(value: Any) -> int | None:
    return len(value) if kind_of(value) in _SIZED else None


def _number_of(value: Any) -> float | None:
    return value if kind_of(value) in _NUMBERS else None


def _digits(value: Any) -> int | None:
    """The number of digits of an int (its "length"), else None."""
    return len(str(abs(value))) if kind_of(value) == "int" else None


@dataclass(frozen=True)
class Relation:
    kind: str
    """``len`` (a == len(b)), ``index<`` (0 <= a < len(b)), ``index`` (0 <= a <= len(b)), ``member`` (a in b),
    ``lt``, ``le`` (numbers), ``same_len`` (equal lengths, or equal digit counts for ints)."""
    a: int | str
    b: int | str

    def holds(self, args: dict[int | str, Any]) -> bool:
        if self.a not in args or self.b not in args:
            return True
        x, y = args[self.a], args[self.b]
        if self.kind == "len":
            return kind_of(x) == "int" and _size(y) == x
        if self.kind == "member":
            try:
                return kind_of(y) in ("str", "list", "tuple", "set", "frozenset", "dict") and (
                    x in y if kind_of(y) != "str" or kind_of(x) == "str" else False
                )
            except TypeError:
                return False
        if self.kind in ("index", "index<"):
            n, size = _number_of(x), _size(y)
            if n is None or size is None or kind_of(x) != "int":
                return False
            return 0 <= n <= size if self.kind == "index" else 0 <= n < size
        if self.kind in ("le", "lt"):
            p, q = _number_of(x), _number_of(y)
            if p is None or q is None:
                return False
            return p <= q if self.kind == "le" else p < q
        p, q = _size(x), _size(y)
        if p is None and q is None:
            p, q = _digits(x), _digits(y)
        return p is not None and p == q


def place_of(name: str, params: Sequence[str]) -> int | str:
    """A keyword argument's place: its parameter's position when known, else its name."""
    return params.index(name) if name in params else name


def places(call: Call, params: Sequence[str] = ()) -> dict[int | str, Any]:
    """A call's arguments by place: positions 0, 1, ... (keyword arguments at their parameter's position when
    ``params`` names it) and other keyword names."""
    out: dict[int | str, Any] = dict(enumerate(call.args))
    out.update({place_of(k, params): v for k, v in call.kwargs})
    return out


def relations(
    calls: Sequence[Call], params: Sequence[str] = (), results: Sequence[str] | None = None
) -> list[Relation]:
    """Relations every seen call keeps: at least two calls as evidence, not all with equal values; an order
    between numbers (``lt``, ``le``) only when (``results`` giving each call's result) the calls do not all have
    the same result, which would show one corner of the domain only (e.g. only the inputs a function rejects)."""
    if len(calls) < 2:
        return []
    all_places = [places(c, params) for c in calls]
    keys = list(dict.fromkeys(k for p in all_places for k in p))
    found = []
    for a in keys:
        for b in keys:
            if a == b:
                continue
            both_idx = [i for i, p in enumerate(all_places) if a in p and b in p]
            both = [all_places[i] for i in both_idx]
            if len(both) < 2:
                continue
            one_result = results is not None and len({results[i] for i in both_idx}) < 2
            for family in _FAMILIES:
                for kind in family:
                    if one_result and kind in ("lt", "le"):
                        continue
                    if kind == "same_len" and (str(a) > str(b)):
                        continue
                    rel = Relation(kind, a, b)
                    if not all(rel.holds(p) for p in both):
                        continue
                    if kind in ("le", "lt", "member") and len({canonical(p[a]) for p in both}) == 1:
                        continue
                    found.append(rel)
                    break  # the strictest of the family that holds
    return found


# Relations by family, strictest first; a pair of places may keep one of each family.
_FAMILIES = (("len", "index<", "index"), ("member",), ("lt", "le"), ("same_len",))


def profile(calls: Iterable[Call], params: Sequence[str] = ()) -> dict[int | str, Slot]:
    """One slot per argument place over the seen calls."""
    slots: dict[int | str, Slot] = {}
    for n, call in enumerate(calls):
        for place, value in places(call, params).items():
            slots.setdefault(place, Slot()).add(value, origin=n)
    return slots
