"""Named output comparators for stdin tests, one per dataset family, each reproducing that dataset's own judge.

A stdin test (:class:`acecoder.execution.testkinds.StdinTest`) names its comparator; the trusted judge (outside
the program's process) calls :func:`compare` on the program's captured standard output and the expected one.
Pure standard library and no I/O: it runs in the judge process.

| name | whose | rule |
|---|---|---|
| ``exact`` | acecoder's default | the same text, line endings normalised (``\\r\\n`` = ``\\n``) and trailing newlines ignored |
| ``livecodebench`` | LiveCodeBench ``testing_util.grade_stdio`` | strip the whole output and each line; same number of lines; each line equal, or all its whitespace-separated tokens equal as ``Decimal`` (``1e2`` = ``100``); no tolerance; case-sensitive |
| ``codecontests`` | DeepMind CodeContests ``OutputsMatch`` | whitespace-separated tokens, lower-cased; same count; a token pair matches when equal, or both numbers within 1e-5 (absolute) when either is not an int32 |
| ``lines`` | PrimeIntellect SYNTHETIC-1 (genesys ``CodeVerifier``) | strip the whole output and each line; the lines equal |
| ``apps`` | APPS ``testing_util.run_test`` (TACO's is the same code) | a cascade of lenient checks: stripped text, lines, floats per line with ``np.allclose``, then the *set* of each line's token set (line order, token order and repeats ignored) |

The ``apps`` comparator is faithful to APPS, leniency included (``"2 1"`` passes for ``"1 2"``); pick
``livecodebench`` or ``codecontests`` for a stricter judge of the same data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["COMPARATORS", "Comparator", "comparator_names", "compare", "get_comparator"]


@dataclass(frozen=True)
class Comparator:
    """A named rule deciding whether a program's standard output matches the expected one."""

    name: str
    function: Callable[[str, str], bool]
    summary: str

    def __call__(self, actual: str, expected: str) -> bool:
        return self.function(actual, expected)


# ---------------------------------------------------------------------------------------------------- exact
def _exact(actual: str, expected: str) -> bool:
    def normal(text: str) -> str:
        return text.replace("\r\n", "\n").rstrip("\n")

    return normal(actual) == normal(expected)


# -------------------------------------------------------------------------------------------- livecodebench
def _stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except (InvalidOperation, ValueError):
        return None


def _livecodebench(actual: str, expected: str) -> bool:
    got, want = _stripped_lines(actual), _stripped_lines(expected)
    if len(got) != len(want):
        return False
    for a, b in zip(got, want, strict=False):
        if a == b:
            continue
        da, db = _decimals(a), _decimals(b)
        if da is None or db is None:
            return False
        try:
            if da != db:
                return False
        except InvalidOperation:  # a signalling NaN; LiveCodeBench's grader errors out: not a pass
            return False
    return True


# ---------------------------------------------------------------------------------------------------- lines
def _lines(actual: str, expected: str) -> bool:
    return _stripped_lines(actual) == _stripped_lines(expected)


# --------------------------------------------------------------------------------------------- codecontests
_CC_SEPARATORS = re.compile(r"[ \n\t\r\v]+")
_CC_INT = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*")
_CC_FLOAT = re.compile(
    r"[ \t\n\v\f\r]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)"
    r"[ \t\n\v\f\r]*",
    re.IGNORECASE,
)
_INT32 = (-(2**31), 2**31 - 1)


def _cc_int(token: str) -> int | None:
    if not _CC_INT.fullmatch(token):
        return None
    value = int(token)
    return value if _INT32[0] <= value <= _INT32[1] else None


def _cc_float(token: str) -> float | None:
    if not _CC_FLOAT.fullmatch(token):
        return None
    try:
        return float(token)
    except (ValueError, OverflowError):
        return None


def _cc_values_match(a: str, b: str) -> bool:
    ai, bi = _cc_int(a), _cc_int(b)
    ad, bd = _cc_float(a), _cc_float(b)
    if (ai is None and ad is None) or (bi is None and bd is None):
        return a == b
    if (
        ai is None or bi is None
    ):  # a double on either side: an absolute tolerance (inf - inf is nan: no match)
        return abs(ad - bd) < 1e-5  # type: ignore[operator]
    return ai == bi


def _codecontests(actual: str, expected: str) -> bool:
    got = [t.lower() for t in _CC_SEPARATORS.split(actual) if t]
    want = [t.lower() for t in _CC_SEPARATORS.split(expected) if t]
    if got == want:
        return True
    if len(got) != len(want):
        return False
    return all(_cc_values_match(a, b) for a, b in zip(got, want, strict=False))


# ----------------------------------------------------------------------------------------------------- apps
def _allclose(a: list[float], b: list[float]) -> bool:
    """``numpy.allclose(a, b)`` (rtol 1e-5, atol 1e-8) for equal-length lists."""
    for x, y in zip(a, b, strict=False):
        if math.isinf(x) or math.isinf(y):
            if x != y:
                return False
        elif math.isnan(x) or math.isnan(y) or not abs(x - y) <= 1e-8 + 1e-5 * abs(y):
            return False
    return True


def _floats(items: list[str]) -> list[float] | None:
    try:
        return [float(item) for item in items]
    except ValueError:
        return None


def _apps(actual: str, expected: str) -> bool:
    # APPS captures the program's output as ``stdout.splitlines()`` and compares it to the expected text (list
    # outputs are joined with newlines by the importer, as APPS itself does before comparing).
    lines = actual.splitlines()
    if "\n".join(lines).strip() == expected.strip():
        return True
    if "\n".join(line.strip() for line in lines).strip() == expected.strip():
        return True
    if lines == [expected]:
        return True
    want = [line.strip() for line in expected.split("\n") if line]
    if lines == want:
        return True
    lines = [line for line in lines if line]
    if lines == want:
        return True
    got_floats, want_floats = _floats(lines), _floats(want)
    if (
        got_floats is not None
        and want_floats is not None
        and len(got_floats) == len(want_floats)
        and _allclose(got_floats, want_floats)
    ):
        return True
    got_sets = [frozenset(tokens) for tokens in (line.split() for line in lines) if tokens]
    want_sets = [frozenset(line.split()) for line in want]
    if set(got_sets) == set(want_sets):
        return True
    try:
        rounded_got = {frozenset(round(float(t), 3) for t in s) for s in got_sets}
        rounded_want = {frozenset(round(float(t), 3) for t in s) for s in want_sets}
    except (ValueError, OverflowError):
        return False
    return rounded_got == rounded_want


COMPARATORS: dict[str, Comparator] = {
    c.name: c
    for c in (
        Comparator("exact", _exact, "the same text (CRLF = LF; trailing newlines ignored)"),
        Comparator(
            "livecodebench",
            _livecodebench,
            "LiveCodeBench: stripped lines, same count, each equal or equal as Decimal tokens",
        ),
        Comparator(
            "codecontests",
            _codecontests,
            "CodeContests: lower-cased tokens, numbers within 1e-5 when not both int32",
        ),
        Comparator("lines", _lines, "SYNTHETIC-1: stripped output, each line stripped, the lines equal"),
        Comparator("apps", _apps, "APPS/TACO: lenient cascade ending in unordered per-line token sets"),
    )
}


def comparator_names() -> tuple[str, ...]:
    return tuple(COMPARATORS)


def get_comparator(name: str) -> Comparator:
    """The comparator called ``name``; :class:`ValueError` naming the known ones otherwise."""
    found = COMPARATORS.get(name)
    if found is None:
        raise ValueError(f"unknown comparator {name!r}; known: {', '.join(COMPARATORS)}")
    return found


def compare(name: str, actual: str, expected: str) -> bool:
    """Whether ``actual`` (a program's standard output) matches ``expected`` under the comparator ``name``."""
    return get_comparator(name)(actual, expected)
