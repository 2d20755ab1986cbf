"""Judging a split test: its check, evaluated in the judge on the values its probes returned in the sandbox.

The check runs on plain, decoded values with pristine builtins (a restricted set: no I/O, no imports, no
introspection) and the judge's own copies of the few modules tests compare with (``math``, ``numpy``,
``pytest.approx``, ...). The check code was built by :mod:`acecoder.execution.split` from the test's own AST,
so it holds only comparisons, the test's constants and bounded operations on program values.

Names follow Python's rules, safely: a module the test names is the judge's own import of it (whatever the
program bound to that name). A builtin or imported name (``sorted``, ``deque``, ``isclose``) the program
redefines is the program's when it is what the test is about (the test calls nothing else of the program's:
``assert sorted([3, 1]) == [1, 3]``); the test is then judged by running it in the judge with calls into the
program (:class:`Shadowed`). When the test calls the program by other names (``abs(answer() - 42) < 1e-9``),
such a name is a helper of the test's and stays the judge's own, so a program cannot redefine the test's
comparison.
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


def resolve_name(name: str, binding: str | None, helper: bool) -> Any:
    """The judge's object for a check's name, given what the program bound it to (None: the program did not
    bind it, so the check's use of it fails as Python's would, or is a builtin). ``helper``: the test calls
    the program under another name, so a builtin or imported name it uses is a helper of the test's, never
    the program's. Raises :class:`Shadowed` when the program's binding is the one the test means."""
    if name in JUDGE_NAMES:
        if binding is not None and not helper:
            raise Shadowed(name)
        return None
    if binding is None:
        return None
    kind, _, target = binding.partition(":")
    if name in MODULE_ATTRIBUTES:  # the test names this module: it is that module, whatever was bound
        return _import(name)
    if name in MODULE_ALIASES:
        if kind == "module" and target == MODULE_ALIASES[name]:
            return _import(target)
        if helper:
            return _import(MODULE_ALIASES[name])
        raise Shadowed(name)
    qualified = _SHORT_NAMES.get(name)
    if qualified is not None and ((kind == "object" and target == qualified) or helper):
        module, attribute = IMPORTED_OBJECTS[qualified]
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
    helper = bool(test.probes)  # the test calls the program by its own names: builtins used are helpers
    for name in test.names:
        resolved = resolve_name(name, bindings.get(name), helper)
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
