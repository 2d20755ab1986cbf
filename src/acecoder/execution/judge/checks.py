"""Judging a split test: its check, evaluated in the judge on the values its probes returned in the sandbox.

The check runs on plain, decoded values with pristine builtins (a restricted set: no I/O, no imports, no
introspection) and the judge's own copies of the few modules tests compare with (``math``, ``numpy``,
``pytest.approx``, ...). The check code was built by :mod:`acecoder.execution.split` from the test's own AST,
so it holds only comparisons, the test's constants and bounded operations on program values.

Names follow Python's rules, safely: a module the test names is the judge's own import of it (whatever the
program bound to that name); when the program binds a name the check would take from the judge (it defines its
own ``sorted``, ``deque`` or ``isclose``), the program's shadows it, as in Python, and the test is judged by
running it in the judge with calls into the program instead (:class:`Shadowed`).
"""

from __future__ import annotations

import builtins
import importlib
from typing import Any

from acecoder.execution.sandbox.codec import BadValue, Raised
from acecoder.execution.split import (
    IMPORTED_OBJECTS,
    JUDGE_NAMES,
    MODULE_ALIASES,
    MODULE_ATTRIBUTES,
    PROBE,
    SplitTest,
)

Record = tuple[list[Any], dict[str, str | None]]

_BUILTINS = {name: getattr(builtins, name) for name in JUDGE_NAMES}
_EXIT_KINDS = {"SystemExit": "exit", "MemoryError": "memory", "AssertionError": "assertion"}
_EXIT_KINDS.update(RecursionError="recursion", Timeout="timeout")
_SHORT_NAMES = {qualified.rsplit(".", 1)[1]: qualified for qualified in IMPORTED_OBJECTS}


class Shadowed(Exception):
    """The program binds a name the check would take from the judge: judge the test by running it instead."""


class ProbeRaised(Exception):
    """The check touched a probe that raised in the sandbox: the test fails with that exception's kind."""

    def __init__(self, raised: Raised):
        super().__init__(f"{raised.type_name}: {raised.message}")
        self.raised = raised


class ProbeMissing(Exception):
    """The check touched a probe the sandbox did not evaluate (an earlier probe of the test raised)."""


def raised_kind(type_name: str) -> str:
    return _EXIT_KINDS.get(type_name, "error:" + type_name)


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def resolve_name(name: str, binding: str | None) -> Any:
    """The judge's object for a check's name, given what the program bound it to (None: the program did not
    bind it, so the check's use of it fails as Python's would, or is a builtin). Raises :class:`Shadowed`."""
    if name in JUDGE_NAMES:
        if binding is not None:
            raise Shadowed(name)
        return None
    if binding is None:
        return None
    kind, _, target = binding.partition(":")
    if name in MODULE_ATTRIBUTES or name in MODULE_ALIASES:
        if kind != "module":
            raise Shadowed(name)
        if name in MODULE_ATTRIBUTES:  # the test names this module: it is that module, whatever was bound
            return _import(name)
        if target == MODULE_ALIASES[name]:
            return _import(target)
        raise Shadowed(name)
    if kind == "object" and target in IMPORTED_OBJECTS and _SHORT_NAMES.get(name) == target:
        module, attribute = IMPORTED_OBJECTS[target]
        found = _import(module)
        return getattr(found, attribute, None) if found is not None else None
    raise Shadowed(name)


def judge(test: SplitTest, record: Record | BadValue | None) -> tuple[str | None, Any]:
    """(None when the test passed, else the failure kind; the test's value when it is an expression), from the
    test's decoded record (its probes' values and the program's bindings of the check's names). Raises
    :class:`Shadowed` when the program binds a name the check would take from the judge."""
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
        resolved = resolve_name(name, bindings.get(name))
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
