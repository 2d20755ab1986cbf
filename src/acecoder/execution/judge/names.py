"""What a test's names mean in the judge: the program's names as handles, modules as the judge's own imports.

Python runs a test after the program, over its names, so the program's top-level names shadow builtins. Here
each program name the test uses becomes a :class:`~.remote.Remote` (calls into the sandbox), except:

* names the program bound to a module or to an object of a known module: the judge's own pristine imports,
  whatever the program did to its copies. A module the test names is that module (``import numpy as math``
  in the program leaves the test's ``math.isclose`` the real one); an alias (``np``, ``plt``) is the module
  the program bound it to. Modules come only from the standard library and the packages tests compare with;
* builtin and imported names (``sorted``, ``abs``, ``deque``, ``isclose``) the program redefines: they are the
  program's only when they are what the test is about (the test calls nothing else of the program's, and
  passes the name on or calls it on literals: ``assert sorted([3, 1]) == [1, 3]``, ``check(sum)``). When the
  test calls the program by other names, they are helpers of the test's (``abs(candidate(x) - y) < 1e-6``)
  and stay the judge's own: a program cannot redefine how the test compares.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import sys
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

from acecoder.execution.judge.remote import Channel
from acecoder.execution.split import IMPORTED_OBJECTS, MODULE_ALIASES

# Packages (besides the standard library) a test may get as the judge's own import.
THIRD_PARTY = frozenset(["numpy", "pandas", "scipy", "sympy", "networkx", "pytest", "sortedcontainers"])
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) or frozenset(sys.builtin_module_names)


def importable(module: str) -> bool:
    """Whether the judge may import ``module`` for a test (standard library or a known package)."""
    top = module.split(".", 1)[0]
    return top in _STDLIB or top in THIRD_PARTY


@lru_cache(maxsize=512)
def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def pristine_module(name: str, bound_to: str) -> ModuleType | None:
    """The judge's import for a test name ``name`` the program bound to module ``bound_to``."""
    candidates = []
    if (
        "." not in name
        and name not in MODULE_ALIASES
        and name != bound_to
        and bound_to.rsplit(".", 1)[-1] != name
    ):
        candidates.append(name)  # ``import numpy as math``: the test's ``math`` is math
    candidates.append(bound_to)
    for module in candidates:
        if importable(module) and _exists(module):
            try:
                return importlib.import_module(module)
            except Exception:
                continue
    return None


def pristine_object(target: str) -> Any:
    """``module.qualname`` resolved in the judge's own import, or None."""
    module_name, _, qualname = target.rpartition(".")
    while module_name:
        if importable(module_name) and _exists(module_name):
            try:
                value: Any = importlib.import_module(module_name)
                for part in qualname.split("."):
                    value = getattr(value, part)
                return value
            except Exception:
                return None
        module_name, _, head = module_name.rpartition(".")
        qualname = f"{head}.{qualname}"
    return None


def used_names(code: CodeType) -> set[str]:
    """Every name a test's code (and the functions and classes it defines) may load: a superset of the
    globals it reads."""
    names: set[str] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, CodeType))
    return names


_BUILTIN_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_"))
_IMPORTED = {qualified.rsplit(".", 1)[1]: qualified for qualified in IMPORTED_OBJECTS}
STANDARD = _BUILTIN_NAMES | frozenset(_IMPORTED)


def _literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _literal(k) for k in node.keys) and all(_literal(v) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return _literal(node.operand)
    return False


def usage(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names the test passes on or calls on literals only, names it uses as modules: ``name.attr``)."""
    subject, modules, other = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Name):
                    subject.add(arg.id)
            if isinstance(node.func, ast.Name):
                args = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
                literal = all(_literal(a) for a in args) and all(_literal(k.value) for k in node.keywords)
                (subject if literal else other).add(node.func.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            modules.add(node.value.id)
    return subject - other, modules


def scope_names(
    roles: tuple[set[str], set[str]], used: set[str], program: dict[str, str | None]
) -> dict[str, Any]:
    """How each program name the test uses resolves, given the test's :func:`usage`: ``("remote", None)``,
    ``("module", m)``, ``("object", target)`` or ``("judge", None)`` (the judge's builtin or pristine object)."""
    subject, as_module = roles
    names = used & program.keys()
    bound_modules = {n for n in names if (program[n] or "").startswith("module:")}
    named_modules = {n for n in names if n in as_module and (n in MODULE_ALIASES or importable(n))}
    others = names - STANDARD - bound_modules - named_modules
    helper = bool(others)  # the test calls the program by names of its own: standard names are helpers
    out: dict[str, Any] = {}
    for name in names:
        binding = program[name] or ""
        kind, _, target = binding.partition(":")
        if kind == "module":
            out[name] = ("module", target)
        elif name in named_modules:  # the test uses a module's name (``math``, ``np``): it is that module
            out[name] = ("module", MODULE_ALIASES.get(name, name))
        elif name in STANDARD and (helper or name not in subject):
            out[name] = ("object", _IMPORTED[name]) if name in _IMPORTED else ("judge", None)
        elif kind == "object" and not target.startswith("__main__."):
            out[name] = ("object", target)
        else:
            out[name] = ("remote", None)
    return out


def bind(channel: Channel, scope: dict[str, Any], plan: dict[str, Any]) -> None:
    """Put the resolved program names into a test's globals."""
    for name, (kind, target) in plan.items():
        if name in scope:
            continue
        value = None
        if kind == "module":
            value = pristine_module(name, target)
        elif kind == "object":
            value = pristine_object(target)
        elif kind == "judge":
            continue
        scope[name] = value if value is not None else channel.global_name(name)
