"""Execute AceCode rows: every inference of every row against the row's ``test_cases``.

The program of an inference is its completion's program (:func:`extract_program`) unless a
:class:`ProgramTemplate` builds it from the row's and the inference's fields, e.g. ``"{question}{completion}"``
for HumanEval-style completions that continue the prompt (function bodies). Tests may be any mix of the three
kinds (:mod:`acecoder.execution.testkinds`); a row's own ``time_limit``/``memory_limit`` replace the engine's
(:func:`~acecoder.execution.testkinds.row_limits`).
"""

from __future__ import annotations

import string
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any

from acecoder.data.schema import DataError
from acecoder.execution.engine import ExecutionSummary, Executor, Job, JobResult
from acecoder.execution.limits import Limits
from acecoder.execution.program import extract_program
from acecoder.execution.testkinds import row_limits, row_tests

Row = dict[str, Any]

BODY_TEMPLATE = "{question}{completion}"
"""The program of a completion that continues its question (a HumanEval-style prompt ending in a signature)."""


class ProgramTemplate:
    """How to build the program of an inference: a ``str.format`` template over the inference's fields, then the
    row's fields, and ``{program}``, the completion's program as taken by default (:func:`extract_program`).

    ``"{question}{completion}"`` runs the question (a prompt ending in a function signature) followed by the
    completion (the function's body). Literal braces are doubled (``{{``). Every field used must hold a string.
    """

    def __init__(self, template: str):
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as e:
            raise ValueError(
                f"program template {template!r}: {e} (write literal braces as {{{{ and }}}})"
            ) from None
        names = []
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            if not name.isidentifier():
                raise ValueError(
                    f"program template {template!r}: {{{name}}} is not a field name; use {{field}} "
                    "(e.g. {question}{completion}) and write literal braces as {{ and }}"
                )
            if spec or conversion:
                raise ValueError(
                    f"program template {template!r}: {{{name}}} takes no format spec or conversion"
                )
            names.append(name)
        if not names:
            raise ValueError(f"program template {template!r} uses no field, e.g. {BODY_TEMPLATE}")
        self.text = template
        self.fields = tuple(dict.fromkeys(names))

    def __repr__(self) -> str:
        return f"ProgramTemplate({self.text!r})"

    def render(
        self,
        row: Row,
        inference: dict[str, Any],
        *,
        index: int = 0,
        path: str | None = None,
        line: int | None = None,
    ) -> str:
        """The program of ``row["inferences"][index]``; a field neither has raises :class:`DataError`."""
        values = {}
        for name in self.fields:
            if name == "program":
                values[name] = extract_program(inference.get("completion") or "")
                continue
            where = f"inferences[{index}].{name}" if name in inference else name
            if name in inference:
                value = inference[name]
            elif name in row:
                value = row[name]
            else:
                raise DataError(
                    f"the program template {self.text!r} uses {{{name}}}, which neither the row nor its "
                    f"inference has (row fields: {', '.join(row)}; inference fields: "
                    f"{', '.join(inference) or 'none'}; and {{program}})",
                    path=path,
                    row=line,
                    field=name,
                )
            if not isinstance(value, str):
                kind = "null" if value is None else type(value).__name__
                raise DataError(
                    f"the program template uses it, so it must be a string, got {kind}",
                    path=path,
                    row=line,
                    field=where,
                )
            values[name] = value
        return self.text.format_map(values)


def _template(template: ProgramTemplate | str | None) -> ProgramTemplate | None:
    return ProgramTemplate(template) if isinstance(template, str) else template


def row_jobs(
    row: Row,
    *,
    program_template: ProgramTemplate | str | None = None,
    path: str | None = None,
    line: int | None = None,
    limits: Limits | None = None,
) -> list[Job]:
    """One job per inference: its program (see :class:`ProgramTemplate`; default: the completion's program)
    against the row's tests (any mix of kinds). None when the row has no tests. ``path``/``line`` locate errors
    (a bad test, a template field). ``limits``: the engine's, which a row's ``time_limit``/``memory_limit``
    override (the job then carries its own limits)."""
    tests = row_tests(row, path=path, line=line)
    if not tests:
        return []
    own_limits = row_limits(row, limits)
    template = _template(program_template)
    inferences = row.get("inferences") or []
    if template is None:
        programs = [extract_program(inf.get("completion") or "") for inf in inferences]
    else:
        programs = [
            template.render(row, inf, index=i, path=path, line=line) for i, inf in enumerate(inferences)
        ]
    return [Job(program, tests, own_limits) for program in programs]


def apply_results(row: Row, results: list[JobResult], *, errors: bool = False) -> Row:
    """Write ``test_results`` and ``pass_rate`` (null without tests) into each inference; keep every other field."""
    has_tests = bool(row.get("test_cases"))
    for index, inference in enumerate(row.get("inferences") or []):
        if has_tests:
            result = results[index]
            inference["test_results"] = result.test_results
            inference["pass_rate"] = result.pass_rate  # null when the engine, not the program, failed
            if result.infra_error:
                inference["infra_error"] = result.infra_error
            else:
                inference.pop("infra_error", None)
            if errors:
                inference["test_errors"] = result.errors
        else:
            inference["test_results"] = []
            inference["pass_rate"] = None
            if errors:
                inference["test_errors"] = []
    return row


def looks_like_body(program: str) -> bool:
    """Whether a program's first line of code is indented: the body of a function whose signature is elsewhere
    (a completion that continues a prompt), which does not compile on its own."""
    for text in program.splitlines():
        if text.strip() and not text.lstrip().startswith("#"):
            return text[:1] in (" ", "\t")
    return False


@dataclass
class RowSummary(ExecutionSummary):
    """:class:`ExecutionSummary` plus what only rows tell: rows, rows without tests or programs, and how the
    programs that failed before any test look (:meth:`warning` names the likely cause when most did)."""

    rows: int = 0
    rows_without_tests: int = 0
    """Rows with no test: their inferences are not run and get a null pass rate."""
    programs_without_tests: int = 0
    rows_without_inferences: int = 0
    body_like: int = 0
    """Programs that failed to compile and look like function bodies (:func:`looks_like_body`)."""

    def add_row(self, row: Row, jobs: list[Job], results: list[JobResult]) -> None:
        self.rows += 1
        inferences = row.get("inferences") or []
        if not inferences:
            self.rows_without_inferences += 1
        if not row.get("test_cases"):
            self.rows_without_tests += 1
            self.programs_without_tests += len(inferences)
        for job, result in zip(jobs, results, strict=True):
            if (result.setup_error or "").startswith("compile:") and looks_like_body(job.program):
                self.body_like += 1

    @property
    def setup_failures(self) -> int:
        return sum(self.setup_errors.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowSummary:
        known = {f.name for f in fields(cls)}
        return cls(**{k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items() if k in known})

    def warning(self, *, template: str | None = None) -> str | None:
        """A loud message when most programs run failed before any test (their pass rates mean nothing), naming
        the likely cause; None otherwise. ``template``: the program template the run used, if any."""
        failing, run = self.setup_failures, self.programs
        if not run or failing * 2 <= run:
            return None
        kinds = sorted(self.setup_errors.items(), key=lambda kv: -kv[1])
        top = ", ".join(f"{kind} {count:,}" for kind, count in kinds[:3])
        head = f"{failing:,} of {run:,} programs ({failing / run:.0%}) failed before any test ran ({top})"
        return f"{head}: {self._cause(kinds[0][0], failing, template)}"

    def _cause(self, top_kind: str, failing: int, template: str | None) -> str:
        fix = f"build each program from the prompt and the completion: --program '{BODY_TEMPLATE}'"
        fix += f" (program_template='{BODY_TEMPLATE}' in Python)"
        if self.body_like * 2 > failing:
            if template is not None:
                return f"the programs that --program {template!r} builds still look like bare function bodies"
            return f"the completions look like function bodies (they continue a prompt); {fix}"
        if top_kind.startswith("compile:"):
            return "most programs do not compile: check that the completions hold Python code"
        if top_kind == "error:NameError":
            return f"programs use names they never define; if the completions continue a prompt, {fix}"
        if top_kind in ("error:ModuleNotFoundError", "error:ImportError"):
            return "programs import modules the sandbox's Python lacks: install them or pick it with --interpreter"
        if top_kind == "timeout":
            return "the programs' top-level code runs past --setup-timeout"
        if top_kind == "memory":
            return "the programs run out of memory: raise --memory-mb"
        return "check the completions and the execution options"

    def merge(self, other: ExecutionSummary) -> None:
        """Add another summary's counts (e.g. an earlier part of a resumed run)."""
        for f in fields(other):
            mine, theirs = getattr(self, f.name, None), getattr(other, f.name)
            if isinstance(theirs, dict) and isinstance(mine, dict):
                for key, count in theirs.items():
                    mine[key] = mine.get(key, 0) + count
            elif isinstance(theirs, (int, float)) and isinstance(mine, (int, float)):
                setattr(self, f.name, mine + theirs)


def execute_rows(
    rows: Iterable[Row] | Iterable[tuple[int, Row]],
    executor: Executor,
    *,
    summary: ExecutionSummary | None = None,
    errors: bool = False,
    on_result: Callable[[JobResult], None] | None = None,
    program_template: ProgramTemplate | str | None = None,
    path: str | None = None,
) -> Iterator[Row]:
    """Yield each row, in order, with its inferences' verdicts filled in, keeping every worker busy across rows.

    ``rows``: row dicts, or ``(row_number, row)`` as from :func:`~acecoder.data.iter_rows` (errors then name the
    row; ``path`` names the file). ``program_template``: how programs are built (see :class:`ProgramTemplate`).
    A :class:`RowSummary` as ``summary`` also counts rows and what failing programs look like."""
    template = _template(program_template)
    waiting: deque[tuple[Row, list[Job]]] = deque()
    base_limits = getattr(executor, "limits", None)

    def jobs() -> Iterator[Job]:
        for number, item in enumerate(rows, 1):
            line, row = item if isinstance(item, tuple) else (number, item)
            row_job_list = row_jobs(row, program_template=template, path=path, line=line, limits=base_limits)
            waiting.append((row, row_job_list))
            yield from row_job_list

    def finish() -> Row:
        row, job_list = waiting.popleft()
        done = results[: len(job_list)]
        del results[: len(job_list)]
        if isinstance(summary, RowSummary):
            summary.add_row(row, job_list, done)
        return apply_results(row, done, errors=errors)

    results: list[JobResult] = []
    for result in executor.run(jobs()):
        if summary is not None:
            summary.add(result)
        if on_result is not None:
            on_result(result)
        results.append(result)
        while waiting and len(results) >= len(waiting[0][1]):
            yield finish()
    while waiting:  # rows after the last job (no tests, or no inferences)
        yield finish()
