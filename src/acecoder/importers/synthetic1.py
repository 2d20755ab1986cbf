"""PrimeIntellect SYNTHETIC-1 ``verifiable_code`` rows (and ``verifiable-coding-problems``):
``verification_info`` (JSON) ``{"language", "test_cases": [{input, output, type, fn_name}]}``.

``stdin_stdout`` tests are judged as its verifier (genesys ``CodeVerifier``) judges them: output and expected
stripped, each line stripped, lines equal (the ``lines`` comparator). ``function_call`` tests call ``fn_name``
with ``input`` as the argument list; ``output`` is the expected return value as given (genesys compares
``str(result)`` with ``str(output)``; here ``==``, a tuple equal to a list). Rows in another language than
Python are rejected. Other fields kept: ``prompt`` (the question), ``problem_id``, ``gold_standard_solution``
(as ``solution``), ``source``, ``task_type``.
"""

from __future__ import annotations

from typing import Any

from acecoder.execution.testkinds import AnyTest
from acecoder.importers.common import Rejected, call_test, json_field, make_row, stdin_test

COMPARATOR = "lines"


def _tests(info: Any) -> list[AnyTest]:
    if not isinstance(info, dict):
        raise Rejected("no tests", "verification_info is not an object")
    language = info.get("language", "python")
    if str(language).lower() not in ("python", "python3", "py"):
        raise Rejected("not Python", f"language {language!r}")
    cases = info.get("test_cases")
    if not isinstance(cases, list) or not cases:
        raise Rejected("no tests", "verification_info.test_cases is empty")
    tests: list[AnyTest] = []
    for i, case in enumerate(cases):
        if not isinstance(case, dict):
            raise Rejected("bad test", f"test {i} is not an object")
        kind = case.get("type") or ("function_call" if case.get("fn_name") else "stdin_stdout")
        if kind == "function_call":
            args = case.get("input")
            if not isinstance(args, list):
                raise Rejected("bad test", f"test {i}: a function call's input is not an argument list")
            tests.append(
                call_test(
                    str(case.get("fn_name")), args, case.get("output"), solution_class=False, int_keys=False
                )
            )
        elif kind == "stdin_stdout":
            tests.append(stdin_test(case.get("input"), case.get("output"), COMPARATOR, where=f"test {i}"))
        else:
            raise Rejected("bad test", f"test {i}: unknown type {kind!r}")
    return tests


def convert(row: dict[str, Any], line: int = 0) -> dict[str, Any]:
    tests = _tests(json_field(row, "verification_info"))
    row_id = row.get("problem_id") or row.get("id") or f"synthetic1-{line}"
    return make_row(
        row_id,
        f"synthetic1/{row.get('source') or 'unknown'}",
        row.get("prompt") or row.get("problem") or row.get("question") or "",
        tests,
        solution=row.get("gold_standard_solution") or None,
        task_type=row.get("task_type"),
    )
