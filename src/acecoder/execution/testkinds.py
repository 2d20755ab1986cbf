"""The three kinds of test a row may hold, and their JSON form in ``test_cases``.

* an assert string (AceCode, HumanEval, MBPP): Python source run over the program's names;
* a stdin test ``{"stdin": ..., "stdout": ..., "comparator": ...}``: the whole program runs with ``stdin`` as its
  standard input, and its standard output must match ``stdout`` under the named comparator
  (:mod:`acecoder.execution.comparators`);
* a functional call ``{"fn_name": ..., "args": [...], "expected": ...}``: ``fn_name`` is called with ``args``
  (a method of the program's ``Solution`` class when it defines one, as LeetCode does, else a module-level
  function) and the result must equal ``expected`` (a top-level tuple equals a list, as LiveCodeBench compares).

Every stage reads tests through :func:`parse_test`, so rows may mix kinds freely.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from acecoder.data.schema import DataError
from acecoder.execution.comparators import COMPARATORS
from acecoder.execution.limits import Limits

DEFAULT_COMPARATOR = "exact"


@dataclass(frozen=True)
class StdinTest:
    """Run the whole program with ``stdin``; its standard output must match ``stdout`` under ``comparator``."""

    stdin: str
    stdout: str
    comparator: str = DEFAULT_COMPARATOR

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stdin": self.stdin, "stdout": self.stdout}
        if self.comparator != DEFAULT_COMPARATOR:
            out["comparator"] = self.comparator
        return out


@dataclass(frozen=True, eq=False)
class CallTest:
    """Call ``fn_name`` with ``args`` (JSON values); the result must equal ``expected``."""

    fn_name: str
    args: tuple[Any, ...]
    expected: Any
    _key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))
        key = json.dumps([self.fn_name, list(self.args), self.expected], sort_keys=True, ensure_ascii=True)
        object.__setattr__(self, "_key", key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CallTest) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def to_json(self) -> dict[str, Any]:
        return {"fn_name": self.fn_name, "args": list(self.args), "expected": self.expected}


AnyTest = str | StdinTest | CallTest


def parse_test(value: Any, *, where: str = "test_cases") -> AnyTest:
    """One test from its JSON form (an assert string or one of the two objects); anything else is an error
    naming ``where``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (StdinTest, CallTest)):
        return value
    if isinstance(value, dict):
        if "stdin" in value or "stdout" in value:
            stdin, stdout = value.get("stdin"), value.get("stdout")
            if not isinstance(stdin, str) or not isinstance(stdout, str):
                raise DataError("a stdin test needs string 'stdin' and 'stdout' fields", field=where)
            comparator = value.get("comparator", DEFAULT_COMPARATOR)
            if not isinstance(comparator, str) or comparator not in COMPARATORS:
                raise DataError(
                    f"'comparator' must be one of {', '.join(COMPARATORS)}, got {comparator!r}", field=where
                )
            return StdinTest(stdin, stdout, comparator)
        if "fn_name" in value:
            name, args = value.get("fn_name"), value.get("args", [])
            if not isinstance(name, str) or not name.isidentifier():
                raise DataError(f"'fn_name' must be an identifier, got {name!r}", field=where)
            if not isinstance(args, list):
                raise DataError("'args' must be a list", field=where)
            if "expected" not in value:
                raise DataError("a functional test needs an 'expected' field", field=where)
            return CallTest(name, tuple(args), value["expected"])
    raise DataError(
        "a test is an assert string, {'stdin', 'stdout'} or {'fn_name', 'args', 'expected'}, "
        f"got {type(value).__name__}",
        field=where,
    )


def dump_test(test: AnyTest) -> str | dict[str, Any]:
    """The JSON form :func:`parse_test` reads."""
    return test if isinstance(test, str) else test.to_json()


def parse_tests(values: Any, *, where: str = "test_cases") -> list[AnyTest]:
    """Every test of a list (each item as :func:`parse_test` reads it); errors name ``where[i]``."""
    if not isinstance(values, (list, tuple)):
        kind = "null" if values is None else type(values).__name__
        raise DataError(f"expected a list of tests, got {kind}", field=where)
    return [parse_test(value, where=f"{where}[{i}]") for i, value in enumerate(values)]


def has_stdin_tests(tests: Any) -> bool:
    """Whether any of ``tests`` (parsed or in JSON form) runs the whole program with a standard input."""
    return any(isinstance(t, StdinTest) or (isinstance(t, dict) and "stdin" in t) for t in tests or ())


def render_test(test: AnyTest | dict[str, Any]) -> str:
    """A test as a prompt shows it: an assert string as is, a stdin test as its input and output, a functional
    call as the assert it stands for."""
    test = parse_test(test)
    if isinstance(test, str):
        return test
    if isinstance(test, StdinTest):
        return f"Input:\n{test.stdin.rstrip()}\nOutput:\n{test.stdout.rstrip()}"
    args = ", ".join(repr(a) for a in test.args)
    return f"assert {test.fn_name}({args}) == {test.expected!r}"


MIN_MEMORY_MB = 128
"""The floor under a row's ``memory_limit``: the engine caps address space, which counts more than the resident
memory contest judges measure (below 128 MB importing numpy fails in the sandbox)."""


def row_tests(row: dict[str, Any], *, path: str | None = None, line: int | None = None) -> list[AnyTest]:
    """A row's ``test_cases`` parsed (:func:`parse_tests`); errors name the file, row and test."""
    try:
        return parse_tests(row.get("test_cases") or [], where="test_cases")
    except DataError as e:
        raise DataError(e.reason, path=path, row=line, field=e.field) from None


def row_limits(row: dict[str, Any], base: Limits | None) -> Limits | None:
    """The limits of a row that gives its own ``time_limit`` (seconds per test) or ``memory_limit`` (MB), as
    CodeContests and TACO rows do: ``base`` (default :class:`Limits`) with the per-test CPU limit replaced and the
    program budget lifted (each test gets the dataset's limit, as its judge gives it), and the memory limit
    replaced (at least :data:`MIN_MEMORY_MB`). None when the row gives neither (the engine's limits apply)."""
    time_limit, memory_limit = row.get("time_limit"), row.get("memory_limit")
    if time_limit is None and memory_limit is None:
        return None
    changes: dict[str, Any] = {}
    if time_limit is not None:
        changes.update(timeout=float(time_limit), program_timeout=None)
    if memory_limit is not None:
        changes["memory_mb"] = max(int(memory_limit), MIN_MEMORY_MB)
    return dataclasses.replace(base or Limits(), **changes)
