"""The trusted judge: evaluates a split test's check on the values its probes returned, outside the sandbox.

It runs in the engine's process on plain, decoded values with pristine builtins (a restricted set: no I/O, no
imports, no introspection) and pristine copies of the few modules tests compare with (``math``, ``numpy``,
``pytest.approx``, ...). The check code was built by :mod:`acecoder.execution.split` from the test's own AST,
so it holds only comparisons, the test's constants and bounded operations on program values.
"""

from __future__ import annotations

import builtins
import importlib
from typing import Any

from acecoder.execution.split import IMPORTED_OBJECTS, JUDGE_NAMES, MODULE_ATTRIBUTES, PROBE, SplitTest
from acecoder.execution.values import BadValue, Raised, Record

_BUILTINS = {name: getattr(builtins, name) for name in JUDGE_NAMES}
_EXIT_KINDS = {"SystemExit": "exit", "MemoryError": "memory", "AssertionError": "assertion"}
_EXIT_KINDS.update(RecursionError="recursion", Timeout="timeout")


class ProbeRaised(Exception):
    """The check touched a probe that raised in the sandbox: the test fails with that exception's kind."""

    def __init__(self, raised: Raised):
        super().__init__(f"{raised.type_name}: {raised.message}")
        self.raised = raised


class ProbeMissing(Exception):
    """The check touched a probe the sandbox did not evaluate (an earlier probe of the test raised)."""


def raised_kind(type_name: str) -> str:
    return _EXIT_KINDS.get(type_name, "error:" + type_name)


def _resolve(binding: str | None) -> Any:
    """The pristine object a program's name stands for, or None when it is not one the judge provides."""
    if not binding:
        return None
    kind, _, target = binding.partition(":")
    try:
        if kind == "module" and target in MODULE_ATTRIBUTES and "." not in target:
            return importlib.import_module(target)
        if kind == "object" and target in IMPORTED_OBJECTS:
            module, name = IMPORTED_OBJECTS[target]
            return getattr(importlib.import_module(module), name)
    except ImportError:
        return None
    return None


def judge(test: SplitTest, record: Record | BadValue | None) -> tuple[str | None, Any]:
    """(None when the test passed, else the failure kind; the test's value when it is an expression), from the
    test's decoded record (:func:`acecoder.execution.values.decode_records`)."""
    if record is None:
        return "error:NoValues", None
    if isinstance(record, BadValue):
        return "error:BadValue", None
    values, bindings = record

    def value(index: int) -> Any:
        if index >= len(values):
            raise ProbeMissing(index)
        found = values[index]
        if isinstance(found, Raised):
            raise ProbeRaised(found)
        return found

    scope: dict[str, Any] = {"__builtins__": _BUILTINS, PROBE: value}
    for name in test.names:
        resolved = _resolve(bindings.get(name))
        if resolved is not None:
            scope[name] = resolved
    try:
        result = eval(test.check, scope)
    except ProbeRaised as e:
        return raised_kind(e.raised.type_name), e.raised
    except ProbeMissing:
        return "error:ProbeNotRun", None
    except AssertionError:
        return "assertion", None
    except RecursionError:
        return "recursion", None
    except MemoryError:
        return "memory", None
    except Exception as e:
        return "error:" + type(e).__name__, None
    return None, result
