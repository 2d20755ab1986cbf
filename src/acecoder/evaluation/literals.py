"""Benchmark inputs as Python source: ``to_source(value)`` evaluates back to an equal value of the same types.

Inputs travel to the sandbox inside test expressions (``f(<arg>, <arg>)``), so every value must survive the trip
exactly: infinities, NaN and ``-0.0`` (written without names a program could shadow where Python allows it),
huge integers (hexadecimal, which Python parses at any length), strings with any code point, and nested
lists, tuples, dicts, sets and frozensets.
"""

from __future__ import annotations

import math
from typing import Any

_INF = "1e999"
_HEX_BITS = 13000  # ~3900 decimal digits: longer decimal literals hit Python's 4300-digit conversion limit


def to_source(value: Any) -> str:
    """Python source that evaluates to ``value`` (types and float bits preserved)."""
    return _source(value, 0)


def call_source(function: str, args: list | tuple) -> str:
    """``function(arg0, arg1, ...)`` as source."""
    return f"{function}({', '.join(_source(a, 0) for a in args)})"


def _float(x: float) -> str:
    if math.isnan(x):
        return f"({_INF} - {_INF})"
    if math.isinf(x):
        return _INF if x > 0 else f"-{_INF}"
    return repr(x)


def _source(value: Any, depth: int) -> str:
    if depth > 200:
        raise ValueError("input nested more than 200 levels deep")
    kind = type(value)
    if value is None or kind is bool:
        return repr(value)
    if kind is int:
        return hex(value) if value.bit_length() > _HEX_BITS else repr(value)
    if kind is float:
        return _float(value)
    if kind is complex:
        parts = (value.real, value.imag)
        if all(math.isfinite(p) and math.copysign(1.0, p) > 0 for p in parts):
            return repr(value)
        return f"complex({_float(value.real)}, {_float(value.imag)})"
    if kind in (str, bytes):
        return repr(value)
    if kind is list:
        return "[" + ", ".join(_source(v, depth + 1) for v in value) + "]"
    if kind is tuple:
        items = [_source(v, depth + 1) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if kind is dict:
        return (
            "{"
            + ", ".join(f"{_source(k, depth + 1)}: {_source(v, depth + 1)}" for k, v in value.items())
            + "}"
        )
    if kind in (set, frozenset):
        items = ", ".join(_source(v, depth + 1) for v in value)  # iteration order kept
        body = "{" + items + "}" if items else "{*()}"
        return body if kind is set else f"frozenset({body})"
    raise TypeError(f"cannot write a {kind.__name__} value as a Python literal")
