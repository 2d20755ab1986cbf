"""Literal arguments as the row's asserts write them, and canonical text for telling values apart.

``literal`` evaluates the argument forms asserts use: literals, signs, ``[0] * 5``, ``'ab' + 'c'``,
``list(range(4))``, ``set()``, ``float('inf')``; anything else (names, other calls) is :class:`NotLiteral`.
"""

from __future__ import annotations

import ast
from typing import Any

from acecoder.evaluation.literals import to_source

_MAX_BUILT = 10_000  # elements a `[0] * n` or `range(n)` argument may build


class NotLiteral(Exception):
    """An argument that is not a literal value."""


_SCALARS = frozenset({type(None), bool, int, float, complex, str, bytes})


def canonical(value: Any) -> str:
    """Text that tells values apart exactly, types included (``1``, ``1.0``, ``True`` and ``(1,)`` differ);
    set items in a fixed order whatever the hash seed."""
    kind = type(value)
    if kind in _SCALARS:
        return repr(value)
    if kind is list or kind is tuple:
        if all(type(v) in _SCALARS for v in value):
            return repr(value) if kind is list else "(" + repr(list(value))[1:-1] + ",)"
        inner = ",".join(map(canonical, value))
        return "[" + inner + "]" if kind is list else "(" + inner + ",)"
    if kind is set or kind is frozenset:
        return kind.__name__ + "{" + ",".join(sorted(map(canonical, value))) + "}"
    if kind is dict:
        return "{" + ",".join(canonical(k) + ":" + canonical(v) for k, v in value.items()) + "}"
    return f"<{kind.__name__}>{value!r}"


def literal(node: ast.AST) -> Any:
    """The value of a literal argument; :class:`NotLiteral` for anything else."""
    if isinstance(node, ast.Constant):
        if node.value is Ellipsis:
            raise NotLiteral("...")
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise NotLiteral("starred")
        items = [literal(e) for e in node.elts]
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](_hashable(items, node))
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotLiteral("**")
        pairs = [(literal(k), literal(v)) for k, v in zip(node.keys, node.values, strict=True)]  # type: ignore[arg-type]
        _hashable([k for k, _ in pairs], node)
        return dict(pairs)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal(node.operand)
        if type(value) not in (int, float, complex):
            raise NotLiteral("sign of a non-number")
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        return _binop(node)
    if isinstance(node, ast.Call):
        return _builtin_call(node)
    raise NotLiteral(type(node).__name__)


def _hashable(items: list, node: ast.AST) -> list:
    if isinstance(node, (ast.Set, ast.Dict)):
        try:
            set(items)
        except TypeError:
            raise NotLiteral("unhashable") from None
    return items


def _binop(node: ast.BinOp) -> Any:
    left, right = literal(node.left), literal(node.right)
    numbers = (int, float, complex)
    if isinstance(node.op, (ast.Add, ast.Sub)) and type(left) in numbers and type(right) in numbers:
        return left + right if isinstance(node.op, ast.Add) else left - right
    if isinstance(node.op, ast.Add) and type(left) is type(right) and type(left) in (str, list, tuple, bytes):
        if len(left) + len(right) > _MAX_BUILT:
            raise NotLiteral("too long")
        return left + right
    if isinstance(node.op, ast.Mult):
        seq, n = (left, right) if type(right) is int else (right, left)
        if type(n) is int and type(seq) in (str, list, tuple, bytes):
            if n * len(seq) > _MAX_BUILT:
                raise NotLiteral("too long")
            return seq * n
        if type(left) in (int, float) and type(right) in (int, float):
            return left * right
    raise NotLiteral("operator")


def _builtin_call(node: ast.Call) -> Any:
    if not isinstance(node.func, ast.Name) or node.keywords:
        raise NotLiteral("call")
    name = node.func.id
    if name == "float" and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
        text = node.args[0].value
        if isinstance(text, str) and text.strip().lower().lstrip("+-") in ("inf", "infinity", "nan"):
            return float(text)
    if name in ("set", "frozenset", "list", "tuple", "dict") and len(node.args) <= 1:
        if not node.args:
            return {"set": set, "frozenset": frozenset, "list": list, "tuple": tuple, "dict": dict}[name]()
        inner = node.args[0]
        is_range = isinstance(inner, ast.Call) and getattr(inner.func, "id", None) == "range"
        if name != "dict" and is_range and not inner.keywords:  # type: ignore[attr-defined]
            bounds = [literal(a) for a in inner.args]  # type: ignore[attr-defined]
            if 1 <= len(bounds) <= 3 and all(type(b) is int for b in bounds):
                r = range(*bounds)
                if len(r) > _MAX_BUILT:
                    raise NotLiteral("too long")
                return {"set": set, "frozenset": frozenset, "list": list, "tuple": tuple}[name](r)
        value = literal(inner)
        if isinstance(value, (str, list, tuple, set, frozenset, dict)):
            try:
                built = {"set": set, "frozenset": frozenset, "list": list, "tuple": tuple, "dict": dict}[
                    name
                ](value)
            except (TypeError, ValueError):
                raise NotLiteral("bad builtin call") from None
            return built
    raise NotLiteral("call")


def literal_source(value: Any) -> str:
    """Python source for a plain value; set items in a fixed order (the text does not depend on hash seeds)."""
    kind = type(value)
    if kind in (list, tuple):
        items = [literal_source(v) for v in value]
        if kind is list:
            return "[" + ", ".join(items) + "]"
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if kind is dict:
        return "{" + ", ".join(f"{literal_source(k)}: {literal_source(v)}" for k, v in value.items()) + "}"
    if kind in (set, frozenset):
        items = [literal_source(v) for v in sorted(value, key=canonical)]
        body = "{" + ", ".join(items) + "}" if items else "{*()}"
        return body if kind is set else f"frozenset({body})"
    return to_source(value)
