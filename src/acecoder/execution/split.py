"""Splitting a test into the program calls it makes (probes, run in the sandbox) and its check (run by the judge).

``assert add(1, 2) == 3`` becomes the probe ``add(1, 2)`` and the check ``assert __v(0) == 3``: the sandbox
returns what ``add(1, 2)`` gave, converted to a plain value, and the trusted judge compares. The expected value
``3`` never enters the program's process, so a program can neither read it (from its caller's frame, the
test's bytecode, memory) nor change how it is compared (rebinding ``abs``, patching ``math.isclose``, an
always-equal object, rewriting the assert).

A probe is a maximal subexpression rooted in the program: a call of, an attribute of, or an index into a
program name, with its arguments (the test's inputs). Everything around probes is evaluated by the judge
with pristine builtins, on plain values. Operations whose cost a program could blow up through the values it
returns (``**``, ``*``, ``%``, ``<<``, ``range``, ``math.factorial``, ...) are judged only on the test's own
constants. Tests that cannot be split this way (several statements, ``def check(candidate)`` blocks, a
program call that needs a comprehension's variable, ...) run in the program's process instead.
"""

from __future__ import annotations

import ast
import builtins
import threading
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType

# Builtins the judge provides; applying them to program values costs no more than the values' size.
SAFE_WITH_PROGRAM_VALUES = frozenset(
    [
        "abs",
        "all",
        "any",
        "bool",
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
        "ascii",
        "bin",
        "hex",
        "oct",
        "callable",
        "format",
    ]
)
# Builtins the judge provides for the test's own constants only (their cost grows with a number's value).
TEST_CONSTANTS_ONLY = frozenset(["range", "pow", "bytes", "bytearray", "slice"])
JUDGE_BUILTINS = SAFE_WITH_PROGRAM_VALUES | TEST_CONSTANTS_ONLY
_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
JUDGE_NAMES = JUDGE_BUILTINS | _EXCEPTIONS | {"Ellipsis", "NotImplemented"}

# Names a test may use from modules the program imported; the judge uses its own pristine copies, when the
# sandbox reports the program's name bound to the genuine object (else: NameError, as in Python).
_MATH_UNSAFE = {"factorial", "comb", "perm"}
MODULE_ATTRIBUTES: dict[str, set[str] | None] = {
    "math": None,  # every public name except _MATH_UNSAFE
    "cmath": None,
    "numpy": {
        "allclose",
        "isclose",
        "array_equal",
        "array_equiv",
        "array",
        "asarray",
        "isnan",
        "isinf",
        "isfinite",
        "all",
        "any",
        "abs",
        "absolute",
        "round",
        "around",
        "sort",
        "sum",
        "mean",
        "float64",
        "float32",
        "int64",
        "int32",
        "bool_",
        "inf",
        "nan",
        "pi",
        "e",
        "testing",
        "ndarray",
    },
    "numpy.testing": {
        "assert_allclose",
        "assert_array_equal",
        "assert_almost_equal",
        "assert_equal",
        "assert_array_almost_equal",
    },
    "pytest": {"approx"},
    "collections": {"Counter", "OrderedDict", "deque", "defaultdict"},
    "fractions": {"Fraction"},
    "decimal": {"Decimal"},
    "datetime": {"date", "datetime", "timedelta", "time", "timezone"},
    "statistics": {"mean", "median", "mode", "stdev", "pstdev", "variance", "pvariance", "fmean"},
    "string": {"ascii_lowercase", "ascii_uppercase", "ascii_letters", "digits", "punctuation", "whitespace"},
}
# Bare names a test may use for objects the program imported (``from math import isclose``): resolved to the
# pristine object when the program's name is bound to it. Only names unlikely to be the function under test.
IMPORTED_OBJECTS = {
    "collections.Counter": ("collections", "Counter"),
    "collections.OrderedDict": ("collections", "OrderedDict"),
    "collections.deque": ("collections", "deque"),
    "collections.defaultdict": ("collections", "defaultdict"),
    "fractions.Fraction": ("fractions", "Fraction"),
    "decimal.Decimal": ("decimal", "Decimal"),
    "math.isclose": ("math", "isclose"),
    "_pytest.python_api.approx": ("pytest", "approx"),
    "datetime.date": ("datetime", "date"),
    "datetime.datetime": ("datetime", "datetime"),
    "datetime.timedelta": ("datetime", "timedelta"),
}
MODULE_ALIASES = {"np": "numpy"}
_SAFE_METHODS = frozenset(
    [
        "join",
        "count",
        "index",
        "find",
        "rfind",
        "startswith",
        "endswith",
        "split",
        "rsplit",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "replace",
        "keys",
        "values",
        "items",
        "get",
        "copy",
        "issubset",
        "issuperset",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "isdisjoint",
        "isdigit",
        "isalpha",
        "isalnum",
        "isspace",
    ]
)
_SAFE_BINOPS = (
    ast.Add,
    ast.Sub,
    ast.Div,
    ast.FloorDiv,
    ast.BitAnd,
    ast.BitOr,
    ast.BitXor,
    ast.RShift,
    ast.MatMult,
)
_LOCAL_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FORBIDDEN = (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)
PROBE = "__v"


@dataclass(frozen=True)
class SplitTest:
    """A test judged outside the program: ``probes`` run in the sandbox, ``check`` in the judge."""

    probes: tuple[str, ...]
    check: CodeType
    names: tuple[str, ...]
    """Names the check takes from the judge (builtins, modules such as ``math`` and ``np``, imported objects
    such as ``Fraction``) whose bindings in the program the judge needs: the program may shadow them."""
    expression: bool
    """The test is a bare expression: ``check`` evaluates to its value."""


@dataclass(frozen=True)
class InProcessTest:
    """A test run inside the program's process (with the in-process mitigations), and why."""

    source: str
    reason: str


class _Unsplittable(Exception):
    pass


def _module_of(node: ast.AST) -> str | None:
    """The module a (possibly dotted) name stands for in a test: ``np`` -> numpy, ``np.testing`` -> ..."""
    if isinstance(node, ast.Name):
        name = MODULE_ALIASES.get(node.id, node.id)
        return name if name in MODULE_ATTRIBUTES else None
    if isinstance(node, ast.Attribute):
        parent = _module_of(node.value)
        dotted = f"{parent}.{node.attr}" if parent else None
        return dotted if dotted in MODULE_ATTRIBUTES else None
    return None


def _attribute_allowed(module: str, attr: str) -> bool:
    allowed = MODULE_ATTRIBUTES[module]
    if allowed is None:
        return not attr.startswith("_") and attr not in _MATH_UNSAFE
    return attr in allowed


class _Analysis:
    """Which subexpressions are the program's (P) and which the test's own (T); the names the check needs."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self._program: dict[int, bool] = {}
        self._free: dict[int, frozenset[str]] = {}  # variables of an enclosing lambda or comprehension used

    def program(self, node: ast.AST, scope: frozenset[str] = frozenset()) -> bool:
        key = id(node)
        if key not in self._program:
            self._program[key], self._free[key] = self._classify(node, scope)
        return self._program[key]

    def _classify(self, node: ast.AST, scope: frozenset[str]) -> tuple[bool, frozenset[str]]:
        none: frozenset[str] = frozenset()
        if isinstance(node, _FORBIDDEN):
            raise _Unsplittable(type(node).__name__)
        if isinstance(node, ast.Name):
            if node.id in scope:
                return False, frozenset([node.id])
            if node.id in JUDGE_NAMES:
                self.names.add(node.id)  # the program may shadow it: the sandbox reports its binding
                return False, none
            if node.id in MODULE_ATTRIBUTES or node.id in MODULE_ALIASES or node.id in _imported_names():
                self.names.add(node.id)
                return False, none
            return True, none
        if isinstance(node, ast.Attribute):
            module = _module_of(node.value)
            if module is not None:
                if not _attribute_allowed(module, node.attr):
                    raise _Unsplittable(f"{module}.{node.attr}")
                self.program(node.value, scope)
                return False, none
        bound = _bound_names(node) if isinstance(node, _LOCAL_SCOPES) else none
        program, free = False, set()
        for child in ast.iter_child_nodes(node):
            program |= self.program(child, scope | bound)
            free |= self._free[id(child)]
        free -= bound
        if program and free and _rooted(node):
            raise _Unsplittable("a program call that needs a lambda's or a comprehension's variable")
        return program, frozenset(free)


def _rooted(node: ast.AST) -> bool:
    return isinstance(node, (ast.Call, ast.Attribute, ast.Subscript))


@lru_cache(maxsize=1)
def _imported_names() -> frozenset[str]:
    return frozenset(name.rsplit(".", 1)[1] for name in IMPORTED_OBJECTS)


def _bound_names(node: ast.AST) -> frozenset[str]:
    """Names a lambda's parameters or a comprehension's targets bind."""
    names: set[str] = set()
    if isinstance(node, ast.Lambda):
        args = node.args
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if arg is not None:
                names.add(arg.arg)
    else:
        for generator in node.generators:
            names.update(n.id for n in ast.walk(generator.target) if isinstance(n, ast.Name))
    return frozenset(names)


def _is_reference(node: ast.AST) -> bool:
    """A program object passed as is (a function, a class, a constant), not a value computed from inputs."""
    return isinstance(node, (ast.Name, ast.Attribute))


class _Splitter:
    def __init__(self, analysis: _Analysis, source: str):
        self.analysis = analysis
        self.source = source.encode("utf-8")
        self.line_starts = [0]
        for line in self.source.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.probes: list[str] = []

    def text(self, node: ast.AST) -> str:
        """The test's own text of ``node`` (positions are UTF-8 byte offsets)."""
        start = self.line_starts[node.lineno - 1] + node.col_offset
        end = self.line_starts[node.end_lineno - 1] + node.end_col_offset
        return self.source[start:end].decode("utf-8")

    def probe(self, node: ast.AST, source: str | None = None) -> ast.AST:
        """Record ``node`` (its text in the test, exactly as written) as a probe; the judge's ``__v(k)``."""
        if source is None:
            source = self.text(node)
        self.probes.append(source)
        call = ast.Call(
            func=_at(ast.Name(PROBE, ast.Load()), node),
            args=[_at(ast.Constant(len(self.probes) - 1), node)],
            keywords=[],
        )
        return _at(call, node)

    def judged(self, node: ast.AST) -> ast.AST:
        """``node`` rewritten for the judge (probes replaced by ``__v(k)``)."""
        if not self.analysis.program(node) or isinstance(node, ast.expr_context):
            return node
        if self._program_rooted(node):
            return self.probe(node)
        if isinstance(node, (ast.BoolOp, ast.IfExp, ast.UnaryOp, ast.List, ast.Tuple, ast.Set, ast.Dict)):
            return self._rebuild(node)
        if isinstance(node, (ast.Starred, ast.keyword, ast.Slice, ast.Subscript, ast.comprehension)):
            return self._rebuild(node)
        if isinstance(node, _LOCAL_SCOPES):
            return self._rebuild(node)
        if isinstance(node, ast.Call) and self._passes_program_object(node):
            return self.probe(
                node
            )  # a program function or class handed to a builtin: only the sandbox can call it
        if isinstance(node, (ast.Compare, ast.BinOp, ast.Call, ast.JoinedStr, ast.FormattedValue)):
            return self._combine(node)
        raise _Unsplittable(f"{type(node).__name__} around a program value")

    def _program_rooted(self, node: ast.AST) -> bool:
        """A program name, or a call of, an attribute of or an index into a program value."""
        program = self.analysis.program
        if isinstance(node, ast.Name):
            return True
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return program(node.value)
        return isinstance(node, ast.Call) and program(node.func)

    def _passes_program_object(self, node: ast.Call) -> bool:
        args = [a.value if isinstance(a, ast.Starred) else a for a in node.args] + [
            k.value for k in node.keywords
        ]
        return any(self.analysis.program(a) and _is_reference(a) for a in args)

    def _combine(self, node: ast.AST) -> ast.AST:
        """A trusted operation over operands. When every operand is itself a bare probe (``f(x) == g(y)``,
        ``sorted(f(x))``), the operation holds nothing of the test's own and runs in the sandbox as one probe,
        with the program's semantics; otherwise the judge applies it, if its cost is bounded by the values."""
        source, mark = self.text(node), len(self.probes)
        rebuilt = self._rebuild(node)
        operands = _operands(rebuilt)
        if operands and all(_is_probe(o) for o in operands) and len(self.probes) - mark == len(operands):
            del self.probes[mark:]
            return self.probe(node, source)
        if isinstance(rebuilt, ast.BinOp) and not isinstance(rebuilt.op, _SAFE_BINOPS):
            raise _Unsplittable(f"{type(rebuilt.op).__name__} on a program value")
        if isinstance(rebuilt, ast.Call) and not _judge_may_call(rebuilt.func):
            raise _Unsplittable(f"{ast.unparse(rebuilt.func)}() on a program value")
        if isinstance(rebuilt, (ast.JoinedStr, ast.FormattedValue)):
            raise _Unsplittable("an f-string around a program value")
        return rebuilt

    def _rebuild(self, node: ast.AST) -> ast.AST:
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                setattr(node, field, [self.judged(v) if isinstance(v, ast.AST) else v for v in value])
            elif isinstance(value, ast.AST):
                setattr(node, field, self.judged(value))
        return node


def _at(new: ast.AST, old: ast.AST) -> ast.AST:
    """``new`` placed where ``old`` is (every node the compiler sees needs a position)."""
    new.lineno, new.col_offset = old.lineno, old.col_offset
    new.end_lineno, new.end_col_offset = old.end_lineno, old.end_col_offset
    return new


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Call):
        args = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
        return args + [k.value for k in node.keywords]
    return [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]


def _is_probe(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == PROBE


def _judge_may_call(func: ast.AST) -> bool:
    """Whether the judge may apply this function to program values (its cost bounded by their size)."""
    if isinstance(func, ast.Name):
        return func.id in SAFE_WITH_PROGRAM_VALUES or func.id in _EXCEPTIONS or func.id in _imported_names()
    if isinstance(func, ast.Attribute):
        return _module_of(func.value) is not None or func.attr in _SAFE_METHODS
    return False


def split_test(source: str) -> SplitTest | InProcessTest:
    """Split one test (an ``assert`` or a bare expression over the program's names), or say why not."""
    try:
        tree = ast.parse(source, "<test>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return InProcessTest(source, f"does not parse: {type(e).__name__}")
    if len(tree.body) != 1:
        return InProcessTest(source, "several statements")
    statement = tree.body[0]
    if isinstance(statement, ast.Assert):
        expression, node = False, statement.test
    elif isinstance(statement, ast.Expr):
        expression, node = True, statement.value
    else:
        return InProcessTest(source, f"a {type(statement).__name__} statement")
    analysis = _Analysis()
    splitter = _Splitter(analysis, source)
    try:
        checked = splitter.judged(node)
        tree = (
            ast.Expression(checked)
            if expression
            else ast.Module([_at(ast.Assert(checked, None), statement)], [])
        )
        code = compile(tree, "<check>", "eval" if expression else "exec", dont_inherit=True)
    except (_Unsplittable, RecursionError, SyntaxError, ValueError, TypeError) as e:
        return InProcessTest(source, f"cannot split: {e}")
    return SplitTest(tuple(splitter.probes), code, tuple(sorted(analysis.names)), expression)


# CPython 3.11's ast module is not thread-safe (concurrent parses can fail with "AST constructor recursion depth
# mismatch"); engines run in whatever thread consumes them.
_AST_LOCK = threading.Lock()


@lru_cache(maxsize=65536)
def split_cached(source: str) -> SplitTest | InProcessTest:
    with _AST_LOCK:
        return split_test(source)
