"""LiveCodeBench code-generation rows (``test.jsonl`` ... ``test6.jsonl``) and their tests.

A row has ``question_id``, ``question_title``, ``question_content``, ``starter_code``, ``platform``,
``contest_id``, ``contest_date``, ``difficulty``, ``public_test_cases`` (JSON text: ``[{input, output,
testtype}]``), ``private_test_cases`` (the same JSON, or base64 of zlib of a pickle of that JSON, decoded by
:mod:`acecoder.importers.safe_pickle`) and ``metadata`` (JSON; ``func_name`` for LeetCode problems). As in
LiveCodeBench's grader, ``func_name`` (not ``testtype``) picks the mode: functional tests call it with each
input line JSON-decoded into one argument and compare with the JSON-decoded output; stdin tests compare with
LiveCodeBench's own comparator. An imported row's ``question`` is LiveCodeBench's own user prompt (question,
format instructions, starter code), for ``acecoder sample --prompt livecodebench``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from acecoder.execution.testkinds import AnyTest, CallTest, StdinTest
from acecoder.importers.common import Rejected, json_field, make_row
from acecoder.importers.safe_pickle import UnsafePickle, decode_private_tests

COMPARATOR = "livecodebench"
REQUIRED = ("question_id", "question_content", "public_test_cases")


@dataclass(frozen=True)
class LcbTests:
    public: list[AnyTest]
    private: list[AnyTest]
    fn_name: str | None


def _cases(value: Any, field: str) -> list[dict[str, Any]]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            if field != "private_test_cases":
                raise Rejected("bad JSON", f"field '{field}' is not JSON") from None
            try:
                value = json.loads(decode_private_tests(text))
            except UnsafePickle as e:
                raise Rejected("unsafe or undecodable private tests", str(e)) from None
            except json.JSONDecodeError as e:
                raise Rejected("bad JSON", f"decoded private tests: {e.msg}") from None
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        raise Rejected("bad tests", f"field '{field}' is not a list of {{input, output}} objects")
    return value


def _test(case: dict[str, Any], fn_name: str | None, where: str) -> AnyTest:
    given, wanted = case.get("input"), case.get("output")
    if not isinstance(given, str) or not isinstance(wanted, str):
        raise Rejected("bad test", f"{where}: input and output must be strings")
    if fn_name is None:
        return StdinTest(given, wanted, COMPARATOR)
    try:
        args = [json.loads(line) for line in given.split("\n")]
        expected = json.loads(wanted)
    except json.JSONDecodeError as e:
        raise Rejected("bad test", f"{where}: a functional input or output is not JSON ({e.msg})") from None
    return CallTest(fn_name, tuple(args), expected)


def lcb_tests(row: dict[str, Any]) -> LcbTests:
    """A LiveCodeBench row's public and private tests, in order."""
    metadata = json_field(row, "metadata", default={}) or {}
    if not isinstance(metadata, dict):
        raise Rejected("bad metadata", "expected a JSON object")
    fn_name = metadata.get("func_name") or None
    if fn_name is not None and (not isinstance(fn_name, str) or not fn_name.isidentifier()):
        raise Rejected("bad metadata", f"func_name {fn_name!r} is not an identifier")
    public = [
        _test(c, fn_name, f"public test {i}")
        for i, c in enumerate(_cases(row.get("public_test_cases"), "public_test_cases"))
    ]
    private = [
        _test(c, fn_name, f"private test {i}")
        for i, c in enumerate(_cases(row.get("private_test_cases"), "private_test_cases"))
    ]
    return LcbTests(public, private, fn_name)


SYSTEM_MESSAGE = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will "
    "generate a correct Python program that matches the specification and passes all tests."
)
FORMAT_WITH_STARTER = (
    "You will use the following starter code to write the solution to the problem and enclose your code "
    "within delimiters."
)
FORMAT_WITHOUT_STARTER = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the "
    "sample inputs). Enclose your code within delimiters as follows. Ensure that when the python program runs, "
    "it reads the inputs, runs the algorithm and writes output to STDOUT."
)


def user_prompt(content: str, starter_code: str) -> str:
    """LiveCodeBench's generic user prompt for a problem."""
    prompt = f"### Question:\n{content}\n\n"
    if starter_code:
        prompt += f"### Format: {FORMAT_WITH_STARTER}\n```python\n{starter_code}\n```\n\n"
    else:
        prompt += f"### Format: {FORMAT_WITHOUT_STARTER}\n```python\n# YOUR CODE HERE\n```\n\n"
    return prompt + "### Answer: (use the provided format with backticks)\n\n"


def convert(row: dict[str, Any]) -> dict[str, Any]:
    for key in REQUIRED:
        if key not in row:
            raise Rejected("missing field", key)
    tests = lcb_tests(row)
    return make_row(
        row["question_id"],
        f"livecodebench/{row.get('platform') or 'unknown'}",
        user_prompt(row.get("question_content") or "", row.get("starter_code") or ""),
        tests.public + tests.private,
        dedupe=False,
        public_tests=len(tests.public),
        platform=row.get("platform"),
        difficulty=row.get("difficulty"),
        contest_date=row.get("contest_date"),
        starter_code=row.get("starter_code") or None,
        title=row.get("question_title"),
        question_content=row.get("question_content"),
    )
