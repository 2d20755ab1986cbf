"""pytest files (KodCode's ``test_code``) as tests the engine judges, one per pytest test item.

pytest itself never runs: each collected item (a ``test_*`` function, a ``Test*`` class's ``test_*`` method, one
case of a ``parametrize``) becomes one assert-string test run over the program's names, with pytest's semantics
written out in plain Python:

* ``from solution import f`` (the module under test is the program) is dropped, ``f as g`` renamed back to
  ``f`` and ``solution.f`` read as ``f``;
* fixtures (``@pytest.fixture``, also ``yield`` fixtures, fixtures using fixtures, ``autouse``) are called
  before the test, their teardown after it; ``tmp_path``, ``capsys`` and ``monkeypatch`` are small stand-ins;
* ``@pytest.mark.parametrize`` (stacked, ``pytest.param``) is expanded, one test per case; ``skip``/``xfail``
  marks leave the item out, as they are not verdicts;
* ``with pytest.raises(E, match=...)`` (and ``pytest.raises(E, f, *args)``) becomes ``try``/``except``/``else``,
  ``pytest.fail`` an ``AssertionError``; ``pytest.approx`` stays (the judge and the sandbox both have pytest).

A test function whose body is only ``assert`` statements over the program's names and literals becomes one
``assert (a) and (b) ...``: the engine splits it and judges it outside the program's process. Anything else
runs as a small script in the program's process. Items that cannot be expressed (``indirect`` parametrization,
fixtures pytest provides besides the three above, ``async`` tests) are reported, not guessed.
"""

from __future__ import annotations

import ast
import builtins
import copy
import itertools
from dataclasses import dataclass, field

__all__ = ["PytestConversion", "convert_pytest"]

_PROVIDED_FIXTURES = {"tmp_path", "capsys", "monkeypatch"}
_HELPERS = {
    "tmp_path": (
        "def __acecoder_tmp_path():\n"
        "    import pathlib, tempfile\n"
        "    return pathlib.Path(tempfile.mkdtemp())\n"
    ),
    "capsys": (
        "class __AcecoderCapsys:\n"
        "    def __init__(self):\n"
        "        import io, sys\n"
        "        self._sys, self._saved = sys, (sys.stdout, sys.stderr)\n"
        "        self._out, self._err = io.StringIO(), io.StringIO()\n"
        "        sys.stdout, sys.stderr = self._out, self._err\n"
        "    def readouterr(self):\n"
        "        import collections\n"
        "        out, err = self._out.getvalue(), self._err.getvalue()\n"
        "        self._out.seek(0); self._out.truncate(); self._err.seek(0); self._err.truncate()\n"
        "        return collections.namedtuple('CaptureResult', 'out err')(out, err)\n"
        "    def close(self):\n"
        "        self._sys.stdout, self._sys.stderr = self._saved\n"
    ),
    "monkeypatch": (
        "class __AcecoderMonkeypatch:\n"
        "    _absent = object()\n"
        "    def __init__(self):\n"
        "        self._undo = []\n"
        "    def setattr(self, target, name, value=_absent, raising=True):\n"
        "        if value is self._absent:\n"
        "            import importlib\n"
        "            module, _, attr = target.rpartition('.')\n"
        "            target, name, value = importlib.import_module(module), attr, name\n"
        "        old = getattr(target, name, self._absent)\n"
        "        if old is self._absent and raising:\n"
        "            raise AttributeError(name)\n"
        "        self._undo.append(lambda: delattr(target, name) if old is self._absent else setattr(target, name, old))\n"
        "        setattr(target, name, value)\n"
        "    def delattr(self, target, name, raising=True):\n"
        "        if not hasattr(target, name):\n"
        "            if raising:\n"
        "                raise AttributeError(name)\n"
        "            return\n"
        "        old = getattr(target, name)\n"
        "        self._undo.append(lambda: setattr(target, name, old))\n"
        "        delattr(target, name)\n"
        "    def setitem(self, mapping, key, value):\n"
        "        old = mapping.get(key, self._absent)\n"
        "        self._undo.append(lambda: mapping.pop(key, None) if old is self._absent else mapping.__setitem__(key, old))\n"
        "        mapping[key] = value\n"
        "    def delitem(self, mapping, key, raising=True):\n"
        "        if key not in mapping:\n"
        "            if raising:\n"
        "                raise KeyError(key)\n"
        "            return\n"
        "        old = mapping[key]\n"
        "        self._undo.append(lambda: mapping.__setitem__(key, old))\n"
        "        del mapping[key]\n"
        "    def setenv(self, name, value, prepend=None):\n"
        "        import os\n"
        "        self.setitem(os.environ, name, str(value))\n"
        "    def delenv(self, name, raising=True):\n"
        "        import os\n"
        "        self.delitem(os.environ, name, raising)\n"
        "    def undo(self):\n"
        "        while self._undo:\n"
        "            self._undo.pop()()\n"
    ),
    "raises": (
        "class __AcecoderRaised:\n"
        "    def __init__(self, error):\n"
        "        self.value, self.type, self.typename = error, type(error), type(error).__name__\n"
        "    def match(self, pattern):\n"
        "        import re\n"
        "        assert re.search(pattern, str(self.value)), f'{pattern!r} does not match {str(self.value)!r}'\n"
        "        return True\n"
    ),
}
_PROVIDED_CALLS = {
    "tmp_path": "__acecoder_tmp_path()",
    "capsys": "__AcecoderCapsys()",
    "monkeypatch": "__AcecoderMonkeypatch()",
}
_PROVIDED_TEARDOWN = {"capsys": "close", "monkeypatch": "undo"}


class Unsupported(Exception):
    """A pytest feature this conversion does not express."""


@dataclass
class PytestConversion:
    """The tests of one pytest file: one source per test item, in collection order, and the items left out."""

    tests: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    """pytest's node id of each test (``test_f[1-2]``, ``TestX::test_y``)."""
    left_out: list[tuple[str, str]] = field(default_factory=list)
    """(item, why) for items not converted: skipped or xfail-marked, or a feature not expressed."""
    judged_outside: int = 0
    """Tests written as one plain assert over program names (the engine judges them outside the program)."""


# ---------------------------------------------------------------------------------------------- helpers
def _dotted(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every expression
        return ""


def _decorator_name(node: ast.expr) -> str:
    return _dotted(node.func if isinstance(node, ast.Call) else node)


def _is_fixture(fn: ast.AST) -> bool:
    return isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        _decorator_name(d) in ("pytest.fixture", "fixture") for d in fn.decorator_list
    )


def _fixture_options(fn: ast.FunctionDef) -> tuple[bool, str]:
    """(autouse, the name it is requested by)."""
    autouse, name = False, fn.name
    for d in fn.decorator_list:
        if isinstance(d, ast.Call) and _decorator_name(d) in ("pytest.fixture", "fixture"):
            for kw in d.keywords:
                if kw.arg == "autouse" and isinstance(kw.value, ast.Constant):
                    autouse = bool(kw.value.value)
                elif kw.arg == "name" and isinstance(kw.value, ast.Constant):
                    name = str(kw.value.value)
                elif kw.arg == "params":
                    raise Unsupported(f"parametrized fixture {fn.name}")
    return autouse, name


def _is_generator(fn: ast.FunctionDef) -> bool:
    def walk(node: ast.AST):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(child, (ast.Yield, ast.YieldFrom)):
                return True
            if walk(child):
                return True
        return False

    return walk(fn)


def _params(fn: ast.FunctionDef, *, method: bool = False) -> list[str]:
    args = fn.args.posonlyargs + fn.args.args
    names = [a.arg for a in args]
    if method and names:
        names = names[1:]
    defaults = len(fn.args.defaults)
    return names[: len(names) - defaults] if defaults else names


def _marks(fn: ast.FunctionDef) -> tuple[list[ast.Call], str | None]:
    """The parametrize decorators (outermost first) and why the item is left out (skip/xfail), if it is."""
    parametrize, why = [], None
    for d in fn.decorator_list:
        name = _decorator_name(d)
        if name.endswith("mark.parametrize") and isinstance(d, ast.Call):
            parametrize.append(d)
        elif name.endswith(("mark.skip", "mark.xfail")):
            why = name.rsplit(".", 1)[1]
        elif name.endswith("mark.skipif"):
            why = "skipif"
    return parametrize, why


def _cases(call: ast.Call) -> list[tuple[dict[str, ast.expr], bool]]:
    """One parametrize decorator's cases: (name -> value expression, left out by a mark)."""
    if len(call.args) < 2:
        raise Unsupported("parametrize without names and values")
    if any(kw.arg == "indirect" for kw in call.keywords):
        raise Unsupported("indirect parametrization")
    names_node, values_node = call.args[0], call.args[1]
    if isinstance(names_node, ast.Constant) and isinstance(names_node.value, str):
        names = [n.strip() for n in names_node.value.split(",") if n.strip()]
    elif isinstance(names_node, (ast.List, ast.Tuple)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in names_node.elts
    ):
        names = [e.value for e in names_node.elts]  # type: ignore[attr-defined]
    else:
        raise Unsupported("parametrize names that are not a literal")
    if not isinstance(values_node, (ast.List, ast.Tuple)):
        raise Unsupported("parametrize values computed at collection time")
    cases = []
    for element in values_node.elts:
        marked = False
        if isinstance(element, ast.Call) and _decorator_name(element) in ("pytest.param", "param"):
            for kw in element.keywords:
                if kw.arg == "marks" and any(m in _dotted(kw.value) for m in ("mark.skip", "mark.xfail")):
                    marked = True
            values = list(element.args)
        elif len(names) == 1:
            values = [element]
        elif isinstance(element, (ast.Tuple, ast.List)):
            values = list(element.elts)
        else:
            raise Unsupported("parametrize values that are not literal tuples")
        if len(values) != len(names):
            raise Unsupported("a parametrize case with the wrong number of values")
        cases.append((dict(zip(names, values, strict=True)), marked))
    return cases


def _case_id(values: dict[str, ast.expr], index: int) -> str:
    parts = []
    for value in values.values():
        if (
            isinstance(value, ast.Constant)
            and isinstance(value.value, (int, float, str, bool))
            and (not isinstance(value.value, str) or len(value.value) < 20)
        ):
            parts.append(str(value.value))
        else:
            parts.append(f"v{index}")
    return "-".join(parts)


class _Rewriter(ast.NodeTransformer):
    """Program references written as program names; ``pytest.raises``/``pytest.fail`` in plain Python."""

    def __init__(self, renames: dict[str, str], modules: set[str], pytest_imported: bool = True):
        self.renames, self.modules = renames, modules
        self.uses_raises_info = False
        # A file that never imports pytest fails under pytest where it uses ``pytest.raises`` (a NameError):
        # such calls are left as they are, so they fail here too.
        self.pytest_imported = pytest_imported

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.renames:
            return ast.copy_location(ast.Name(self.renames[node.id], node.ctx), node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id in self.modules:
            return ast.copy_location(ast.Name(node.attr, node.ctx), node)
        self.generic_visit(node)
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        call = node.value
        if not self.pytest_imported:
            self.generic_visit(node)
            return node
        if isinstance(call, ast.Call) and _decorator_name(call) == "pytest.fail":
            raise_node = ast.Raise(ast.Call(ast.Name("AssertionError", ast.Load()), call.args, []), None)
            return ast.copy_location(self.generic_visit(raise_node), node)
        if isinstance(call, ast.Call) and _decorator_name(call) == "pytest.raises" and len(call.args) >= 2:
            function, *args = call.args[1:]
            body = [ast.Expr(ast.Call(function, args, [k for k in call.keywords if k.arg != "match"]))]
            return self._raises(call, body, None, node)
        self.generic_visit(node)
        return node

    def visit_With(self, node: ast.With) -> ast.AST:
        if not self.pytest_imported:
            self.generic_visit(node)
            return node
        if len(node.items) == 1:
            item = node.items[0]
            expr = item.context_expr
            if isinstance(expr, ast.Call) and _decorator_name(expr) == "pytest.raises":
                target = item.optional_vars
                if target is not None and not isinstance(target, ast.Name):
                    raise Unsupported("pytest.raises bound to a pattern")
                return self._raises(expr, node.body, target.id if target else None, node)
        elif any(
            isinstance(i.context_expr, ast.Call) and _decorator_name(i.context_expr) == "pytest.raises"
            for i in node.items
        ):
            raise Unsupported("pytest.raises among several context managers")
        self.generic_visit(node)
        return node

    def _raises(self, call: ast.Call, body: list[ast.stmt], name: str | None, where: ast.AST) -> ast.AST:
        if not call.args:
            raise Unsupported("pytest.raises without an exception type")
        expected = call.args[0]
        match = next((kw.value for kw in call.keywords if kw.arg == "match"), None)
        caught = "__acecoder_error"
        handler: list[ast.stmt] = []
        if name is not None or match is not None:
            self.uses_raises_info = True
            info = name or "__acecoder_info"
            handler.append(ast.parse(f"{info} = __AcecoderRaised({caught})").body[0])
            if match is not None:
                check = ast.parse(f"{info}.match(__acecoder_pattern)").body[0]
                check.value.args = [match]  # type: ignore[attr-defined]
                handler.append(check)
        else:
            handler.append(ast.Pass())
        message = f"DID NOT RAISE {_dotted(expected)}"
        orelse = [
            ast.Raise(ast.Call(ast.Name("AssertionError", ast.Load()), [ast.Constant(message)], []), None)
        ]
        node = ast.Try(
            body=[self.visit(copy.deepcopy(s)) for s in body],
            handlers=[ast.ExceptHandler(self.visit(copy.deepcopy(expected)), caught, handler)],
            orelse=orelse,
            finalbody=[],
        )
        return ast.fix_missing_locations(ast.copy_location(node, where))


# ---------------------------------------------------------------------------------------------- module
class _Module:
    def __init__(self, source: str, module_name: str):
        tree = ast.parse(source)
        self.renames: dict[str, str] = {}
        self.program_names: set[str] = set()
        self.star = False
        modules: set[str] = set()
        self.prelude: list[ast.stmt] = []
        self.fixtures: dict[str, ast.FunctionDef] = {}
        self.autouse: list[str] = []
        self.items: list[tuple[ast.FunctionDef, ast.ClassDef | None]] = []
        self.setup: dict[str, ast.FunctionDef] = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == module_name:
                for alias in node.names:
                    if alias.name == "*":
                        self.star = True
                    else:
                        self.program_names.add(alias.name)
                        if alias.asname and alias.asname != alias.name:
                            self.renames[alias.asname] = alias.name
                continue
            if isinstance(node, ast.Import) and any(a.name == module_name for a in node.names):
                for alias in node.names:
                    if alias.name == module_name:
                        modules.add(alias.asname or alias.name)
                rest = [a for a in node.names if a.name != module_name]
                if rest:
                    self.prelude.append(ast.Import(rest))
                continue
            if _is_fixture(node):
                autouse, name = _fixture_options(node)  # type: ignore[arg-type]
                self.fixtures[name] = node  # type: ignore[assignment]
                if autouse:
                    self.autouse.append(name)
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                self.items.append((node, None))  # type: ignore[arg-type]
                continue
            if isinstance(node, ast.FunctionDef) and node.name in (
                "setup_module",
                "teardown_module",
                "setup_function",
                "teardown_function",
            ):
                self.setup[node.name] = node
                continue
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                for member in node.body:
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and member.name.startswith(
                        "test"
                    ):
                        self.items.append((member, node))  # type: ignore[arg-type]
                continue
            if _runs_pytest(node):
                continue
            self.prelude.append(node)
        imports_pytest = any(
            isinstance(n, ast.Import)
            and any(a.name == "pytest" and a.asname in (None, "pytest") for a in n.names)
            for n in ast.walk(tree)
        )
        self.rewriter = _Rewriter(self.renames, modules, imports_pytest)
        self.prelude_names = _bound(self.prelude) | set(self.fixtures) | set(self.setup)
        for fixture in self.fixtures.values():
            self.prelude_names.add(fixture.name)


def _runs_pytest(node: ast.stmt) -> bool:
    """``pytest.main()`` at the bottom of a test file, bare or under ``if __name__ == "__main__":``, or a
    top-level call of a test function (run by pytest anyway)."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        name = _decorator_name(node.value)
        return name.endswith(("pytest.main", "unittest.main")) or name.startswith("test")
    return bool(isinstance(node, ast.If) and "__name__" in _dotted(node.test))


def _imports_only_pytest(node: ast.stmt) -> bool:
    return isinstance(node, ast.Import) and all(a.name == "pytest" and not a.asname for a in node.names)


def _bound(nodes: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
    return names


def _literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


class _Substitute(ast.NodeTransformer):
    def __init__(self, values: dict[str, ast.expr]):
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.values and isinstance(node.ctx, ast.Load):
            return ast.copy_location(copy.deepcopy(self.values[node.id]), node)
        return node


def _local_names(fn: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    for sub in ast.walk(fn):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.comprehension,)):
            names.update(n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name))
        elif isinstance(sub, ast.Lambda):
            names.update(a.arg for a in sub.args.args)
    return names


def _plain_assert(module: _Module, fn: ast.FunctionDef, values: dict[str, ast.expr]) -> str | None:
    """The item as one ``assert`` over program names and literals, when its body allows (else None)."""
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if not body or not all(isinstance(s, ast.Assert) for s in body):
        return None
    if not all(_literal(v) for v in values.values()):
        return None
    tests = [module.rewriter.visit(_Substitute(values).visit(copy.deepcopy(s.test))) for s in body]  # type: ignore[attr-defined]
    allowed_locals = _local_names(fn) - set(values)
    for test in tests:
        for sub in ast.walk(test):
            if not isinstance(sub, ast.Name):
                continue
            name = sub.id
            if name in allowed_locals:
                continue  # a comprehension's or lambda's own variable
            if name in module.prelude_names or name in values:
                return None
            if not (name in module.program_names or hasattr(builtins, name) or module.star):
                return None
    if len(tests) == 1:
        return f"assert {ast.unparse(tests[0])}"
    return "assert " + " and ".join(f"({ast.unparse(t)})" for t in tests)


def _fixture_order(module: _Module, requested: list[str], where: str) -> list[str]:
    """The fixtures an item needs, dependencies first (pytest's order)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise Unsupported(f"fixtures that depend on each other in a cycle ({name})")
        if name in _PROVIDED_FIXTURES:
            order.append(name)
            return
        fixture = module.fixtures.get(name)
        if fixture is None:
            raise Unsupported(f"fixture {name!r} (not defined in the file) in {where}")
        if isinstance(fixture, ast.AsyncFunctionDef):
            raise Unsupported(f"async fixture {name}")
        visiting.add(name)
        for dependency in _params(fixture):
            visit(dependency)
        visiting.discard(name)
        order.append(name)

    for name in [*module.autouse, *requested]:
        visit(name)
    return order


def _script(
    module: _Module,
    fn: ast.FunctionDef,
    cls: ast.ClassDef | None,
    values: dict[str, ast.expr],
    fixtures: list[str],
) -> str:
    """The item as a script run in the program's process: helpers, fixtures, the test, its driver."""
    rewriter = module.rewriter
    rewriter.uses_raises_info = False
    parts: list[str] = []
    needed_fixtures = [n for n in fixtures if n not in _PROVIDED_FIXTURES]
    definitions: list[ast.stmt] = [copy.deepcopy(s) for s in module.prelude]
    for name in needed_fixtures:
        fixture = copy.deepcopy(module.fixtures[name])
        fixture.decorator_list = []
        fixture.name = f"__acecoder_fixture_{name}"
        definitions.append(fixture)
    for setup in module.setup.values():
        definitions.append(copy.deepcopy(setup))
    if cls is not None:
        holder = copy.deepcopy(cls)
        holder.body = [
            m
            for m in holder.body
            if not (isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test"))
            or m.name == fn.name
        ]
        for member in holder.body:
            if isinstance(member, ast.FunctionDef):
                member.decorator_list = [d for d in member.decorator_list if "mark." not in _dotted(d)]
        definitions.append(holder)
    else:
        test = copy.deepcopy(fn)
        test.decorator_list = []
        definitions.append(test)
    body = [rewriter.visit(d) for d in definitions]
    if not any(
        isinstance(sub, ast.Name) and sub.id == "pytest" for node in body for sub in ast.walk(node)
    ):  # every pytest call was written out: do not import pytest into the program's process for nothing
        body = [node for node in body if not _imports_only_pytest(node)]
    helpers = [_HELPERS[n] for n in fixtures if n in _HELPERS]
    if rewriter.uses_raises_info:
        helpers.append(_HELPERS["raises"])
    parts.extend(helpers)
    parts.append(ast.unparse(ast.fix_missing_locations(ast.Module(body, []))))

    driver: list[str] = []
    teardown: list[str] = []
    hooks = module.setup
    if "setup_module" in hooks:
        driver.append(_hook_call("setup_module", hooks["setup_module"], "None"))
    if "teardown_module" in hooks:
        teardown.append(_hook_call("teardown_module", hooks["teardown_module"], "None"))
    if "setup_function" in hooks and cls is None:
        driver.append(_hook_call("setup_function", hooks["setup_function"], fn.name))
    if "teardown_function" in hooks and cls is None:
        teardown.append(_hook_call("teardown_function", hooks["teardown_function"], fn.name))
    for name in fixtures:
        var = f"__acecoder_value_{name}"
        if name in _PROVIDED_FIXTURES:
            driver.append(f"{var} = {_PROVIDED_CALLS[name]}")
            if name in _PROVIDED_TEARDOWN:
                teardown.append(f"{var}.{_PROVIDED_TEARDOWN[name]}()")
            continue
        fixture = module.fixtures[name]
        call_args = ", ".join(f"{p}=__acecoder_value_{p}" for p in _params(fixture))
        call = f"__acecoder_fixture_{name}({call_args})"
        if _is_generator(fixture):
            driver.append(f"__acecoder_gen_{name} = {call}")
            driver.append(f"{var} = next(__acecoder_gen_{name})")
            teardown.append(f"next(__acecoder_gen_{name}, None)")
        else:
            driver.append(f"{var} = {call}")
    arguments = [f"{name}=({ast.unparse(value)})" for name, value in values.items()]
    requested = _params(fn, method=cls is not None)
    arguments += [f"{p}=__acecoder_value_{p}" for p in requested if p not in values]
    if cls is not None:
        methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
        if "setup_class" in methods:
            driver.append(_hook_call(f"{cls.name}.setup_class", methods["setup_class"], cls.name))
        if "teardown_class" in methods:
            hook = methods["teardown_class"]
            teardown.append(_hook_call(f"{cls.name}.teardown_class", hook, cls.name))
        driver.append(f"__acecoder_instance = {cls.name}()")
        method = f"__acecoder_instance.{fn.name}"
        if "setup_method" in methods:
            hook = methods["setup_method"]
            driver.append(_hook_call("__acecoder_instance.setup_method", hook, method, bound=True))
        if "teardown_method" in methods:
            hook = methods["teardown_method"]
            teardown.insert(0, _hook_call("__acecoder_instance.teardown_method", hook, method, bound=True))
        call = f"__acecoder_instance.{fn.name}({', '.join(arguments)})"
    else:
        call = f"{fn.name}({', '.join(arguments)})"
    if teardown:
        driver.append(
            "try:\n    " + call + "\nfinally:\n" + "".join(f"    {t}\n" for t in reversed(teardown))
        )
    else:
        driver.append(call)
    parts.append("\n".join(driver))
    return "\n".join(p.rstrip("\n") for p in parts) + "\n"


def _hook_call(name: str, hook: ast.FunctionDef, argument: str, bound: bool = False) -> str:
    """A setup/teardown hook called as pytest calls it: with its argument (the module, function, class or
    method) only when its signature takes one (``setup_method(self)`` and ``setup_method(self, method)`` both
    exist in the wild). ``bound``: reached through an instance (its first parameter is the instance); a
    classmethod's first parameter is always bound, a staticmethod has none."""
    decorators = {_dotted(d) for d in hook.decorator_list}
    if "staticmethod" in decorators:
        bound = False
    elif "classmethod" in decorators:
        bound = True
    positional = len(hook.args.posonlyargs) + len(hook.args.args) - (1 if bound else 0)
    takes = positional >= 1 or hook.args.vararg is not None
    return f"{name}({argument})" if takes else f"{name}()"


def convert_pytest(source: str, *, module_name: str = "solution") -> PytestConversion:
    """The tests of a pytest file whose module under test (imported as ``module_name``) is the program.

    :class:`SyntaxError` when the file does not parse."""
    module = _Module(source, module_name)
    out = PytestConversion()
    for fn, cls in module.items:
        base = f"{cls.name}::{fn.name}" if cls is not None else fn.name
        if cls is not None and any(_dotted(b).endswith("TestCase") for b in cls.bases):
            out.left_out.append((base, "unittest.TestCase classes (run them with unittest)"))
            continue
        if isinstance(fn, ast.AsyncFunctionDef):
            out.left_out.append((base, "async test"))
            continue
        try:
            decorators, why = _marks(fn)
            if why is not None:
                out.left_out.append((base, f"marked {why}"))
                continue
            case_lists = [_cases(d) for d in reversed(decorators)]  # pytest applies the innermost first
            combos = list(itertools.product(*case_lists)) if case_lists else [()]
            for index, combo in enumerate(combos):
                values: dict[str, ast.expr] = {}
                marked = False
                for case, case_marked in combo:
                    values.update(case)
                    marked = marked or case_marked
                name = base if not case_lists else f"{base}[{_case_id(values, index)}]"
                if marked:
                    out.left_out.append((name, "a parameter set marked skip or xfail"))
                    continue
                requested = [p for p in _params(fn, method=cls is not None) if p not in values]
                fixtures = _fixture_order(module, requested, name)
                plain = None
                if cls is None and not fixtures and "setup_function" not in module.setup:
                    plain = _plain_assert(module, fn, values)
                if plain is not None:
                    out.judged_outside += 1
                    test = plain
                else:
                    test = _script(module, fn, cls, values, fixtures)
                ast.parse(test)  # every test written here compiles
                out.tests.append(test)
                out.names.append(name)
        except Unsupported as e:
            out.left_out.append((base, str(e)))
    return out
