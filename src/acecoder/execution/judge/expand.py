"""``check(candidate)`` tests made of plain asserts, judged as the split asserts they are.

HumanEval's tests (and many written like them) define ``def check(candidate):`` holding only asserts, then call
``check(entry_point)``. Such a test passes exactly when every assert passes with ``candidate`` standing for the
entry point, so each assert becomes a split assert (:mod:`acecoder.execution.split`): the program's calls run
in the sandbox in one batch with the program's other asserts, and each check is judged here. Anything else in
the test (imports, assignments, loops, helper functions, names the test binds) keeps it a test that runs in the
judge.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from acecoder.execution.split import SplitTest, split_cached


class _Substitute(ast.NodeTransformer):
    def __init__(self, parameter: str, name: str):
        self.parameter, self.name = parameter, name

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == self.parameter:
            return ast.copy_location(ast.Name(self.name, node.ctx), node)
        return node


def _skippable(statement: ast.stmt) -> bool:
    """A statement of no consequence to the asserts: a docstring or ``pass``."""
    return isinstance(statement, ast.Pass) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


@lru_cache(maxsize=4096)
def expand_check(source: str) -> tuple[SplitTest, ...] | None:
    """The split asserts a ``check(candidate)`` test amounts to, in order; None when it is anything more."""
    try:
        tree = ast.parse(source, "<test>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body = [s for s in tree.body if not _skippable(s)]
    if len(body) < 2:
        return None
    *head, last = body
    if not (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Name)
        and len(last.value.args) == 1
        and not last.value.keywords
        and isinstance(last.value.args[0], ast.Name)
    ):
        return None
    check, name = last.value.func.id, last.value.args[0].id
    defined = [s for s in head if isinstance(s, ast.FunctionDef) and s.name == check]
    others = [s for s in head if s not in defined]
    # module-level names the test binds (METADATA = {...}) may be read by the asserts: not expanded then
    if len(defined) != 1 or any(not isinstance(s, ast.Assign) for s in others):
        return None
    bound = {t.id for s in others for t in s.targets if isinstance(t, ast.Name)}
    function = defined[0]
    arguments = function.args
    if (
        len(arguments.args) != 1
        or arguments.posonlyargs
        or arguments.kwonlyargs
        or arguments.vararg
        or arguments.kwarg
        or function.decorator_list
    ):
        return None
    parameter = arguments.args[0].arg
    asserts = [s for s in function.body if not _skippable(s)]
    if not asserts or not all(isinstance(s, ast.Assert) for s in asserts):
        return None
    out = []
    for statement in asserts:
        used = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)}
        if used & (bound | {check}):
            return None
        rewritten = _Substitute(parameter, name).visit(statement)
        split = split_cached(ast.unparse(ast.fix_missing_locations(rewritten)))
        if not isinstance(split, SplitTest):
            return None
        out.append(split)
    return tuple(out)
