"""evalplus's output comparison, applied in the trusted caller to values the sandbox captured.

Rules (evalplus 0.3.1, ``evalplus/eval/__init__.py:unsafe_execute``), per input in order:

* ``out == exp`` is an exact match;
* MBPP special oracles by entry point (set equality, "not None", a few tasks with several right answers) and
  HumanEval/32's ``find_zero`` checker (``|poly(xs, out)| <= atol``);
* once an expected output is a float (or a list/tuple/array of floats) with ``atol == 0``, ``atol`` becomes
  1e-6 for that input *and every later one* of the same run (evalplus keeps the reassigned variable);
* with ``atol != 0`` and no exact match: same type, same length for lists/tuples, and
  ``np.allclose(out, exp, rtol=1e-07, atol=atol)``; anything that raises is a mismatch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from acecoder.evaluation.transport import decode_output, has_text

# evalplus/eval/_special_oracle.py
MBPP_OUTPUT_NOT_NONE_TASKS = frozenset({"check_str", "text_match_three", "text_starta_endb"})
MBPP_OUTPUT_SET_EQ_TASKS = frozenset(
    {
        "similar_elements",  # Mbpp/2
        "find_char_long",  # Mbpp/7
        "common_in_nested_lists",  # Mbpp/111
        "extract_singly",  # Mbpp/140
        "larg_nnum",  # Mbpp/232
        "intersection_array",  # Mbpp/249
        "find_dissimilar",  # Mbpp/579
        "Diff",  # Mbpp/769
    }
)


def needs_values(family: str, entry_point: str) -> bool:
    """Whether a task's checker needs the output itself (a special oracle), not only equality with the expected
    output: such outputs are never reduced to digests."""
    if family == "humaneval":
        return entry_point == "find_zero"
    return family == "mbpp" and entry_point in MBPP_SPECIAL_ORACLES


MBPP_SPECIAL_ORACLES = (
    MBPP_OUTPUT_SET_EQ_TASKS
    | MBPP_OUTPUT_NOT_NONE_TASKS
    | {
        "are_equivalent",
        "sum_div",
        "surface_Area",
        "digit_distance_nums",
    }
)


def _poly(xs: Sequence[float], x: float) -> float:
    """HumanEval/32's polynomial (the checker for ``find_zero``)."""
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def _surface_area(base_edge: float, height: float) -> int:
    """Mbpp/581's alternative reading of "height"."""
    slant_height = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant_height) / 2)


def _digit_distance_nums(num1: int, num2: int) -> int:
    """Mbpp/558 with both numbers zero-padded to the same length."""
    a, b = str(num1), str(num2)
    width = max(len(a), len(b))
    return sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width), strict=True))


def is_floats(x: Any) -> bool:
    """A float, a non-empty list/tuple of floats, or a float64/float32 numpy array."""
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and type(x).__name__ == "ndarray":
        return str(dtype) in ("float64", "float32")
    return False


def _exact_match(
    benchmark: str, entry_point: str, args: Sequence[Any], out: Any, exp: Any, atol: float
) -> Any:
    exact = out == exp
    if benchmark != "mbpp":
        return exact
    if entry_point == "are_equivalent":  # Mbpp/164
        return True
    if entry_point == "sum_div":  # Mbpp/295
        return exact or out == 0
    if entry_point == "surface_Area":  # Mbpp/581
        return exact or abs(out - _surface_area(*args)) <= atol
    if entry_point == "digit_distance_nums":  # Mbpp/558
        return exact or out == _digit_distance_nums(*args)
    if entry_point in MBPP_OUTPUT_SET_EQ_TASKS:
        return set(out) == set(exp)
    if entry_point in MBPP_OUTPUT_NOT_NONE_TASKS:
        return out == exp if isinstance(out, bool) else exp == (out is not None)
    return exact


class OutputChecker:
    """Judges one run's outputs input by input, carrying evalplus's ``atol`` from one input to the next.

    ``benchmark`` is the evalplus dataset family (``"humaneval"`` or ``"mbpp"``), which selects the special
    oracles."""

    def __init__(self, benchmark: str, entry_point: str, atol: float):
        self.benchmark, self.entry_point, self.atol = benchmark, entry_point, atol

    @property
    def equal_passes(self) -> bool:
        """Whether an output equal to the expected one always passes (all but HumanEval/32's checker)."""
        return not (self.benchmark == "humaneval" and self.entry_point == "find_zero")

    def equal(self, exp: Any) -> None:
        """Record an input whose output equals ``exp`` (it passes): carry ``atol`` as :meth:`check` does."""
        if self.atol == 0 and is_floats(exp):
            self.atol = 1e-6

    def check(self, args: Sequence[Any], out: Any, exp: Any) -> bool:
        try:
            return self._check(args, out, exp)
        except Exception:  # evalplus counts anything the comparison raises as a failed input
            return False

    def _check(self, args: Sequence[Any], out: Any, exp: Any) -> bool:
        if self.benchmark == "humaneval" and self.entry_point == "find_zero":
            return abs(_poly(*args, out)) <= self.atol
        exact = _exact_match(self.benchmark, self.entry_point, args, out, exp, self.atol)
        if self.atol == 0 and is_floats(exp):
            self.atol = 1e-6
        if not exact and self.atol != 0:
            if type(out) is not type(exp):
                return False
            if isinstance(exp, (list, tuple)) and len(out) != len(exp):
                return False
            import numpy as np

            return bool(np.allclose(out, exp, rtol=1e-07, atol=self.atol))
        return bool(exact)


def first_mismatch(
    checker: OutputChecker,
    inputs: Sequence[Sequence[Any]],
    outputs: Sequence[Any],
    expected: Sequence[Any],
    ran: Callable[[int], bool],
    expected_texts: Sequence[str | None] | None = None,
) -> int | None:
    """Index of the first input whose call failed (``ran(i)`` false) or whose output does not match; None when
    every input passed. ``outputs`` are values or captured outputs (:mod:`acecoder.evaluation.transport`),
    rebuilt only when needed: an output that travelled as the expected output's text (``expected_texts``) is
    equal to it."""
    fast = expected_texts is not None and checker.equal_passes
    for i, (args, exp) in enumerate(zip(inputs, expected, strict=True)):
        if not ran(i):
            return i
        out = outputs[i]
        if fast and expected_texts[i] is not None and has_text(out, expected_texts[i]):  # type: ignore[index]
            checker.equal(exp)
            continue
        if not checker.check(args, decode_output(out), exp):
            return i
    return None
