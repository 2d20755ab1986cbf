"""DeepCoder-Preview rows (``agentica-org/DeepCoder-Preview-Dataset``): ``problem`` and ``tests`` (JSON text),
whose shape depends on the subset the row comes from, as DeepCoder's reward (rllm) reads them:

* ``lcbv5``: LiveCodeBench's ``[{input, output, testtype, metadata: {func_name}}]``, judged as LiveCodeBench does;
* ``taco``: ``{"inputs", "outputs", "fn_name"?}``, judged as APPS/TACO (``apps`` comparator, ``[ret]`` unwrapped);
* ``primeintellect``: ``[{input, output, type: stdin_stdout | function_call, fn_name}]``, which rllm turns into
  the TACO shape and judges with TACO's checker: the same here;
* ``codeforces``: ``[{input, output}]``, judged as TACO's stdin tests.
"""

from __future__ import annotations

import json
from typing import Any

from acecoder.execution.testkinds import AnyTest
from acecoder.importers import apps, livecodebench
from acecoder.importers.common import Rejected, json_field, make_row


def tests_of(value: Any, *, starter_code: str = "") -> tuple[list[AnyTest], str]:
    """A DeepCoder ``tests`` value's tests and the shape it had (``lcb``, ``taco``, ``primeintellect``)."""
    if isinstance(value, dict):
        return apps.io_tests(value, starter_code=starter_code), "taco"
    if not isinstance(value, list) or not value or not all(isinstance(t, dict) for t in value):
        raise Rejected("no tests", "tests is not a non-empty list of objects or an inputs/outputs object")
    if any("testtype" in t for t in value):
        tests: list[AnyTest] = []
        for i, case in enumerate(value):
            meta = case.get("metadata") or {}
            if isinstance(meta, str):
                meta = json.loads(meta) if meta.strip() else {}
            fn_name = meta.get("func_name") if isinstance(meta, dict) else None
            if case.get("testtype") == "functional" and not fn_name:
                raise Rejected("bad tests", f"test {i}: a functional test without metadata.func_name")
            tests.append(livecodebench._test(case, fn_name or None, f"test {i}"))
        return tests, "lcb"
    io: dict[str, Any] = {
        "inputs": [t.get("input") for t in value],
        "outputs": [t.get("output") for t in value],
    }
    fn_name = value[0].get("fn_name")
    if fn_name:
        io["fn_name"] = fn_name
    return apps.io_tests(io, starter_code=starter_code), "primeintellect"


def convert(row: dict[str, Any], line: int = 0) -> dict[str, Any]:
    tests, shape = tests_of(json_field(row, "tests"), starter_code=row.get("starter_code") or "")
    try:
        metadata = json_field(row, "metadata", default=None)
    except Rejected:
        metadata = row.get("metadata")
    row_id = row.get("id") or row.get("problem_id") or f"deepcoder-{line}"
    return make_row(
        row_id,
        f"deepcoder/{row.get('source') or shape}",
        row.get("problem") or row.get("question") or "",
        tests,
        starter_code=row.get("starter_code") or None,
        solutions=row.get("solutions") if isinstance(row.get("solutions"), list) else None,
        metadata=metadata or None,
        test_shape=shape,
    )
