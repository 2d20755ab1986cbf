"""New asserts in the row's own style, and the same comparison in Python (for voting and mutation scores).

Equality, as the row's asserts compare (``==``; ``is`` or truth for booleans; the wrapper they apply, e.g.
``sorted(f(x)) == [...]`` when they compare without order). Floats compare within evalplus's tolerance
(``|out - exp| <= atol + rtol * |exp|`` with ``atol = 1e-6``, ``rtol = 1e-7``, or the row's own larger
tolerance), for a float result and for a flat list or tuple of numbers; other results holding fractional
floats are not written (no assert of the row's shape could compare them within a tolerance). Asserts use
builtins only, so they run whatever the program imports, and the engine judges them outside the program.
"""

from __future__ import annotations

import math
from typing import Any

from acecoder.augmentation.calls import Call, Style
from acecoder.augmentation.literals import literal_source
from acecoder.evaluation.literals import to_source

ATOL = 1e-6
RTOL = 1e-7


class Unwritable(ValueError):
    """A result no assert of the row's style can compare (e.g. NaN, fractional floats deep in a structure)."""


def call_source(call: Call) -> str:
    parts = [literal_source(a) for a in call.args] + [f"{k}={literal_source(v)}" for k, v in call.kwargs]
    return f"{call.target}({', '.join(parts)})"


def apply_wrapper(style: Style, value: Any) -> Any:
    """The row's wrapper applied to a result (raises when it does not apply, e.g. ``sorted`` of mixed types)."""
    if style.wrapper is None:
        return value
    import builtins

    return getattr(builtins, style.wrapper)(value, *style.wrapper_args)


def _fractional(value: Any) -> bool:
    """Holds a float that is not a whole number (or not finite)."""
    if type(value) is float:
        return not (math.isfinite(value) and value.is_integer())
    if type(value) is complex:
        return _fractional(value.real) or _fractional(value.imag)
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_fractional(v) for v in value)
    if isinstance(value, dict):
        return any(_fractional(k) or _fractional(v) for k, v in value.items())
    return False


def _has_nan(value: Any) -> bool:
    if type(value) is float:
        return math.isnan(value)
    if type(value) is complex:
        return math.isnan(value.real) or math.isnan(value.imag)
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_has_nan(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nan(k) or _has_nan(v) for k, v in value.items())
    return False


def _bound(style: Style, expected: float) -> float:
    atol = max(ATOL, style.tolerance or 0.0)
    return atol + RTOL * abs(expected)


def _flat_numbers(value: Any) -> bool:
    return type(value) in (list, tuple) and all(type(v) in (int, float) for v in value)


def render_assert(call: Call, expected: Any, style: Style) -> str:
    """``assert ...`` comparing ``call``'s result with the reference's result ``expected`` (before the
    wrapper); :class:`Unwritable` when the row's style cannot compare it."""
    probe = call_source(call)
    if style.wrapper is not None:
        extra = "".join(f", {literal_source(a)}" for a in style.wrapper_args)
        probe = f"{style.wrapper}({probe}{extra})"
    try:
        value = apply_wrapper(style, expected)
    except Exception as e:
        raise Unwritable(f"the row's {style.wrapper}() does not apply to the result: {e}") from None
    if _has_nan(value):
        raise Unwritable("NaN in the result")
    if value is None:
        return f"assert not {probe}" if style.bools == "truth" else f"assert {probe} is None"
    if type(value) is bool:
        if style.bools == "is":
            return f"assert {probe} is {value}"
        if style.bools == "truth":
            return f"assert {probe}" if value else f"assert not {probe}"
        return f"assert {value} == {probe}" if style.flipped else f"assert {probe} == {value}"
    if type(value) is float and math.isfinite(value):
        return f"assert abs({probe} - {to_source(value)}) <= {_bound(style, value)!r}"
    if _fractional(value):
        if _flat_numbers(value) and all(math.isfinite(v) for v in value):
            bound = _bound(style, max(abs(v) for v in value))
            return (
                f"assert all(abs(a - b) <= {bound!r} for a, b in zip({probe}, {literal_source(value)}, "
                "strict=True))"
            )
        raise Unwritable("fractional floats inside a structure")
    exp = literal_source(value)
    return f"assert {exp} == {probe}" if style.flipped else f"assert {probe} == {exp}"


def matches(style: Style, expected: Any, got: Any) -> bool:
    """What the assert :func:`render_assert` writes for ``expected`` decides about the result ``got``."""
    try:
        value = apply_wrapper(style, expected)
        out = apply_wrapper(style, got)
    except Exception:
        return False
    try:
        if value is None:
            return not out if style.bools == "truth" else out is None
        if type(value) is bool:
            if style.bools == "is":
                return out is value
            if style.bools == "truth":
                return bool(out) == value
            return bool(out == value)
        if type(value) is float and math.isfinite(value):
            return bool(abs(out - value) <= _bound(style, value))
        if _fractional(value) and _flat_numbers(value):
            if type(out) not in (list, tuple) or len(out) != len(value):
                return False
            bound = _bound(style, max(abs(v) for v in value))
            return all(abs(a - b) <= bound for a, b in zip(out, value, strict=True))
        return bool(out == value)
    except Exception:
        return False
