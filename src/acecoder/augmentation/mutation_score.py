"""How strong a row's tests are: the share of the reference's mutants they kill.

Mutants are small AST edits inside the reference's functions: comparison swaps (``<`` / ``<=``, ``==`` / ``!=``,
``in`` / ``not in``...), arithmetic swaps (``+`` / ``-``, ``*`` / ``/``, ``//`` / ``/``...), off-by-one
constants, boundary changes (``range`` and slice bounds +-1), ``and`` / ``or`` and dropped ``not``, and dropped
branches (an ``if`` body or its ``else`` replaced by ``pass``). Equal sources are merged and at most
``max_mutants`` are kept, spread over the operators in source order (no names involved, so renaming the function
picks the same mutants). Each mutant runs in the engine: the row's original asserts, then its results on the
new inputs and on the other generated inputs the reference answered. A mutant that gives the reference's result
on every one of them (and passes every assert) is *equivalent on every generated input* and set aside; the score
is killed / the others, before (original asserts) and after augmentation (original + new asserts).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from acecoder.augmentation.calls import Call, Style
from acecoder.augmentation.reference import program_with_inputs
from acecoder.augmentation.render import matches
from acecoder.execution import Job, JobResult, Limits
from acecoder.execution.limits import mutant

if TYPE_CHECKING:
    from acecoder.augmentation.plan import Plan, RowOutcome, Settings
    from acecoder.augmentation.select import Picked
    from acecoder.execution import Executor

_CMP = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
_ARITH = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div, ast.Add),
    ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div, ast.Mult),
    ast.Mod: (ast.FloorDiv,),
    ast.Pow: (ast.Mult,),
}
GROUP = "__acecoder_aug_group__"
_GROUP_HELPER = """

def __acecoder_aug_group__(group):
    import copy as _copy
    results = []
    for i in __acecoder_aug_groups__[group]:
        target, args, kwargs = __acecoder_aug_inputs__[i]
        try:
            out = __acecoder_aug_targets__[target](*_copy.deepcopy(args), **_copy.deepcopy(kwargs))
            results.append((True, out))
        except Exception as e:
            results.append((False, type(e).__name__))
    return results
"""


def _function_nodes(tree: ast.Module) -> set[int]:
    """ids of the nodes inside function bodies (not signatures, decorators or module-level code)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for stmt in node.body:
                inside.update(id(n) for n in ast.walk(stmt))
    return inside


def _edits(node: ast.AST, docstrings: set[int]) -> Iterator[tuple[str, Any]]:
    """(operator, edit) for every mutation of one node; an edit is applied by :func:`_apply`."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in _CMP.get(type(op), ()):
                yield "comparison", ("op", i, new)
    elif isinstance(node, (ast.BinOp, ast.AugAssign)):
        for new in _ARITH.get(type(node.op), ()):
            yield "arithmetic", ("binop", new)
    elif isinstance(node, ast.BoolOp):
        yield "logic", ("boolop", ast.Or if isinstance(node.op, ast.And) else ast.And)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "logic", ("unnot",)
    elif isinstance(node, ast.Constant) and id(node) not in docstrings:
        if type(node.value) is int:
            yield "constant", ("const", node.value + 1)
            yield "constant", ("const", node.value - 1)
        elif type(node.value) is bool:
            yield "constant", ("const", not node.value)
    elif isinstance(node, ast.If):
        yield "branch", ("drop_body",)
        if node.orelse:
            yield "branch", ("drop_else",)
    elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "range" and node.args:
        for i in range(len(node.args[:2])):
            yield "boundary", ("arg", i, 1)
            yield "boundary", ("arg", i, -1)
    elif isinstance(node, ast.Slice):
        for part in ("lower", "upper"):
            if getattr(node, part) is not None:
                yield "boundary", ("slice", part, 1)
                yield "boundary", ("slice", part, -1)


def _plus(node: ast.expr, delta: int) -> ast.expr:
    op = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(left=node, op=op, right=ast.Constant(abs(delta)))


def _apply(node: ast.AST, edit: tuple) -> ast.AST | None:
    kind = edit[0]
    if kind == "op":
        node.ops[edit[1]] = edit[2]()  # type: ignore[attr-defined]
    elif kind == "binop" or kind == "boolop":
        node.op = edit[1]()  # type: ignore[attr-defined]
    elif kind == "unnot":
        return node.operand  # type: ignore[attr-defined]
    elif kind == "const":
        node.value = edit[1]  # type: ignore[attr-defined]
    elif kind == "drop_body":
        node.body = [ast.Pass()]  # type: ignore[attr-defined]
    elif kind == "drop_else":
        node.orelse = [ast.Pass()]  # type: ignore[attr-defined]
    elif kind == "arg":
        node.args[edit[1]] = _plus(node.args[edit[1]], edit[2])  # type: ignore[attr-defined]
    elif kind == "slice":
        setattr(node, edit[1], _plus(getattr(node, edit[1]), edit[2]))
    return node


class _Replace(ast.NodeTransformer):
    def __init__(self, target: int, edit: tuple):
        self.target, self.edit, self.index = target, edit, -1

    def generic_visit(self, node: ast.AST) -> ast.AST | None:
        self.index += 1
        if self.index == self.target:
            replaced = _apply(node, self.edit)
            return super().generic_visit(replaced) if replaced is node else replaced
        return super().generic_visit(node)


def _docstrings(tree: ast.Module) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            out.add(id(body[0].value))
    return out


def mutants(program: str, max_mutants: int = 12) -> list[tuple[str, str]]:
    """Up to ``max_mutants`` distinct mutants of ``program``: (operator, source), spread over the operators."""
    try:
        tree = ast.parse(program)
        original = ast.unparse(tree)
    except (SyntaxError, ValueError, RecursionError):
        return []
    inside, docstrings = _function_nodes(tree), _docstrings(tree)
    order = []  # the pre-order index NodeTransformer visits nodes in
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    sites = [
        (i, op, edit)
        for i, node in enumerate(order)
        if id(node) in inside
        for op, edit in _edits(node, docstrings)
    ]
    by_operator: dict[str, list[tuple[int, tuple]]] = {}
    for i, op, edit in sites:
        by_operator.setdefault(op, []).append((i, edit))
    queues = [_spread(v) for v in by_operator.values()]
    seen, out = {original}, []
    while queues and len(out) < max_mutants:
        for queue in list(queues):
            if not queue:
                queues.remove(queue)
                continue
            index, edit = queue.pop(0)
            try:
                source = ast.unparse(
                    ast.fix_missing_locations(_Replace(index, edit).visit(copy.deepcopy(tree)))
                )
                compile(source, "<mutant>", "exec")
            except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError):
                continue
            if source not in seen:
                seen.add(source)
                out.append((_operator_of(by_operator, index, edit), source))
            if len(out) >= max_mutants:
                break
    return out


def _operator_of(by_operator: dict[str, list], index: int, edit: tuple) -> str:
    return next((op for op, items in by_operator.items() if (index, edit) in items), "")


def _spread(items: list) -> list:
    """The items reordered so that any prefix is spread over the whole list (1st, last, middle, quarters...)."""
    n = len(items)
    if n <= 2:
        return list(items)
    order, seen = [], set()
    step = n
    while step >= 1 and len(order) < n:
        for i in range(0, n, step):
            if i not in seen:
                seen.add(i)
                order.append(items[i])
        step //= 2
    return order


@dataclass
class Score:
    """A row's mutation score: killed mutants over the mutants not equivalent on every generated input."""

    mutants: int = 0
    equivalent: int = 0
    killed_before: int = 0
    killed_after: int = 0

    @property
    def before(self) -> float | None:
        live = self.mutants - self.equivalent
        return round(self.killed_before / live, 4) if live else None

    @property
    def after(self) -> float | None:
        live = self.mutants - self.equivalent
        return round(self.killed_after / live, 4) if live else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "mutants": self.mutants,
            "equivalent": self.equivalent,
            "killed_before": self.killed_before,
            "killed_after": self.killed_after,
        }


def mutant_job(
    mutant: str,
    callees: Sequence[str],
    calls: Sequence[Call],
    groups: Sequence[Sequence[int]],
    originals: Sequence[str],
    limits: Limits,
) -> Job:
    """The row's asserts, then one test per group of inputs returning the mutant's results on all of them."""
    program = program_with_inputs(mutant, callees, calls)
    program += f"{_GROUP_HELPER}\n__acecoder_aug_groups__ = {[list(g) for g in groups]!r}\n"
    tests = [*originals, *(f"{GROUP}({g})" for g in range(len(groups)))]
    return Job(program, tests, limits, capture=True, stop_on_failure=False)


def judge_mutant(
    result: JobResult,
    n_originals: int,
    groups: Sequence[Sequence[int]],
    expected: Sequence[Any],
    styles: Sequence[Style],
) -> tuple[bool, bool, bool]:
    """(killed by the original asserts, killed by the asserts after augmentation, equivalent on every input).
    ``groups[0]``: the inputs of the new asserts; later groups: other generated inputs."""
    if result.infra_error:
        raise RuntimeError(result.infra_error)
    before = not all(result.test_results[:n_originals]) or bool(result.setup_error)
    differs = []
    values = result.values or [None] * len(result.test_results)
    for g, group in enumerate(groups):
        slot = n_originals + g
        got = values[slot] if result.test_results[slot] else None
        if not isinstance(got, list) or len(got) != len(group):
            differs.append(bool(group))  # raised out of the loop, timed out: some input differs
            continue
        differs.append(
            any(
                not (ok and matches(styles[i], expected[i], out) and matches(styles[i], out, expected[i]))
                for i, (ok, out) in zip(group, got, strict=True)
            )
        )
    after = before or (bool(differs) and differs[0])
    equivalent = not before and not any(differs)
    return before, after, equivalent


def score_rows(scoring: list[tuple[Plan, RowOutcome, Picked]], engine: Executor, settings: Settings) -> None:
    """Each row's mutation score (``out.mutation``, ``mutation_score`` in the row); rows under
    ``settings.min_mutation_score`` are rejected."""
    jobs, owners = [], []
    for plan, out, picked in scoring:
        n_new = picked.n_new
        groups = [list(range(n_new)), list(range(n_new, len(picked.calls)))]
        limits = mutant(picked.seconds).limits()
        callees = [t.callee for t in plan.targets]
        made = mutants(picked.reference, settings.max_mutants)
        score = Score(mutants=len(made))
        out.mutation = score  # type: ignore[assignment]
        for _, source in made:
            jobs.append(mutant_job(source, callees, picked.calls, groups, plan.tests, limits))
            owners.append((out, groups, picked, len(plan.tests)))
    for (out, groups, picked, n_originals), result in zip(owners, engine.run(jobs), strict=True):
        score = out.mutation  # type: ignore[assignment]
        before, after, equivalent = judge_mutant(result, n_originals, groups, picked.expected, picked.styles)
        score.killed_before += before and not equivalent
        score.killed_after += after and not equivalent
        score.equivalent += equivalent
    for _, out, _ in scoring:
        score = out.mutation
        out.mutation = score.to_dict()  # type: ignore[union-attr]
        if out.row is not None:
            out.row["mutation_score"] = out.mutation
        threshold = settings.min_mutation_score
        after = out.mutation["after"] if out.mutation else None
        if threshold is not None and after is not None and after < threshold:
            out.rejected = f"mutation score {after} < {threshold}"
            out.row = None
