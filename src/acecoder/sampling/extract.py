"""The program a model's answer stands for.

Three shapes of answer occur:

* a markdown answer: prose around fenced blocks; the program is the first python block, else the first block
  (:func:`acecoder.execution.program.extract_program`);
* a prefill continuation: the prompt ended inside an opened ```` ```python```` fence, so the answer *starts* with
  code and the first fence line closes it; anything after it (explanations, usage blocks) is not the program;
* bare code, possibly followed by prose ("This function ...") or by example tests.

After choosing the code, trailing prose is cut where Python itself stops parsing at a prose line, and trailing
module-level test lines are removed: ``assert`` statements, ``print`` calls, test functions and classes,
``unittest.main()``-style runners, a ``__main__`` block that does not read stdin, and the assignments and loops
that only feed them. Only *top-level* statements at the *end* are removed; an ``assert`` inside a function body
is part of the program and stays (the AceCoder release cut every program at its first ``assert``, wherever it
was). A program whose text does not parse is never shortened except by cutting prose, so a syntax error is
never turned into a working program.
"""

from __future__ import annotations

import ast
import keyword
import re

from acecoder.execution.program import extract_program

__all__ = ["extract_code", "strip_trailing_tests", "trim_prose"]

_FENCE_LINE = re.compile(r"^(```|~~~)[ \t]*([\w+.#-]*)")
_LANGUAGE_TAG = re.compile(r"\A[ \t]*\n?[ \t]*(?:python3?|py3?)[ \t]*(?:\r?\n|\Z)", re.IGNORECASE)
_CHAT_HEADERS = (
    "<|start_header_id|>assistant<|end_header_id|>",
    "<|im_start|>assistant",
    "<|assistant|>",
)
# How a line of prose starts: a capitalised word followed by a separator ("This function", "Explanation:",
# "Sure!"), a markdown marker (bullets, bold, quotes, numbered lists), or several lowercase words.
_PROSE_START = re.compile(
    r"^(?:\*\*|[*>+] |- |\d+[.)] |[A-Z][A-Za-z']*(?:[ ,:;!?.]|$)|[a-z]+(?: [A-Za-z',.;:!?()-]+){2,}$)"
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_STDIN_NAMES = {"input", "stdin", "fileinput", "argv", "raw_input"}
_RUNNER_ATTRS = {"main", "testmod", "run", "runTests"}


def extract_code(answer: str, *, continuation: bool | None = None, strip_tests: bool = True) -> str:
    """The program in a model's answer.

    ``continuation``: True when the prompt ended inside an opened code fence (the AceCoder prefill), so the
    answer is code up to the first fence line; False when it did not; None (default) decides from the text: an
    answer whose first fence line is a bare closing fence preceded by code is a continuation.
    ``strip_tests``: remove trailing module-level test lines (see the module docstring).
    """
    text = _strip_chat_header(answer)
    code = _select_code(text, continuation)
    code = trim_prose(code)
    if strip_tests:
        code = strip_trailing_tests(code)
    return code


def _strip_chat_header(text: str) -> str:
    stripped = text.lstrip()
    for header in _CHAT_HEADERS:
        if stripped.startswith(header):
            return stripped[len(header) :].lstrip("\r\n")
    return text


def _select_code(text: str, continuation: bool | None) -> str:
    lines = _LINE_BREAK.split(text)
    first_fence = next((i for i, line in enumerate(lines) if _FENCE_LINE.match(line)), None)
    if first_fence is None:
        return _drop_language_tag(text) if continuation is not False else text
    if continuation is False:
        return extract_program(text)
    cut = _line_offset(text, first_fence)
    before = text[:cut]
    if continuation is None:
        tag = _FENCE_LINE.match(lines[first_fence]).group(2)
        if tag or not before.strip() or not _looks_like_code(before):
            return extract_program(text)
    return _drop_language_tag(before)


def _line_offset(text: str, line_index: int) -> int:
    """Character offset where 0-based line ``line_index`` starts."""
    offset = 0
    for _ in range(line_index):
        m = _LINE_BREAK.search(text, offset)
        if m is None:
            return len(text)
        offset = m.end()
    return offset


def _drop_language_tag(code: str) -> str:
    """A continuation that begins with a bare language tag line (the prompt ended with ```` ``` ````)."""
    m = _LANGUAGE_TAG.match(code)
    return code[m.end() :] if m else code


def _looks_like_code(text: str) -> bool:
    first = next((line for line in _LINE_BREAK.split(text) if line.strip()), "")
    return _parses(text) or not _is_prose(first)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _is_prose(line: str) -> bool:
    """A line at column 0 that is not Python and reads like natural language or markdown."""
    if not line.strip() or line[0] in " \t#":
        return False
    first_word = re.match(r"[A-Za-z_]\w*", line)
    if first_word and (keyword.iskeyword(first_word.group(0)) or keyword.issoftkeyword(first_word.group(0))):
        return False  # misplaced code ("return x if y else z" at column 0), not prose
    try:
        compile(line, "<line>", "exec")
    except (SyntaxError, ValueError):
        return bool(_PROSE_START.match(line))
    return False


def _newline(text: str) -> str:
    m = _LINE_BREAK.search(text)
    return m.group(0) if m else "\n"


def _has_code(lines: list[str]) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in lines)


def trim_prose(code: str) -> str:
    """Cut natural-language lines Python stops at: trailing prose is dropped with everything after it, leading
    prose lines are dropped. Unchanged unless the result parses and still holds code."""
    if _parses(code):
        return code
    current = code
    for _ in range(200):
        try:
            ast.parse(current)
            return current if _has_code(_LINE_BREAK.split(current)) else code
        except SyntaxError as e:
            lineno = e.lineno
        except ValueError:
            return code
        lines = _LINE_BREAK.split(current)
        if lineno is None or not 1 <= lineno <= len(lines) or not _is_prose(lines[lineno - 1]):
            return code
        start = _line_offset(current, lineno - 1)
        if _has_code(lines[: lineno - 1]):
            current = current[:start].rstrip() + _newline(current)
        else:
            current = current[_line_offset(current, lineno) :]
    return code


# ---- trailing tests -------------------------------------------------------------------------------------------


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    parts = [node.test.left, *node.test.comparators]
    names = {p.id for p in parts if isinstance(p, ast.Name)}
    consts = {p.value for p in parts if isinstance(p, ast.Constant)}
    return "__name__" in names and "__main__" in consts


def _reads_stdin(nodes: list[ast.stmt], functions: dict[str, ast.AST]) -> bool:
    """Whether running ``nodes`` reads stdin or argv, following calls to the program's own functions."""
    seen: set[str] = set()
    pending: list[ast.AST] = list(nodes)
    while pending:
        for sub in ast.walk(pending.pop()):
            name = (
                sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else None
            )
            if name in _STDIN_NAMES:
                return True
            if name in functions and name not in seen:
                seen.add(name)
                pending.append(functions[name])
    return False


def _is_test(node: ast.stmt) -> bool:
    """A statement that checks or shows results rather than defining the program."""
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        name = _call_name(node.value) or ""
        if name in ("print", "pprint") or name.startswith(("test", "check", "run_test")):
            return True
        func = node.value.func
        return (
            isinstance(func, ast.Attribute)
            and name in _RUNNER_ATTRS
            and isinstance(func.value, ast.Name)
            and func.value.id in ("unittest", "pytest", "doctest")
        )
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name.startswith("test")
    if isinstance(node, ast.ClassDef):
        bases = {_call_name(b) for b in node.bases}
        return node.name.startswith("Test") or "TestCase" in bases
    return False


def _is_data(node: ast.stmt) -> bool:
    """A statement that may sit among trailing tests to feed them (inputs, expected values, imports)."""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom, ast.Pass)):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _strippable(node: ast.stmt, functions: dict[str, ast.AST]) -> tuple[bool, bool]:
    """(may be removed, is or contains a test)."""
    if _is_main_guard(node):
        return (not _reads_stdin(node.body, functions), True)
    if _is_test(node):
        return True, True
    if _is_data(node):
        return True, False
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.If)):
        children = list(node.body) + list(getattr(node, "orelse", []))
        children += list(getattr(node, "finalbody", []))
        for handler in getattr(node, "handlers", []):
            children += handler.body
        verdicts = [_strippable(child, functions) for child in children]
        if all(ok for ok, _ in verdicts) and not _reads_stdin([node], functions):
            return True, any(test for _, test in verdicts)
    return False, False


def _bound_names(node: ast.stmt) -> set[str]:
    """Module-level names a statement binds."""
    names: set[str] = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(node.name)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            names.add((alias.asname or alias.name).split(".")[0])
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
    return names


def _function_reads(fn: ast.AST) -> set[str]:
    """Names a function reads from the module: what it loads minus its parameters and locals, plus globals."""
    loads, local, declared = set(), set(), set()
    for sub in ast.walk(fn):
        if isinstance(sub, ast.Name):
            (loads if isinstance(sub.ctx, ast.Load) else local).add(sub.id)
        elif isinstance(sub, ast.arg):
            local.add(sub.arg)
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            declared.update(sub.names)
        elif sub is not fn and isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(sub.name)
    return (loads - local) | declared


def _module_reads(nodes: list[ast.stmt]) -> set[str]:
    """Module-level names that running (or later calling) ``nodes`` may read."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            names |= _function_reads(node)
        elif isinstance(node, ast.ClassDef):
            for part in [*node.bases, *node.keywords, *node.decorator_list]:
                names |= _module_reads([part])
            names |= _module_reads(node.body)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                    names.add(sub.id)
    return names


def strip_trailing_tests(code: str) -> str:
    """Remove the trailing run of module-level test statements (and the data that only feeds them).

    Unchanged when the code does not parse, when nothing but tests would remain, or when the tests share a
    line with the program.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    body = tree.body
    functions = {n.name: n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    start = len(body)
    while start > 0 and _strippable(body[start - 1], functions)[0]:
        start -= 1
    # Keep anything the program itself uses (a table defined after the functions that read it).
    while start < len(body):
        used = _module_reads(body[:start])
        keep_upto = max(
            (i + 1 for i in range(start, len(body)) if _bound_names(body[i]) & used), default=start
        )
        if keep_upto == start:
            break
        start = keep_upto
    if start == 0 or start == len(body):
        return code
    if not any(_strippable(node, functions)[1] for node in body[start:]):
        return code
    last_kept, first_cut = body[start - 1], body[start]
    first_line = min([first_cut.lineno, *(d.lineno for d in getattr(first_cut, "decorator_list", []))])
    if last_kept.end_lineno is None or first_line <= last_kept.end_lineno:
        return code
    return code[: _line_offset(code, last_kept.end_lineno)].rstrip("\r\n") + _newline(code)
