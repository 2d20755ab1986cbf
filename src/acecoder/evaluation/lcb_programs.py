"""The programs the two LiveCodeBench graders run, and their jobs.

* ``terminal`` (default): a stdin problem's program runs as in a terminal, with a real standard input and
  output (``sys.stdin`` iteration, ``sys.stdin.buffer``, ``open(0)``, ``sys.stdout.buffer``, ``global`` at top
  level, ``exit()`` all behave); a LeetCode problem's program is imported as LeetCode's judge imports it (not as
  ``__main__``, with LeetCode's implicit imports: ``typing``, ``collections``, ``heapq``, ``math``, ...) and
  ``Solution().method`` is called with the JSON arguments.
* ``lcb-compat``: LiveCodeBench's own harness (``lcb_runner/evaluation/testing_util.py``) reproduced in the
  sandbox, faults included: the program is exec'd as module ``tmp_sol`` after LiveCodeBench's star imports; a
  stdin program's ``if __name__ == '__main__':`` block (when last) is unwrapped, its imports hoisted and every
  other statement moved into ``def wrapped_function():``, called with ``sys.stdin`` replaced by a mock (``read``
  and ``readlines`` return the whole input, ``buffer.readline`` always the first line, no iteration) and
  ``sys.stdout`` by a ``StringIO`` (no ``buffer``); ``builtins.open`` is ``mock_open``; ``quit`` is None, some
  ``os`` functions too, ``resource`` cannot be imported. What the wrapped program writes elsewhere than the
  mock's ``sys.stdout`` is lost, as it is in LiveCodeBench.

Both compare outputs outside the program with LiveCodeBench's comparator, and stop at the first failing test.
"""

from __future__ import annotations

import ast
import dataclasses

from acecoder.evaluation.lcb_data import LcbProblem
from acecoder.evaluation.programs import main_guard_off
from acecoder.execution import Job, Limits

GRADERS = ("terminal", "lcb-compat")
TIME_LIMIT = 6.0
"""LiveCodeBench's limit per test (seconds; CPU time here, wall-clock time there)."""

# The modules LiveCodeBench's harness star-imports, then imports, before every program (its ``import_string``);
# LeetCode's judge makes the same names available to Python solutions.
_STAR_MODULES = (
    "string",
    "re",
    "datetime",
    "collections",
    "heapq",
    "bisect",
    "copy",
    "math",
    "random",
    "statistics",
    "itertools",
    "functools",
    "operator",
    "io",
    "sys",
    "json",
    "builtins",
    "typing",
)
_PLAIN_MODULES = tuple(m for m in _STAR_MODULES if m not in ("builtins", "typing"))
HEADER = (
    "".join(f"from {m} import *\n" for m in _STAR_MODULES)
    + "".join(f"import {m}\n" for m in _PLAIN_MODULES)
    + "sys.setrecursionlimit(50000)\n"
)
# What LiveCodeBench's ``reliability_guard`` takes away from every program.
_GUARDED_OS = [
    "kill",
    "system",
    "putenv",
    "remove",
    "removedirs",
    "rmdir",
    "fchdir",
    "setuid",
    "fork",
    "forkpty",
    "killpg",
    "rename",
    "renames",
    "truncate",
    "replace",
    "unlink",
    "fchmod",
    "fchown",
    "chmod",
    "chown",
    "chroot",
    "lchflags",
    "lchmod",
    "lchown",
    "getcwd",
    "chdir",
]
_GUARD = (
    "import builtins as __lcb_builtins, os as __lcb_os, shutil as __lcb_shutil, subprocess as __lcb_subprocess\n"
    "__lcb_builtins.quit = None\n"
    "__lcb_builtins.help = None\n"
    f"for __lcb_name in {_GUARDED_OS!r}:\n"
    "    setattr(__lcb_os, __lcb_name, None)\n"
    "__lcb_shutil.rmtree = __lcb_shutil.move = __lcb_shutil.chown = None\n"
    "__lcb_subprocess.Popen = None\n"
    "for __lcb_name in ('ipdb', 'joblib', 'resource', 'psutil', 'tkinter'):\n"
    "    __import__('sys').modules[__lcb_name] = None\n"
    "__import__('sys').set_int_max_str_digits(50000)\n"
)
# Before anything of the program: keep the real input and a private copy of the real stdout, then give the
# program what LiveCodeBench's worker process has (stdin and stdout the worker's own, here /dev/null).
_STDIN_PREAMBLE = (
    "import os as __lcb_os0, sys as __lcb_sys0\n"
    "__lcb_input = __lcb_sys0.stdin.read()\n"
    "__lcb_out = __lcb_os0.dup(1)\n"
    "__lcb_write = __lcb_os0.write\n"
    "__lcb_null = __lcb_os0.open(__lcb_os0.devnull, __lcb_os0.O_RDWR)\n"
    "__lcb_os0.dup2(__lcb_null, 0)\n"
    "__lcb_os0.dup2(__lcb_null, 1)\n"
    "__lcb_sys0.stdin = open(__lcb_os0.devnull)\n"
    "__lcb_sys0.stdout = open(__lcb_os0.devnull, 'w')\n"
)
# After the program: call ``wrapped_function`` the way LiveCodeBench's ``call_method`` does (its patches are
# entered bottom-up, so the three method patches land on the worker's own stdin object, which the star import
# of ``sys`` bound as ``stdin``), capture ``sys.stdout``, and hand the captured text to the judge. A program
# that raises fails (LiveCodeBench: runtime error) whatever it printed.
_STDIN_DRIVER = """
def __lcb_main():
    import io, sys, contextlib
    from unittest.mock import patch, mock_open
    inputs = __lcb_input
    lines = iter(inputs.split("\\n"))

    class Buffer:
        def __init__(self, text):
            self.inputs = text.encode("utf-8")
        def read(self, *args):
            return self.inputs
        def readline(self, *args):
            return self.inputs.split(b"\\n")[0] + b"\\n"

    class Stdin:
        def __init__(self, text):
            self.inputs = text
            self._stringio = io.StringIO(text)
            self.buffer = Buffer(text)
        def read(self, *args):
            return self.inputs
        def readline(self, *args):
            return self._stringio.readline(*args)
        def readlines(self, *args):
            return self.inputs.split("\\n")
        def __getattr__(self, name):
            return getattr(self._stringio, name)

    captured = io.StringIO()
    captured.close = lambda x: 1
    sys.stdout = captured
    failed = False
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(patch("sys.stdin.read", lambda *args: inputs))
            stack.enter_context(patch("sys.stdin.readlines", lambda *args: inputs.split("\\n")))
            stack.enter_context(patch("sys.stdin.readline", lambda *args: next(lines)))
            stack.enter_context(patch("sys.stdin", Stdin(inputs)))
            stack.enter_context(patch("builtins.open", mock_open(read_data=inputs)))
            try:
                wrapped_function()
            except SystemExit:
                pass
    except BaseException:
        failed = True
    text = captured.getvalue()
    if failed:
        text += "\\n\\x00 runtime error (LiveCodeBench: -4)\\n"
    data = text.encode("utf-8", "surrogateescape")
    while data:
        data = data[__lcb_write(__lcb_out, data):]
    __lcb_os0._exit(1 if failed else 0)


__lcb_main()
"""


def _unwrap_main(tree: ast.Module) -> str:
    """LiveCodeBench's ``clean_if_name``: a last ``if __name__ == '__main__':`` block becomes top-level code."""
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
        return ast.unparse(tree.body[:-1]) + "\n" + ast.unparse(last.body)
    return ast.unparse(tree)


def wrap_stdin_program(code: str) -> str:
    """LiveCodeBench's ``make_function``: imports hoisted, everything else inside ``def wrapped_function():``
    (a program that does not parse stays as it is: it fails either way)."""
    try:
        code = _unwrap_main(ast.parse(code))
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return code
    imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
    others = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
    function = ast.FunctionDef(
        name="wrapped_function",
        args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=others,
        decorator_list=[],
        returns=None,
        type_params=[],
        lineno=1,
    )
    try:
        return HEADER + "\n" + ast.unparse(imports) + "\n" + ast.unparse(function)
    except Exception:
        return code


def _module_name(program: str, name: str) -> str:
    return f"__name__ = {name!r}\n" + program


def compat_program(problem: LcbProblem, code: str) -> str:
    """The program LiveCodeBench's harness effectively runs, as one stdin program or one importable module."""
    if problem.fn_name is None:
        body = wrap_stdin_program(code)
        return _STDIN_PREAMBLE + _GUARD + _module_name(body, "tmp_sol") + "\n" + _STDIN_DRIVER
    return _GUARD + _module_name(HEADER + "\n\n" + code, "tmp_sol")


def terminal_program(problem: LcbProblem, code: str) -> str:
    """The program as a terminal runs it (stdin problems) or as LeetCode's judge imports it (functional)."""
    if problem.fn_name is None:
        return code
    guarded = main_guard_off(code)
    marker = "__name__ = 'builtins'\n"
    return guarded.replace(marker, HEADER + marker, 1) if marker in guarded else HEADER + guarded


def program(problem: LcbProblem, code: str, grader: str) -> str:
    if grader == "terminal":
        return terminal_program(problem, code)
    if grader == "lcb-compat":
        return compat_program(problem, code)
    raise ValueError(f"unknown grader {grader!r}; choose one of {', '.join(GRADERS)}")


def limits(base: Limits | None, time_limit: float = TIME_LIMIT) -> Limits:
    """LiveCodeBench's limit per test, no budget over the program (it gives each test its limit)."""
    return dataclasses.replace(base or Limits(), timeout=time_limit, program_timeout=None)


def job(problem: LcbProblem, code: str, grader: str, job_limits: Limits) -> Job:
    """A sample's job: public tests then private ones, stopping at the first failure (LiveCodeBench's order)."""
    return Job(program(problem, code, grader), problem.tests, job_limits, stop_on_failure=True)
