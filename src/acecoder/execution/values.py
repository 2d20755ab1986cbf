"""Probe values as the trusted side sees them: the sandbox's canonical JSON turned back into Python objects.

Plain values come back as themselves (None, bool, int, float, complex, str, bytes, list, tuple, dict, set,
frozenset), the standard library's value types as themselves (Counter, OrderedDict, deque, Decimal, Fraction,
datetime values, dict views, range), numpy arrays and scalars as numpy objects, a consumed iterator as an
iterator over its items. Anything else is an :class:`Opaque` value, which equals nothing; an exception a probe
raised is a :class:`Raised` marker.
"""

from __future__ import annotations

import base64
import collections
import datetime
import decimal
import fractions
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, eq=False)
class Opaque:
    """A value only the program's own code can interpret (an instance of one of its classes, a function...).

    It equals nothing but itself, so no program-defined ``__eq__`` can make it pass a test."""

    type_name: str
    truthy: bool = True

    def __bool__(self) -> bool:
        return self.truthy

    def __repr__(self) -> str:
        return f"<opaque {self.type_name}>"


@dataclass(frozen=True)
class Raised:
    """What a probe raised instead of returning a value."""

    type_name: str
    message: str = ""


class BadValue(ValueError):
    """The sandbox sent a value record that is not canonical JSON (a program wrote to the values channel)."""


def _numpy():
    import numpy

    return numpy


_MAX_ELEMENTS = 10_000_000
_MAX_ITEMSIZE = 1 << 16


def _dtype(spec: str):
    """A numpy dtype the sandbox may send: numbers and bounded strings only (no huge or structured types)."""
    dtype = _numpy().dtype(spec)
    if dtype.kind not in "biufcUS" or dtype.fields or dtype.itemsize > _MAX_ITEMSIZE:
        raise BadValue(f"dtype {spec!r} is not accepted")
    return dtype


def _shape(shape: list) -> tuple[int, ...]:
    size = 1
    for n in shape:
        if type(n) is not int or n < 0:
            raise BadValue(f"bad array shape {shape!r}")
        size *= n
    if size > _MAX_ELEMENTS:
        raise BadValue(f"array of {size} elements")
    return tuple(shape)


def _array(dtype: str, shape: list, payload: Any):
    np = _numpy()
    shape = _shape(shape)
    if dtype == "O":
        out = np.empty(len(payload), dtype=object)
        out[:] = payload if payload else []
        return out.reshape(shape)
    if isinstance(payload, str):
        return np.frombuffer(base64.b64decode(payload), dtype=_dtype(dtype)).reshape(shape).copy()
    return np.array(payload, dtype=_dtype(dtype)).reshape(shape)


def _scalar(dtype: str, payload: Any):
    np = _numpy()
    kind = _dtype(dtype)
    if isinstance(payload, str) and kind.kind not in "US":
        return np.frombuffer(base64.b64decode(payload), dtype=kind)[0]
    return np.array(payload, dtype=kind)[()]


def _zone(spec):
    if spec is None:
        return None
    seconds, micro = spec[1], spec[2]
    return datetime.timezone(datetime.timedelta(seconds=seconds, microseconds=micro))


def _datetime(spec: list):
    kind = spec[0]
    if kind == "timedelta":
        return datetime.timedelta(days=spec[1], seconds=spec[2], microseconds=spec[3])
    if kind == "timezone":
        return _zone(spec)
    if kind == "date":
        return datetime.date(*spec[1:4])
    if kind == "time":
        return datetime.time(*spec[1:5], tzinfo=_zone(spec[5]), fold=spec[6])
    return datetime.datetime(*spec[1:8], tzinfo=_zone(spec[8]), fold=spec[9])


_TAGS = {
    "T": tuple,
    "D": dict,
    "OD": collections.OrderedDict,
    "CT": lambda pairs: collections.Counter(dict(pairs)),
    "S": set,
    "FS": frozenset,
    "B": base64.b64decode,
    "BA": lambda data: bytearray(base64.b64decode(data)),
    "C": lambda parts: complex(*parts),
    "H": lambda text: int(text, 16),
    "R": lambda args: range(*args),
    "DK": lambda items: dict.fromkeys(items).keys(),
    "DI": lambda pairs: dict(pairs).items(),
    "DV": lambda items: dict(enumerate(items)).values(),
    "DQ": collections.deque,
    "DEC": decimal.Decimal,
    "FR": lambda parts: fractions.Fraction(*parts),
    "DT": _datetime,
    "NP": lambda spec: _array(*spec),
    "NS": lambda spec: _scalar(*spec),
    "IT": iter,
    "K": lambda classes: Opaque("class " + (classes[0][1] if classes else "?")),
    "O": lambda spec: Opaque(spec[0][0][1] if spec[0] else "object", bool(spec[1])),
    "U": lambda reason: Opaque("unencodable: " + str(reason)),
    "E": lambda spec: Raised(str(spec[0]), str(spec[1])),
}


def _hook(obj: dict) -> Any:
    if len(obj) != 1:
        raise BadValue(f"a tag object has {len(obj)} keys")
    ((tag, payload),) = obj.items()
    build = _TAGS.get(tag)
    if build is None:
        raise BadValue(f"unknown value tag {tag!r}")
    return build(payload)


Record = tuple[list[Any], dict[str, str | None]]


def _checked(record: Any) -> Record:
    if not isinstance(record, list) or len(record) != 2:
        raise BadValue("a record is not [values, bindings]")
    values, bindings = record
    if not isinstance(values, list) or not isinstance(bindings, list):
        raise BadValue("a record is not [values, bindings]")
    try:
        return values, {str(name): binding for name, binding in bindings}
    except (TypeError, ValueError) as e:
        raise BadValue(f"bad bindings: {e}") from None


def decode_record(data: bytes | str) -> Record:
    """One test's record: the decoded value of each probe, and the bindings of the names its check uses."""
    try:
        return _checked(json.loads(data, object_hook=_hook))
    except BadValue:
        raise
    except Exception as e:  # malformed JSON, unhashable set items, bad numbers...
        raise BadValue(f"{type(e).__name__}: {e}") from None


def decode_records(records: dict[int, bytes]) -> dict[int, Record | BadValue]:
    """Every test's record of one program, decoded in one pass when they are all well formed (else one by one,
    so that a malformed record fails only its own test)."""
    if not records:
        return {}
    try:
        decoded = json.loads(b"[" + b",".join(records.values()) + b"]", object_hook=_hook)
        return {test: _checked(record) for test, record in zip(records, decoded, strict=True)}
    except Exception:
        out: dict[int, Record | BadValue] = {}
        for test, data in records.items():
            try:
                out[test] = decode_record(data)
            except BadValue as e:
                out[test] = e
        return out
