"""Calls a test is sure to make first, sent to the program in one request before the test runs.

Each call into the program is a round trip between two processes; a HumanEval ``check(candidate)`` makes ten
or more. Most tests open with straight-line asserts whose program calls take only literal arguments
(``assert candidate([1.0, 2.0], 0.5) == True``): those calls, in the order Python evaluates them, are known
before the test runs. The judge sends them together; the program runs them in that order (stopping at the first
that raises), and the test then runs as usual, each call taking its answer from the batch while it matches the
next call made (same function, same arguments), and making live calls from the first that does not. A program
sees the same calls in the same order either way, and only literal arguments ever cross early.
"""

from __future__ import annotations

import ast
import builtins
import copy
from typing import Any

_STRAIGHT = (ast.Assert, ast.Expr, ast.Import, ast.ImportFrom, ast.Pass)
_MAX_CALLS = 512


_PURE = {
    name: getattr(builtins, name)
    for name in (
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "range",
        "str",
        "int",
        "float",
        "bool",
        "sorted",
        "reversed",
        "len",
        "sum",
        "min",
        "max",
        "abs",
        "round",
        "chr",
        "ord",
        "zip",
        "enumerate",
    )
}
_PURE_NODES = (
    ast.Expression,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.UnaryOp,
    ast.BinOp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.keyword,
    ast.Subscript,
    ast.Slice,
    ast.unaryop,
    ast.operator,
)
_MAX_VALUE = 1 << 20


def literal(node: ast.AST, env: dict[str, Any] | None = None) -> tuple[bool, Any]:
    """The value of an argument the test computes from literals alone (``[1, 2]``, ``list(range(10))``,
    ``'a' * 100``, a name the test bound to such a value), or (False, None)."""
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    env = env or {}
    for part in ast.walk(node):
        if not isinstance(part, _PURE_NODES):
            return False, None
        if isinstance(part, ast.Name) and part.id not in _PURE and part.id not in env:
            return False, None
        if isinstance(part, ast.BinOp) and isinstance(part.op, ast.Pow):
            return False, None  # its cost grows with the values
    try:
        code = compile(ast.fix_missing_locations(ast.Expression(node)), "<argument>", "eval")
        value = eval(code, {"__builtins__": _PURE}, dict(env))
        if len(repr(value)) > _MAX_VALUE:
            return False, None
        return True, value
    except Exception:
        return False, None


def _statements(tree: ast.Module) -> tuple[list[ast.stmt], dict[str, str]]:
    """The straight-line statements the test runs first, and the check function's parameter -> program name."""
    body = tree.body
    # ``def check(candidate): ...`` then ``check(name)``: the body of check, with candidate standing for name
    if (
        len(body) >= 2
        and isinstance(body[-1], ast.Expr)
        and isinstance(body[-1].value, ast.Call)
        and isinstance(body[-1].value.func, ast.Name)
    ):
        call = body[-1].value
        define = next(
            (s for s in body[:-1] if isinstance(s, ast.FunctionDef) and s.name == call.func.id), None
        )
        if (
            define is not None
            and len(define.args.args) == len(call.args) == 1
            and not call.keywords
            and isinstance(call.args[0], ast.Name)
        ):
            return define.body, {define.args.args[0].arg: call.args[0].id}
    return body, {}


def _in_order(node: ast.AST, out: list[ast.Call]) -> None:
    """Calls under ``node`` in Python's evaluation order (a call after its function and its arguments)."""
    if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return  # evaluated later, or many times: not a straight line
    for child in ast.iter_child_nodes(node):
        _in_order(child, out)
    if isinstance(node, ast.Call):
        out.append(node)


def planned_calls(tree: ast.Module | None, program_names: set[str]) -> list[tuple[str, list, dict]]:
    """``(program name, args, kwargs)`` of the literal program calls the test makes first, in order
    (``program_names``: the names that are the program's in this test); it stops at the first statement that
    is not straight-line code, or at a program call it cannot know in advance."""
    if tree is None:
        return []
    statements, aliases = _statements(tree)
    calls: list[tuple[str, list, dict]] = []
    env: dict[str, Any] = {}  # names the test bound to values computed from literals
    for statement in statements:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            ok, value = literal(statement.value, env)
            if not ok:
                break
            env[statement.targets[0].id] = value
            continue
        if not isinstance(statement, _STRAIGHT):
            break
        found: list[ast.Call] = []
        _in_order(statement, found)
        for call in found:
            if not isinstance(call.func, ast.Name):
                continue
            name = aliases.get(call.func.id, call.func.id)
            if name not in program_names:
                continue
            if any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg is None for k in call.keywords
            ):
                return calls
            args = [literal(a, env) for a in call.args]
            kwargs = {k.arg: literal(k.value, env) for k in call.keywords}
            if not all(ok for ok, _ in args) or not all(ok for ok, _ in kwargs.values()):
                return calls  # a call whose arguments the test computes otherwise: live from here on
            arguments = copy.deepcopy(([v for _, v in args], {k: v for k, (_, v) in kwargs.items()}))
            calls.append((name, *arguments))
            if len(calls) >= _MAX_CALLS:
                return calls
    return calls
