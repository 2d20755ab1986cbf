"""KodCode rows (``KodCode/KodCode-V1``): ``question``, ``solution`` and ``test_code``, a pytest file importing
the solution as ``solution``; its test items become tests (:mod:`acecoder.importers.pytest_tests`), one per
test function or parametrize case. Kept: ``solution`` (the reference, for ``filter-tests --reference-field
solution``), ``subset``, ``gpt_difficulty``, ``test_info``, and the names of the test items and of those left out.
"""

from __future__ import annotations

from typing import Any

from acecoder.importers.common import Rejected, make_row
from acecoder.importers.pytest_tests import convert_pytest


def convert(row: dict[str, Any], line: int = 0) -> dict[str, Any]:
    code = row.get("test_code")
    if not isinstance(code, str) or not code.strip():
        raise Rejected("no tests", "test_code is empty")
    try:
        conversion = convert_pytest(code)
    except SyntaxError as e:
        raise Rejected("bad test_code", f"does not parse ({e.msg}, line {e.lineno})") from None
    if not conversion.tests:
        why = "; ".join(f"{name}: {reason}" for name, reason in conversion.left_out) or "no test functions"
        raise Rejected("no tests", why)
    return make_row(
        row.get("question_id") or row.get("id") or f"kodcode-{line}",
        f"kodcode/{row.get('subset') or 'unknown'}",
        row.get("question") or "",
        conversion.tests,
        dedupe=False,
        solution=row.get("solution") or None,
        subset=row.get("subset"),
        gpt_difficulty=row.get("gpt_difficulty"),
        test_info=row.get("test_info") or None,
        test_names=conversion.names,
        tests_left_out=[{"test": n, "why": w} for n, w in conversion.left_out] or None,
    )
