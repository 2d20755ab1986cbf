"""What a test's names mean in the judge: the program's names as handles, modules as the judge's own imports.

Python runs a test after the program, over its names, so the program's top-level names shadow builtins: a test of
``sum`` calls the program's ``sum``. Here each program name the test uses becomes a :class:`~.remote.Remote`
(calls into the sandbox), except names the program bound to a module or to an object of a known module: those
are the judge's own pristine imports, whatever the program did to its copies. A module the test names is that
module (``import numpy as math`` in the program leaves the test's ``math`` the real one); an alias
(``np``, ``plt``) is the module the program bound it to. Modules are imported only from the standard library
and the packages tests compare with; any other binding stays a handle.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

from acecoder.execution.judge.remote import Channel

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
    if "." not in name and name != bound_to and bound_to.rsplit(".", 1)[-1] != name:
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


def resolve(channel: Channel, name: str, binding: str | None) -> Any:
    """What the program's top-level ``name`` (bound as ``binding`` reports) is in the test's namespace."""
    if binding is not None:
        kind, _, target = binding.partition(":")
        if kind == "module":
            module = pristine_module(name, target)
            if module is not None:
                return module
        elif kind == "object" and not target.startswith("__main__."):
            value = pristine_object(target)
            if value is not None:
                return value
    return channel.global_name(name)


def namespace(channel: Channel, program_names: dict[str, str | None], needed: set[str]) -> dict[str, Any]:
    """The globals a test runs with: the program's names it uses, resolved; builtins are the judge's."""
    scope: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    for name in needed & program_names.keys():
        scope[name] = resolve(channel, name, program_names[name])
    return scope
