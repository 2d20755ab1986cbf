"""The published AceCode-87K row schema, kept as plain dicts so unknown fields round-trip untouched.

A row: ``id`` (str), ``source`` (str), ``question`` (str), ``test_cases`` (a list of tests: assert strings, stdin
tests ``{"stdin", "stdout", "comparator"?}`` and functional calls ``{"fn_name", "args", "expected"}``, in any
mix; see :mod:`acecoder.execution.testkinds`), ``inferences`` (list of ``{model_name, completion_id, completion,
pass_rate, ...}``), ``context_messages`` (list of chat messages); optionally ``time_limit`` (seconds per test)
and ``memory_limit`` (MB), as competitive-programming datasets give them.
Only ``id`` is always required; each stage asks for the fields it reads with :func:`validate_acecode_row`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict


class Inference(TypedDict, total=False):
    model_name: str
    completion_id: int
    completion: str
    pass_rate: float | None
    test_results: list[int]


class AceCodeRow(TypedDict, total=False):
    id: str
    source: str
    question: str
    test_cases: list[str | dict[str, Any]]
    inferences: list[Inference]
    context_messages: list[dict[str, str]]
    time_limit: float
    memory_limit: int


class DataError(ValueError):
    """Bad input, located by file, row (line for JSONL) and field."""

    def __init__(
        self, message: str, *, path: str | None = None, row: int | None = None, field: str | None = None
    ):
        self.path, self.row, self.field, self.reason = path, row, field, message
        where = [p for p in (path, f"row {row}" if row is not None else None) if p]
        if field:
            where.append(f"field '{field}'")
        super().__init__(": ".join([*where, message]) if where else message)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check_str(row: dict, field: str, loc: dict, *, optional: bool = False) -> None:
    value = row.get(field)
    if value is None and optional and field not in row:
        return
    if not isinstance(value, str):
        raise DataError(f"expected a string, got {_type_name(value)}", field=field, **loc)


def _check_tests(row: dict, field: str, loc: dict) -> None:
    """Each test is an assert string or one of the two test objects (checked in full when jobs are built)."""
    value = row.get(field)
    if not isinstance(value, list):
        raise DataError(f"expected a list of tests, got {_type_name(value)}", field=field, **loc)
    for i, item in enumerate(value):
        if isinstance(item, str):
            continue
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise DataError(
                f"expected an assert string or a test object, got {_type_name(item)}", field=where, **loc
            )
        if "stdin" in item or "stdout" in item:
            for key in ("stdin", "stdout"):
                if not isinstance(item.get(key), str):
                    raise DataError(f"a stdin test needs a string '{key}'", field=where, **loc)
        elif "fn_name" in item:
            if not isinstance(item["fn_name"], str) or not isinstance(item.get("args", []), list):
                raise DataError(
                    "a functional test needs a string 'fn_name' and a list 'args'", field=where, **loc
                )
            if "expected" not in item:
                raise DataError("a functional test needs an 'expected' value", field=where, **loc)
        else:
            raise DataError(
                "a test object is {'stdin', 'stdout'} or {'fn_name', 'args', 'expected'}, "
                f"got keys {sorted(item)}",
                field=where,
                **loc,
            )


def _check_limits(row: dict, loc: dict) -> None:
    for field, kinds in (("time_limit", (int, float)), ("memory_limit", (int,))):
        value = row.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
            what = "seconds per test" if field == "time_limit" else "megabytes"
            raise DataError(f"expected a positive number ({what}), got {value!r}", field=field, **loc)


def _check_inferences(row: dict, loc: dict, need_completion: bool) -> None:
    infs = row.get("inferences")
    if not isinstance(infs, list):
        raise DataError(f"expected a list of inferences, got {_type_name(infs)}", field="inferences", **loc)
    for i, inf in enumerate(infs):
        field = f"inferences[{i}]"
        if not isinstance(inf, dict):
            raise DataError(f"expected an object, got {_type_name(inf)}", field=field, **loc)
        if need_completion and not isinstance(inf.get("completion"), str):
            got = _type_name(inf.get("completion")) if "completion" in inf else "nothing"
            raise DataError(f"expected a string, got {got}", field=f"{field}.completion", **loc)
        rate = inf.get("pass_rate")
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float))):
            raise DataError(
                f"expected a number or null, got {_type_name(rate)}", field=f"{field}.pass_rate", **loc
            )


def validate_acecode_row(
    row: Any,
    *,
    require: Iterable[str] = ("id",),
    path: str | None = None,
    line: int | None = None,
) -> AceCodeRow:
    """Check the fields a stage reads; raise :class:`DataError` naming file, row and field."""
    loc = {"path": path, "row": line}
    if not isinstance(row, dict):
        raise DataError(f"expected a JSON object, got {_type_name(row)}", **loc)
    required = set(require)
    for field in sorted(required - set(row)):
        raise DataError("missing", field=field, **loc)
    if "id" in row and not isinstance(row["id"], (str, int)):
        raise DataError(f"expected a string, got {_type_name(row['id'])}", field="id", **loc)
    for field in ("source", "question"):
        if field in row and (field in required or row[field] is not None):
            _check_str(row, field, loc)
    if "test_cases" in row and (row["test_cases"] is not None or "test_cases" in required):
        _check_tests(row, "test_cases", loc)
    _check_limits(row, loc)
    if "inferences" in row and (row["inferences"] is not None or "inferences" in required):
        _check_inferences(row, loc, need_completion="inferences" in required)
    return row  # type: ignore[return-value]
