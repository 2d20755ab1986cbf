"""Compiling tests that run inside the program's process (the in-process mode).

Tests the engine cannot split into program calls and a trusted check (``def check(candidate)`` blocks,
multi-statement tests) run in the program's process, with mitigations:

- ``==``, ``!=``, ``in`` and ``not in`` are rewritten into guarded calls: a value whose type forges equality
  never equals a plain (builtin-typed) value, while honest values compare as Python does;
- the guards and the builtins a test uses (``len``, ``abs``, ``sorted``, ``isinstance``, ...) and ``math``'s
  functions are baked into the compiled code as constants taken before any program ran, so a program that
  rebinds or patches them (in its globals, in ``builtins``, in ``math``, from a thread) changes nothing.
"""

import array
import ast
import builtins
import collections
import collections.abc
import datetime
import decimal
import enum
import fractions
import math
import operator
import types
import warnings

# ------------------------------------------------------------------------------------------ equality guard

_SCALARS = frozenset([int, float, complex, str, bytes, bool, type(None)])
_CONTAINERS = frozenset([list, tuple, set, frozenset])
# Classes whose comparisons are believed: every class of these modules as loaded before any program ran.
_TRUSTED_CLASSES = frozenset(
    value
    for module in (builtins, collections, collections.abc, decimal, fractions, datetime, enum, array)
    for value in vars(module).values()
    if isinstance(value, type)
)
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: set on every class created by a class statement or type()
_type_dict = type.__dict__
_mro_of = _type_dict["__mro__"].__get__
_flags_of = _type_dict["__flags__"].__get__
_dict_of = _type_dict["__dict__"].__get__
_module_of = _type_dict["__module__"].__get__


def _plain(value, depth=0, _type=type, _all=all):
    """A value built only of exact builtin types: what a test writes as its expected value."""
    kind = _type(value)
    if kind in _SCALARS:
        return True
    if depth > 64:
        return False
    if kind in _CONTAINERS:
        return _all(_plain(item, depth + 1) for item in value)
    if kind is dict:
        return _all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in dict.items(value))
    return False


def _trusted_method(cls, name):
    """Whether ``cls.<name>`` comes from a trusted class. Read through ``type``'s own descriptors, so a
    metaclass cannot fake the MRO, the class dictionaries, the flags or the module."""
    for owner in _mro_of(cls):
        if name in _dict_of(owner):
            break
    else:
        return True
    if owner in _TRUSTED_CLASSES:
        return True
    # numpy's classes are static C types (no Python code can make one) defined by the numpy package.
    module = _module_of(owner)
    return not _flags_of(owner) & _HEAPTYPE and type(module) is str and module.split(".")[0] == "numpy"


# Trusted containers whose comparisons delegate to state a program can replace (UserList.data,
# Fraction._numerator, ...): believed only when that state is itself trustworthy.
_DELEGATES = {
    collections.UserList: ("data",),
    collections.UserDict: ("data",),
    collections.UserString: ("data",),
    fractions.Fraction: ("_numerator", "_denominator"),
}


def _trustworthy(value, depth=0, _type=type, _isinstance=isinstance, _all=all):
    """Whether a value's comparisons can be believed when it meets a plain value."""
    kind = _type(value)
    if kind in _SCALARS:
        return True
    if depth > 64:
        return False
    for name in ("__eq__", "__ne__", "__contains__"):
        if not _trusted_method(kind, name):
            return False
    for base, fields in _DELEGATES.items():
        if base in _mro_of(kind):
            for field in fields:
                if not _trustworthy(object.__getattribute__(value, field), depth + 1):
                    return False
    if _isinstance(value, _Mapping):
        if not (_trusted_method(kind, "__iter__") and _trusted_method(kind, "__getitem__")):
            return False
        return _all(_trustworthy(k, depth + 1) and _trustworthy(v, depth + 1) for k, v in value.items())
    if _isinstance(value, _Collection):
        if not _trusted_method(kind, "__iter__"):
            return False
        return _all(_trustworthy(item, depth + 1) for item in value)
    return True


_Mapping, _Collection = collections.abc.Mapping, collections.abc.Collection


def _suspect(left, right):
    """True when exactly one side is plain and the other side's comparisons cannot be believed."""
    try:
        left_plain, right_plain = _plain(left), _plain(right)
        return left_plain != right_plain and not _trustworthy(right if left_plain else left)
    except Exception:
        return True


def guarded_eq(left, right, negate):
    """``left == right`` (or ``!=``), except that a value whose type forges equality never equals a plain one."""
    if _suspect(left, right):
        return negate
    return left != right if negate else left == right


def guarded_in(item, container, negate):
    """``item in container`` (or ``not in``), with the same rule."""
    if _suspect(item, container):
        return negate
    return item not in container if negate else item in container


_ORDER = {
    "Lt": operator.lt,
    "LtE": operator.le,
    "Gt": operator.gt,
    "GtE": operator.ge,
    "Is": operator.is_,
    "IsNot": operator.is_not,
    "Eq": lambda a, b: guarded_eq(a, b, False),
    "NotEq": lambda a, b: guarded_eq(a, b, True),
    "In": lambda a, b: guarded_in(a, b, False),
    "NotIn": lambda a, b: guarded_in(a, b, True),
}


def guarded_chain(left, steps):
    """A chained comparison ``a < b == c``, evaluated lazily left to right as Python does, each link guarded."""
    result = True
    for op, right_thunk in steps:
        right = right_thunk()
        result = _ORDER[op](left, right)
        if not result:
            return result
        left = right
    return result


# --------------------------------------------------------------------------------- pristine constants

_MARK = "__acecoder_pristine__"
# Builtins tests use to compute or compare expected values; a test's use of them never reaches the program's.
PRISTINE_BUILTINS = [
    "abs",
    "all",
    "any",
    "bool",
    "bytes",
    "chr",
    "complex",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "frozenset",
    "hash",
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
    "ord",
    "pow",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "type",
    "zip",
]
PRISTINE = {name: getattr(builtins, name) for name in PRISTINE_BUILTINS}
PRISTINE.update(("math." + name, value) for name, value in vars(math).items() if not name.startswith("_"))
PRISTINE.update(eq=guarded_eq, contains=guarded_in, chain=guarded_chain)


def _mark(key, node):
    return ast.copy_location(ast.Constant((_MARK, key)), node)


def _bound_names(tree):
    """Every name the test itself binds somewhere (a variable, a parameter, an import, a def): those keep
    their own meaning."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


class _Rewrite(ast.NodeTransformer):
    """Guard comparisons; turn pristine names into marked constants (replaced by the real objects later)."""

    def __init__(self, guard, bound):
        self.guard = guard
        self.bound = bound

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in PRISTINE_BUILTINS and node.id not in self.bound:
            return _mark(node.id, node)
        return node

    def visit_Attribute(self, node):
        if (
            isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name)
            and node.value.id == "math"
            and "math" not in self.bound
            and "math." + node.attr in PRISTINE
        ):
            return _mark("math." + node.attr, node)
        return self.generic_visit(node)

    def visit_Compare(self, node):
        self.generic_visit(node)
        if not self.guard or not any(
            isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops
        ):
            return node
        if len(node.ops) == 1:
            op = node.ops[0]
            helper = "eq" if isinstance(op, (ast.Eq, ast.NotEq)) else "contains"
            negate = isinstance(op, (ast.NotEq, ast.NotIn))
            args = [node.left, node.comparators[0], ast.Constant(negate)]
        else:
            no_args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
            steps = [
                ast.Tuple(
                    elts=[ast.Constant(type(op).__name__), ast.Lambda(args=no_args, body=comparator)],
                    ctx=ast.Load(),
                )
                for op, comparator in zip(node.ops, node.comparators)
            ]
            helper, args = "chain", [node.left, ast.Tuple(elts=steps, ctx=ast.Load())]
        call = ast.Call(func=_mark(helper, node), args=args, keywords=[])
        return ast.copy_location(call, node)


def _patch(value):
    """Replace every marked constant (also inside folded tuple/frozenset constants and nested code)."""
    kind = type(value)
    if kind is tuple:
        if len(value) == 2 and value[0] == _MARK and type(value[1]) is str:
            return PRISTINE[value[1]]
        return tuple(_patch(item) for item in value)
    if kind is frozenset:
        return frozenset(_patch(item) for item in value)
    if kind is types.CodeType:
        return value.replace(co_consts=tuple(_patch(c) for c in value.co_consts))
    return value


def compile_test(source, guard, mode="exec"):
    """A test's code object with guarded comparisons and pristine builtins, or the name of the error that
    keeps it from compiling."""
    try:
        tree = ast.parse(source, "<test>", mode)
        tree = ast.fix_missing_locations(_Rewrite(guard, _bound_names(tree)).visit(tree))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = compile(tree, "<test>", mode, dont_inherit=True, optimize=0)
        return _patch(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError) as e:
        return type(e).__name__
