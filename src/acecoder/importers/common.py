"""What every importer shares: reading JSON-or-decoded fields, stdin text, call tests, the output row."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from acecoder.execution.testkinds import AnyTest, CallTest, StdinTest, dump_test

__all__ = [
    "Rejected",
    "call_test",
    "json_field",
    "make_row",
    "parse_memory_mb",
    "parse_seconds",
    "stdin_text",
    "unwrap_return",
]


class Rejected(Exception):
    """A row that cannot become an AceCode row (no tests, another language, ...): skipped and reported."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def json_field(row: dict[str, Any], key: str, *, default: Any = None) -> Any:
    """A field that datasets ship as JSON text or already decoded (Hub rows vs. their JSONL files)."""
    value = row.get(key, default)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return default
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise Rejected("bad JSON", f"field '{key}': {e.msg} at column {e.colno}") from None
    return value


def stdin_text(value: Any, field: str) -> str:
    """A test's input or output: a string, or a list of lines (APPS/TACO) joined with newlines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    raise Rejected("bad test", f"{field} is {type(value).__name__}, expected text or a list of lines")


def unwrap_return(value: Any) -> Any:
    """APPS/TACO store a call's expected return value wrapped in a one-element list (``[ret]``)."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _digit_keys(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and _INT.fullmatch(k) for k in value)
    )


_INT = re.compile(r"-?\d+")


def _int_keys(value: dict) -> dict:
    return {int(k): v for k, v in value.items()}


def _literal(value: Any) -> str:
    """Python source for a JSON-decoded value (non-finite floats included)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def call_test(
    fn_name: str, args: list[Any], expected: Any, *, solution_class: bool, int_keys: bool
) -> AnyTest:
    """A functional test. With ``int_keys`` (APPS/TACO), a dict argument or result whose keys are all digit
    strings has integer keys, as APPS restores them after JSON turned them into strings; JSON cannot hold such a
    dict, so that test is written as an assert string calling ``Solution().fn`` (``solution_class``, decided by
    the starter code as APPS does) or ``fn``."""
    if not fn_name.isidentifier():
        raise Rejected("bad test", f"fn_name {fn_name!r} is not an identifier")
    if int_keys and ((args and _digit_keys(args[0])) or _digit_keys(expected)):
        args = [_int_keys(args[0]) if _digit_keys(args[0]) else args[0], *args[1:]] if args else args
        expected = _int_keys(expected) if _digit_keys(expected) else expected
        target = f"Solution().{fn_name}" if solution_class else fn_name
        call = f"{target}({', '.join(_literal(a) for a in args)})"
        return f"assert {call} == {_literal(expected)}"
    return CallTest(fn_name, tuple(args), expected)


def stdin_test(stdin: Any, stdout: Any, comparator: str, *, where: str) -> StdinTest:
    return StdinTest(stdin_text(stdin, f"{where} input"), stdin_text(stdout, f"{where} output"), comparator)


def parse_seconds(value: Any) -> float | None:
    """A time limit: seconds as a number, ``{"seconds", "nanos"}`` (CodeContests), or text such as ``"2 seconds"``
    or ``"1.5 s"`` (TACO)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    if isinstance(value, dict):
        seconds = float(value.get("seconds") or 0) + float(value.get("nanos") or 0) / 1e9
        return seconds if seconds > 0 else None
    if isinstance(value, str):
        m = re.match(r"\s*([0-9]*\.?[0-9]+)\s*(ms|milliseconds?|s|sec|seconds?)?\b", value, re.IGNORECASE)
        if m:
            number = float(m.group(1))
            unit = (m.group(2) or "s").lower()
            seconds = number / 1000 if unit.startswith("m") else number
            return seconds if seconds > 0 else None
    return None


def parse_memory_mb(value: Any, *, unit_bytes: bool = False) -> int | None:
    """A memory limit in MB: bytes (``unit_bytes``, CodeContests), a number of MB, or text (``"256 megabytes"``)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        mb = value / 2**20 if unit_bytes else value
        return max(1, round(mb)) if mb > 0 else None
    if isinstance(value, str):
        m = re.match(
            r"\s*([0-9]*\.?[0-9]+)\s*(kb|kilobytes?|mb|megabytes?|gb|gigabytes?|m|g|k)?\b", value, re.I
        )
        if m:
            number, unit = float(m.group(1)), (m.group(2) or "mb").lower()
            scale = 1 / 1024 if unit.startswith("k") else 1024 if unit.startswith("g") else 1
            mb = number * scale
            return max(1, round(mb)) if mb > 0 else None
    return None


def make_row(
    row_id: Any,
    source: str,
    question: str,
    tests: list[AnyTest],
    *,
    time_limit: float | None = None,
    memory_limit: int | None = None,
    dedupe: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """An AceCode row: ``id``, ``source``, ``question``, ``test_cases`` (JSON forms; exact repeats dropped unless
    ``dedupe`` is false) and the optional limits, then ``extra`` fields (None values dropped). Rows without
    tests are rejected, never passed."""
    if not tests:
        raise Rejected("no tests")
    if not isinstance(question, str) or not question.strip():
        raise Rejected("no question")
    row: dict[str, Any] = {
        "id": str(row_id),
        "source": source,
        "question": question,
        "test_cases": [dump_test(t) for t in (_dedupe(tests) if dedupe else tests)],
    }
    if time_limit is not None:
        row["time_limit"] = time_limit
    if memory_limit is not None:
        row["memory_limit"] = memory_limit
    row.update({k: v for k, v in extra.items() if v is not None})
    return row


def _dedupe(tests: list[AnyTest]) -> list[AnyTest]:
    """Exact repeats dropped, first occurrence kept (CodeContests' generated tests repeat public ones)."""
    seen: set[Any] = set()
    out = []
    for test in tests:
        if test not in seen:
            seen.add(test)
            out.append(test)
    return out
