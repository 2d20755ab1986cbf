"""APPS and TACO rows: ``input_output`` JSON ``{"inputs", "outputs", "fn_name"?}``.

* stdin problems: each input and output is text or a list of lines (joined with newlines, as APPS does);
  judged with the ``apps`` comparator (APPS's own checks);
* call-based problems (``fn_name``): each input is the list of arguments; each output is the return value
  wrapped in a one-element list (``[ret]``), unwrapped here; APPS turns the digit-string keys of a dict
  argument or result back into integers (JSON made them strings), so such tests are written as assert strings
  (JSON cannot hold integer keys). A starter code with ``class Solution`` means LeetCode style, as APPS decides.

Other fields: ``problem_id`` (APPS) or ``id``, ``question``, ``starter_code``, ``solutions`` (JSON list of
reference programs, kept as ``solutions`` for ``filter-tests --reference-field solutions``), ``difficulty``,
``url``; TACO adds ``time_limit``/``memory_limit`` as text (``"2 seconds"``, ``"256 megabytes"``), ``source``,
``name``, ``tags``.
"""

from __future__ import annotations

from typing import Any

from acecoder.execution.testkinds import AnyTest
from acecoder.importers.common import (
    Rejected,
    call_test,
    json_field,
    make_row,
    parse_memory_mb,
    parse_seconds,
    stdin_test,
    unwrap_return,
)

COMPARATOR = "apps"


def io_tests(io: Any, *, starter_code: str = "", comparator: str = COMPARATOR) -> list[AnyTest]:
    """The tests of an APPS/TACO ``input_output`` object (decoded)."""
    if not isinstance(io, dict):
        raise Rejected("bad tests", "input_output is not a JSON object")
    inputs, outputs = io.get("inputs"), io.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise Rejected("bad tests", "input_output needs 'inputs' and 'outputs' lists")
    if len(inputs) != len(outputs):
        raise Rejected("bad tests", f"{len(inputs)} inputs but {len(outputs)} outputs")
    fn_name = io.get("fn_name")
    if fn_name is None or fn_name == "":
        return [
            stdin_test(given, wanted, comparator, where=f"test {i}")
            for i, (given, wanted) in enumerate(zip(inputs, outputs, strict=True))
        ]
    if not isinstance(fn_name, str):
        raise Rejected("bad tests", f"fn_name is {type(fn_name).__name__}")
    solution_class = "class Solution" in (starter_code or "")
    tests = []
    for i, (given, wanted) in enumerate(zip(inputs, outputs, strict=True)):
        if not isinstance(given, list):
            raise Rejected("bad tests", f"test {i}: the arguments of a call are not a list")
        tests.append(
            call_test(
                fn_name, list(given), unwrap_return(wanted), solution_class=solution_class, int_keys=True
            )
        )
    return tests


def _solutions(row: dict[str, Any]) -> list[str] | None:
    try:
        value = json_field(row, "solutions", default=None)
    except Rejected:
        return None
    if isinstance(value, list):
        programs = [s for s in value if isinstance(s, str) and s.strip()]
        return programs or None
    return None


def convert(row: dict[str, Any], *, source: str = "apps") -> dict[str, Any]:
    row_id = row.get("problem_id", row.get("id"))
    if row_id is None:
        raise Rejected("missing field", "problem_id (APPS) or id (TACO)")
    io = json_field(row, "input_output")
    if io is None:
        raise Rejected("no tests", "input_output is empty")
    starter = row.get("starter_code") or ""
    tests = io_tests(io, starter_code=starter)
    return make_row(
        row_id,
        f"{source}/{row['source']}" if isinstance(row.get("source"), str) and row["source"] else source,
        row.get("question") or "",
        tests,
        time_limit=parse_seconds(row.get("time_limit")),
        memory_limit=parse_memory_mb(row.get("memory_limit")),
        starter_code=starter or None,
        solutions=_solutions(row),
        difficulty=row.get("difficulty"),
        url=row.get("url"),
        name=row.get("name"),
    )


def convert_taco(row: dict[str, Any]) -> dict[str, Any]:
    return convert(row, source="taco")
