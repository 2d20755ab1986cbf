"""The calls a row's asserts make: the function under test, its literal arguments, and how each assert compares
the result (the row's style, which new asserts keep).

``assert sorted(f([3, 1], k=2)) == [1, 3]`` reads as a call of ``f`` with ``([3, 1],)`` and ``{"k": 2}``,
compared after ``sorted``. A callee is a name the reference program defines (``f``), a method of an instance
built from literals (``Solution().f``) or of a defined class (``C.f``). Arguments must be literals, or a few
builtin forms that build one (``float('inf')``, ``[0] * 5``, ``list(range(4))``, ``set()``); other calls are
not read. Names never matter: targets are kept in order of first appearance, so renaming the function changes
nothing but the name.
"""

from __future__ import annotations

import ast
import builtins
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from acecoder.augmentation.literals import NotLiteral, canonical, literal, literal_source

_BUILTINS = frozenset(dir(builtins))
# Wrappers applied to the call's result before comparing; the first group compares without order.
UNORDERED = ("set", "frozenset", "sorted")
WRAPPERS = frozenset(
    {*UNORDERED, "list", "tuple", "len", "sum", "abs", "round", "str", "int", "float", "bool"}
)


@dataclass(frozen=True)
class Call:
    """One call of a target with literal arguments."""

    target: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()

    def key(self) -> str:
        """The inputs as canonical text, without the target's name (equal inputs, equal keys)."""
        return canonical([list(self.args), [list(kv) for kv in self.kwargs]])


@dataclass
class Style:
    """How a row's asserts compare a target's result: new asserts are written the same way."""

    wrapper: str | None = None
    """A builtin applied to the result before comparing (``sorted``, ``set``, ``len``...)."""
    wrapper_args: tuple[Any, ...] = ()
    """Further literal arguments of the wrapper (``round(f(x), 2)``)."""
    flipped: bool = False
    """The expected value is written first (``assert 3 == f(x)``)."""
    bools: str = "eq"
    """Booleans and None: ``eq`` (``== True``), ``is`` (``is True``) or ``truth`` (``assert f(x)`` / ``not``)."""
    tolerance: float | None = None
    """The tolerance the row's float comparisons use (``abs(f(x) - y) < 1e-6``, ``math.isclose``), if any."""
    about_bool: bool = field(default=False, repr=False, compare=False)
    """(A vote) the assert compared with a boolean or None."""
    result: str | None = field(default=None, repr=False, compare=False)
    """(A vote) the expected result the assert states, as canonical text."""

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in self.__dict__.items()
            if v not in (None, (), False, "eq") and k not in ("about_bool", "result")
        }


@dataclass
class Target:
    """A function under test: its callee source, the calls the asserts make, and their comparison style."""

    callee: str
    calls: list[Call] = field(default_factory=list)
    votes: list[Style] = field(default_factory=list)
    params: tuple[str, ...] = ()
    """The parameter names of the reference's function (so that ``f(xs=...)`` and ``f(...)`` are one place)."""
    results: list[str | None] = field(default_factory=list)
    """Per call, the result its assert expects (canonical text), when it says one."""

    def style(self) -> Style:
        return merge_styles(self.votes)


# -- reading asserts -----------------------------------------------------------------------------------------


def defined_names(programs: Iterable[str]) -> set[str]:
    """Top-level names the programs define (functions, classes, assignments, imports)."""
    names: set[str] = set()
    for program in programs:
        try:
            tree = ast.parse(program)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
    return names


def parameters(programs: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Parameter names of the programs' top-level functions (``f``) and methods (``C.m``, without ``self``)."""
    out: dict[str, tuple[str, ...]] = {}
    for program in programs:
        try:
            tree = ast.parse(program)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.setdefault(node.name, tuple(a.arg for a in [*node.args.posonlyargs, *node.args.args]))
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        names = [a.arg for a in [*item.args.posonlyargs, *item.args.args]]
                        static = any(getattr(d, "id", None) == "staticmethod" for d in item.decorator_list)
                        out.setdefault(f"{node.name}.{item.name}", tuple(names if static else names[1:]))
    return out


def _signature_key(callee: str) -> str:
    """``f`` -> ``f``; ``C(...).m`` and ``C.m`` -> ``C.m``."""
    if "." not in callee:
        return callee
    head, _, method = callee.rpartition(".")
    return f"{head.split('(')[0]}.{method}"


def _callee(func: ast.AST, defined: set[str]) -> str | None:
    """The source of a callee whose root is a name the program defines, else None."""
    if isinstance(func, ast.Name):
        return func.id if func.id in defined and func.id not in _BUILTINS | {"print"} else None
    if isinstance(func, ast.Attribute):
        base = func.value
        if isinstance(base, ast.Name) and base.id in defined:
            return f"{base.id}.{func.attr}"
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id in defined:
            try:
                parts = [literal_source(literal(a)) for a in base.args]
                parts += [f"{k.arg}={literal_source(literal(k.value))}" for k in base.keywords if k.arg]
            except NotLiteral:
                return None
            if any(k.arg is None for k in base.keywords):
                return None
            return f"{base.func.id}({', '.join(parts)}).{func.attr}"
    return None


def _read_call(node: ast.Call, defined: set[str]) -> Call | None:
    callee = _callee(node.func, defined)
    if callee is None:
        return None
    try:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return None
        args = tuple(literal(a) for a in node.args)
        kwargs = tuple((k.arg, literal(k.value)) for k in node.keywords if k.arg)
    except (NotLiteral, RecursionError, TypeError, ValueError, OverflowError, MemoryError):
        return None
    return Call(callee, args, kwargs)


@dataclass
class ReadResult:
    targets: list[Target]
    tests_read: int = 0
    """Tests that make at least one readable call."""


def read_calls(
    tests: Sequence[Any], defined: set[str], params: dict[str, tuple[str, ...]] | None = None
) -> ReadResult:
    """Every readable call in ``tests`` (assert strings), grouped by target in order of first appearance.
    ``params``: the reference's parameter names (:func:`parameters`)."""
    targets: dict[str, Target] = {}
    read = 0
    for test in tests:
        if not isinstance(test, str):
            continue
        try:
            tree = ast.parse(test.strip())
        except (SyntaxError, ValueError):
            continue
        found = False
        seen_nodes: set[int] = set()
        for stmt in tree.body:
            compared: dict[int, str | None] = {}
            if isinstance(stmt, ast.Assert):
                style = _style(stmt.test, defined)
                if style is not None:
                    call_node, vote = style
                    call = _read_call(call_node, defined)
                    if call is not None:
                        targets.setdefault(call.target, Target(call.target)).votes.append(vote)
                        compared[id(call_node)] = vote.result
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and id(node) not in seen_nodes:
                    call = _read_call(node, defined)
                    if call is not None:
                        seen_nodes.add(id(node))
                        if isinstance(node.func, ast.Attribute):  # S().m(x): S() builds the callee
                            seen_nodes.add(id(node.func.value))
                        target = targets.setdefault(call.target, Target(call.target))
                        target.calls.append(call)
                        target.results.append(compared.get(id(node)))
                        found = True
        read += found
    found = [t for t in targets.values() if t.calls]
    for target in found:
        target.params = (params or {}).get(_signature_key(target.callee), ())
    return ReadResult(found, read)


def _is_target_call(node: ast.AST, defined: set[str]) -> bool:
    return isinstance(node, ast.Call) and _callee(node.func, defined) is not None


def _unwrap(node: ast.AST, defined: set[str]) -> tuple[ast.Call, str | None, tuple] | None:
    """``CALL`` or ``WRAPPER(CALL, literals...)``."""
    if _is_target_call(node, defined):
        return node, None, ()  # type: ignore[return-value]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in WRAPPERS
        and node.args
        and not node.keywords
        and _is_target_call(node.args[0], defined)
    ):
        try:
            extra = tuple(literal(a) for a in node.args[1:])
        except NotLiteral:
            return None
        return node.args[0], node.func.id, extra  # type: ignore[return-value]
    return None


def _is_literal(node: ast.AST) -> bool:
    try:
        literal(node)
    except (NotLiteral, RecursionError, TypeError, ValueError, OverflowError, MemoryError):
        return False
    return True


def _style(test: ast.AST, defined: set[str]) -> tuple[ast.Call, Style] | None:
    """The call an assert compares and how, when it has one of the common shapes."""
    if _is_target_call(test, defined):
        return test, Style(bools="truth", about_bool=True, result="truthy")  # type: ignore[return-value]
    if (
        isinstance(test, ast.UnaryOp)
        and isinstance(test.op, ast.Not)
        and _is_target_call(test.operand, defined)
    ):
        return test.operand, Style(bools="truth", about_bool=True, result="falsy")  # type: ignore[return-value]
    if isinstance(test, ast.Call) and len(test.args) >= 2:  # math.isclose(f(x), y, ...) / isclose(...)
        name = test.func.attr if isinstance(test.func, ast.Attribute) else getattr(test.func, "id", "")
        if name == "isclose" and _is_target_call(test.args[0], defined) and _is_literal(test.args[1]):
            tol = 1e-9
            for k in test.keywords:
                if k.arg in ("abs_tol", "rel_tol") and _is_literal(k.value):
                    value = literal(k.value)
                    if isinstance(value, (int, float)) and value > 0:
                        tol = max(tol, float(value))
            return test.args[0], Style(tolerance=tol)  # type: ignore[return-value]
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    op, left, right = test.ops[0], test.left, test.comparators[0]
    if isinstance(op, (ast.Lt, ast.LtE)) and _is_literal(right):  # abs(f(x) - y) < eps
        tol = literal(right)
        if (
            isinstance(left, ast.Call)
            and getattr(left.func, "id", None) == "abs"
            and len(left.args) == 1
            and isinstance(left.args[0], ast.BinOp)
            and isinstance(left.args[0].op, ast.Sub)
            and isinstance(tol, (int, float))
            and 0 < tol < 1
        ):
            diff = left.args[0]
            for call, other in ((diff.left, diff.right), (diff.right, diff.left)):
                if _is_target_call(call, defined) and _is_literal(other):
                    return call, Style(tolerance=float(tol))  # type: ignore[return-value]
        return None
    if isinstance(op, (ast.Is, ast.Eq)):
        for probe, other, flipped in ((left, right, False), (right, left, True)):
            unwrapped = _unwrap(probe, defined)
            if unwrapped is None or not _is_literal(other):
                continue
            call, wrapper, extra = unwrapped
            value = literal(other)
            approx = _approx(other)
            result = canonical(value)
            if isinstance(op, ast.Is):
                if wrapper is None and (value is None or isinstance(value, bool)):
                    return call, Style(flipped=flipped, bools="is", about_bool=True, result=result)
                return None
            about_bool = wrapper is None and (value is None or isinstance(value, bool))
            style = Style(
                wrapper=wrapper, wrapper_args=extra, flipped=flipped, about_bool=about_bool, result=result
            )
            if approx is not None:
                style.tolerance = approx
            return call, style
        for probe, other, flipped in ((left, right, False), (right, left, True)):  # == pytest.approx(y)
            tol = _approx(other)
            if tol is not None and _is_target_call(probe, defined) and isinstance(op, ast.Eq):
                return probe, Style(flipped=flipped, tolerance=tol)  # type: ignore[return-value]
    return None


def _approx(node: ast.AST) -> float | None:
    if (
        isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) == "approx" or getattr(node.func, "id", None) == "approx")
        and node.args
        and _is_literal(node.args[0])
    ):
        tol = 1e-6
        for k in node.keywords:
            if k.arg in ("abs", "rel") and _is_literal(k.value):
                value = literal(k.value)
                if isinstance(value, (int, float)) and value > 0:
                    tol = max(tol, float(value))
        return tol
    return None


def merge_styles(votes: Sequence[Style]) -> Style:
    """One style from the asserts' votes: an order-insensitive wrapper when any assert uses one, another wrapper
    when every comparing assert uses it; the majority's orientation and way of writing booleans; the largest
    tolerance seen."""
    out = Style()
    if not votes:
        return out
    compared = [v for v in votes if not v.about_bool]
    unordered = Counter((v.wrapper, v.wrapper_args) for v in compared if v.wrapper in UNORDERED)
    wrappers = Counter((v.wrapper, v.wrapper_args) for v in compared)
    if unordered:
        (out.wrapper, out.wrapper_args), _ = unordered.most_common(1)[0]
    elif len(wrappers) == 1 and compared:
        out.wrapper, out.wrapper_args = next(iter(wrappers))
    out.flipped = sum(v.flipped for v in votes) * 2 > len(votes)
    bools = Counter(v.bools for v in votes if v.about_bool)
    if bools:
        out.bools = max(("eq", "is", "truth"), key=lambda b: bools[b])
    tolerances = [v.tolerance for v in votes if v.tolerance is not None and math.isfinite(v.tolerance)]
    out.tolerance = max(tolerances) if tolerances else None
    return out
