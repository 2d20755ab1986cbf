"""Check synthesized tests before anything runs them.

A kept test is one ``assert`` statement that parses as Python, calls the question's function (the entry point,
found by majority over the answer's tests), passes it constant arguments only, names nothing but the entry point
and side-effect-free builtins, and touches no I/O, process or interpreter state. Duplicates (same syntax tree) are
dropped. Every drop is counted by reason.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Drop reasons, in the order the checks run.
DROP_REASONS = (
    "not_a_string",
    "empty",
    "syntax_error",
    "not_single_assert",
    "io",
    "no_function_call",
    "non_constant_args",
    "free_name",
    "duplicate",
)

# Builtins a test may use around the call: pure functions and types, exceptions, constants.
SAFE_BUILTINS = frozenset(
    [
        "abs",
        "all",
        "any",
        "ascii",
        "bin",
        "bool",
        "bytearray",
        "bytes",
        "callable",
        "chr",
        "complex",
        "dict",
        "divmod",
        "enumerate",
        "filter",
        "float",
        "format",
        "frozenset",
        "hex",
        "int",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "list",
        "map",
        "max",
        "min",
        "next",
        "oct",
        "ord",
        "pow",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "slice",
        "sorted",
        "str",
        "sum",
        "tuple",
        "type",
        "zip",
        "NotImplemented",
        "Ellipsis",
        "ArithmeticError",
        "AssertionError",
        "AttributeError",
        "Exception",
        "IndexError",
        "KeyError",
        "LookupError",
        "NameError",
        "OverflowError",
        "RecursionError",
        "RuntimeError",
        "StopIteration",
        "TypeError",
        "ValueError",
        "ZeroDivisionError",
    ]
)
# Modules with pure functions and constants that tests commonly use (``math.isclose``, ``math.inf``).
PURE_MODULES = frozenset({"math", "cmath", "string"})
# Constructors that build a constant from constant arguments (``float('inf')``, ``list(range(5))``).
CONSTANT_CONSTRUCTORS = frozenset(
    {
        "float",
        "int",
        "str",
        "bool",
        "complex",
        "bytes",
        "bytearray",
        "tuple",
        "list",
        "set",
        "frozenset",
        "dict",
        "range",
    }
)
# Names that reach I/O, the process or the interpreter.
IO_NAMES = frozenset(
    [
        "open",
        "print",
        "input",
        "exec",
        "eval",
        "compile",
        "__import__",
        "breakpoint",
        "exit",
        "quit",
        "help",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "dir",
    ]
)
IO_MODULES = frozenset(
    [
        "os",
        "sys",
        "subprocess",
        "socket",
        "shutil",
        "pathlib",
        "io",
        "tempfile",
        "requests",
        "urllib",
        "http",
        "time",
        "random",
        "threading",
        "multiprocessing",
        "signal",
        "ctypes",
        "builtins",
        "importlib",
        "pickle",
        "marshal",
        "shelve",
        "glob",
        "asyncio",
        "logging",
        "gc",
        "inspect",
        "resource",
        "pty",
        "fcntl",
        "select",
        "ssl",
        "sqlite3",
        "webbrowser",
        "platform",
        "uuid",
        "secrets",
    ]
)


@dataclass
class TestValidation:
    """The kept tests (stripped, in answer order), drops by reason and the entry point they were checked against."""

    __test__ = False  # not a pytest class

    kept: list[str] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    entry_point: str | None = None

    @property
    def n_raw(self) -> int:
        return len(self.kept) + sum(self.dropped.values())


def validate_tests(
    tests: Iterable[Any], *, question: str | None = None, entry_point: str | None = None
) -> TestValidation:
    """Keep the valid, distinct tests of one answer. Without ``entry_point``, it is the function most tests call
    (ties: the one the question names, then the first seen)."""
    items = list(tests)
    parsed: list[tuple[Any, ast.Assert | None, str | None]] = []
    for item in items:
        tree, reason = _parse_assert(item)
        parsed.append((item, tree, reason))
    if entry_point is None:
        entry_point = find_entry_point([t for _, t, _ in parsed if t is not None], question)
    result = TestValidation(entry_point=entry_point)
    seen: set[str] = set()
    for item, tree, reason in parsed:
        if reason is None:
            assert tree is not None
            reason = check_assert(tree, entry_point)
        if reason is None:
            key = ast.unparse(tree)
            if key in seen:
                reason = "duplicate"
            else:
                seen.add(key)
                result.kept.append(item.strip())
                continue
        result.dropped[reason] += 1
    return result


def check_test(test: Any, entry_point: str | None) -> str | None:
    """The reason one test is dropped, or None when it is valid (duplicates are not checked here)."""
    tree, reason = _parse_assert(test)
    if reason is not None:
        return reason
    assert tree is not None
    return check_assert(tree, entry_point)


def _parse_assert(test: Any) -> tuple[ast.Assert | None, str | None]:
    if not isinstance(test, str):
        return None, "not_a_string"
    text = test.strip()
    if not text:
        return None, "empty"
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None, "syntax_error"
    if len(module.body) != 1 or not isinstance(module.body[0], ast.Assert):
        return None, "not_single_assert"
    return module.body[0], None


def check_assert(tree: ast.Assert, entry_point: str | None) -> str | None:
    """The reason a parsed ``assert`` is dropped, or None."""
    if _touches_io(tree):
        return "io"
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point
    ]
    if entry_point is None or not calls:
        return "no_function_call"
    for call in calls:
        args = [*call.args, *(kw.value for kw in call.keywords)]
        if not all(is_constant(arg) for arg in args):
            return "non_constant_args"
    allowed = {entry_point, *SAFE_BUILTINS, *PURE_MODULES, *_bound_names(tree)}
    if any(isinstance(node, ast.Name) and node.id not in allowed for node in ast.walk(tree)):
        return "free_name"
    return None


def _touches_io(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and (node.id in IO_NAMES or node.id in IO_MODULES):
            return True
        if isinstance(node, ast.Attribute) and node.attr.startswith("__") and node.attr.endswith("__"):
            return True
    return False


def _bound_names(tree: ast.AST) -> set[str]:
    """Names the test binds itself: comprehension targets, lambda parameters, walrus targets."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            names.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Lambda):
            names.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
    return names


def is_constant(node: ast.AST) -> bool:
    """Whether an expression is built from literals only (containers, signs, arithmetic on literals, indexing of
    literals, ``float('inf')``-style constructors, f-strings of literals, ``math.pi``-style module constants)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(is_constant(e) for e in node.elts)
    if isinstance(node, ast.Starred):
        return is_constant(node.value)
    if isinstance(node, ast.Dict):
        return all(k is None or is_constant(k) for k in node.keys) and all(
            is_constant(v) for v in node.values
        )
    if isinstance(node, ast.UnaryOp):
        return is_constant(node.operand)
    if isinstance(node, ast.BinOp):
        return is_constant(node.left) and is_constant(node.right)
    if isinstance(node, ast.Subscript):
        return is_constant(node.value) and is_constant(node.slice)
    if isinstance(node, ast.Slice):
        return all(part is None or is_constant(part) for part in (node.lower, node.upper, node.step))
    if isinstance(node, ast.JoinedStr):
        return all(is_constant(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return is_constant(node.value) and (node.format_spec is None or is_constant(node.format_spec))
    if isinstance(node, ast.Call):
        return (
            isinstance(node.func, ast.Name)
            and node.func.id in CONSTANT_CONSTRUCTORS
            and all(is_constant(a) for a in node.args)
            and all(is_constant(k.value) for k in node.keywords)
        )
    if isinstance(node, ast.Attribute):
        return (
            isinstance(node.value, ast.Name)
            and node.value.id in PURE_MODULES
            and not node.attr.startswith("_")
        )
    return False


def find_entry_point(asserts: Iterable[ast.AST], question: str | None = None) -> str | None:
    """The function most tests call (each test counted once); ties go to a name the question mentions, then to
    the first seen. Builtins, pure modules and I/O names are never the entry point."""
    votes: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for tree in asserts:
        names = dict.fromkeys(
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id not in SAFE_BUILTINS
            and node.func.id not in IO_NAMES
            and node.func.id not in CONSTANT_CONSTRUCTORS
        )
        for name in names:
            votes[name] += 1
            first_seen.setdefault(name, len(first_seen))
    if not votes:
        return None
    best = max(votes.values())
    tied = [name for name, count in votes.items() if count == best]
    if len(tied) > 1 and question:
        mentioned = [name for name in tied if re.search(rf"\b{re.escape(name)}\b", question)]
        tied = mentioned or tied
    return min(tied, key=first_seen.__getitem__)
